// What the spec says beyond its schemas, checked on a realistic cycle of
// the adapter against the simulator (a pull round with its returns and
// product cards, a stock push, a price push, ships and cancels, an act, on
// a ManualClock, delivered the way the queue would: batches, each retry at
// its not_before), read back from the simulator's request log:
//   * the rules stated only in prose (ozon_prose_rules.h), and
//   * no operation called is marked `deprecated: true` in the official
//     spec (tests/support/spec_operations.h).
// Each check has its test of the test: a log entry breaking each prose
// rule is reported; a copy of the spec in which a called operation is
// deprecated is reported. And the contract test is seen to fail, not skip,
// without Prism.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/adapters/ozon/ozon_prose_rules.h"
#include "tests/adapters/ozon/ozon_test_support.h"
#include "tests/support/spec_operations.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

const std::string kSpec =
    std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/ozon-seller-api.swagger.json";

adapters::Command MakeCommand(const std::string& name, const json& item) {
  adapters::Command m;
  m.name = name;
  m.payload = item.dump();
  return m;
}

// Delivers `commands` as the queue would: batches of max_batch of those
// due, each retry due again at its not_before (and one attempt on), the
// clock moved to the next due time, until every command is settled.
// Returns how many ended Ok.
int DeliverAll(OzonAdapter& adapter, ManualClock& clock,
               const std::vector<adapters::Command>& commands) {
  std::vector<std::pair<SystemTime, adapters::Command>> pending;
  for (const auto& m : commands) pending.emplace_back(clock.Now(), m);
  int ok = 0;
  for (int rounds = 0; !pending.empty() && rounds < 500; ++rounds) {
    std::stable_sort(pending.begin(), pending.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    if (pending.front().first > clock.Now()) clock.Advance(pending.front().first - clock.Now());
    std::vector<adapters::Command> batch;
    while (!pending.empty() && pending.front().first <= clock.Now() &&
           batch.size() < static_cast<size_t>(adapter.max_batch())) {
      batch.push_back(pending.front().second);
      pending.erase(pending.begin());
    }
    const auto out = adapter.Deliver(batch);
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i].ok()) ++ok;
      if (out[i].kind == DeliveryOutcome::Kind::kRetry) {
        ++batch[i].attempt;
        pending.emplace_back(out[i].not_before.value_or(clock.Now() + std::chrono::seconds(1)),
                             batch[i]);
      }
    }
    clock.Advance(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(pending.empty()) << pending.size() << " commands never settled";
  return ok;
}

