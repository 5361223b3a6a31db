// Type confusion: what WB answers (and what the CRM sends as commands) with
// numbers where strings are expected, arrays where objects are, nulls,
// numbers beyond int64 or double, and deep nesting. Each gives a retryable
// pull error, a per-item retry or a clear per-item dead letter, never a
// crash, and the adapter keeps working: the next good answer is processed.
// (Wildberries pushes nothing: the adapter has no webhook.)

#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

adapters::Command MakeCommand(std::string command, std::string payload, int64_t id = 0) {
  adapters::Command m;
  m.key = std::to_string(id);
  m.name = std::move(command);
  m.payload = std::move(payload);
  return m;
}

// Numbers and shapes no JSON reader should trust.
const std::string kBeyondInt64 = "18446744073709551616";
const std::string kBeyondDouble = "1e400";

struct Fixture {
  explicit Fixture(WildberriesSimOptions so) : w(std::move(so)) {
    WildberriesConfig o = OptionsFor(*w.sim);
    o.cards_refresh = seconds(1);
    adapter = std::make_unique<WildberriesAdapter>(o, transport.Bind(*w.http), w.clock);
  }
  // A fresh start (no cursor) after the limits have refilled.
  Result<PullResult> FirstPull() {
    w.clock.Advance(seconds(10));
    return adapter->Pull(std::nullopt);
  }
  DeliveryOutcome Deliver(const adapters::Command& m) {
    w.clock.Advance(seconds(10));
    return adapter->Deliver(std::span(&m, 1))[0];
  }
  World w;
  TamperedTransport transport;
  std::unique_ptr<WildberriesAdapter> adapter;
};

WildberriesSimOptions TwentyOrders() {
  WildberriesSimOptions so;
  so.orders = 20;
  so.arrival = seconds(1);
  so.products = 50;
  return so;
}

