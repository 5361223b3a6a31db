// End to end with the real daemon: `crmhub run` (child process) pulls from
// the in-process simulator (10,000 orders with status changes, duplicated
// pages and 20% faults), queues, maps with config/mappings/
// wildberries-orders.toml and applies to the embedded CRM store. The daemon
// is SIGKILLed mid-sync and restarted on the same data dir: every order ends
// in crm.db exactly once (one row per external id, count checked) with its
// final status. The scenario is tests/adapters/marketplace_e2e.h.

#include <fmt/format.h>

#include "tests/adapters/marketplace_e2e.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using std::chrono::seconds;

constexpr int kOrders = 10'000;

TEST(WildberriesEndToEndTest, TenThousandOrdersWithFaultsAndAKillLandExactlyOnce) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(8);
  so.faults = testutil::TwentyPercentFaults();
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());

  testutil::MarketplaceE2e e2e(
      testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml", R"(poll_interval = "500ms"
request_timeout = "1s"
lookback = "1h")"));
  testutil::RunKillAndResume(
      e2e, {.orders = kOrders, .final_statuses = testutil::FinalStatusesOf(sim, clock)});
  testutil::ExpectInjectedFaults(sim.log());
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
