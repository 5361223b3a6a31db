// Contract tests: every request type the Wildberries adapter sends goes
// through `prism proxy <section spec> <simulator> --errors` and must pass;
// a deliberately wrong request must be caught (docs/contract-tests.md).
// 03-orders-fbs.yaml covers the orders requests (05-orders-dbs.yaml the
// DBS ones and their status writes), 02-products.yaml stocks,
// prices and cards, 12-reports.yaml the returns report. With --errors Prism also checks the
// simulator's answers.

#include <set>

#include "tests/support/prism.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using testing::IsPrismValidationError;
using testing::PrismOptions;
using testing::PrismProcess;

std::unique_ptr<PrismProcess> StartPrism(const std::string& section,
                                         const WildberriesSimulator& sim) {
  PrismOptions options;
  options.spec = std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/wildberries/" + section;
  options.upstream = sim.base_url();
  auto prism = PrismProcess::Start(options);
  EXPECT_TRUE(prism.ok()) << prism.status().ToString();
  return prism.ok() ? std::move(prism).value() : nullptr;
}

net::OutboundResponse Raw(net::HttpClient& http, std::string method, std::string url,
                          std::string body, bool auth = true) {
  net::OutboundRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.body = std::move(body);
  if (!req.body.empty()) req.headers.Set("Content-Type", "application/json");
  if (auth) req.headers.Set("Authorization", "sim-token");
  auto r = http.SendBlocking(std::move(req));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::OutboundResponse{};
}

TEST(WildberriesContractTest, OrdersRequestsFollowTheFbsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 30;
  so.arrival = std::chrono::seconds(10);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(20));
  auto prism = StartPrism("03-orders-fbs.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.marketplace_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  o.orders_page_size = 10;
  WildberriesAdapter adapter(o, &http, clock);

  PullDriver driver;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(driver.Step(adapter, clock)) << prism->Log();
  }
  EXPECT_EQ(LatestStatuses(driver.events).size(), 30u);
  auto fresh = adapter.client().NewOrders(Scheme::kFbs);
  EXPECT_TRUE(fresh.ok()) << fresh.error().message << "\n" << prism->Log();
  // Everything reached the simulator through Prism.
  EXPECT_FALSE(sim.log().Find("GET", "/api/v3/orders").empty());
  EXPECT_FALSE(sim.log().Find("POST", "/api/v3/orders/status").empty());
  EXPECT_FALSE(sim.log().Find("GET", "/api/v3/orders/new").empty());

  // The test of the test: wrong requests are caught by Prism itself.
  std::vector<int64_t> too_many(1001, 10'000'000);
  auto r1 = Raw(http, "POST", prism->base_url() + "/api/v3/orders/status",
                json{{"orders", too_many}}.dump());
  EXPECT_TRUE(IsPrismValidationError(r1.status, r1.body)) << r1.status << " " << r1.body;
  auto r2 = Raw(http, "GET", prism->base_url() + "/api/v3/orders?limit=10", "");  // no next
  EXPECT_TRUE(IsPrismValidationError(r2.status, r2.body)) << r2.status << " " << r2.body;
}

