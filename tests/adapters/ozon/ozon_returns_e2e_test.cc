// Issue 23, acceptance 3 for Ozon: returns made by the simulator reach
// crm.db through `crmhub run` as `return` entities linked to their
// postings, and `crmhub reconcile --source` counts them on both sides (the
// simulator's list, the CRM store), apart from the orders.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_sim.h"
#include "crm/sqlite_store.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

TEST(OzonReturnsEndToEndTest, ReturnsLandLinkedAndReconcileCountsThem) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.seed = 23;
  so.arrival = std::chrono::seconds(2);
  so.lifetime = std::chrono::seconds(3);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml",
                                                    R"(poll_interval = "300ms"
request_timeout = "2s"
overlap = "2s"
order_lookback = "1h")"));
  e2e.Start();
  // Every return the world makes, in its final status, linked to a posting.
  const auto expected = [&] {
    return clock.Now() > sim.AllFinalAt() ? sim.ReturnPostings() : std::map<int64_t, std::string>{};
  };
  auto all_final = [&] {
    const auto made = expected();
    if (made.empty() || e2e.Returns() != static_cast<int64_t>(made.size())) return false;
    crm::SqliteStoreOptions options;
    options.path = e2e.dir() / "data/crm.db";
    auto store = crm::SqliteCrmStore::Open(options, clock);
    if (!store.ok()) return false;
    for (const auto& [id, posting] : made) {
      auto found = (*store)->Find(model::EntityKind::kReturn, "ozon-main", std::to_string(id));
      if (!found.ok() || !found->has_value()) return false;
      const json& fields = (*found)->entity.fields;
      if (fields.value("status", "") != "ReceivedBySeller") return false;
      if (fields.value("order_external_id", "") != posting) return false;
      auto order = (*store)->Find(model::EntityKind::kOrder, "ozon-main", posting);
      if (!order.ok() || !order->has_value()) return false;
    }
    return true;
  };
  ASSERT_TRUE(e2e.WaitUntil(all_final, std::chrono::seconds(60)))
      << e2e.Returns() << " returns in crm.db of " << sim.ReturnPostings().size() << "\n"
      << e2e.child().Output();
  const size_t returns = sim.ReturnPostings().size();
  ASSERT_GT(returns, 10u);
  e2e.child().Signal(SIGTERM);
  ASSERT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0) << e2e.child().Output();

  auto r = testutil::RunAndCapture({testutil::CrmhubBinary(), "reconcile", "--source", "--json",
                                    "--config", e2e.ConfigPath().string()});
  const size_t json_at = r.output.find('[');
  ASSERT_NE(json_at, std::string::npos) << r.output;
  json rows = json::parse(r.output.substr(json_at), nullptr, false);
  ASSERT_TRUE(rows.is_array() && rows.size() == 1u) << r.output;
  const json& kinds = rows[0]["kinds"];
  EXPECT_EQ(kinds["return"]["entities"], returns) << r.output;
  EXPECT_EQ(kinds["return"]["in_crm"], returns) << r.output;
  EXPECT_EQ(kinds["order"]["entities"], so.orders) << r.output;
  EXPECT_EQ(kinds["order"]["in_crm"], so.orders) << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto table = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "reconcile", "--source", "--config", e2e.ConfigPath().string()});
  EXPECT_NE(table.output.find(fmt::format("return {}/{}", returns, returns)), std::string::npos)
      << table.output;
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