std::vector<simkit::LoggedRequest> RunCycle() {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.products = 400;
  so.fbo_share = 0.3;
  so.arrival = std::chrono::minutes(10);
  so.lifetime = std::chrono::seconds(30);
  so.await_seller = true;  // FBS postings wait for the seller's ship and cancel
  OzonSimulator sim(so, clock);
  EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(15));
  testing::ClientThread http;
  auto config = testing::ConfigFor("ozon-main", so, sim.base_url());
  config.page_size = 40;   // several windows and pages
  config.returns = true;   // and the returns' pass
  config.products = true;  // and the product cards' (400 cards, 150 a page)
  config.products_page_size = 150;
  config.reports = true;  // and the realization report's (the month before)
  OzonAdapter adapter(config, http.transport(), clock);

  // A pull round, a page every 100 ms.
  std::optional<std::string> cursor;
  for (int pulls = 0; pulls < 200; ++pulls) {
    auto pulled = adapter.Pull(cursor);
    EXPECT_TRUE(pulled.ok()) << pulled.status().ToString();
    if (!pulled.ok()) break;
    cursor = pulled->next_cursor;
    clock.Advance(std::chrono::milliseconds(100));
    if (!pulled->more) break;
  }

  // A stock push: 250 pairs (200 named by offer_id, resolved through the
  // catalogue; 50 by product_id), one of them twice in the batch; then,
  // 10 s later, a second value for 30 of them (held until their 30 s).
  std::vector<adapters::Command> stocks;
  char offer[32];
  for (int i = 0; i < 250; ++i) {
    std::snprintf(offer, sizeof(offer), "SKU-%06d", i + 1);
    json item = {{"warehouse_id", 22}, {"stock", i}};
    if (i < 200) {
      item["offer_id"] = offer;
    } else {
      item["product_id"] = 100001 + i;
    }
    stocks.push_back(MakeCommand("set_stock", item));
  }
  stocks.push_back(
      MakeCommand("set_stock", {{"offer_id", "SKU-000001"}, {"warehouse_id", 22}, {"stock", 7}}));
  // And by the CRM's SKU, resolved by the cards the round read.
  stocks.push_back(
      MakeCommand("set_stock", {{"sku", "SKU-000300"}, {"warehouse_id", 22}, {"stock", 3}}));
  EXPECT_EQ(DeliverAll(adapter, clock, stocks), 252);
  clock.Advance(std::chrono::seconds(10));
  std::vector<adapters::Command> again(stocks.begin() + 190, stocks.begin() + 220);
  EXPECT_EQ(DeliverAll(adapter, clock, again), 30);

  // A price push: twelve changes a minute apart to two products (one by
  // offer_id, one by product_id alone), each sent twice per batch; the 11th
  // and 12th within the hour wait for their slot.
  for (int round = 0; round < 12; ++round) {
    const std::string price = std::to_string(100 + round) + ".50";
    std::vector<adapters::Command> prices = {
        MakeCommand("set_price", {{"offer_id", "SKU-000005"}, {"price", "1.00"}}),
        MakeCommand("set_price", {{"product_id", 100010}, {"price", 99}, {"currency_code", "RUB"}}),
        MakeCommand("set_price",
                    {{"offer_id", "SKU-000005"}, {"price", price}, {"old_price", "0"}}),
        MakeCommand("set_price",
                    {{"product_id", 100010}, {"price", price}, {"currency_code", "RUB"}}),
    };
    EXPECT_EQ(DeliverAll(adapter, clock, prices), 4);
    clock.Advance(std::chrono::minutes(1));
  }
  // The newest values went, when their slots came.
  const json state = json::parse(sim.StateJson());
  EXPECT_EQ(state["prices"]["SKU-000005"], "111.50");
  EXPECT_EQ(state["prices"]["SKU-000010"], "111.50");

  // Posting commands: ten shipped, five cancelled (the default reason and
  // 352), each command delivered twice (the second a redelivery).
  std::vector<std::string> fbs;
  const std::set<std::string> fbo = sim.FboPostings();
  for (const auto& [number, status] : sim.OrderStatuses(false)) {
    if (!fbo.contains(number) && fbs.size() < 15) fbs.push_back(number);
  }
  EXPECT_EQ(fbs.size(), 15u);
  std::vector<adapters::Command> postings;
  for (size_t i = 0; i < fbs.size(); ++i) {
    json item = {{"order_id", fbs[i]}};
    if (i >= 10 && i % 2 == 0) item["cancel_reason_id"] = 352;
    postings.push_back(MakeCommand(i < 10 ? "ship" : "cancel", item));
  }
  EXPECT_EQ(DeliverAll(adapter, clock, postings), 15);
  for (adapters::Command& m : postings) m.attempt = 2;
  EXPECT_EQ(DeliverAll(adapter, clock, postings), 15);
  // The act of the ten shipped (forming 2 s: polled, retried, found in
  // act/list, read), then redelivered: nothing created twice.
  std::vector<adapters::Command> act = {
      MakeCommand("create_act", {{"delivery_method_id", kSimDeliveryMethodId}})};
  EXPECT_EQ(DeliverAll(adapter, clock, act), 1);
  act[0].attempt = 2;
  EXPECT_EQ(DeliverAll(adapter, clock, act), 1);
  EXPECT_EQ(sim.Acts().size(), 1u);
  EXPECT_EQ(sim.Acts().front().postings.size(), 10u);
  return sim.log().Snapshot();
}

class OzonSpecTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { log_ = new std::vector<simkit::LoggedRequest>(RunCycle()); }
  static void TearDownTestSuite() {
    delete log_;
    log_ = nullptr;
  }
  static std::vector<std::pair<std::string, std::string>> Calls() {
    std::set<std::pair<std::string, std::string>> calls;
    for (const auto& r : *log_) calls.emplace(r.method, r.path);
    return {calls.begin(), calls.end()};
  }
  static std::vector<simkit::LoggedRequest>* log_;
};
std::vector<simkit::LoggedRequest>* OzonSpecTest::log_ = nullptr;

std::string Lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

TEST_F(OzonSpecTest, TheCycleKeepsToTheRulesTheSpecStatesInProse) {
  // The cycle did what it says: every method, several stocks requests, the
  // price slots used up.
  // Returns, product cards and the realization report too (the round's last
  // passes), and the four act methods.
  EXPECT_EQ(Calls().size(), 15u);
  size_t stocks = 0, prices = 0;
  for (const auto& r : *log_) {
    EXPECT_EQ(r.status, 200) << r.method << " " << r.path << " " << r.body.substr(0, 200);
    stocks += r.path == "/v2/products/stocks";
    prices += r.path == "/v1/product/import/prices";
  }
  EXPECT_GE(stocks, 4u);
  EXPECT_GE(prices, 12u);
  const auto violations = testing::ProseViolations(*log_);
  EXPECT_TRUE(violations.empty()) << Lines(violations);
}

