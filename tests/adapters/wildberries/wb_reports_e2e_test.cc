// Issue 23, sales reports for Wildberries: the sales report the simulator
// serves (GET /api/v1/supplier/sales: a row per sold order and per return)
// reaches crm.db through `crmhub run` as `report` entities, counted equal on
// both sides by `crmhub reconcile --source`, and a second run from the same
// cursor pulls no row twice (tests/adapters/marketplace_e2e.h).

#include <gtest/gtest.h>

#include <thread>

#include "adapters/wildberries/wildberries_sim.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::wildberries {
namespace {

TEST(WildberriesReportsEndToEndTest, SalesRowsLandOnceAndReconcileCountsThem) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = 300;
  so.seed = 23;
  so.arrival = std::chrono::seconds(2);
  so.lifetime = std::chrono::seconds(3);
  // A request every 2 s instead of the documented minute: the first run,
  // the reconcile and the second run each ask within seconds.
  so.sales_interval = std::chrono::seconds(2);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  // The world's sales are all made before the daemon starts: its first pass
  // reads every row, and the second run's pass (reports_interval later)
  // starts from the position the first one left.
  std::this_thread::sleep_until(std::chrono::system_clock::now() +
                                (sim.AllFinalAt() - clock.Now()) + std::chrono::milliseconds(200));
  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml",
                                                    R"(poll_interval = "300ms"
request_timeout = "2s"
lookback = "1h"
products = false
returns = false
reports_interval = "1s")"));
  e2e.Start();
  const std::string path = "/api/v1/supplier/sales";
  testutil::ExpectedReports expected{
      .rows = [&]() -> std::optional<std::set<std::string>> {
        std::set<std::string> out;
        for (const auto& [sale_id, order] : sim.SaleRows()) out.insert("wb.sales:" + sale_id);
        return out;
      },
      .answered =
          [&] {
            size_t n = 0;
            for (const simkit::LoggedRequest& r : sim.log().Find("GET", path)) n += r.status == 200;
            return n;
          },
      .pause = std::chrono::milliseconds(2100)};
  testutil::ExpectReportsLandAndPullOnce(e2e, expected, 1, std::chrono::seconds(60));
  EXPECT_GT(sim.SaleRows().size(), 200u);
  // The second run asked from a position, not from the start.
  const auto requests = sim.log().Find("GET", path);
  ASSERT_GE(requests.size(), 3u);
  net::HttpRequest last;
  last.query = requests.back().query;
  EXPECT_GT(last.QueryParam("dateFrom").value_or("").size(), 10u) << requests.back().query;
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries
