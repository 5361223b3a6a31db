// The realization report (POST /v2/finance/realization): each month over
// and not yet read pulled after the product cards on kit::ReportPass, mapped
// to `report` entities by config/mappings/ozon-orders.toml; malformed rows
// dead-lettered with their reason; the simulator's documented refusals.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "base/timestamp.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

constexpr const char* kPath = "/v2/finance/realization";

SystemTime At(const char* text) { return FromUnixMillis(ParseTimestampMs(text, 180).value()); }

struct OzonReports : ::testing::Test {
  OzonReports() : clock(At("2026-10-20T10:00:00")), sim(Options(), clock) {
    EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
    config = ConfigFor("ozon-main", Options(), sim.base_url());
    config.reports = true;
    config.reports_interval = std::chrono::hours(1);
    config.poll_interval = std::chrono::seconds(1);
  }
  static OzonSimOptions Options() {
    OzonSimOptions so;
    so.orders = 200;
    so.seed = 5;
    so.arrival = std::chrono::seconds(10);
    so.lifetime = std::chrono::seconds(10);
    return so;
  }
  // Pulls rounds until one ends (more false), `rounds` times; the report
  // events by key. Each round, the clock moves by poll_interval.
  void Rounds(OzonAdapter& adapter, int rounds) {
    for (int r = 0; r < rounds; ++r) {
      for (int pulls = 0; pulls < 100; ++pulls) {
        auto pulled = adapter.Pull(cursor);
        ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
        for (const InboundEvent& e : pulled->events) {
          if (e.kind != "report") continue;
          ++times[e.idempotency_key];
          reports[e.idempotency_key] = json::parse(e.payload);
        }
        if (pulled->next_cursor) cursor = pulled->next_cursor;
        if (!pulled->more) break;
      }
      clock.Advance(config.poll_interval);
    }
  }
  std::vector<std::string> AskedMonths() {
    std::vector<std::string> out;
    for (const auto& r : sim.log().Find("POST", kPath)) {
      const json body = json::parse(r.body);
      out.push_back(std::to_string(body["year"].get<int>()) + "-" +
                    std::to_string(body["month"].get<int>()) + " " + std::to_string(r.status));
    }
    return out;
  }

  ManualClock clock;
  OzonSimulator sim;
  ClientThread http;
  OzonConfig config;
  std::optional<std::string> cursor;
  std::map<std::string, json> reports;
  std::map<std::string, int> times;
};

