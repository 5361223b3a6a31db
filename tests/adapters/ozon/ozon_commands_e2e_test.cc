// Issue 23, acceptance 1 for Ozon: through the real daemon (`crmhub run`, a
// child process) and the in-process simulator with 20% faults and one
// SIGKILL, 1,000 FBS postings are pulled, 900 shipped and 100 cancelled by
// CRM commands (POST /api/v1/commands); the simulator's final states equal
// the commands; each command's outcome is in crm.db's journal; nothing is
// written twice (each posting in exactly one /v4/posting/fbs/ship or
// /v2/posting/fbs/cancel the simulator acted on). The scenario is
// tests/adapters/commands_e2e.h's, shared with Yandex Market's.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::ozon {
namespace {

constexpr int kOrders = testutil::kCommandsE2eOrders;

using nlohmann::json;
using std::chrono::seconds;

// Each posting in the ship and cancel requests Ozon acted on: answered 2xx,
// or held by a timeout or slow fault after acting (a 429/5xx fault, or a
// refusal, acted on nothing).
std::map<std::string, int> PostingWrites(const std::vector<simkit::LoggedRequest>& log) {
  std::map<std::string, int> writes;
  for (const auto& r : log) {
    if (r.path != "/v4/posting/fbs/ship" && r.path != "/v2/posting/fbs/cancel") continue;
    if (r.fault == simkit::Fault::k429 || r.fault == simkit::Fault::k500 ||
        r.fault == simkit::Fault::k503 || r.status >= 300) {
      continue;
    }
    const json body = json::parse(r.body, nullptr, false);
    if (body.is_object() && body.contains("posting_number")) {
      ++writes[body["posting_number"].get<std::string>()];
    }
  }
  return writes;
}

TEST(OzonCommandsEndToEndTest, ShipAndCancelPostingsThroughFaultsAndAKill) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = kOrders;
  so.seed = 23;
  so.arrival = seconds(5);
  so.fbo_share = 0;        // FBS: the postings a seller ships
  so.await_seller = true;  // the seller (the CRM's commands) moves them
  // The account's 50 requests a second would hold 2,100 command requests
  // for most of a minute: the simulated account takes more.
  so.requests_per_second = 1000;
  so.faults = testutil::TwentyPercentFaults();
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml", R"(
poll_interval = "500ms"
request_timeout = "1s"
overlap = "2s"
order_lookback = "1h"
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();

  testutil::CommandsE2eOptions scenario{.adapter_id = "ozon-main",
                                        .shipped = kOrders * 9 / 10,
                                        .started = "awaiting_packaging",
                                        .shipped_status = "awaiting_deliver",
                                        .cancelled_status = "cancelled",
                                        .writes = PostingWrites,
                                        .admin_port = *port};
  for (const auto& [number, status] : sim.OrderStatuses(/*final_only=*/true)) {
    scenario.orders.push_back(number);
  }
  ASSERT_EQ(scenario.orders.size(), static_cast<size_t>(kOrders));
  scenario.item = [&](size_t i) { return json{{"order_id", scenario.orders[i]}}; };
  testutil::RunCommandsScenario(e2e, sim, scenario);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
