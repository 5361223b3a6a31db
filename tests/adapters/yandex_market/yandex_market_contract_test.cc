// Every request type the Yandex Market adapter sends passes Prism's
// validation against the official multi-file OpenAPI spec, with Prism as a
// proxy in front of the simulator (prism proxy <openapi.yaml> <sim>
// --errors), which also validates the simulator's answers. And a test of
// the test: deliberately wrong requests through the same proxy are caught.
//
// Needs Prism: `npm ci --prefix tests/contract`. Without it every test fails
// (never skips): a fatal failure in SetUpTestSuite would make gtest, and
// ctest after it, report the tests as skipped, so the suite's setup only
// records why it could not start and each test's SetUp fails with that.

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/adapters/yandex_market/ym_test_support.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;

class YandexMarketContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new SystemClock();
    YandexMarketSimOptions so;
    so.orders = 60;
    so.arrival = std::chrono::milliseconds(1);
    so.lifetime = std::chrono::seconds(3);
    so.enforce_rate_limits = false;
    so.await_seller = true;  // the status writes find orders to move
    sim_options_ = new YandexMarketSimOptions(so);
    sim_ = new YandexMarketSimulator(so, *clock_);
    if (Status started = sim_->Start("127.0.0.1:0"); !started.ok()) {
      setup_error_ = new std::string(started.ToString());
      return;
    }
    crmhub::testing::PrismOptions po;
    po.spec =
        std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/yandex-market/openapi/openapi.yaml";
    po.upstream = sim_->base_url();
    auto prism = crmhub::testing::PrismProcess::Start(po);
    if (!prism.ok()) {
      setup_error_ = new std::string(prism.status().ToString());
      return;
    }
    prism_ = prism->release();
  }
  static void TearDownTestSuite() {
    delete prism_;
    delete sim_;
    delete sim_options_;
    delete clock_;
    delete setup_error_;
    prism_ = nullptr;
    sim_ = nullptr;
    setup_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    http_ = std::make_unique<testing::ClientThread>(std::chrono::seconds(20));
  }

  std::unique_ptr<YandexMarketAdapter> MakeAdapter() {
    YandexMarketConfig c = testing::ConfigFor("ym", *sim_options_, prism_->base_url());
    c.client.timeout = std::chrono::seconds(20);
    c.page_size = 20;
    c.lookback = std::chrono::hours(1);
    return testing::MakeAdapter(c, &http_->client(), adapter_clock_);
  }
  static std::string LogTail() {
    std::string log = prism_->Log();
    return log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }
  net::OutboundResult Send(const std::string& method, const std::string& target, std::string body) {
    net::OutboundRequest r;
    r.method = method;
    r.url = prism_->base_url() + target;
    r.headers.Set("Api-Key", sim_options_->api_key());
    if (!body.empty()) r.headers.Set("Content-Type", "application/json");
    r.body = std::move(body);
    return http_->client().SendBlocking(r);
  }

  static SystemClock* clock_;
  static YandexMarketSimOptions* sim_options_;
  static YandexMarketSimulator* sim_;
  static crmhub::testing::PrismProcess* prism_;
  static std::string* setup_error_;
  std::unique_ptr<testing::ClientThread> http_;
  // The adapter runs a few seconds ahead of the simulator, so its window
  // (whole seconds, end exclusive) covers every order the simulator has.
  ManualClock adapter_clock_{SystemClock().Now() + std::chrono::seconds(10)};
};

SystemClock* YandexMarketContractTest::clock_ = nullptr;
YandexMarketSimOptions* YandexMarketContractTest::sim_options_ = nullptr;
YandexMarketSimulator* YandexMarketContractTest::sim_ = nullptr;
crmhub::testing::PrismProcess* YandexMarketContractTest::prism_ = nullptr;
std::string* YandexMarketContractTest::setup_error_ = nullptr;

