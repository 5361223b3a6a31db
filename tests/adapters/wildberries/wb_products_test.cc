// Product cards (issue 23, acceptance 4): /content/v2/get/cards/list pulled
// between FBS scans by its cursor as kit::ProductEvent records, mapped to
// `product` entities by config/mappings/wildberries-orders.toml, and stock
// and price commands named by the CRM's SKU (the vendorCode) reaching the
// size and the article the cards gave it.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/wildberries/wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

adapters::Command MakeCommand(std::string command, json item, int64_t id) {
  adapters::Command m;
  m.key = std::to_string(id);
  m.name = std::move(command);
  m.payload = item.dump();
  return m;
}

struct WbProducts : ::testing::Test {
  WbProducts() : w(Options()) {
    config = OptionsFor(*w.sim);
    config.dbs = false;
    config.products = true;
    config.products_interval = std::chrono::minutes(30);
    adapter = std::make_unique<WildberriesAdapter>(config, w.http.get(), w.clock);
  }
  static WildberriesSimOptions Options() {
    WildberriesSimOptions so;
    so.products = 250;
    so.orders = 5;
    return so;
  }
  // Pulls until a Pull says no more (or `max` pulls); the product events.
  std::vector<InboundEvent> Round(int max = 100) {
    std::vector<InboundEvent> cards;
    for (int i = 0; i < max; ++i) {
      auto r = adapter->Pull(cursor);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (const InboundEvent& e : r->events) {
        if (e.kind == "product") cards.push_back(e);
      }
      if (r->next_cursor) cursor = r->next_cursor;
      if (r->not_before) {
        w.clock.Advance(std::max<Duration>(*r->not_before - w.clock.Now(), Duration(1)));
        continue;
      }
      if (!r->more) break;
    }
    return cards;
  }
  size_t CardRequests() { return w.sim->log().Find("POST", "/content/v2/get/cards/list").size(); }

  World w;
  WildberriesConfig config;
  std::unique_ptr<WildberriesAdapter> adapter;
  std::optional<std::string> cursor;
};

TEST_F(WbProducts, EveryCardOfTheCatalogueBecomesAProduct) {
  auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                  "/config/mappings/wildberries-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const std::vector<InboundEvent> cards = Round();
  ASSERT_EQ(cards.size(), 250u);
  std::set<std::string> skus;
  for (const InboundEvent& e : cards) {
    const json card = json::parse(e.payload);
    skus.insert(card["sku"].get<std::string>());
    EXPECT_EQ(json(e.ordering_key), card["sku"]);
    auto entities = rules->ApplyText(e.payload, {.source = "wb-main", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << e.payload;
    ASSERT_EQ(entities->size(), 1u) << e.payload;  // a product, and no order or deal
    const model::Entity& p = entities->front();
    ASSERT_TRUE(model::ValidateEntity(p).ok()) << model::ValidateEntity(p).ToString();
    EXPECT_EQ(p.kind, model::EntityKind::kProduct);
    EXPECT_EQ(json(p.external_id), card["marketplace_id"]);
    EXPECT_EQ(p.fields["offer_ids"]["wildberries"], card["marketplace_id"]);
    EXPECT_EQ(p.fields["extra"]["brand"], "Sim");
    ASSERT_EQ(p.fields["barcodes"].size(), 1u);
    EXPECT_GT(p.version, 0);
  }
  EXPECT_EQ(skus.size(), 250u);
  EXPECT_EQ(skus.count("art-1"), 1u);
  EXPECT_EQ(skus.count("art-250"), 1u);
  // Three pages of at most 100, each after the cursor of the one before.
  const auto requests = w.sim->log().Find("POST", "/content/v2/get/cards/list");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_FALSE(json::parse(requests[0].body)["settings"]["cursor"].contains("nmID"));
  EXPECT_TRUE(json::parse(requests[1].body)["settings"]["cursor"].contains("nmID"));
  for (const auto& r : requests) EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(WbProducts, APassRunsOncePerIntervalAndItsCursorSurvives) {
  ASSERT_EQ(Round().size(), 250u);
  const size_t read = CardRequests();
  w.clock.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(Round().empty());
  EXPECT_EQ(CardRequests(), read);
  adapter = std::make_unique<WildberriesAdapter>(config, w.http.get(), w.clock);  // a restart
  w.clock.Advance(std::chrono::minutes(21));
  EXPECT_EQ(Round().size(), 250u);
  EXPECT_EQ(CardRequests(), read + 3);
}

TEST_F(WbProducts, StockAndPriceCommandsBySkuReachTheItemsTheCardsNamed) {
  Round();
  const size_t read = CardRequests();
  w.clock.Advance(seconds(10));  // the content limit's burst back (a read of 3 pages)
  std::vector<adapters::Command> stocks = {
      MakeCommand("set_stock", {{"sku", "art-7"}, {"warehouse_id", 507}, {"amount", 12}}, 1),
      MakeCommand("set_stock", {{"sku", "no-such-art"}, {"warehouse_id", 507}, {"amount", 1}}, 2),
  };
  auto out = adapter->Deliver(stocks);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(w.sim->StockOf(507, SimBarcode(7)), 12);  // art-7's only size
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[1].error.find("SKU \"no-such-art\" is not in the Wildberries catalogue"),
            std::string::npos)
      << out[1].error;
  EXPECT_EQ(CardRequests(), read + 3);  // read again once for the unknown one
  std::vector<adapters::Command> prices = {
      MakeCommand("set_price", {{"sku", "art-8"}, {"price", 1500}}, 3),
      MakeCommand("set_price", {{"sku", "no-such-art"}, {"price", 1}}, 4),
  };
  auto priced = adapter->Deliver(prices);
  EXPECT_EQ(priced[0].kind, DeliveryOutcome::Kind::kRetry) << priced[0].error;  // a task
  EXPECT_EQ(priced[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(priced[1].error.find("not in the Wildberries catalogue"), std::string::npos)
      << priced[1].error;
  const auto tasks = w.sim->log().Find("POST", "/api/v2/upload/task");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(json::parse(tasks[0].body)["data"][0]["nmID"], 100000008);
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
