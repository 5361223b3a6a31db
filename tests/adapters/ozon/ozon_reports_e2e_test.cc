// Issue 23, sales and finance reports for Ozon: the realization report of
// the month before (POST /v2/finance/realization: a row per posting
// delivered and per return made in it) reaches crm.db through `crmhub run`
// as `report` entities, counted equal on both sides by `crmhub reconcile
// --source`, and a second run from the same cursor asks for no month again
// (tests/adapters/marketplace_e2e.h).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_sim.h"
#include "base/timestamp.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::ozon {
namespace {

TEST(OzonReportsEndToEndTest, RealizationRowsLandOnceAndReconcileCountsThem) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.seed = 23;
  so.arrival = std::chrono::seconds(2);
  so.lifetime = std::chrono::seconds(3);
  // The world lives in the month before this one (Moscow time): ten days
  // before the first of this month.
  const std::string month =
      FormatTimestamp(clock.Now(), TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes)
          .substr(0, 7);
  so.start =
      FromUnixMillis(ParseTimestampMs(month + "-01T00:00:00", kMoscowOffsetMinutes).value()) -
      std::chrono::hours(24 * 10);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ASSERT_LT(sim.AllFinalAt(), clock.Now());
  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml",
                                                    R"(poll_interval = "300ms"
request_timeout = "2s"
overlap = "2s"
order_lookback = "1h"
returns = false
products = false
reports_interval = "1s")"));
  e2e.Start();
  const std::string path = "/v2/finance/realization";
  testutil::ExpectedReports expected{
      .rows = [&]() -> std::optional<std::set<std::string>> {
        std::set<std::string> out;
        for (const std::string& id : sim.RealizationRowIds()) out.insert("ozon.realization:" + id);
        return out;
      },
      // The second run's rounds: its postings requests (a round reads the
      // postings, then the report when a month is due).
      .answered =
          [&] {
            size_t n = 0;
            for (const auto& r : sim.log().Find("POST", "/v3/posting/fbs/list")) {
              n += r.status == 200;
            }
            return n;
          }};
  testutil::ExpectReportsLandAndPullOnce(e2e, expected, 3, std::chrono::seconds(60));
  EXPECT_GT(sim.RealizationRowIds().size(), 200u);
  // Each month asked for once by the daemon's two runs, once more by the
  // reconcile: the month before, twice in all, and nothing else.
  std::map<std::string, int> asked;
  for (const auto& r : sim.log().Find("POST", path)) {
    const nlohmann::json body = nlohmann::json::parse(r.body);
    ++asked[std::to_string(body["year"].get<int>()) + "-" +
            std::to_string(body["month"].get<int>())];
    EXPECT_EQ(r.status, 200) << r.body;
  }
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked.begin()->second, 2) << "the daemon's first run and the reconcile";
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
