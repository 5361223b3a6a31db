// Issue 23, acceptance 4 for Yandex Market, through `crmhub run`: every
// offer of the simulator's catalogue ends in crm.db as a product, and a
// set_stock by the CRM's SKU (the offerId) reaches that offer
// (tests/adapters/commands_e2e.h). 300 offers, a few seconds.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

TEST(YandexMarketProductsEndToEndTest, TheCatalogueLandsAndAStockBySkuReachesItsOffer) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = 20;
  so.catalogue = 300;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ym-main", "yandex-market-orders.toml", R"(
poll_interval = "1s"
request_timeout = "2s"
lookback = "1h"
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();
  testutil::ProductsE2eOptions scenario{
      .adapter_id = "ym-main",
      .offer_key = "yandex_market",
      .stock_item = {{"sku", "YM-000123"}, {"stock", 41}},
      .stock_reached = [&] { return sim.Stocks()["YM-000123"] == 41; },
      .admin_port = *port};
  for (int i = 1; i <= so.catalogue; ++i) {
    const std::string offer = fmt::format("YM-{:06d}", i);
    scenario.cards[offer] = offer;
  }
  testutil::RunProductsScenario(e2e, scenario);
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
