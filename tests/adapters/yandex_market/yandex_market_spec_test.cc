// What the spec says beyond its schemas, checked on what the adapter sent
// during a realistic cycle (pull, a notification resolved, stock and price
// pushes), read from the simulator's request log:
//   * the rules stated only in prose (ym_test_support.h, ProseViolations);
//   * no call to an operation the official spec marks deprecated
//     (tests/support/spec_operations.h).
// Each check has its test of the test: a log entry or a spec copy that
// breaks the rule must be reported.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/adapters/yandex_market/ym_test_support.h"
#include "tests/support/spec_operations.h"

namespace crmhub::adapters::yandex_market {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSpecDir = fs::path(CRMHUB_CONTRACTS_DIR) / "marketplaces/yandex-market/openapi";

class YandexMarketSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    YandexMarketSimOptions so;
    so.orders = 400;
    so.arrival = std::chrono::seconds(60);
    so.lifetime = std::chrono::seconds(30);
    so.start = clock_.Now() - std::chrono::minutes(10);
    so.await_seller = true;
    so.catalogue = 2500;  // every offer the cycle's commands name
    sim_ = std::make_unique<YandexMarketSimulator>(so, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    YandexMarketConfig config = testing::ConfigFor("ym", so, sim_->base_url());
    config.products = true;  // and the catalogue's pass (25 pages)
    adapter_ = testing::MakeAdapter(config, &http_.client(), clock_);
    testing::RunCycle(*adapter_, *sim_, clock_);
  }
  // Every (method, path) the adapter sent.
  std::vector<std::pair<std::string, std::string>> Calls() const {
    std::set<std::pair<std::string, std::string>> calls;
    for (const auto& r : sim_->log().Snapshot()) calls.emplace(r.method, r.path);
    return {calls.begin(), calls.end()};
  }

  ManualClock clock_;
  testing::ClientThread http_;
  std::unique_ptr<YandexMarketSimulator> sim_;
  std::unique_ptr<YandexMarketAdapter> adapter_;
};

TEST_F(YandexMarketSpecTest, TheCycleKeepsTheRulesTheSpecStatesInProse) {
  const auto log = sim_->log().Snapshot();
  std::set<std::string> seen;
  for (const auto& r : log) seen.insert(r.method + " " + r.path);
  EXPECT_EQ(seen.size(), 7u) << "orders, returns, the catalogue, stocks, price reads, price "
                                "updates and status updates were all sent";
  for (const auto& r : log)
    EXPECT_EQ(r.status, 200) << r.method << " " << r.path << " " << r.body.substr(0, 300);
  std::string all;
  for (const std::string& v : testing::ProseViolations(log)) all += v + "\n";
  EXPECT_TRUE(all.empty()) << all;
}

