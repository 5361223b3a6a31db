// Product cards (issue 23, acceptance 4): /v3/product/list + /v3/product/info/list
// pulled after the returns as kit::ProductEvent records, mapped to `product`
// entities by config/mappings/ozon-orders.toml, and a stock command named by
// the CRM's SKU reaching the product the cards gave it.

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

adapters::Command MakeCommand(const std::string& command, const json& item) {
  adapters::Command m;
  m.name = command;
  m.payload = item.dump();
  return m;
}

struct ProductsFixture : ::testing::Test {
  ProductsFixture() {
    so.orders = 5;
    so.products = 25;
    so.seed = 3;
  }
  void SetUp() override {
    sim = std::make_unique<OzonSimulator>(so, clock);
    ASSERT_TRUE(sim->Start("127.0.0.1:0").ok());
    config = ConfigFor("ozon-main", so, sim->base_url());
    config.products = true;
    config.products_page_size = 10;
    config.products_interval = std::chrono::minutes(30);
    adapter = std::make_unique<OzonAdapter>(config, http.transport(), clock);
  }
  // One round; the product events it queued.
  std::vector<InboundEvent> Round() {
    std::vector<InboundEvent> cards;
    auto round = testing::PullRound(*adapter, cursor, 200, [&](const InboundEvent& e) {
      if (e.kind == "product") cards.push_back(e);
    });
    EXPECT_TRUE(round.ok()) << round.status().ToString();
    return cards;
  }

  ManualClock clock;
  OzonSimOptions so;
  std::unique_ptr<OzonSimulator> sim;
  ClientThread http;
  OzonConfig config;
  std::unique_ptr<OzonAdapter> adapter;
  std::optional<std::string> cursor;
};

TEST_F(ProductsFixture, EveryCardOfTheCatalogueBecomesAProduct) {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/ozon-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const std::vector<InboundEvent> cards = Round();
  ASSERT_EQ(cards.size(), 25u);
  std::set<std::string> skus;
  for (const InboundEvent& e : cards) {
    const json card = json::parse(e.payload);
    skus.insert(card["sku"].get<std::string>());
    EXPECT_EQ(json(e.ordering_key), card["sku"]);
    auto entities = rules->ApplyText(e.payload, {.source = "ozon-main", .received_ms = 1});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << e.payload;
    ASSERT_EQ(entities->size(), 1u) << e.payload;  // a product, and no order or deal
    const model::Entity& p = entities->front();
    ASSERT_TRUE(model::ValidateEntity(p).ok()) << model::ValidateEntity(p).ToString();
    EXPECT_EQ(p.kind, model::EntityKind::kProduct);
    EXPECT_EQ(json(p.external_id), card["marketplace_id"]);
    EXPECT_EQ(p.fields["sku"], card["sku"]);
    EXPECT_EQ(p.fields["offer_ids"]["ozon"], card["marketplace_id"]);
    ASSERT_EQ(p.fields["barcodes"].size(), 1u);
    EXPECT_EQ(p.fields["barcodes"][0].get<std::string>().substr(0, 3), "OZN");
    EXPECT_FALSE(p.fields["name"].get<std::string>().empty());
    EXPECT_EQ(p.fields["extra"]["currency_code"], "RUB");
    EXPECT_GT(p.version, 0);
  }
  EXPECT_EQ(skus.size(), 25u);
  EXPECT_EQ(skus.count("SKU-000001"), 1u);
  EXPECT_EQ(skus.count("SKU-000025"), 1u);
  // Three pages of the list, each with one info request of its product_ids
  // (the spec: one kind of identifier, at most 1000).
  const auto infos = sim->log().Find("POST", "/v3/product/info/list");
  ASSERT_EQ(infos.size(), 3u);
  for (const auto& r : infos) {
    EXPECT_EQ(r.status, 200) << r.body;
    const json body = json::parse(r.body);
    EXPECT_FALSE(body.contains("offer_id"));
    EXPECT_LE(body["product_id"].size(), 10u);
  }
}

