// Issue 23, acceptance 4 for Ozon, through `crmhub run`: every card of the
// simulator's catalogue ends in crm.db as a product, and a set_stock by
// the CRM's SKU reaches the product_id its card named
// (tests/adapters/commands_e2e.h). 300 cards, a few seconds.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/ozon/ozon_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::ozon {
namespace {

TEST(OzonProductsEndToEndTest, TheCatalogueLandsAndAStockBySkuReachesItsProduct) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = 20;
  so.products = 300;
  so.arrival = std::chrono::seconds(1);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml", R"(
poll_interval = "500ms"
request_timeout = "2s"
order_lookback = "1h"
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();
  testutil::ProductsE2eOptions scenario{
      .adapter_id = "ozon-main",
      .offer_key = "ozon",
      .stock_item = {{"sku", "SKU-000123"}, {"warehouse_id", so.warehouse_id}, {"stock", 41}},
      .stock_reached = [&] { return sim.Stocks()["100123:22"] == 41; },
      .admin_port = *port};
  for (int i = 0; i < so.products; ++i) {
    scenario.cards[std::to_string(100001 + i)] = fmt::format("SKU-{:06d}", i + 1);
  }
  testutil::RunProductsScenario(e2e, scenario);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
