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

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 10'000;

TEST(WildberriesEndToEndTest, TenThousandOrdersWithFaultsAndAKillLandExactlyOnce) {
  Loop loop;
  SystemClock clock;
  SimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(8);
  so.faults = testutil::TwentyPercentFaults();
  WildberriesSim sim(loop.io(), clock, so);
  ASSERT_TRUE(sim.Listen("127.0.0.1:0").ok());

  testutil::MarketplaceE2e e2e({
      .adapter_id = "wb-main",
      .adapter_type = "wildberries",
      .mapping = "wildberries-orders.toml",
      .adapter_keys = fmt::format(R"(token_file = "secrets/wb-token"
marketplace_url = "http://127.0.0.1:{0}"
content_url = "http://127.0.0.1:{0}"
prices_url = "http://127.0.0.1:{0}"
poll_interval = "500ms"
request_timeout = "1s"
lookback = "1h")",
                                  sim.port()),
      .files = {{"secrets/wb-token", "sim-token"}},
  });
  testutil::RunKillAndResume(
      e2e, {.orders = kOrders, .final_statuses = [&]() -> std::optional<testutil::FinalStatuses> {
              json state = sim.StateJson();
              if (!state["all_final"].get<bool>()) return std::nullopt;
              testutil::FinalStatuses expected;
              for (const auto& o : state["orders"]) {
                expected[std::to_string(o["id"].get<int64_t>())] =
                    o["finalSupplierStatus"].get<std::string>() + "/" +
                    o["finalWbStatus"].get<std::string>();
              }
              return expected;
            }});
  testutil::ExpectInjectedFaults(sim.log());
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