TEST_F(ProductsFixture, APassRunsOncePerIntervalAndItsCursorSurvives) {
  ASSERT_EQ(Round().size(), 25u);
  const size_t lists = sim->log().Find("POST", "/v3/product/list").size();
  clock.Advance(std::chrono::minutes(10));
  EXPECT_TRUE(Round().empty());  // not due yet
  EXPECT_EQ(sim->log().Find("POST", "/v3/product/list").size(), lists);
  // A new adapter (a restart) goes on from the persisted cursor.
  adapter = std::make_unique<OzonAdapter>(config, http.transport(), clock);
  clock.Advance(std::chrono::minutes(21));
  const std::vector<InboundEvent> again = Round();
  ASSERT_EQ(again.size(), 25u);
  // Unchanged cards keep their keys: the queue's dedup absorbs them.
  std::set<std::string> keys;
  for (const auto& e : again) keys.insert(e.idempotency_key);
  EXPECT_EQ(keys.size(), 25u);
  EXPECT_EQ(keys.count(again.front().idempotency_key), 1u);
}

TEST_F(ProductsFixture, AStockCommandBySkuReachesTheItemTheCardsNamed) {
  Round();
  const size_t lists = sim->log().Find("POST", "/v3/product/list").size();
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"sku", "SKU-000007"}, {"warehouse_id", 22}, {"stock", 12}}),
      MakeCommand("set_stock", {{"sku", "NO-SUCH-SKU"}, {"warehouse_id", 22}, {"stock", 1}}),
      MakeCommand("set_price", {{"sku", "SKU-000008"}, {"price", "99.50"}}),
  };
  auto out = adapter->Deliver(batch);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(sim->Stocks()["100007:22"], 12);  // SKU-000007's product_id
  // Unknown after a reload of the catalogue: a dead letter saying why.
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[1].error.find("SKU \"NO-SUCH-SKU\" is not in the Ozon catalogue"),
            std::string::npos)
      << out[1].error;
  EXPECT_EQ(sim->log().Find("POST", "/v3/product/list").size(), lists + 1);
  EXPECT_TRUE(out[2].ok()) << out[2].error;
  const auto prices = sim->log().Find("POST", "/v1/product/import/prices");
  ASSERT_EQ(prices.size(), 1u);
  EXPECT_EQ(json::parse(prices[0].body)["prices"][0]["offer_id"], "SKU-000008");
}

TEST_F(ProductsFixture, TheSimulatorRefusesWhatTheSpecForbids) {
  auto post = [&](const json& body) {
    net::OutboundRequest r;
    r.method = "POST";
    r.url = sim->base_url() + "/v3/product/info/list";
    r.body = body.dump();
    r.headers.Set("Client-Id", so.client_id());
    r.headers.Set("Api-Key", so.api_key());
    r.headers.Set("Content-Type", "application/json");
    return http.client().SendBlocking(r);
  };
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back(std::to_string(100001 + i));
  auto too_many = post({{"product_id", many}});
  ASSERT_TRUE(too_many.ok());
  EXPECT_EQ(too_many->status, 400);
  auto mixed = post({{"product_id", {"100001"}}, {"offer_id", {"SKU-000002"}}});
  ASSERT_TRUE(mixed.ok());
  EXPECT_EQ(mixed->status, 400);
  auto fine = post({{"offer_id", {"SKU-000002", "SKU-999999"}}});
  ASSERT_TRUE(fine.ok());
  ASSERT_EQ(fine->status, 200) << fine->body;
  const json items = json::parse(fine->body)["items"];
  ASSERT_EQ(items.size(), 1u);  // the unknown one is left out
  EXPECT_EQ(items[0]["id"], 100002);
}

}  // namespace
}  // namespace crmhub::adapters::ozon