TEST(WildberriesContractTest, ShipAndCancelFollowTheFbsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 30;
  so.warehouses = {507};
  so.await_seller = true;  // orders wait for the seller's ship and cancel
  so.arrival = std::chrono::seconds(10);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(20));
  auto prism = StartPrism("03-orders-fbs.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.marketplace_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  // Our pacing on a clock that does not move: wide enough for the test.
  o.client.pacing[static_cast<size_t>(Group::kOrders)] = {std::chrono::milliseconds(1), 100};
  o.client.cancel_pacing = {std::chrono::milliseconds(1), 100};
  WildberriesAdapter adapter(o, &http, clock);
  auto command = [](const char* name, json item, int attempt = 1) {
    adapters::Command m;
    m.name = name;
    m.payload = item.dump();
    m.attempt = attempt;
    return m;
  };
  // Ship three (a supply: create, add, deliver), cancel two, a redelivered
  // ship (the statuses read), and an illegal ship of a cancelled order
  // (refused: WB's 409 passes Prism, then the status is read again).
  const std::vector<adapters::Command> batch = {
      command("ship", {{"order_id", 10'000'000}, {"warehouse_id", 507}}),
      command("ship", {{"order_id", 10'000'001}, {"warehouse_id", 507}}),
      command("ship", {{"order_id", 10'000'002}, {"warehouse_id", 507}}),
      command("cancel", {{"order_id", 10'000'003}}),
      command("cancel", {{"order_id", 10'000'004}}),
      command("ship", {{"order_id", 10'000'000}, {"warehouse_id", 507}}, 2),
  };
  const auto out = adapter.Deliver(batch);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i].ok()) << i << ": " << out[i].error << "\n" << prism->Log();
  }
  const auto illegal = adapter.Deliver(
      std::vector{command("ship", {{"order_id", 10'000'003}, {"warehouse_id", 507}})});
  EXPECT_EQ(illegal[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(illegal[0].error.find("the order is now cancel/canceled"), std::string::npos)
      << illegal[0].error << "\n"
      << prism->Log();
  // Everything reached the simulator through Prism.
  EXPECT_EQ(sim.log().Find("POST", "/api/v3/supplies").size(), 2u);
  EXPECT_FALSE(
      sim.log().Find("PATCH", "/api/marketplace/v3/supplies/WB-GI-1000001/orders").empty());
  EXPECT_EQ(sim.log().Find("PATCH", "/api/v3/supplies/WB-GI-1000001/deliver").size(), 1u);
  EXPECT_EQ(sim.log().Find("PATCH", "/api/v3/orders/10000003/cancel").size(), 1u);
  EXPECT_EQ(sim.OrderStatuses(false).at("10000002"), "complete/waiting");

  // The test of the test: more than 100 orders in one add is Prism's 422.
  std::vector<int64_t> too_many(101, 10'000'000);
  auto r =
      Raw(http, "PATCH", prism->base_url() + "/api/marketplace/v3/supplies/WB-GI-1000001/orders",
          json{{"orders", too_many}}.dump());
  EXPECT_TRUE(IsPrismValidationError(r.status, r.body)) << r.status << " " << r.body;
}

TEST(WildberriesContractTest, DbsOrdersRequestsFollowTheDbsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 0;
  so.dbs_orders = 30;
  so.arrival = std::chrono::seconds(10);
  so.lifetime = std::chrono::seconds(20);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(15));  // some new, some on the way, some completed
  auto prism = StartPrism("05-orders-dbs.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.marketplace_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  WildberriesAdapter adapter(o, &http, clock);
  // A cursor between two FBS scans (this Prism only knows the DBS paths):
  // the Pull is a whole DBS cycle: new, status, completed list + status.
  const std::string fbs_idle =
      json{{"v", 1}, {"seen_until", 0}, {"open", json::object()}, {"scan", nullptr}}.dump();
  auto r = adapter.Pull(fbs_idle);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->events.empty());
  json cursor = json::parse(*r->next_cursor);
  EXPECT_EQ(cursor["dbs"]["stage"], "new") << cursor.dump();
  EXPECT_NE(adapter.DescribeJson().find("\"last_error\":\"\""), std::string::npos)
      << adapter.DescribeJson() << "\n"
      << prism->Log();
  EXPECT_FALSE(sim.log().Find("GET", "/api/v3/dbs/orders/new").empty());
  EXPECT_FALSE(sim.log().Find("GET", "/api/v3/dbs/orders").empty());
  EXPECT_GE(sim.log().Find("POST", "/api/v3/dbs/orders/status").size(), 2u);
  std::set<std::string> statuses;
  for (const auto& e : r->events) statuses.insert(json::parse(e.payload)["supplierStatus"]);
  EXPECT_GE(statuses.size(), 2u);  // new ones and completed ones at least

  // The test of the test: the completed list needs dateFrom and dateTo.
  auto r1 = Raw(http, "GET", prism->base_url() + "/api/v3/dbs/orders?limit=10&next=0", "");
  EXPECT_TRUE(IsPrismValidationError(r1.status, r1.body)) << r1.status << " " << r1.body;
}

