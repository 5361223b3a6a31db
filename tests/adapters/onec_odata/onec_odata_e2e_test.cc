// Issue 20, acceptance 4: `crmhub run` (child process) pulls a simulated 1C
// infobase through the onec-odata adapter (OnecODataSimulator: 2,000 customer
// orders, their counterparties, goods, prices, stock and 1,000 payments;
// 20% faults: 429, 5xx, timeouts, slow and malformed answers), maps with
// config/mappings/onec-odata-trade.toml and applies to crm.db. SIGKILLed
// while the orders are being read, restarted on the same data dir, it goes
// on from the persisted keyset cursor: every record ends in crm.db exactly
// once (nothing lost, nothing doubled), each order with its status.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "adapters/onec_odata/onec_odata_sim.h"
#include "base/json_get.h"
#include "crm/sqlite_store.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 2000;
constexpr char kOrdersPath[] = "/odata/standard.odata/Document_ЗаказКлиента";

TEST(OnecODataEndToEndTest, AKillMidPullLosesAndDoublesNothing) {
  SystemClock clock;
  simkit::SimOptions so;
  so.orders = kOrders;
  so.seed = 2020;
  so.faults = testutil::TwentyPercentFaults();
  OnecODataSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());

  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "onec-main", "onec-odata-trade.toml",
                                                    R"(poll_interval = "500ms"
request_timeout = "1s"
page_size = 100
)"));
  const auto start = std::chrono::steady_clock::now();
  e2e.Start();
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.Orders() >= kOrders / 3; }, seconds(120)))
      << e2e.Orders() << " orders in the store\n"
      << e2e.child().Output();
  e2e.child().Signal(SIGKILL);
  ASSERT_TRUE(e2e.child().Wait(seconds(10)).has_value());
  const int64_t at_kill = e2e.Orders();
  EXPECT_LT(at_kill, kOrders) << "the kill came after the pull, not in the middle of it";
  const std::string cursor = e2e.PersistedCursor();
  ASSERT_FALSE(cursor.empty()) << "no cursor persisted before the kill";
  const uint64_t position = testutil::LogPosition(sim.log());
  e2e.Start();

  // Done when every order has its status and every other kind is complete
  // (payments come after the orders).
  const testutil::FinalStatuses expected = sim.OrderStatuses(true);
  ASSERT_EQ(expected.size(), static_cast<size_t>(kOrders));
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto count = [&](model::EntityKind kind) -> int64_t {
    if (store == nullptr) {
      crm::SqliteStoreOptions options;
      options.path = e2e.dir() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(options, clock);
      if (!opened.ok()) return -1;
      store = std::move(*opened);
    }
    return store->Count(kind, std::string("onec-main")).value_or(-1);
  };
  ASSERT_TRUE(e2e.WaitUntil(
      [&] {
        return e2e.AllFinalInStore(expected) && count(model::EntityKind::kPayment) == kOrders / 2;
      },
      seconds(180)))
      << e2e.Differences(expected) << count(model::EntityKind::kPayment) << " payments\n"
      << e2e.child().Output();
  fmt::print("killed with {} orders in the store; all {} at {:.1f} s\n", at_kill, kOrders,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(seconds(30)), 0) << e2e.child().Output();
  testutil::ExpectInjectedFaults(sim.log());

  // The restart went on from the cursor: killed inside the orders' sweep,
  // its first orders request continues after the saved key (no re-read from
  // the start, no $skip).
  json state = json::parse(cursor);
  if (state["next"] == 4 && state["after"].contains("orders")) {
    auto first = testutil::FirstRequestAfter(sim.log(), position, "GET", kOrdersPath);
    ASSERT_TRUE(first.has_value());
    const std::string after = state["after"]["orders"][0];
    EXPECT_NE(first->query.find(after), std::string::npos) << first->query << "\n" << cursor;
  }

  // Exactly once, every kind: the store against the simulated infobase.
  const int64_t counterparties = kOrders / 10 + 1;
  EXPECT_EQ(count(model::EntityKind::kOrder), kOrders);
  EXPECT_EQ(count(model::EntityKind::kPayment), kOrders / 2);
  EXPECT_EQ(count(model::EntityKind::kCompany) + count(model::EntityKind::kContact),
            counterparties);
  EXPECT_EQ(count(model::EntityKind::kProduct), 20);
  EXPECT_EQ(count(model::EntityKind::kPrice), 20);
  EXPECT_EQ(count(model::EntityKind::kStockLevel), 40);
}

}  // namespace
}  // namespace crmhub::adapters::onec_odata
