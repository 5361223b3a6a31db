// Issue 23, acceptance 4 for Wildberries, through `crmhub run`: every card
// of the simulator's catalogue ends in crm.db as a product, and a
// set_stock by the CRM's SKU (the vendorCode) reaches its size
// (tests/adapters/commands_e2e.h). 300 cards, a few seconds.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/wildberries/wildberries_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::wildberries {
namespace {

TEST(WildberriesProductsEndToEndTest, TheCatalogueLandsAndAStockBySkuReachesItsSize) {
  SystemClock clock;
  WildberriesSimOptions so;
  so.orders = 20;
  so.products = 300;
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "wb-main", "wildberries-orders.toml", R"(
poll_interval = "500ms"
request_timeout = "2s"
lookback = "1h"
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();
  testutil::ProductsE2eOptions scenario{
      .adapter_id = "wb-main",
      .offer_key = "wildberries",
      .stock_item = {{"sku", "art-123"}, {"warehouse_id", 507}, {"amount", 41}},
      .stock_reached = [&] { return sim.StockOf(507, SimBarcode(123)) == 41; },
      .admin_port = *port};
  for (int i = 1; i <= so.products; ++i) {
    scenario.cards[std::to_string(100'000'000 + i)] = fmt::format("art-{}", i);
  }
  testutil::RunProductsScenario(e2e, scenario);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries
