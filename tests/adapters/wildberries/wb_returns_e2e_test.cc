// Issue 23, acceptance 3 for Wildberries: returns the simulator makes (the
// returns report, GET /api/v1/analytics/goods-return) reach crm.db through
// `crmhub run` as `return` entities linked to their orders, and `crmhub
// reconcile --source` counts them on both sides
// (tests/adapters/marketplace_e2e.h).

#include <gtest/gtest.h>

#include "adapters/wildberries/wildberries_sim.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::wildberries {
namespace {

TEST(WildberriesReturnsEndToEndTest, ReturnsLandLinkedAndReconcileCountsThem) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = 300;
  so.seed = 23;
  so.arrival = std::chrono::seconds(2);
  so.lifetime = std::chrono::seconds(3);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  // The report allows 1 request a minute after a burst of 10 (the simulator
  // enforces it): the daemon asks every 3 s at most, so that its requests and
  // the two reconciles' stay inside the burst.
  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml",
                                                    R"(poll_interval = "300ms"
request_timeout = "2s"
lookback = "1h"
products = false
returns_interval = "1s"
analytics_rate_interval = "3s"
analytics_rate_burst = 1)"));
  e2e.Start();
  // The simulator's last return step.
  auto expected = [&]() -> std::optional<testutil::ExpectedReturns> {
    if (clock.Now() <= sim.AllFinalAt()) return std::nullopt;
    testutil::ExpectedReturns out;
    for (const auto& [srid, order] : sim.ReturnOrders()) {
      out[srid] = {.order_external_id = std::to_string(order),
                   .status = WildberriesSimulator::kFinalReturnStatus};
    }
    return out;
  };
  testutil::ExpectReturnsLandAndReconcile(e2e, expected, so.orders, std::chrono::seconds(60));
  EXPECT_GT(sim.ReturnOrders().size(), 10u);
  // Nothing the simulator refused: every report request was inside the
  // documented period and limit.
  size_t reports = 0;
  for (const simkit::LoggedRequest& r : sim.log().Snapshot()) {
    if (r.path != "/api/v1/analytics/goods-return") continue;
    ++reports;
    EXPECT_EQ(r.status, 200) << r.query;
  }
  EXPECT_GE(reports, 3u);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries
