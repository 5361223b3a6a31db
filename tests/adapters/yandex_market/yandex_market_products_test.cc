// The catalogue (issue 23, acceptance 4): getOfferMappings pulled after the
// returns, page by page, as kit::ProductEvent records, mapped to `product`
// entities by config/mappings/yandex-market-orders.toml; stock and price
// commands named by the CRM's SKU (the offerId) reach that offer, and once
// the catalogue was read a SKU no offer has is dead-lettered.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/yandex_market/ym_test_support.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;

struct YmProducts : ::testing::Test {
  void SetUp() override {
    so.orders = 5;
    so.catalogue = 120;
    sim = std::make_unique<YandexMarketSimulator>(so, clock);
    ASSERT_TRUE(sim->Start("127.0.0.1:0").ok());
    config = testing::ConfigFor("ym", so, sim->base_url());
    config.products = true;
    config.products_page_size = 50;
    config.products_interval = std::chrono::minutes(30);
    adapter = testing::MakeAdapter(config, &http.client(), clock);
  }
  // One round: pulls until a Pull says no more; the product events.
  std::vector<InboundEvent> Round() {
    std::vector<InboundEvent> cards;
    for (int i = 0; i < 100; ++i) {
      auto r = adapter->Pull(cursor);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (const InboundEvent& e : r->events) {
        if (e.kind == "product") cards.push_back(e);
      }
      if (r->next_cursor) cursor = r->next_cursor;
      if (r->not_before) {
        clock.Advance(std::max<Duration>(*r->not_before - clock.Now(), Duration(1)));
        continue;
      }
      if (!r->more) break;
    }
    return cards;
  }
  size_t MappingRequests() const {
    return sim->log()
        .Find("POST", "/v2/businesses/" + std::to_string(so.business_id()) + "/offer-mappings")
        .size();
  }

  ManualClock clock;
  YandexMarketSimOptions so;
  std::unique_ptr<YandexMarketSimulator> sim;
  testing::ClientThread http;
  YandexMarketConfig config;
  std::unique_ptr<YandexMarketAdapter> adapter;
  std::optional<std::string> cursor;
};

TEST_F(YmProducts, EveryOfferOfTheCatalogueBecomesAProduct) {
  auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/yandex-market-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const std::vector<InboundEvent> cards = Round();
  ASSERT_EQ(cards.size(), 120u);
  std::set<std::string> skus;
  for (const InboundEvent& e : cards) {
    const json card = json::parse(e.payload);
    skus.insert(card["sku"].get<std::string>());
    auto entities = rules->ApplyText(e.payload, {.source = "ym", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << e.payload;
    ASSERT_EQ(entities->size(), 1u) << e.payload;  // a product, and no order or deal
    const model::Entity& p = entities->front();
    ASSERT_TRUE(model::ValidateEntity(p).ok()) << model::ValidateEntity(p).ToString();
    EXPECT_EQ(p.kind, model::EntityKind::kProduct);
    EXPECT_EQ(json(p.external_id), card["sku"]);
    EXPECT_EQ(p.fields["offer_ids"]["yandex_market"], card["sku"]);
    EXPECT_FALSE(p.fields["extra"]["market_sku"].get<std::string>().empty());
    ASSERT_EQ(p.fields["barcodes"].size(), 1u);
  }
  EXPECT_EQ(skus.size(), 120u);
  EXPECT_EQ(skus.count("YM-000001"), 1u);
  EXPECT_EQ(skus.count("YM-000120"), 1u);
  EXPECT_EQ(MappingRequests(), 3u);  // 50 + 50 + 20, by page_token
}

TEST_F(YmProducts, APassRunsOncePerIntervalAndItsCursorSurvives) {
  ASSERT_EQ(Round().size(), 120u);
  clock.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(Round().empty());
  EXPECT_EQ(MappingRequests(), 3u);
  adapter = testing::MakeAdapter(config, &http.client(), clock);  // a restart
  clock.Advance(std::chrono::minutes(21));
  EXPECT_EQ(Round().size(), 120u);
  EXPECT_EQ(MappingRequests(), 6u);
}

TEST_F(YmProducts, CommandsBySkuReachTheOfferAndUnknownOnesAreDeadLettered) {
  // Before any pass Market judges a SKU; after one, the catalogue does.
  auto before = adapter->Deliver(std::vector<adapters::Command>{
      testing::MakeCommand("set_stock", {{"sku", "YM-000007"}, {"stock", 3}})});
  EXPECT_TRUE(before[0].ok()) << before[0].error;
  Round();
  std::vector<adapters::Command> batch = {
      testing::MakeCommand("set_stock", {{"sku", "YM-000007"}, {"stock", 12}}),
      testing::MakeCommand("set_stock", {{"sku", "NO-SUCH"}, {"stock", 1}}),
      testing::MakeCommand("set_price", {{"sku", "YM-000008"}, {"price", 990}}),
      testing::MakeCommand("set_price", {{"sku", "NO-SUCH"}, {"price", 1}}),
  };
  auto out = adapter->Deliver(batch);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(sim->Stocks()["YM-000007"], 12);
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[1].error.find("SKU \"NO-SUCH\" is not in the Yandex Market catalogue"),
            std::string::npos)
      << out[1].error;
  EXPECT_TRUE(out[2].ok()) << out[2].error;
  EXPECT_EQ(testing::PriceOf(*sim, "YM-000008")["value"], 990);
  EXPECT_EQ(out[3].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[3].error.find("set_price"), std::string::npos) << out[3].error;
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