TEST(WildberriesContractTest, DbsStatusWritesFollowTheDbsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 0;
  so.dbs_orders = 10;
  so.await_seller = true;  // DBS orders wait for the seller's writes
  so.arrival = std::chrono::seconds(5);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(10));
  auto prism = StartPrism("05-orders-dbs.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.marketplace_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  o.client.pacing[static_cast<size_t>(Group::kDbs)] = {std::chrono::milliseconds(1), 100};
  o.client.dbs_status_pacing = {std::chrono::milliseconds(1), 100};
  WildberriesAdapter adapter(o, &http, clock);
  auto command = [](const char* name, json item, int attempt = 1) {
    adapters::Command m;
    m.name = name;
    m.payload = item.dump();
    m.attempt = attempt;
    return m;
  };
  auto set = [](int64_t id, const char* status) {
    json item = {{"order_id", id}, {"status", status}};
    if (std::string_view(status) == "receive" || std::string_view(status) == "reject") {
      item["code"] = WildberriesSimulator::BuyerCode(id);
    }
    return item;
  };
  // Every write: confirm, ship (confirm + deliver, its status read first),
  // cancel, then deliver, receive, reject; a redelivery (read, nothing
  // sent); an illegal deliver (WB's 409 passes Prism, then the read).
  for (const auto& batch : std::vector<std::vector<adapters::Command>>{
           {command("set_status", set(20'000'000, "confirm")),
            command("set_status", set(20'000'001, "confirm")),
            command("ship", {{"order_id", 20'000'002}, {"delivery_type", "dbs"}}),
            command("cancel", {{"order_id", 20'000'003}, {"delivery_type", "dbs"}})},
           {command("set_status", set(20'000'000, "deliver")),
            command("set_status", set(20'000'001, "deliver"))},
           {command("set_status", set(20'000'000, "receive")),
            command("set_status", set(20'000'001, "reject")),
            command("set_status", set(20'000'002, "deliver"), 2)}}) {
    const auto out = adapter.Deliver(batch);
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_TRUE(out[i].ok()) << i << ": " << out[i].error << "\n" << prism->Log();
    }
  }
  const auto illegal =
      adapter.Deliver(std::vector{command("set_status", set(20'000'004, "deliver"))});
  EXPECT_EQ(illegal[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(illegal[0].error.find("the order is now new/waiting"), std::string::npos)
      << illegal[0].error << "\n"
      << prism->Log();
  // Everything reached the simulator through Prism.
  for (const char* write :
       {"20000000/confirm", "20000002/confirm", "20000002/deliver", "20000003/cancel",
        "20000000/receive", "20000001/reject", "20000004/deliver"}) {
    EXPECT_EQ(sim.log().Find("PATCH", std::string("/api/v3/dbs/orders/") + write).size(), 1u)
        << write;
  }
  const auto now = sim.OrderStatuses(false);
  EXPECT_EQ(now.at("20000000"), "receive/sold");
  EXPECT_EQ(now.at("20000001"), "reject/canceled_by_client");
  EXPECT_EQ(now.at("20000002"), "deliver/waiting");
  EXPECT_EQ(now.at("20000003"), "cancel/canceled");

  // The test of the test: an order id that is not an integer is Prism's 422.
  auto r = Raw(http, "PATCH", prism->base_url() + "/api/v3/dbs/orders/abc/confirm", "");
  EXPECT_TRUE(IsPrismValidationError(r.status, r.body)) << r.status << " " << r.body;
}

TEST(WildberriesContractTest, StockPriceAndCardRequestsFollowTheProductsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.products = 50;
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto prism = StartPrism("02-products.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.marketplace_url = prism->base_url();
  o.client.prices_url = prism->base_url();
  o.client.content_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  WildberriesAdapter adapter(o, &http, clock);

  std::vector<adapters::Command> batch;
  for (auto [command, item] : std::vector<std::pair<std::string, json>>{
           {"set_stock", {{"sku", SimBarcode(1)}, {"warehouse_id", "507"}, {"amount", 3}}},
           {"set_stock", {{"chrt_id", 300000002}, {"warehouse_id", "507"}, {"amount", 4}}},
           {"set_price", {{"nm_id", 100000001}, {"price", 1500}, {"discount", 20}}}}) {
    adapters::Command m;
    m.name = command;
    m.payload = item.dump();
    batch.push_back(m);
  }
  auto out = adapter.Deliver(batch);
  EXPECT_TRUE(out[0].ok()) << out[0].error << "\n" << prism->Log();
  EXPECT_TRUE(out[1].ok()) << out[1].error << "\n" << prism->Log();
  EXPECT_EQ(sim.StockOf(507, SimBarcode(2)), 4);
  // The price upload is a task: its state is read through the history and
  // buffer methods (both lists, both detail methods).
  ASSERT_EQ(out[2].kind, DeliveryOutcome::Kind::kRetry) << out[2].error << "\n" << prism->Log();
  auto uploads = sim.log().Find("POST", "/api/v2/upload/task");
  ASSERT_EQ(uploads.size(), 1u);
  // "wildberries: price task <uploadID> accepted; ..."
  const size_t at = out[2].error.find("price task ");
  ASSERT_NE(at, std::string::npos) << out[2].error;
  const int64_t task = std::stoll(out[2].error.substr(at + 11));
  clock.Advance(std::chrono::seconds(1));
  auto in_buffer = adapter.client().PriceTaskStatus(TaskList::kBuffer, task);
  ASSERT_TRUE(in_buffer.ok()) << in_buffer.error().message << "\n" << prism->Log();
  ASSERT_TRUE(*in_buffer);
  EXPECT_EQ(**in_buffer, 1);
  auto buffer_goods = adapter.client().PriceTaskGoods(TaskList::kBuffer, task, 100, 0);
  ASSERT_TRUE(buffer_goods.ok()) << buffer_goods.error().message << "\n" << prism->Log();
  EXPECT_EQ(buffer_goods->size(), 1u);
  clock.Advance(std::chrono::seconds(2));
  auto settled = adapter.Deliver(std::span(batch.data() + 2, 1));
  EXPECT_TRUE(settled[0].ok()) << settled[0].error << "\n" << prism->Log();
  EXPECT_EQ(sim.log().Find("GET", "/api/v2/history/tasks").size(), 1u);
  clock.Advance(std::chrono::seconds(1));
  auto history_goods = adapter.client().PriceTaskGoods(TaskList::kHistory, task, 1000, 0);
  ASSERT_TRUE(history_goods.ok()) << history_goods.error().message << "\n" << prism->Log();
  ASSERT_EQ(history_goods->size(), 1u);
  EXPECT_EQ((*history_goods)[0].status, 2);
  auto gone = adapter.client().PriceTaskStatus(TaskList::kBuffer, task);
  ASSERT_TRUE(gone.ok()) << gone.error().message << "\n" << prism->Log();
  EXPECT_FALSE(*gone);  // data: null once processed

  int64_t chrt[] = {300000001, 300000002};
  auto stocks = adapter.client().GetStocks(507, chrt);
  ASSERT_TRUE(stocks.ok()) << stocks.error().message;
  ASSERT_EQ(stocks->size(), 2u);
  EXPECT_EQ((*stocks)[0].amount, 3);

  clock.Advance(std::chrono::seconds(2));
  auto cards = adapter.client().ListCards({}, 20);
  ASSERT_TRUE(cards.ok()) << cards.error().message << "\n" << prism->Log();
  EXPECT_EQ(cards->cards, 20u);
  clock.Advance(std::chrono::seconds(1));
  auto more = adapter.client().ListCards(cards->cursor, 100);
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_EQ(more->cards, 30u);  // the rest; fewer than the limit = the end

  // The test of the test.
  auto r1 = Raw(http, "PUT", prism->base_url() + "/api/v3/stocks/507", R"({"stocks":[]})");
  EXPECT_TRUE(IsPrismValidationError(r1.status, r1.body)) << r1.status << " " << r1.body;
  auto r2 = Raw(http, "POST", prism->base_url() + "/api/v2/upload/task",
                R"({"data":[{"nmID":100000001,"price":10}]})", /*auth=*/false);
  EXPECT_TRUE(IsPrismValidationError(r2.status, r2.body)) << r2.status << " " << r2.body;
  auto r3 = Raw(http, "GET", prism->base_url() + "/api/v2/history/goods/task?uploadID=1", "");
  EXPECT_TRUE(IsPrismValidationError(r3.status, r3.body))
      << r3.status << " " << r3.body;  // no limit
}

TEST(WildberriesContractTest, ReturnsReportRequestsFollowTheReportsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 60;
  so.arrival = std::chrono::seconds(10);
  so.lifetime = std::chrono::seconds(10);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(60));  // every return made, some at their last step
  auto prism = StartPrism("12-reports.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.analytics_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  o.dbs = false;
  o.returns = true;
  WildberriesAdapter adapter(o, &http, clock);
  PullDriver driver;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(driver.Step(adapter, clock)) << prism->Log();
  }
  // Every return of the world, through Prism (which checked the answer too).
  EXPECT_EQ(driver.returns.size(), sim.ReturnOrders().size()) << prism->Log();
  EXPECT_FALSE(sim.ReturnOrders().empty());
  const auto sent = sim.log().Find("GET", "/api/v1/analytics/goods-return");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 200) << prism->Log();
  // A refusal the spec documents, in its documented shape (Prism checks the
  // simulator's 400 against the 4xxResponse schema).
  auto refused = Raw(
      http, "GET",
      prism->base_url() + "/api/v1/analytics/goods-return?dateFrom=2026-01-01&dateTo=2026-03-01",
      "");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_FALSE(IsPrismValidationError(refused.status, refused.body)) << refused.body;
  EXPECT_NE(refused.body.find("should be less or equal 31 days"), std::string::npos)
      << refused.body;

  // The test of the test: a request without dateTo is caught by Prism.
  auto r1 = Raw(http, "GET",
                prism->base_url() + "/api/v1/analytics/goods-return?dateFrom=2026-01-01", "");
  EXPECT_TRUE(IsPrismValidationError(r1.status, r1.body)) << r1.status << " " << r1.body;
}