// The test of the test: each rule, broken once.
TEST_F(OzonSpecTest, TheProseCheckReportsEachRuleBroken) {
  auto request = [](int64_t at_ms, std::string path, json body, int status = 200) {
    simkit::LoggedRequest r;
    r.seq = static_cast<uint64_t>(at_ms) + 1;
    r.at_ms = at_ms;
    r.method = "POST";
    r.path = std::move(path);
    r.body = body.dump();
    r.status = status;
    return r;
  };
  auto stock = [](json item) {
    json s = {{"product_id", 100001}, {"stock", 5}, {"warehouse_id", 22}};
    if (item.is_object()) s.update(item);
    return json{{"stocks", json::array({s})}};
  };
  auto price = [](json item) {
    json p = {{"offer_id", "SKU-1"}, {"price", "10.00"}};
    if (item.is_object()) p.update(item);
    return json{{"prices", json::array({p})}};
  };
  const json period = {{"since", "2024-01-01T00:00:00Z"}, {"to", "2024-01-02T00:00:00Z"}};
  std::vector<std::pair<std::vector<simkit::LoggedRequest>, std::string>> cases = {
      {{request(0, "/v2/products/stocks", stock({{"quant_size", 1}}))}, "quant_size was removed"},
      {{request(0, "/v2/products/stocks", stock({{"offer_id", "SKU-1"}}))}, "only one of offer_id"},
      {{request(0, "/v2/products/stocks", stock({{"stock", 1000000}}))}, "STOCK_TOO_BIG"},
      {{request(0, "/v2/products/stocks", stock({{"stock", -1}}))}, "STOCK_TOO_BIG"},
      {{request(0, "/v2/products/stocks", {{"stocks", json::array()}})},
       "1..100 product-warehouse"},
      {{request(0, "/v2/products/stocks",
                {{"stocks", {stock({})["stocks"][0], stock({})["stocks"][0]}}})},
       "twice in one request"},
      {{request(0, "/v2/products/stocks", stock({})),
        request(29999, "/v2/products/stocks", stock({}))},
       "updated twice within 30 s"},
      {{request(0, "/v1/product/import/prices", price({{"product_id", 5}}))}, "exactly one of"},
      {{request(0, "/v1/product/import/prices", price({{"offer_id", ""}, {"product_id", 5}}))},
       "an empty offer_id"},
      {{request(0, "/v1/product/import/prices", {{"prices", json::array({json{{"price", "1"}}})}})},
       "exactly one of"},
      {{request(0, "/v1/product/import/prices", price({{"price", "1.999"}}))}, "price: a decimal"},
      {{request(0, "/v1/product/import/prices", price({{"price", 10}}))}, "price: a decimal"},
      {{request(0, "/v1/product/import/prices", price({{"old_price", "1,5"}}))}, "old_price"},
      {{request(0, "/v1/product/import/prices", price({{"currency_code", "RUR"}}))},
       "currency_code"},
      {{request(0, "/v2/posting/fbo/list", {{"filter", period}, {"limit", 0}, {"offset", 0}})},
       "limit 1..1000"},
      {{request(0, "/v2/posting/fbo/list", {{"filter", period}, {"limit", 10}, {"offset", 20001}})},
       "MAX_OFFSET_EXCEEDED"},
      {{request(0, "/v3/posting/fbs/list",
                {{"filter", {{"since", "2022-01-01T00:00:00Z"}, {"to", "2024-01-02T00:00:00Z"}}},
                 {"limit", 10},
                 {"offset", 0}})},
       "at most a year"},
      {{request(0, "/v3/posting/fbs/list",
                {{"filter", {{"since", "2024-01-01"}}}, {"limit", 1}, {"offset", 0}})},
       "at most a year"},
  };
  const json packages = {{{"products", {{{"product_id", 200001}, {"quantity", 1}}}}}};
  const json ship = {{"posting_number", "1-1-1"}, {"packages", packages}};
  const json cancel = {{"posting_number", "1-1-1"}, {"cancel_reason_id", 352}};
  cases.push_back({{request(0, "/v4/posting/fbs/ship", {{"posting_number", "1-1-1"}})},
                   "packages of products"});
  cases.push_back(
      {{request(0, "/v4/posting/fbs/ship",
                {{"posting_number", "1-1-1"},
                 {"packages", {{{"products", {{{"product_id", 200001}, {"quantity", 0}}}}}}}})},
       "quantity > 0"});
  cases.push_back({{request(0, "/v4/posting/fbs/ship", {{"packages", packages}})},
                   "posting_number is required"});
  cases.push_back(
      {{request(0, "/v4/posting/fbs/ship", ship), request(10, "/v4/posting/fbs/ship", ship)},
       "shipped again"});
  cases.push_back({{request(0, "/v2/posting/fbs/cancel",
                            {{"posting_number", "1-1-1"}, {"cancel_reason_id", 666}})},
                   "cancel_reason_id one of"});
  cases.push_back({{request(0, "/v2/posting/fbs/cancel",
                            {{"posting_number", "1-1-1"}, {"cancel_reason_id", 402}})},
                   "cancel_reason_message is required"});
  cases.push_back({{request(0, "/v2/posting/fbs/cancel", cancel),
                    request(10, "/v2/posting/fbs/cancel", cancel)},
                   "cancelled again"});
  cases.push_back(
      {{request(0, "/v3/posting/fbs/get", json::object())}, "posting_number is required"});
  const json act = {{"delivery_method_id", 7}};
  cases.push_back({{request(0, "/v4/posting/fbs/ship", ship),
                    request(10, "/v2/posting/fbs/act/create", json::object())},
                   "delivery_method_id is required"});
  cases.push_back({{request(0, "/v4/posting/fbs/ship", ship),
                    request(10, "/v2/posting/fbs/act/create",
                            {{"delivery_method_id", 7}, {"departure_date", "2026-12-14"}})},
                   "departure_date: a date-time"});
  cases.push_back(
      {{request(0, "/v2/posting/fbs/act/create", act)}, "before any posting was shipped"});
  cases.push_back(
      {{request(0, "/v4/posting/fbs/ship", ship), request(10, "/v2/posting/fbs/act/create", act),
        request(20, "/v2/posting/fbs/act/create", act)},
       "created again"});
  cases.push_back({{request(0, "/v2/posting/fbs/act/check-status", {{"id", "1"}})},
                   "the act's id is required"});
  cases.push_back({{request(0, "/v2/posting/fbs/act/get-postings", json::object())},
                   "the act's id is required"});
  cases.push_back(
      {{request(0, "/v2/posting/fbs/act/list",
                {{"filter", {{"date_from", "2026-12-01"}, {"date_to", "2026-12-02"}}}})},
       "act list limit"});
  cases.push_back({{request(0, "/v2/posting/fbs/act/list",
                            {{"limit", 10}, {"filter", {{"date_from", "2026-12-01"}}}})},
                   "date_from and date_to are required"});
  const json range = {{"time_from", "2024-01-01T00:00:00Z"}, {"time_to", "2024-01-02T00:00:00Z"}};
  cases.push_back({{request(0, "/v2/finance/realization", {{"year", 2026}})},
                   "realization: month 1..12 and year required"});
  cases.push_back({{request(0, "/v2/finance/realization", {{"year", 2026}, {"month", 13}})},
                   "realization: month 1..12 and year required"});
  cases.push_back({{request(0, "/v2/finance/realization", {{"year", 2026}, {"month", 10}}),
                    request(10, "/v2/finance/realization", {{"year", 2026}, {"month", 10}})},
                   "realization: a month read again"});
  cases.push_back({{request(0, "/v1/returns/list", {{"limit", 501}})}, "returns limit 1..500"});
  cases.push_back({{request(0, "/v1/returns/list", json::object())}, "returns limit 1..500"});
  cases.push_back(
      {{request(0, "/v1/returns/list",
                {{"limit", 10},
                 {"filter",
                  {{"visual_status_change_moment", range}, {"logistic_return_date", range}}}})},
       "only one time filter"});
  cases.push_back(
      {{request(0, "/v1/returns/list",
                {{"limit", 10}, {"filter", {{"posting_numbers", json(std::vector<int>(51, 1))}}}})},
       "posting_numbers: 50 at most"});
  cases.push_back(
      {{request(0, "/v1/returns/list", {{"limit", 10}, {"last_id", "7"}})}, "last_id: the id"});
  cases.push_back({{request(0, "/v3/product/list", {{"limit", 1001}})}, "product list limit"});
  cases.push_back(
      {{request(0, "/v3/product/list", {{"limit", 10}, {"last_id", 7}})}, "product list last_id"});
  cases.push_back({{request(0, "/v3/product/info/list",
                            {{"offer_id", {"SKU-000001"}}, {"product_id", {"100002"}}})},
                   "identifiers of one kind"});
  cases.push_back(
      {{request(0, "/v3/product/info/list", json::object())}, "identifiers of one kind"});
  {
    json many = json::array();
    for (int i = 0; i < 1001; ++i) many.push_back(std::to_string(100001 + i));
    cases.push_back(
        {{request(0, "/v3/product/info/list", {{"product_id", many}})}, "1000 products at most"});
  }
  std::vector<simkit::LoggedRequest> burst, stocks_minute, price_hour;
  for (int i = 0; i < 51; ++i) burst.push_back(request(i * 10, "/v3/product/list", json::object()));
  for (int i = 0; i < 81; ++i) {
    stocks_minute.push_back(
        request(i * 700, "/v2/products/stocks", stock({{"product_id", 100 + i}})));
  }
  for (int i = 0; i < 11; ++i) {
    price_hour.push_back(request(i * 300'000, "/v1/product/import/prices", price({})));
  }
  cases.push_back({burst, "more than 50 requests in a second"});
  cases.push_back({stocks_minute, "more than 80 /v2/products/stocks requests in a minute"});
  cases.push_back({price_hour, "updated more than 10 times in an hour"});
  for (const auto& [log, rule] : cases) {
    const auto found = testing::ProseViolations(log);
    EXPECT_TRUE(
        std::any_of(found.begin(), found.end(),
                    [&](const std::string& f) { return f.find(rule) != std::string::npos; }))
        << "not reported: " << rule << "\nin: " << log.front().body << "\nfound:\n"
        << Lines(found);
  }
  // A refused ship, cancel or act took nothing: sending it again is no
  // repeat.
  EXPECT_TRUE(testing::ProseViolations({request(0, "/v4/posting/fbs/ship", ship, 400),
                                        request(10, "/v4/posting/fbs/ship", ship),
                                        request(20, "/v2/posting/fbs/cancel", cancel, 503),
                                        request(30, "/v2/posting/fbs/cancel", cancel),
                                        request(40, "/v2/posting/fbs/act/create", act, 503),
                                        request(50, "/v2/posting/fbs/act/create", act)})
                  .empty());
  // And a refused request updated nothing: the same pair again after a 429
  // is no second update.
  EXPECT_TRUE(testing::ProseViolations({request(0, "/v2/products/stocks", stock({}), 429),
                                        request(1000, "/v2/products/stocks", stock({}))})
                  .empty());
}

TEST_F(OzonSpecTest, NoOperationTheCycleCalledIsDeprecated) {
  auto operations = crmhub::testing::LoadSpecOperations({kSpec});
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  const auto findings = crmhub::testing::CheckCalls(*operations, Calls());
  EXPECT_TRUE(findings.deprecated.empty()) << Lines(findings.deprecated);
  EXPECT_TRUE(findings.unknown.empty()) << Lines(findings.unknown);
}

// The test of the test: the same check against a copy of the spec in which
// the stocks method is marked deprecated reports it.
TEST_F(OzonSpecTest, TheDeprecationCheckSeesACalledOperationMarkedDeprecated) {
  std::ifstream in(kSpec);
  std::stringstream text;
  text << in.rdbuf();
  json spec = json::parse(text.str());
  spec["paths"]["/v2/products/stocks"]["post"]["deprecated"] = true;
  const auto dir =
      std::filesystem::temp_directory_path() / ("crmhub-ozon-spec-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto copy = dir / "ozon-seller-api.swagger.json";
  std::ofstream(copy) << spec.dump();
  auto operations = crmhub::testing::LoadSpecOperations({copy.string()});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  const auto findings = crmhub::testing::CheckCalls(*operations, Calls());
  ASSERT_EQ(findings.deprecated.size(), 1u) << Lines(findings.deprecated);
  EXPECT_NE(findings.deprecated[0].find("POST /v2/products/stocks"), std::string::npos)
      << findings.deprecated[0];
}

}  // namespace
}  // namespace crmhub::adapters::ozon

namespace crmhub::adapters::ozon {
namespace {

// The contract test fails, never skips, without Prism: run with a Prism
// that is not there, each of its tests must say FAILED and why.
TEST(OzonContractHarness, FailsRatherThanSkipsWithoutPrism) {
  const std::string command =
      std::string("PRISM_BINARY=/nonexistent/prism ") + OZON_CONTRACT_TEST + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  const int status = pclose(pipe);
  EXPECT_NE(status, 0) << output;
  EXPECT_EQ(output.find("SKIPPED"), std::string::npos) << output;
  EXPECT_NE(output.find("[  FAILED  ] OzonContractTest.StocksPricesAndCatalogueRequestsAreValid"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("Prism is not installed"), std::string::npos) << output;
}

}  // namespace
}  // namespace crmhub::adapters::ozon
