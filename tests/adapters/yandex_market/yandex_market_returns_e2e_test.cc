// Issue 23, acceptance 3 for Yandex Market: returns the simulator makes
// (getReturns) reach crm.db through `crmhub run` as `return` entities
// linked to their orders, and `crmhub reconcile --source` counts them on
// both sides (tests/adapters/marketplace_e2e.h).

#include <gtest/gtest.h>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::yandex_market {
namespace {

TEST(YandexMarketReturnsEndToEndTest, ReturnsLandLinkedAndReconcileCountsThem) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = 300;
  so.seed = 23;
  so.arrival = std::chrono::seconds(2);
  so.lifetime = std::chrono::seconds(3);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "ym-main", "yandex-market-orders.toml",
                                                    R"(poll_interval = "300ms"
request_timeout = "2s"
overlap = "2s"
lookback = "1h")"));
  e2e.Start();
  // The simulator's last return step (CREATED, IN_TRANSIT, READY_FOR_PICKUP).
  auto expected = [&]() -> std::optional<testutil::ExpectedReturns> {
    if (clock.Now() <= sim.AllFinalAt()) return std::nullopt;
    testutil::ExpectedReturns out;
    for (const auto& [id, order] : sim.ReturnOrders()) {
      out[std::to_string(id)] = {.order_external_id = std::to_string(order),
                                 .status = "READY_FOR_PICKUP"};
    }
    return out;
  };
  testutil::ExpectReturnsLandAndReconcile(e2e, expected, so.orders, std::chrono::seconds(60));
  EXPECT_GT(sim.ReturnOrders().size(), 10u);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
