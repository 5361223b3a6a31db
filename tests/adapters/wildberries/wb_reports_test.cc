// Sales report (issue 23): GET /api/v1/supplier/sales (12-reports.yaml,
// statistics-api) pulled between FBS scans on kit::ReportPass by its
// lastChangeDate cursor, mapped to `report` entities by
// config/mappings/wildberries-orders.toml; malformed rows dead-lettered
// with their reason; the simulator's report checked against the spec's
// parameters, flag rule, limit and error bodies.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "base/timestamp.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/wildberries/wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kPath = "/api/v1/supplier/sales";

struct WbReports : ReportPassTest {
  WbReports()
      : ReportPassTest([](WildberriesConfig& c) {
          c.reports = true;
          c.reports_interval = std::chrono::minutes(10);
        }) {}
  std::vector<simkit::LoggedRequest> Requests() const { return w.sim->log().Find("GET", kPath); }
  // saleID -> payload of the rows pulled.
  std::map<std::string, json> Rows() const {
    std::map<std::string, json> out;
    for (const auto& [key, p] : driver.reports) {
      if (p.contains("reportRowId")) out[p["reportRowId"].get<std::string>()] = p;
    }
    return out;
  }
};

TEST_F(WbReports, EverySaleAndReturnRowBecomesAReportEntity) {
  // The world is over, then a pass more.
  RunPast(*adapter, w.sim->AllFinalAt() + std::chrono::minutes(12));
  const std::map<std::string, int64_t> made = w.sim->SaleRows();
  ASSERT_GT(made.size(), 20u);
  auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/wildberries-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const std::map<std::string, json> rows = Rows();
  ASSERT_EQ(rows.size(), made.size());
  int returns = 0;
  for (const auto& [sale_id, payload] : rows) {
    ASSERT_TRUE(made.count(sale_id)) << sale_id;
    auto entities = rules->ApplyText(payload.dump(), {.source = "wb-main", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << payload.dump();
    ASSERT_EQ(entities->size(), 1u) << payload.dump();  // a report row, no order, deal or return
    const model::Entity& r = entities->front();
    ASSERT_TRUE(model::ValidateEntity(r).ok()) << model::ValidateEntity(r).ToString();
    EXPECT_EQ(r.kind, model::EntityKind::kReport);
    EXPECT_EQ(r.external_id, "wb.sales:" + sale_id);
    EXPECT_EQ(r.fields["report"], "wb.sales");
    EXPECT_EQ(r.fields["period"].get<std::string>().size(), 10u);  // YYYY-MM-DD
    EXPECT_EQ(r.fields["order_external_id"], payload["srid"]);
    EXPECT_EQ(r.fields["currency"], "RUB");
    EXPECT_GT(r.version, 0);
    const bool back = sale_id[0] == 'R';
    returns += back;
    EXPECT_EQ(r.fields["type"], back ? "return" : "sale");
    // Roubles with kopecks into minor units, a return's negative.
    const int64_t amount = r.fields["amount"].get<int64_t>();
    EXPECT_EQ(amount < 0, back) << payload.dump();
    EXPECT_EQ(amount, std::llround(payload["finishedPrice"].get<double>() * 100));
  }
  EXPECT_GT(returns, 0);
  for (const auto& r : Requests()) EXPECT_EQ(r.status, 200) << r.query;
}

TEST_F(WbReports, APassPerIntervalFromItsPositionAndNothingPulledTwice) {
  // The first pass at the start, the second after the world is over.
  RunPast(*adapter, w.sim->AllFinalAt() + std::chrono::minutes(11));
  const size_t first = Requests().size();
  ASSERT_GE(first, 2u);
  ASSERT_TRUE(driver.cursor.has_value());
  json cursor = json::parse(*driver.cursor);
  ASSERT_TRUE(cursor.contains("reports")) << *driver.cursor;
  const std::string position = cursor["reports"]["position"].get<std::string>();
  ASSERT_FALSE(position.empty());
  EXPECT_FALSE(cursor["reports"]["in_pass"].get<bool>());
  const size_t rows = driver.reports.size();
  ASSERT_EQ(rows, w.sim->SaleRows().size());
  // A restart from the cursor: the next pass after the interval, from the
  // position, pulls no row twice (the last one again at most, a duplicate).
  WildberriesAdapter restarted(config, w.http.get(), w.clock);
  const int64_t next_ms = cursor["reports"]["next_ms"].get<int64_t>();
  for (int i = 0; i < 2000 && ToUnixMillis(w.clock.Now()) < next_ms + 60'000; ++i) {
    driver.Step(restarted, w.clock);
  }
  const auto requests = Requests();
  ASSERT_EQ(requests.size(), first + 1);
  net::HttpRequest q;
  q.query = requests.back().query;
  EXPECT_EQ(q.QueryParam("dateFrom").value_or(""), position) << requests.back().query;
  EXPECT_EQ(q.QueryParam("flag").value_or(""), "0");
  EXPECT_EQ(driver.reports.size(), rows);
  EXPECT_LE(driver.report_duplicates, 2);
}

TEST_F(WbReports, MalformedRowsAreDeadLetteredWithTheirReason) {
  TamperedTransport transport;
  WildberriesAdapter tampered(config, transport.Bind(*w.http), w.clock);
  const json good = {{"saleID", "S0000000001"},
                     {"date", "2026-01-10T10:00:00"},
                     {"lastChangeDate", "2026-01-10T11:00:00"},
                     {"srid", "r1"},
                     {"forPay", 12.5}};
  json no_id = good;
  no_id["saleID"] = 5;
  json bad_time = good;
  bad_time["saleID"] = "S2";
  bad_time["lastChangeDate"] = "yesterday";
  json bad_money = good;
  bad_money["saleID"] = "S3";
  bad_money["forPay"] = "12,50";
  transport.Once(kPath, json::array({good, no_id, bad_time, bad_money, "text"}).dump());
  for (int i = 0; i < 4; ++i) driver.Step(tampered, w.clock);
  std::vector<std::string> errors;
  int good_rows = 0;
  for (const auto& [key, p] : driver.reports) {
    if (p.contains("error")) {
      errors.push_back(p["error"].get<std::string>());
      EXPECT_TRUE(p.contains("unreadable"));
    } else {
      ++good_rows;
      EXPECT_EQ(key, "report:wb.sales:S0000000001:2026-01-10T11:00:00");
    }
  }
  EXPECT_EQ(good_rows, 1);
  ASSERT_EQ(errors.size(), 4u);
  std::string all;
  for (const auto& e : errors) all += e + "\n";
  for (const char* reason :
       {"row 1: saleID must be a non-empty string", "row 2: lastChangeDate must be a date-time",
        "row 3: forPay must be a number", "row 4: not a JSON object"}) {
    EXPECT_NE(all.find(reason), std::string::npos) << reason << "\n" << all;
  }
  EXPECT_NE(all.find("wildberries: /api/v1/supplier/sales"), std::string::npos) << all;
  // The position moved to the one good row.
  const json cursor = json::parse(*driver.cursor);
  EXPECT_EQ(cursor["reports"]["position"], "2026-01-10T11:00:00");
}

TEST_F(WbReports, AFailingReportNeitherFailsThePullNorMovesThePosition) {
  config.client.statistics_url = w.sim->base_url() + "/nowhere";
  WildberriesAdapter broken(config, w.http.get(), w.clock);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(driver.Step(broken, w.clock));
  EXPECT_TRUE(driver.reports.empty());
  ASSERT_TRUE(driver.cursor.has_value());
  const json cursor = json::parse(*driver.cursor);
  EXPECT_EQ(cursor["reports"]["position"], "") << *driver.cursor;
  EXPECT_NE(broken.DescribeJson().find("last_error"), std::string::npos) << broken.DescribeJson();
  EXPECT_FALSE(driver.events.empty());  // FBS went on
}

// The report's parameter checks and limit, as 12-reports.yaml documents them.
TEST_F(WbReports, TheSimulatorAnswersTheDocumentedErrorsAndLimit) {
  w.clock.Advance(w.sim->AllFinalAt() - w.clock.Now() + seconds(1));
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
  auto body = [](const net::HttpResponse& a) { return json::parse(a.body, nullptr, false); };
  net::HttpResponse a = ask("flag=0");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(body(a), json::parse(R"({"errors":["dateFrom: field required"]})"));
  w.clock.Advance(std::chrono::minutes(1));
  a = ask("dateFrom=yesterday");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(body(a), json::parse(R"({"errors":"dateFrom: Value not validated"})"));
  w.clock.Advance(std::chrono::minutes(1));
  // flag=0: lastChangeDate >= dateFrom, in that order.
  a = ask("dateFrom=2000-01-01");
  ASSERT_EQ(a.status, 200) << a.body;
  const json all = body(a);
  ASSERT_EQ(all.size(), w.sim->SaleRows().size());
  const std::string middle = all[all.size() / 2]["lastChangeDate"].get<std::string>();
  // 1 request a minute, burst 1: at once, refused with the documented 429.
  const net::HttpResponse refused = ask("dateFrom=2000-01-01");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(body(refused).value("title", ""), "too many requests") << refused.body;
  w.clock.Advance(std::chrono::minutes(1));
  std::string escaped = middle;
  if (auto plus = escaped.find('+'); plus != std::string::npos) escaped.replace(plus, 1, "%2B");
  a = ask("dateFrom=" + escaped + "&flag=0");
  ASSERT_EQ(a.status, 200) << a.body;
  const json later = body(a);
  ASSERT_FALSE(later.empty());
  EXPECT_LT(later.size(), all.size());
  for (const json& row : later) {
    EXPECT_GE(ParseTimestampMs(row["lastChangeDate"].get<std::string>(), 180).value(),
              ParseTimestampMs(middle, 180).value());
  }
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
