// Returns (issue 23, acceptance 3): the returns report (12-reports.yaml,
// GET /api/v1/analytics/goods-return) pulled between FBS scans on
// kit::ReturnsPass, mapped to `return` entities linked to their orders by
// config/mappings/wildberries-orders.toml; the simulator's report checked
// against the spec's parameters, limits and error bodies.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/wildberries/wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;

constexpr const char* kPath = "/api/v1/analytics/goods-return";

struct WbReturns : ReportPassTest {
  WbReturns()
      : ReportPassTest([](WildberriesConfig& c) {
          c.returns = true;
          c.returns_interval = std::chrono::minutes(10);
        }) {}
  std::vector<simkit::LoggedRequest> Reports() const { return w.sim->log().Find("GET", kPath); }
};

TEST_F(WbReturns, EveryReturnReachesItsFinalStatusLinkedToItsOrder) {
  RunPast(w.sim->AllFinalAt() + std::chrono::minutes(25));
  const std::map<std::string, int64_t> made = w.sim->ReturnOrders();
  ASSERT_GT(made.size(), 5u);
  auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/wildberries-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  // The latest status seen per srid, through the rules.
  std::map<std::string, json> latest;
  for (const auto& [key, payload] : driver.returns) {
    EXPECT_EQ(key.rfind("return:" + payload["srid"].get<std::string>() + ":", 0), 0u) << key;
    auto entities = rules->ApplyText(payload.dump(), {.source = "wb-main", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << payload.dump();
    ASSERT_EQ(entities->size(), 1u) << payload.dump();  // a return, no order or deal
    const model::Entity& r = entities->front();
    ASSERT_TRUE(model::ValidateEntity(r).ok()) << model::ValidateEntity(r).ToString();
    EXPECT_EQ(r.kind, model::EntityKind::kReturn);
    EXPECT_EQ(json(r.external_id), payload["srid"]);
    EXPECT_EQ(r.fields["order_external_id"], std::to_string(payload["orderId"].get<int64_t>()));
    ASSERT_EQ(r.fields["lines"].size(), 1u);
    EXPECT_EQ(r.fields["lines"][0]["sku"], payload["barcode"]);
    EXPECT_EQ(r.fields["lines"][0]["product_external_id"],
              std::to_string(payload["nmId"].get<int64_t>()));
    json& seen = latest[r.external_id];
    if (seen.is_null() || seen["version"].get<int64_t>() <= r.version) {
      seen = {
          {"version", r.version}, {"status", r.fields["status"]}, {"order", payload["orderId"]}};
    }
  }
  ASSERT_EQ(latest.size(), made.size());
  for (const auto& [srid, order] : made) {
    ASSERT_TRUE(latest.count(srid)) << srid;
    EXPECT_EQ(latest[srid]["status"], WildberriesSimulator::kFinalReturnStatus) << srid;
    EXPECT_EQ(latest[srid]["order"], order) << srid;
    // The order it is linked to was pulled too.
    bool order_seen = false;
    for (const auto& [key, p] : driver.events) order_seen |= p.value("id", int64_t{0}) == order;
    EXPECT_TRUE(order_seen) << order;
  }
  // Every request inside the documented period, and answered.
  const auto reports = Reports();
  ASSERT_GE(reports.size(), 2u);
  for (const auto& r : reports) EXPECT_EQ(r.status, 200) << r.query;
}

TEST_F(WbReturns, APassRunsOncePerIntervalAndItsCursorSurvives) {
  for (int i = 0; i < 10; ++i) driver.Step(*adapter, w.clock);
  const size_t first = Reports().size();
  ASSERT_EQ(first, 1u);
  ASSERT_TRUE(driver.cursor.has_value());
  const json cursor = json::parse(*driver.cursor);
  ASSERT_TRUE(cursor.contains("returns")) << *driver.cursor;
  EXPECT_GT(cursor["returns"]["watermark"].get<int64_t>(), 0);
  EXPECT_EQ(cursor["returns"]["window_to"], 0);  // the pass is complete
  // Not again before returns_interval, even over many scans.
  const SystemTime watermark = FromUnixMillis(cursor["returns"]["watermark"].get<int64_t>());
  for (int i = 0; i < 500 && w.clock.Now() < watermark + std::chrono::minutes(9); ++i) {
    driver.Step(*adapter, w.clock);
  }
  ASSERT_GE(w.clock.Now(), watermark + std::chrono::minutes(9));
  EXPECT_EQ(Reports().size(), first);
  // A new adapter (a restart) goes on from the cursor: the next pass after
  // the interval.
  WildberriesAdapter restarted(config, w.http.get(), w.clock);
  w.clock.Advance(watermark + std::chrono::minutes(11) - w.clock.Now());
  for (int i = 0; i < 5; ++i) driver.Step(restarted, w.clock);
  std::string sent;
  for (const auto& r : Reports()) sent += fmt::format("{} {} {}\n", r.at_ms, r.query, r.status);
  EXPECT_EQ(Reports().size(), first + 1) << sent;
}

TEST_F(WbReturns, AWindowOverThirtyOneDaysIsReadThirtyOneDaysARequest) {
  config.returns_window = std::chrono::hours(24 * 70);
  WildberriesAdapter wide(config, w.http.get(), w.clock);
  for (int i = 0; i < 20; ++i) driver.Step(wide, w.clock);
  const auto reports = Reports();
  ASSERT_EQ(reports.size(), 3u);  // 70 days: 31 + 31 + 8
  std::string last_to;
  for (const auto& r : reports) {
    EXPECT_EQ(r.status, 200) << r.query;
    net::HttpRequest q;
    q.query = r.query;
    const std::string from = q.QueryParam("dateFrom").value_or("");
    const std::string to = q.QueryParam("dateTo").value_or("");
    ASSERT_EQ(from.size(), 10u) << r.query;
    EXPECT_LT(from, to) << r.query;
    if (!last_to.empty()) {
      EXPECT_EQ(from, last_to) << "the requests leave no day out";
    }
    last_to = to;
  }
}

TEST_F(WbReturns, AFailingReportNeitherFailsThePullNorMovesThePass) {
  // The report's base URL wrong (404): FBS and the report share the token.
  config.client.analytics_url = w.sim->base_url() + "/nowhere";
  WildberriesAdapter broken(config, w.http.get(), w.clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(driver.Step(broken, w.clock));
  EXPECT_TRUE(driver.returns.empty());
  ASSERT_TRUE(driver.cursor.has_value());
  const json cursor = json::parse(*driver.cursor);
  // The pass began and stays unread, to be tried again.
  EXPECT_TRUE(!cursor.contains("returns") || cursor["returns"]["watermark"] == 0 ||
              cursor["returns"]["window_to"] != 0)
      << *driver.cursor;
  EXPECT_NE(broken.DescribeJson().find("last_error"), std::string::npos) << broken.DescribeJson();
  EXPECT_FALSE(driver.events.empty());  // FBS went on
}

// The report's parameter checks and limit, as 12-reports.yaml documents them.
TEST_F(WbReturns, TheSimulatorAnswersTheDocumentedErrors) {
  auto ask = [&](const std::string& query) {
    net::HttpRequest r;
    r.method = "GET";
    r.path = kPath;
    r.query = query;
    r.headers.Set("Authorization", "sim-token");
    net::HttpResponse answer;
    w.sim->Handle(r, [&](net::HttpResponse a) { answer = std::move(a); });
    return answer;
  };
  auto detail = [](const net::HttpResponse& a) {
    return json::parse(a.body, nullptr, false).value("detail", std::string());
  };
  EXPECT_EQ(detail(ask("dateTo=2026-01-10")),
            R"(parameter "dateFrom" in query has an error: value is required but missing)");
  EXPECT_EQ(detail(ask("dateFrom=2026-01-10")),
            R"(parameter "dateTo" in query has an error: value is required but missing)");
  EXPECT_EQ(detail(ask("dateFrom=10.01.2026&dateTo=2026-01-11")), "can't parse dateFrom");
  EXPECT_EQ(detail(ask("dateFrom=2026-01-10&dateTo=2026-01-10")),
            "dateTo should be greater dateFrom");
  EXPECT_EQ(detail(ask("dateFrom=2026-01-01&dateTo=2026-02-02")),
            "difference between dateFrom and dateTo should be less or equal 31 days");
  const net::HttpResponse ok = ask("dateFrom=2026-01-01&dateTo=2026-02-01");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_TRUE(json::parse(ok.body)["report"].is_array());
  // 1 request a minute after a burst of 10: the burst is spent by now
  // (6 above), four more go, the next is refused.
  int refused = 0;
  for (int i = 0; i < 5; ++i) refused += ask("dateFrom=2026-01-01&dateTo=2026-01-02").status == 429;
  EXPECT_EQ(refused, 1);
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