TEST(WildberriesContractTest, SalesReportRequestsFollowTheReportsSpec) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 60;
  so.arrival = std::chrono::seconds(10);
  so.lifetime = std::chrono::seconds(10);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(60));  // every sale made, some returned
  auto prism = StartPrism("12-reports.yaml", sim);
  ASSERT_NE(prism, nullptr);
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.client.statistics_url = prism->base_url();
  o.client.timeout = std::chrono::seconds(10);
  o.dbs = false;
  o.reports = true;
  WildberriesAdapter adapter(o, &http, clock);
  PullDriver driver;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(driver.Step(adapter, clock)) << prism->Log();
  }
  // Every row of the world, through Prism (which checked the answer too).
  EXPECT_EQ(driver.reports.size(), sim.SaleRows().size()) << prism->Log();
  EXPECT_GT(sim.SaleRows().size(), 10u);
  const auto sent = sim.log().Find("GET", "/api/v1/supplier/sales");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].status, 200) << prism->Log();

  // The test of the test: a request without dateFrom is caught by Prism.
  auto r1 = Raw(http, "GET", prism->base_url() + "/api/v1/supplier/sales?flag=0", "");
  EXPECT_TRUE(IsPrismValidationError(r1.status, r1.body)) << r1.status << " " << r1.body;
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
