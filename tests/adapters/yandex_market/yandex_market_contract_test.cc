// Every request type the Yandex Market adapter sends passes Prism's
// validation against the official multi-file OpenAPI spec, with Prism as a
// proxy in front of the simulator (prism proxy <openapi.yaml> <sim>
// --errors), which also validates the simulator's answers. And a test of
// the test: deliberately wrong requests through the same proxy are caught.
//
// Needs Prism: `npm ci --prefix tests/contract` (fails, never skips).

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/yandex_market/adapter.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "net/http_client.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;

class YmContractTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    clock_ = new SystemClock();
    YandexMarketSimOptions so;
    so.orders = 60;
    so.arrival = std::chrono::milliseconds(1);
    so.lifetime = std::chrono::seconds(3);
    so.enforce_rate_limits = false;
    sim_options_ = new YandexMarketSimOptions(so);
    sim_ = new YandexMarketSimulator(so, *clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    crmhub::testing::PrismOptions po;
    po.spec = std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/yandex-market/openapi/openapi.yaml";
    po.upstream = sim_->base_url();
    auto prism = crmhub::testing::PrismProcess::Start(po);
    ASSERT_TRUE(prism.ok()) << prism.status().ToString();
    prism_ = prism->release();
  }
  static void TearDownTestSuite() {
    delete prism_;
    delete sim_;
    delete sim_options_;
    delete clock_;
    prism_ = nullptr;
    sim_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(prism_, nullptr) << "Prism did not start (see the suite's setup failure)";
    net::HttpClientOptions options;
    options.request_timeout = std::chrono::seconds(20);
    http_ = std::make_unique<net::HttpClient>(io_, options);
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    guard_.reset();
    http_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<YmAdapter> MakeAdapter() {
    YmConfig c;
    c.id = "ym";
    c.client.base_url = prism_->base_url();
    c.client.api_key = Secret(sim_options_->api_key());
    c.client.campaign_id = sim_options_->campaign_id();
    c.client.business_id = sim_options_->business_id();
    c.client.timeout = std::chrono::seconds(20);
    c.page_size = 20;
    c.lookback = std::chrono::hours(1);
    return std::make_unique<YmAdapter>(
        c, MakeUpstreamTransport("ym", http_.get(), adapter_clock_, 0, nullptr), adapter_clock_);
  }
  static std::string LogTail() {
    std::string log = prism_->Log();
    return log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }

  static SystemClock* clock_;
  static YandexMarketSimOptions* sim_options_;
  static YandexMarketSimulator* sim_;
  static crmhub::testing::PrismProcess* prism_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
      io_.get_executor()};
  std::unique_ptr<net::HttpClient> http_;
  std::thread thread_;
  // The adapter runs a few seconds ahead of the simulator, so its window
  // (whole seconds, end exclusive) covers every order the simulator has.
  ManualClock adapter_clock_{SystemClock().Now() + std::chrono::seconds(10)};
};

SystemClock* YmContractTest::clock_ = nullptr;
YandexMarketSimOptions* YmContractTest::sim_options_ = nullptr;
YandexMarketSimulator* YmContractTest::sim_ = nullptr;
crmhub::testing::PrismProcess* YmContractTest::prism_ = nullptr;

TEST_F(YmContractTest, GetOrdersPagesPassTheSpec) {
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
}

TEST_F(YmContractTest, StocksAndPricesPassTheSpec) {
  auto adapter = MakeAdapter();
  std::vector<queue::Message> batch;
  for (int i = 0; i < 3; ++i) {
    queue::Message m;
    m.headers = {{"command", "set_stock"}};
    m.payload = json{{"sku", "YM-" + std::to_string(i)}, {"stock", i}}.dump();
    batch.push_back(m);
  }
  queue::Message price;
  price.headers = {{"command", "set_price"}};
  price.payload = json{{"offer_id", "YM-1"}, {"price", "123.45"}}.dump();
  batch.push_back(price);
  auto outcomes = adapter->Deliver(batch);
  for (const auto& o : outcomes) EXPECT_TRUE(o.ok()) << o.error << "\n" << LogTail();
}

TEST_F(YmContractTest, WrongRequestsAreCaught) {
  const std::string base = prism_->base_url();
  const std::string stocks =
      base + "/v2/campaigns/" + std::to_string(sim_options_->campaign_id()) + "/offers/stocks";
  net::OutboundRequest r;
  r.method = "PUT";
  r.url = stocks;
  r.headers.Set("Api-Key", sim_options_->api_key());
  r.headers.Set("Content-Type", "application/json");
  // items must have exactly one element with a count.
  r.body = R"({"skus":[{"sku":"A","items":[]}]})";
  auto bad = http_->SendBlocking(r);
  ASSERT_TRUE(bad.ok());
  EXPECT_TRUE(crmhub::testing::IsPrismValidationError(bad->status, bad->body)) << bad->body;
  // limit above 50 on getOrders.
  net::OutboundRequest g;
  g.method = "GET";
  g.url = base + "/v2/campaigns/" + std::to_string(sim_options_->campaign_id()) +
          "/orders?limit=500";
  g.headers.Set("Api-Key", sim_options_->api_key());
  auto too_many = http_->SendBlocking(g);
  ASSERT_TRUE(too_many.ok());
  EXPECT_TRUE(crmhub::testing::IsPrismValidationError(too_many->status, too_many->body))
      << too_many->status << " " << too_many->body;
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
