// Issue 23, acceptance 1 for Wildberries: through the real daemon (`crmhub
// run`, a child process) and the in-process simulator with 20% faults and
// one SIGKILL, 1,000 FBS assembly tasks are pulled, 900 shipped (FBS
// supplies) and 100 cancelled by CRM commands (POST /api/v1/commands); the
// simulator's final states equal the commands; each command's outcome is in
// crm.db's journal; nothing is written twice: each order in exactly one
// supply delivery or cancel the simulator acted on (an order may be added
// to a second supply when the first was never delivered: it ships once).
// The scenario is tests/adapters/commands_e2e.h's.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tests/adapters/commands_e2e.h"
#include "tests/support/prism.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

constexpr int kOrders = testutil::kCommandsE2eOrders;

using nlohmann::json;
using std::chrono::seconds;

bool ActedOn(const simkit::LoggedRequest& r) {
  return r.fault != simkit::Fault::k429 && r.fault != simkit::Fault::k500 &&
         r.fault != simkit::Fault::k503 && r.status < 300;
}

// Each order in the cancels and the supply deliveries WB acted on (an order
// counted in a delivery when an add WB acted on put it in that supply).
std::map<std::string, int> OrderWrites(const std::vector<simkit::LoggedRequest>& log) {
  const std::string add_prefix = "/api/marketplace/v3/supplies/";
  std::map<std::string, std::set<int64_t>> in_supply;
  std::map<std::string, int> writes;
  for (const auto& r : log) {
    if (!ActedOn(r) || r.method != "PATCH") continue;
    if (r.path.rfind(add_prefix, 0) == 0 && r.path.ends_with("/orders")) {
      const std::string supply =
          r.path.substr(add_prefix.size(), r.path.size() - add_prefix.size() - 7);
      const json body = json::parse(r.body, nullptr, false);
      if (!body.is_object()) continue;
      for (const json& id : body["orders"]) in_supply[supply].insert(id.get<int64_t>());
    } else if (r.path.rfind("/api/v3/supplies/", 0) == 0 && r.path.ends_with("/deliver")) {
      const std::string supply = r.path.substr(17, r.path.size() - 17 - 8);
      for (int64_t id : in_supply[supply]) ++writes[std::to_string(id)];
    } else if (r.path.rfind("/api/v3/orders/", 0) == 0 && r.path.ends_with("/cancel")) {
      ++writes[r.path.substr(15, r.path.size() - 15 - 7)];
    }
  }
  return writes;
}

TEST(WildberriesCommandsEndToEndTest, ShipAndCancelOrdersThroughFaultsAndAKill) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = kOrders;
  so.seed = 23;
  so.arrival = seconds(5);
  so.await_seller = true;  // the seller (the CRM's commands) moves them
  // The documented limits (300 a minute for the orders group, shared by the
  // pull and the supplies; 100 a minute for cancels) would hold the 1,000
  // commands and their retries for minutes: neither the simulated account
  // nor the adapter's pacing limits them here.
  so.enforce_rate_limits = false;
  so.faults = testutil::TwentyPercentFaults();
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml", R"(
poll_interval = "500ms"
request_timeout = "1s"
lookback = "1h"
orders_rate_interval = "1ms"
orders_rate_burst = 100
cancel_rate_interval = "5ms"
cancel_rate_burst = 20
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();

  // Each order's warehouse, from the simulator's state once it is created
  // (the items are built after every order has been pulled).
  std::map<std::string, int64_t> warehouse;
  auto warehouse_of = [&](const std::string& id) {
    if (!warehouse.contains(id)) {
      const json state = sim.State();  // not a range over a temporary's member
      for (const json& o : state["orders"]) {
        warehouse[std::to_string(o["id"].get<int64_t>())] = o["warehouseId"].get<int64_t>();
      }
    }
    return warehouse.at(id);
  };
  testutil::CommandsE2eOptions scenario{.adapter_id = "wb-main",
                                        .shipped = kOrders * 9 / 10,
                                        .started = "new/waiting",
                                        .shipped_status = "complete/waiting",
                                        .cancelled_status = "cancel/canceled",
                                        .writes = OrderWrites,
                                        .admin_port = *port};
  for (int i = 0; i < kOrders; ++i) scenario.orders.push_back(std::to_string(10'000'000 + i));
  scenario.item = [&](size_t i) {
    return json{{"order_id", 10'000'000 + static_cast<int64_t>(i)},
                {"warehouse_id", warehouse_of(scenario.orders[i])}};
  };
  testutil::RunCommandsScenario(e2e, sim, scenario);
  if (HasFailure()) {  // what the simulator was sent, by call, answer and fault
    std::map<std::string, int> seen;
    for (const auto& r : sim.log().Snapshot()) {
      if (r.method == "GET") continue;
      std::string p = r.path.substr(0, 22);
      seen[fmt::format("{} {} {} f{} {}", r.method, p, r.status, static_cast<int>(r.fault),
                       r.status >= 400 ? r.body.substr(0, 80) : "")]++;
    }
    for (const auto& [k, v] : seen) fmt::print("{} x{}\n", k, v);
  }
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