TEST_F(YandexMarketContractTest, GetBusinessOrdersPagesAndResolvePassTheSpec) {
  auto adapter = MakeAdapter();
  std::optional<std::string> cursor;
  size_t events = 0;
  for (int i = 0; i < 10; ++i) {
    auto pulled = adapter->Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString() << "\n" << LogTail();
    events += pulled->events.size();
    cursor = pulled->next_cursor;
    if (!pulled->more) break;
  }
  EXPECT_EQ(events, 60u) << sim_->log().ToJson().substr(0, 3000);
  adapters::Hint hint;
  hint.payload = R"({"notificationType":"ORDER_CREATED","orderId":70000001})";
  ResolveResult resolved = adapter->Resolve(hint);
  EXPECT_TRUE(resolved.outcome.ok()) << resolved.outcome.error << "\n" << LogTail();
}

TEST_F(YandexMarketContractTest, StocksPriceReadsAndPricesPassTheSpec) {
  sim_->SetPrice("YM-1", {json(100), "RUR", json(150), json(90.5)});
  auto adapter = MakeAdapter();
  std::vector<adapters::Command> batch;
  for (int i = 0; i < 3; ++i) {
    batch.push_back(
        testing::MakeCommand("set_stock", {{"sku", "YM-" + std::to_string(i)}, {"stock", i}}));
  }
  batch.push_back(testing::MakeCommand("set_price", {{"offer_id", "YM-1"}, {"price", "123.45"}}));
  batch.push_back(testing::MakeCommand(
      "set_price",
      {{"offer_id", "YM-2"}, {"price", 99}, {"discount_base", 120}, {"currency", "RUB"}}));
  for (const auto& o : adapter->Deliver(batch)) EXPECT_TRUE(o.ok()) << o.error << "\n" << LogTail();
  EXPECT_EQ(testing::PriceOf(*sim_, "YM-1")["discountBase"], json(150)) << "kept through Prism";
}

// The catalogue: getOfferMappings without a body, the first page and the
// next by its page_token, valid requests answered with valid offers.
TEST_F(YandexMarketContractTest, OfferMappingsPassTheSpec) {
  auto adapter = MakeAdapter();
  auto first = adapter->client().GetOfferMappings("", 20);
  ASSERT_TRUE(first.ok()) << first.error().message << "\n" << LogTail();
  ASSERT_EQ(first->cards.size(), 20u);
  EXPECT_EQ(first->cards[0].card.sku, "YM-000001");
  EXPECT_FALSE(first->cards[0].card.attributes.value("market_sku", "").empty());
  ASSERT_FALSE(first->next_page_token.empty());
  auto next = adapter->client().GetOfferMappings(first->next_page_token, 20);
  ASSERT_TRUE(next.ok()) << next.error().message << "\n" << LogTail();
  ASSERT_EQ(next->cards.size(), 20u);
  EXPECT_EQ(next->cards[0].card.sku, "YM-000021");
}

TEST_F(YandexMarketContractTest, StatusWritesPassTheSpec) {
  auto adapter = MakeAdapter();
  auto outcomes = adapter->Deliver(std::vector{
      testing::MakeCommand("ship", {{"order_id", 70000002}}),
      testing::MakeCommand("cancel", {{"order_id", 70000003}}),
      testing::MakeCommand(
          "set_status",
          {{"order_id", 70000004}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}})});
  for (const auto& o : outcomes) EXPECT_TRUE(o.ok()) << o.error << "\n" << LogTail();
  // Refused: the per-order ERROR answer passes the spec too.
  auto illegal =
      adapter->Deliver(std::vector{testing::MakeCommand("ship", {{"order_id", 70000003}})});
  EXPECT_EQ(illegal[0].kind, DeliveryOutcome::Kind::kFail) << illegal[0].error << "\n" << LogTail();
  EXPECT_NE(illegal[0].error.find("now CANCELLED/SHOP_FAILED"), std::string::npos)
      << illegal[0].error << "\n"
      << LogTail();
  // USER_UNREACHABLE without its calls: the documented 400 passes the spec,
  // and the order is read again.
  auto unreachable = adapter->Deliver(std::vector{testing::MakeCommand(
      "set_status",
      {{"order_id", 70000005}, {"status", "CANCELLED"}, {"substatus", "USER_UNREACHABLE"}})});
  EXPECT_EQ(unreachable[0].kind, DeliveryOutcome::Kind::kFail) << unreachable[0].error << "\n"
                                                               << LogTail();
  EXPECT_NE(unreachable[0].error.find("HTTP 400"), std::string::npos)
      << unreachable[0].error << "\n"
      << LogTail();
  EXPECT_NE(unreachable[0].error.find("the order is now PROCESSING/STARTED"), std::string::npos)
      << unreachable[0].error << "\n"
      << LogTail();
}

