// Issue 23, acceptance 3 for Ozon: returns made by the simulator reach
// crm.db through `crmhub run` as `return` entities linked to their
// postings, and `crmhub reconcile --source` counts them on both sides (the
// simulator's list, the CRM store), apart from the orders
// (tests/adapters/marketplace_e2e.h).

#include <gtest/gtest.h>

#include "adapters/ozon/ozon_sim.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::ozon {
namespace {

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
  auto expected = [&]() -> std::optional<testutil::ExpectedReturns> {
    if (clock.Now() <= sim.AllFinalAt()) return std::nullopt;
    testutil::ExpectedReturns out;
    for (const auto& [id, posting] : sim.ReturnPostings()) {
      out[std::to_string(id)] = {.order_external_id = posting, .status = "ReceivedBySeller"};
    }
    return out;
  };
  testutil::ExpectReturnsLandAndReconcile(e2e, expected, so.orders, std::chrono::seconds(60));
  EXPECT_GT(sim.ReturnPostings().size(), 10u);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