TEST(WildberriesOutsideDataTest, MistypedOrderAnswersAreRetryablePullErrors) {
  Fixture f(TwentyOrders());
  const std::vector<std::pair<std::string, std::string>> answers = {
      {"/api/v3/orders", R"({"orders": {"id": 10000000}, "next": 0})"},
      {"/api/v3/orders", R"({"orders": [{"id": 10000000.5}], "next": 0})"},
      {"/api/v3/orders", R"({"orders": [{"id": true}, {"id": null}], "next": 0})"},
      {"/api/v3/orders", R"({"orders": [10000000], "next": 0})"},
      {"/api/v3/orders", R"({"orders": [], "next": "soon"})"},
      {"/api/v3/orders", R"({"orders": [{"id": 1}, )"},  // cut short
      {"/api/v3/orders", R"({"orders": [[10000000]], "next": 0})"},
      {"/api/v3/orders", R"({"orders": null, "next": 0})"},
      {"/api/v3/orders", R"({"orders": [], "next": )" + kBeyondInt64 + "}"},
      {"/api/v3/orders", R"({"orders": [], "next": )" + kBeyondDouble + "}"},
      {"/api/v3/orders", R"({"orders": [{"id": )" + kBeyondInt64 + "}], \"next\": 1}"},
      {"/api/v3/orders", R"("orders")"},
      {"/api/v3/orders", DeepJson(100'000)},
      {"/api/v3/orders/status",
       R"({"orders": [{"id": 10000000, "supplierStatus": 5, "wbStatus": "waiting"}]})"},
      {"/api/v3/orders/status",
       R"({"orders": [{"id": 10000000, "supplierStatus": "new", "wbStatus": null}]})"},
      {"/api/v3/orders/status", R"({"orders": {"id": 10000000}})"},
      {"/api/v3/orders/status", R"([1, 2, 3])"},
      {"/api/v3/orders/status", DeepJson(100'000)},
  };
  for (const auto& [path, body] : answers) {
    SCOPED_TRACE(path + " " + body.substr(0, 80));
    f.transport.Once(path, body);
    auto bad = f.FirstPull();
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable) << bad.status().ToString();
    EXPECT_NE(bad.status().message().find("wildberries: "), std::string::npos);
    EXPECT_FALSE(f.transport.once.has_value());  // the bad answer was read
    auto good = f.FirstPull();
    ASSERT_TRUE(good.ok()) << good.status().ToString();
    EXPECT_EQ(good->events.size(), 20u);
  }
}

// A record's own fields of the wrong type are the CRM mapping's to judge:
// the order is queued as WB sent it, the pull goes on.
TEST(WildberriesOutsideDataTest, AnOrderWithMistypedFieldsIsStillQueuedAsSent) {
  Fixture f(TwentyOrders());
  f.transport.tamper = [](std::string_view path, net::OutboundResponse& answer) {
    if (path != "/api/v3/orders") return;
    json page = json::parse(answer.body);
    page["orders"][0]["createdAt"] = 12345;
    page["orders"][0]["price"] = "lots";
    page["orders"][0]["skus"] = {{"a", nullptr}};
    answer.body = page.dump();
  };
  auto r = f.FirstPull();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 20u);
  int odd = 0;
  for (const auto& e : r->events) odd += json::parse(e.payload)["price"] == "lots" ? 1 : 0;
  EXPECT_EQ(odd, 1);
}

TEST(WildberriesOutsideDataTest, MistypedStockAndPriceAnswersAreRetriedPerItem) {
  Fixture f(TwentyOrders());
  const adapters::Command stock =
      MakeCommand("set_stock", R"({"chrt_id": 300000001, "warehouse_id": 507, "amount": 3})", 1);
  const std::vector<std::string> conflicts = {
      R"([{"code": 5, "message": null, "data": {"sku": "x"}}])",
      R"([{"code": "NotFound", "message": "Not found", "data": [{"sku": 2000000000015}]}])",
      R"({"code": "NotFound", "data": [{"sku": "2000000000015"}]})",
      R"([null, "x", )" + kBeyondDouble + "]",
      DeepJson(100'000),
  };
  for (const std::string& body : conflicts) {
    SCOPED_TRACE(body.substr(0, 80));
    f.transport.Once("/api/v3/stocks/507", body, 409);
    DeliveryOutcome bad = f.Deliver(stock);
    EXPECT_EQ(bad.kind, DeliveryOutcome::Kind::kRetry) << bad.error;
    DeliveryOutcome good = f.Deliver(stock);
    EXPECT_TRUE(good.ok()) << good.error;
  }
  EXPECT_EQ(f.w.sim->StockOf(507, SimBarcode(1)), 3);

  const adapters::Command price =
      MakeCommand("set_price", R"({"nm_id": 100000001, "price": 900})", 2);
  for (const std::string& body :
       {std::string(R"({"data": {"id": "77"}})"), std::string(R"({"data": [77]})"),
        R"({"data": {"id": )" + kBeyondInt64 + "}}", DeepJson(100'000)}) {
    SCOPED_TRACE(body.substr(0, 80));
    f.transport.Once("/api/v2/upload/task", body);
    DeliveryOutcome bad = f.Deliver(price);
    EXPECT_EQ(bad.kind, DeliveryOutcome::Kind::kRetry) << bad.error;
    EXPECT_EQ(bad.error.find("accepted"), std::string::npos) << bad.error;
  }
  // Uploaded for real, then a task status of the wrong type keeps the
  // message pending; the next good answer settles it.
  DeliveryOutcome accepted = f.Deliver(price);
  ASSERT_NE(accepted.error.find("accepted"), std::string::npos) << accepted.error;
  f.transport.Once("/api/v2/history/tasks", R"({"data": {"uploadID": 1, "status": "3"}})");
  DeliveryOutcome pending = f.Deliver(price);
  EXPECT_EQ(pending.kind, DeliveryOutcome::Kind::kRetry) << pending.error;
  DeliveryOutcome settled = f.Deliver(price);
  EXPECT_TRUE(settled.ok()) << settled.error;
}

// Cards whose sizes are mistyped name no barcode: the item fails with the
// reason; once the cards are read again (cards_refresh) it resolves.
TEST(WildberriesOutsideDataTest, MistypedCardsNameNoBarcode) {
  Fixture f(TwentyOrders());
  const adapters::Command stock = MakeCommand(
      "set_stock", json{{"sku", SimBarcode(2)}, {"warehouse_id", 507}, {"amount", 6}}.dump(), 1);
  f.transport.Once("/content/v2/get/cards/list",
                   R"({"cards": [{"sizes": {"chrtID": 300000002, "skus": ["2000000000022"]}},
                                 {"sizes": [{"chrtID": "300000002", "skus": ["2000000000022"]}]},
                                 {"sizes": [{"chrtID": 300000003, "skus": [2000000000022, null]}]},
                                 null, [1]],
                       "cursor": {"total": "x", "nmID": )" +
                       kBeyondInt64 + "}}");
  DeliveryOutcome bad = f.Deliver(stock);
  EXPECT_EQ(bad.kind, DeliveryOutcome::Kind::kFail) << bad.error;
  EXPECT_NE(bad.error.find("on no card"), std::string::npos) << bad.error;
  DeliveryOutcome good = f.Deliver(stock);
  EXPECT_TRUE(good.ok()) << good.error;
  EXPECT_EQ(f.w.sim->StockOf(507, SimBarcode(2)), 6);
}

// A cursor entry of a followed DBS order that lost its record (written by
// hand, or by a version that kept none) still gives a readable event.
TEST(WildberriesOutsideDataTest, ADbsOrderFollowedWithoutItsRecordGivesAReadablePayload) {
  WildberriesSimOptions so = TwentyOrders();
  so.dbs_orders = 3;
  Fixture f(so);
  f.w.clock.Advance(seconds(10));
  const std::string cursor = R"({"v":1,"seen_until":0,"open":{},"scan":null,
      "dbs":{"stage":"status","open":{"20000000":["","",0],"20000001":["","",0,[1]]}}})";
  auto r = f.adapter->Pull(cursor);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 2u);
  for (const auto& e : r->events) {
    const json payload = json::parse(e.payload);
    EXPECT_TRUE(payload["wbStatus"].is_string()) << e.payload;
  }
}

// Commands come from the CRM, which is outside too: each bad one is a dead
// letter saying why, the good one beside it goes through.
TEST(WildberriesOutsideDataTest, MistypedCommandsAreDeadLettersOneByOne) {
  Fixture f(TwentyOrders());
  const std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", R"({"chrt_id": 300000001, "warehouse_id": 507, "amount": )" +
                                   kBeyondDouble + "}"),
      MakeCommand("set_stock", R"({"chrt_id": 300000001, "warehouse_id": 507, "amount": "lots"})"),
      MakeCommand("set_stock", R"({"chrt_id": 300000001, "warehouse_id": 507, "amount": 100001})"),
      MakeCommand("set_stock", R"({"chrt_id": 300000001, "warehouse_id": [507], "amount": 1})"),
      MakeCommand("set_stock",
                  R"({"chrt_id": )" + kBeyondInt64 + R"(, "warehouse_id": 507, "amount": 1})"),
      MakeCommand("set_stock", R"({"sku": 2000000000015, "warehouse_id": 507, "amount": 1})"),
      MakeCommand("set_stock", R"([{"chrt_id": 300000001}])"),
      MakeCommand("set_stock", DeepJson(100'000)),
      MakeCommand("set_price", R"({"nm_id": null, "price": 5})"),
      MakeCommand("set_price", R"({"nm_id": 100000001, "price": [5], "discount": {"x": 1}})"),
      MakeCommand("set_stock", R"({"chrt_id": "300000004", "warehouse_id": "507", "amount": "8"})"),
  };
  f.w.clock.Advance(seconds(10));
  auto out = f.adapter->Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  for (size_t i = 0; i + 1 < batch.size(); ++i) {
    EXPECT_EQ(out[i].kind, DeliveryOutcome::Kind::kFail)
        << i << " " << batch[i].payload.substr(0, 80);
    EXPECT_NE(out[i].error.find("set_"), std::string::npos) << out[i].error;
  }
  EXPECT_TRUE(out.back().ok()) << out.back().error;
  EXPECT_EQ(f.w.sim->StockOf(507, SimBarcode(4)), 8);
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