TEST_F(YandexMarketContractTest, WrongRequestsAreCaught) {
  const std::string campaign = std::to_string(sim_options_->campaign_id());
  const std::string business = std::to_string(sim_options_->business_id());
  auto caught = [](const net::OutboundResult& r) {
    return r.ok() && crmhub::testing::IsPrismValidationError(r->status, r->body);
  };
  // items must have exactly one element with a count.
  EXPECT_TRUE(caught(Send("PUT", "/v2/campaigns/" + campaign + "/offers/stocks",
                          R"({"skus":[{"sku":"A","items":[]}]})")));
  // limit above 50; a missing (required) body.
  EXPECT_TRUE(caught(Send("POST", "/v1/businesses/" + business + "/orders?limit=500", "{}")));
  EXPECT_TRUE(caught(Send("POST", "/v1/businesses/" + business + "/orders", "")));
  // RUB is not a CurrencyType; more than 200 offerIds.
  EXPECT_TRUE(
      caught(Send("POST", "/v2/businesses/" + business + "/offer-prices/updates",
                  R"({"offers":[{"offerId":"A","price":{"value":1,"currencyId":"RUB"}}]})")));
  json ids = json::array();
  for (int i = 0; i < 201; ++i) ids.push_back("A" + std::to_string(i));
  EXPECT_TRUE(caught(Send("POST", "/v2/businesses/" + business + "/offer-prices",
                          json{{"offerIds", ids}}.dump())));
  // A status outside OrderStatusType; more than 30 orders.
  EXPECT_TRUE(caught(Send("POST", "/v2/campaigns/" + campaign + "/orders/status-update",
                          R"({"orders":[{"id":70000001,"status":"SHIPPED"}]})")));
  json orders = json::array();
  for (int i = 0; i < 31; ++i) {
    orders.push_back({{"id", 70000001 + i}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}});
  }
  EXPECT_TRUE(caught(Send("POST", "/v2/campaigns/" + campaign + "/orders/status-update",
                          json{{"orders", orders}}.dump())));
}

// getReturns through Prism, over a world whose delivered orders have
// returns (its own simulator: the suite's holds its orders for the seller).
TEST(YandexMarketReturnsContractTest, ReturnsPagesPassTheSpec) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = 120;
  so.start = clock.Now() - std::chrono::hours(1);
  so.arrival = std::chrono::seconds(10);
  so.lifetime = std::chrono::seconds(3);
  so.enforce_rate_limits = false;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  crmhub::testing::PrismOptions po;
  po.spec = std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/yandex-market/openapi/openapi.yaml";
  po.upstream = sim.base_url();
  auto prism = crmhub::testing::PrismProcess::Start(po);
  ASSERT_TRUE(prism.ok()) << prism.status().ToString();
  testing::ClientThread http(std::chrono::seconds(20));
  YandexMarketConfig c = testing::ConfigFor("ym", so, (*prism)->base_url());
  c.client.timeout = std::chrono::seconds(20);
  c.lookback = std::chrono::hours(2);
  auto adapter = testing::MakeAdapter(c, &http.client(), clock);
  std::optional<std::string> cursor;
  std::set<std::string> returns;
  for (int i = 0; i < 20; ++i) {
    auto pulled = adapter->Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString() << "\n"
                             << (*prism)->Log().substr(0, 3000);
    for (const auto& e : pulled->events) {
      if (e.kind == "return") returns.insert(e.idempotency_key);
    }
    cursor = pulled->next_cursor;
    if (!pulled->more) break;
  }
  EXPECT_EQ(returns.size(), sim.ReturnOrders().size());
  EXPECT_FALSE(returns.empty());
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
