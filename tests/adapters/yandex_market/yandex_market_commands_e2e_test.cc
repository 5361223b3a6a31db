// Issue 23, acceptance 1 for Yandex Market: through the real daemon
// (`crmhub run`, a child process) and the in-process simulator with 20%
// faults and one SIGKILL, 1,000 orders are pulled, 900 shipped and 100
// cancelled by CRM commands (POST /api/v1/commands); the simulator's final
// states equal the commands; each command's outcome (the order's new
// status, pulled back) is in crm.db's journal; nothing is written twice
// (the simulator's request log: every order in exactly one
// updateOrderStatuses request that Market acted on). The scenario is
// tests/adapters/commands_e2e.h's.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/adapters/yandex_market/ym_test_support.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 1000;
constexpr int64_t kFirstId = 70000000;

// Each order in the status writes Market acted on (answered, or held by a
// timeout or slow fault after acting).
std::map<std::string, int> StatusWrites(const std::vector<simkit::LoggedRequest>& log) {
  static const std::regex kStatusUpdate(R"(/v2/campaigns/\d+/orders/status-update)");
  std::map<std::string, int> writes;
  int faulted = 0;
  for (const auto& r : log) {
    if (!std::regex_match(r.path, kStatusUpdate)) continue;
    if (r.fault == simkit::Fault::k429 || r.fault == simkit::Fault::k500 ||
        r.fault == simkit::Fault::k503) {
      ++faulted;
      continue;
    }
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) continue;
    for (const json& o : body["orders"]) ++writes[std::to_string(o["id"].get<int64_t>())];
  }
  EXPECT_GT(faulted, 0) << "faults hit the status writes too";
  return writes;
}

TEST(YandexMarketCommandsEndToEndTest, ShipAndCancelAThousandOrdersThroughFaultsAndAKill) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = kOrders;
  so.seed = 23;
  so.arrival = seconds(5);
  so.await_seller = true;  // the seller (the CRM's commands) moves them
  so.faults = testutil::TwentyPercentFaults();
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  // getBusinessOrders' 10,000 an hour is shared by the pull and the reads
  // of redelivered commands: the adapter's own pacing of it is lifted.
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ym-main", "yandex-market-orders.toml",
                           R"(
poll_interval = "5s"
request_timeout = "1s"
overlap = "2s"
lookback = "1h"
orders_rate_limit = 10000
)" + testutil::CommandsE2eConfig(*port));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();

  testutil::CommandsE2eOptions scenario{.adapter_id = "ym-main",
                                        .shipped = 900,
                                        .started = "PROCESSING/STARTED",
                                        .shipped_status = "PROCESSING/READY_TO_SHIP",
                                        .cancelled_status = "CANCELLED/SHOP_FAILED",
                                        .writes = StatusWrites,
                                        .admin_port = *port};
  for (int i = 0; i < kOrders; ++i) scenario.orders.push_back(std::to_string(kFirstId + i));
  scenario.item = [](size_t i) { return json{{"order_id", kFirstId + static_cast<int64_t>(i)}}; };
  testutil::RunCommandsScenario(e2e, sim, scenario);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