// The test of the test: one entry breaking each rule is reported.
TEST(YandexMarketProseRules, EachBrokenRuleIsReported) {
  auto entry = [](std::string method, std::string path, json body, int64_t at_ms = 0) {
    simkit::LoggedRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = body.dump();
    r.at_ms = at_ms;
    return r;
  };
  auto item = [](const std::string& sku) {
    return json{{"sku", sku}, {"items", json::array({{{"count", 1}}})}};
  };
  auto price = [](const std::string& id, json p) { return json{{"offerId", id}, {"price", p}}; };
  const std::string stocks = "/v2/campaigns/1/offers/stocks",
                    prices = "/v2/businesses/2/offer-prices/updates";
  std::string long_sku;
  for (int i = 0; i < 256; ++i) long_sku += "Ж";
  json many_offers = json::array();
  for (int i = 0; i < 500; ++i) {
    many_offers.push_back(price("S" + std::to_string(i), {{"value", 1}, {"currencyId", "RUR"}}));
  }
  const std::vector<std::pair<simkit::LoggedRequest, std::string>> cases = {
      {entry("PUT", stocks, {{"skus", {item("A"), item(" A")}}}), "sku twice"},
      {entry("PUT", stocks, {{"skus", {item(long_sku)}}}), "1..255 characters"},
      {entry("PUT", stocks,
             {{"skus", {{{"sku", "B"}, {"items", {{{"count", 1}}, {{"count", 2}}}}}}}}),
       "one item"},
      {entry("POST", prices,
             {{"offers",
               {price("A", {{"value", 1}, {"currencyId", "RUR"}}),
                price("A", {{"value", 2}, {"currencyId", "RUR"}})}}}),
       "offerId twice"},
      {entry("POST", prices, {{"offers", {price("A", {{"value", 1}, {"currencyId", "RUB"}})}}}),
       "CurrencyType"},
      {entry("POST", prices,
             {{"offers",
               {price("A", {{"value", 90}, {"currencyId", "RUR"}, {"discountBase", 100.5}})}}}),
       "whole number"},
      {entry("POST", prices,
             {{"offers",
               {price("A", {{"value", 99}, {"currencyId", "RUR"}, {"discountBase", 100}})}}}),
       "5..99%"},
      {entry(
           "POST", prices,
           {{"offers",
             {price("A", {{"value", 99}, {"currencyId", "RUR"}, {"minimumForBestseller", 2e8}})}}}),
       "minimumForBestseller"},
      {entry("POST", "/v1/businesses/2/orders",
             {{"dates", {{"creationDateFrom", "2025-01-01"}, {"creationDateTo", "2025-02-01"}}}}),
       "30 days"},
      {entry("POST", "/v1/businesses/2/orders", {{"orderIds", {1, 1}}}), "orderIds"},
      {entry("POST", "/v2/businesses/2/offer-prices", {{"offerIds", json::array()}}), "offerIds"},
      {entry("POST", "/v2/campaigns/1/orders/status-update", {{"orders", json::array()}}),
       "orders: 1..30"},
      {[&] {
         auto r = entry("POST", "/v2/businesses/2/offer-mappings", nullptr);
         r.query = "limit=200";
         return r;
       }(),
       "getOfferMappings limit 1..100"},
      {[&] {
         auto r = entry("POST", "/v2/businesses/2/offer-mappings", {{"offerIds", {"A"}}});
         r.query = "limit=50&page_token=50";
         return r;
       }(),
       "a page_token with offerIds"},
      {[&] {
         auto r = entry("GET", "/v2/campaigns/1/returns", nullptr);
         r.query = "limit=100&from_date=2025-01-01";
         return r;
       }(),
       "deprecated parameter from_date"},
      {entry("POST", "/v2/campaigns/1/orders/status-update",
             {{"orders", {{{"id", 1}, {"status", "CANCELLED"}}}}}),
       "without a substatus"},
      {entry("POST", "/v2/campaigns/1/orders/status-update",
             {{"orders",
               {{{"id", 1}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}},
                {{"id", 1}, {"status", "PROCESSING"}, {"substatus", "READY_TO_SHIP"}}}}}),
       "order twice"},
      {entry("POST", "/v2/campaigns/1/orders/status-update",
             {{"orders", {{{"id", 1}, {"status", "DELIVERY"}, {"substatus", "SHIPPED"}}}}}),
       "does not document for a seller"},
  };
  for (const auto& [request, rule] : cases) {
    auto found = testing::ProseViolations({request});
    ASSERT_EQ(found.size(), 1u) << rule << ": " << request.body;
    EXPECT_NE(found[0].find(rule), std::string::npos) << found[0];
  }
  // Frequency: 10,000 offers in a minute pass, one more within it does not.
  std::vector<simkit::LoggedRequest> burst;
  for (int i = 0; i < 20; ++i)
    burst.push_back(entry("POST", prices, {{"offers", many_offers}}, i * 1000));
  EXPECT_TRUE(testing::ProseViolations(burst).empty());
  burst.push_back(entry("POST", prices,
                        {{"offers", {price("X", {{"value", 1}, {"currencyId", "RUR"}})}}}, 59000));
  auto found = testing::ProseViolations(burst);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("offers a minute"), std::string::npos) << found[0];
  burst.back().at_ms = 60000;  // the first request has left the window
  EXPECT_TRUE(testing::ProseViolations(burst).empty());
}

TEST_F(YandexMarketSpecTest, NoCallIsToADeprecatedOperation) {
  auto operations = crmhub::testing::LoadSpecOperations({(kSpecDir / "openapi.yaml").string()});
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  const auto calls = Calls();
  ASSERT_EQ(calls.size(), 7u);
  crmhub::testing::CallFindings findings = crmhub::testing::CheckCalls(*operations, calls);
  EXPECT_TRUE(findings.deprecated.empty()) << ::testing::PrintToString(findings.deprecated);
  EXPECT_TRUE(findings.unknown.empty()) << ::testing::PrintToString(findings.unknown);
}

// The test of the test: the same calls against a copy of the spec in which
// getBusinessOrders is marked deprecated are reported.
TEST_F(YandexMarketSpecTest, TheCheckReportsACalledOperationMarkedDeprecated) {
  const fs::path copy = fs::temp_directory_path() / ("ym-spec-" + std::to_string(::getpid()));
  fs::remove_all(copy);
  fs::copy(kSpecDir, copy, fs::copy_options::recursive);
  const fs::path path = copy / "paths/v1_businesses_businessId_orders.yaml";
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  std::string yaml = text.str();
  ASSERT_EQ(yaml.rfind("post:\n", 0), 0u);
  yaml.insert(6, "  deprecated: true\n");
  std::ofstream(path) << yaml;
  auto operations = crmhub::testing::LoadSpecOperations({(copy / "openapi.yaml").string()});
  fs::remove_all(copy);
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  crmhub::testing::CallFindings findings = crmhub::testing::CheckCalls(*operations, Calls());
  ASSERT_EQ(findings.deprecated.size(), 1u);
  EXPECT_NE(findings.deprecated[0].find("getBusinessOrders"), std::string::npos)
      << findings.deprecated[0];
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