TEST_F(OzonReports, EachMonthOverIsPulledOnceAsReportRows) {
  OzonAdapter adapter(config, http.transport(), clock);
  // October: September is over (and empty); October is not asked for.
  Rounds(adapter, 30);
  clock.Advance(sim.AllFinalAt() - clock.Now() + std::chrono::seconds(1));
  Rounds(adapter, 3);
  EXPECT_EQ(AskedMonths(), std::vector<std::string>({"2026-9 200"}));
  EXPECT_TRUE(reports.empty());
  // November: October's report, once; a restart from the cursor asks for
  // nothing more until December.
  clock.Advance(At("2026-11-01T00:30:00") - clock.Now());
  Rounds(adapter, 3);
  OzonAdapter restarted(config, http.transport(), clock);
  clock.Advance(std::chrono::hours(2));
  Rounds(restarted, 3);
  EXPECT_EQ(AskedMonths(), std::vector<std::string>({"2026-9 200", "2026-10 200"}));

  const std::set<std::string> made = sim.RealizationRowIds();
  ASSERT_GT(made.size(), 100u);
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/ozon-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  std::set<std::string> pulled;
  int returns = 0;
  for (const auto& [key, payload] : reports) {
    EXPECT_EQ(times[key], 1) << key;
    ASSERT_TRUE(payload.contains("reportRowId")) << payload.dump();
    pulled.insert(payload["reportRowId"].get<std::string>());
    auto entities = rules->ApplyText(payload.dump(), {.source = "ozon-main", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << payload.dump();
    ASSERT_EQ(entities->size(), 1u) << payload.dump();  // a report row, no order or deal
    const model::Entity& r = entities->front();
    ASSERT_TRUE(model::ValidateEntity(r).ok()) << model::ValidateEntity(r).ToString();
    EXPECT_EQ(r.kind, model::EntityKind::kReport);
    EXPECT_EQ(r.external_id, "ozon.realization:" + payload["reportRowId"].get<std::string>());
    EXPECT_EQ(r.fields["period"], "2026-10");
    EXPECT_EQ(r.fields["currency"], "RUB");
    const bool back = r.fields["type"] == "return";
    returns += back;
    EXPECT_EQ(r.fields["amount"].get<int64_t>() < 0, back) << payload.dump();
    EXPECT_EQ(r.fields["sku"], payload["item"]["offer_id"]);
    EXPECT_GT(r.fields["quantity"].get<int64_t>(), 0);
    // payout + commission = amount, in kopecks.
    EXPECT_EQ(r.fields["payout"].get<int64_t>() + r.fields["commission"].get<int64_t>(),
              r.fields["amount"].get<int64_t>());
  }
  EXPECT_EQ(pulled, made);
  EXPECT_GT(returns, 0);
  const json c = json::parse(*cursor);
  EXPECT_EQ(c["reports"]["position"], "2026-10");
}

TEST_F(OzonReports, AMonthNotFormedIsAskedAgainAndPostingsGoOn) {
  // The first pass asks for the month before; a 404 (not formed) leaves
  // the position; the next pass asks again.
  int refused = 0;
  net::Transport inner = http.transport();
  OzonAdapter adapter(
      config,
      [&](std::string_view group, net::OutboundRequest r) -> net::OutboundResult {
        if (r.url.ends_with(kPath) && refused < 1) {
          ++refused;
          return net::OutboundResponse{.status = 404,
                                       .body = R"({"code":5,"message":"not found","details":[]})"};
        }
        return inner(group, std::move(r));
      },
      clock);
  Rounds(adapter, 3);
  EXPECT_EQ(refused, 1);
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(json::parse(*cursor)["reports"]["position"], "");
  EXPECT_FALSE(json::parse(*cursor)["fbs"]["watermark"] == 0);  // the postings went on
  clock.Advance(std::chrono::hours(1));
  Rounds(adapter, 2);
  EXPECT_EQ(json::parse(*cursor)["reports"]["position"], "2026-09");
}

TEST_F(OzonReports, MalformedRowsAreDeadLetteredWithTheirReason) {
  const json good = {{"rowNumber", 1},
                     {"item", {{"offer_id", "SKU-000001"}, {"sku", 200001}}},
                     {"delivery_commission", {{"amount", 100.5}, {"quantity", 1}, {"total", 85}}}};
  json no_number = good;
  no_number.erase("rowNumber");
  json no_item = good;
  no_item["rowNumber"] = 3;
  no_item["item"] = json::object();
  json bad_money = good;
  bad_money["rowNumber"] = 4;
  bad_money["delivery_commission"]["amount"] = "100,5";
  const std::string body =
      json{{"result",
            {{"header", {{"currency_sys_name", "RUB"}}},
             {"rows", json::array({good, no_number, no_item, bad_money, "text"})}}}}
          .dump();
  net::Transport inner = http.transport();
  OzonAdapter adapter(
      config,
      [&](std::string_view group, net::OutboundRequest r) -> net::OutboundResult {
        if (r.url.ends_with(kPath)) return net::OutboundResponse{.status = 200, .body = body};
        return inner(group, std::move(r));
      },
      clock);
  Rounds(adapter, 2);
  std::string errors;
  int good_rows = 0;
  for (const auto& [key, p] : reports) {
    if (p.contains("error")) {
      errors += p["error"].get<std::string>() + "\n";
      EXPECT_TRUE(p.contains("unreadable"));
    } else {
      ++good_rows;
      EXPECT_EQ(key, "report:ozon.realization:2026-09:1");
      EXPECT_EQ(p["header"]["currency_sys_name"], "RUB");
    }
  }
  EXPECT_EQ(good_rows, 1);
  for (const char* reason :
       {"ozon: /v2/finance/realization: row 1: rowNumber must be an integer",
        "row 2: item must name an offer_id or a sku",
        "row 3: delivery_commission.amount must be a number", "row 4: not a JSON object"}) {
    EXPECT_NE(errors.find(reason), std::string::npos) << reason << "\n" << errors;
  }
}

TEST_F(OzonReports, TheSimulatorAnswersItsDocumentedRefusals) {
  auto ask = [&](const json& body) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = kPath;
    r.body = body.dump();
    r.headers.Set("Client-Id", Options().client_id());
    r.headers.Set("Api-Key", Options().api_key());
    r.headers.Set("Content-Type", "application/json");
    net::HttpResponse answer;
    sim.Handle(r, [&](net::HttpResponse a) { answer = std::move(a); });
    return answer;
  };
  net::HttpResponse a = ask({{"year", 2026}});
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(json::parse(a.body)["code"], 3);
  a = ask({{"year", 2026}, {"month", 13}});
  EXPECT_EQ(a.status, 400) << a.body;
  a = ask({{"year", 2026}, {"month", 10}});  // the month now: not over
  EXPECT_EQ(a.status, 404) << a.body;
  EXPECT_EQ(json::parse(a.body)["code"], 5);
  a = ask({{"year", 2026}, {"month", 9}});
  ASSERT_EQ(a.status, 200) << a.body;
  const json result = json::parse(a.body)["result"];
  EXPECT_TRUE(result["rows"].is_array());
  EXPECT_EQ(result["header"]["start_date"], "2026-09-01");
  EXPECT_EQ(result["header"]["stop_date"], "2026-09-30");
}

}  // namespace
}  // namespace crmhub::adapters::ozon
