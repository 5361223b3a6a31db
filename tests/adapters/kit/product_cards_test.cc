// kit::ProductCard, CatalogPass and SkuIndex: a card's queued shape and key,
// the catalogue pass's pacing and cursor form, the SKU index.

#include "adapters/kit/product_cards.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {
namespace {

using nlohmann::json;

TEST(ProductCard, QueuedInTheOneShapeKeyedByIdAndChange) {
  ProductCard card{.sku = "SKU-1",
                   .marketplace_id = "100001",
                   .name = "A kettle",
                   .barcodes = {"4600000000017"},
                   .archived = false,
                   .updated_ms = 1'700'000'000'000,
                   .attributes = {{"vat", "0.2"}}};
  EXPECT_EQ(CardProblem(card), "");
  InboundEvent e = ProductEvent(card, "ozon");
  EXPECT_EQ(e.kind, "product");
  EXPECT_EQ(e.idempotency_key, "product:100001:1700000000000");
  EXPECT_EQ(e.ordering_key, "SKU-1");
  const json p = json::parse(e.payload);
  EXPECT_EQ(p["sku"], "SKU-1");
  EXPECT_EQ(p["marketplace"], "ozon");
  EXPECT_EQ(p["marketplace_id"], "100001");
  EXPECT_EQ(p["barcodes"], json::array({"4600000000017"}));
  EXPECT_EQ(p["archived"], false);
  EXPECT_EQ(p["attributes"]["vat"], "0.2");
  // Without an update time: keyed by what it holds, so an unchanged card
  // is a duplicate and an edited one is not.
  card.updated_ms = 0;
  const std::string k1 = ProductEvent(card, "ozon").idempotency_key;
  EXPECT_EQ(ProductEvent(card, "ozon").idempotency_key, k1);
  card.name = "A better kettle";
  EXPECT_NE(ProductEvent(card, "ozon").idempotency_key, k1);
  EXPECT_EQ(k1.rfind("product:100001:", 0), 0u);
}

TEST(ProductCard, ACardWithoutItsIdsIsAProblem) {
  EXPECT_NE(CardProblem({.sku = "", .marketplace_id = "1"}), "");
  EXPECT_NE(CardProblem({.sku = "S", .marketplace_id = ""}), "");
}

TEST(ProductCard, APageIsQueuedIndexedAndItsBadCardsShown) {
  SkuIndex index;
  std::vector<InboundEvent> out;
  QueueCards({{.card = {.sku = "A", .marketplace_id = "1"}, .raw = {{"id", 1}}},
              {.card = {.sku = "", .marketplace_id = "2"}, .raw = {{"id", 2}}}},
             "ozon", "/v3/product/info/list items", index, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, "product");
  EXPECT_EQ(index.Find("A"), "1");
  EXPECT_EQ(index.size(), 1u);
  // The bad one is queued unreadable, with its record and where it was.
  const json unreadable = json::parse(out[1].payload);
  EXPECT_EQ(unreadable["unreadable"]["id"], 2);
  EXPECT_NE(unreadable["error"].get<std::string>().find("/v3/product/info/list items [1]"),
            std::string::npos)
      << unreadable.dump();
}

TEST(CatalogPass, APassPagesOnThenWaitsItsInterval) {
  CatalogPass pass;
  EXPECT_TRUE(pass.Due(1000));  // never read: due
  EXPECT_TRUE(pass.in_pass);
  EXPECT_TRUE(pass.After("p2", /*page_empty=*/false, 1000, 60'000));
  EXPECT_EQ(pass.page_token, "p2");
  EXPECT_TRUE(pass.Due(1500));  // in progress
  EXPECT_FALSE(pass.After("", false, 2000, 60'000));
  EXPECT_FALSE(pass.in_pass);
  EXPECT_EQ(pass.next_ms, 62'000);
  EXPECT_FALSE(pass.Due(61'999));
  EXPECT_TRUE(pass.Due(62'000));
  EXPECT_EQ(pass.page_token, "");
  // A token with an empty page ends the pass too.
  EXPECT_FALSE(pass.After("p9", /*page_empty=*/true, 70'000, 10));
  EXPECT_EQ(pass.next_ms, 70'010);
}

TEST(CatalogPass, CursorFormRoundTripsAndRefusesGarbage) {
  CatalogPass pass{.page_token = "abc", .next_ms = 9, .in_pass = true};
  auto back = CatalogPass::FromObject(pass.ToObject());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->page_token, "abc");
  EXPECT_EQ(back->next_ms, 9);
  EXPECT_TRUE(back->in_pass);
  auto empty = CatalogPass::FromObject(json::object());
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->in_pass);
  EXPECT_FALSE(CatalogPass::FromObject(json::array()).has_value());
  EXPECT_FALSE(CatalogPass::FromObject({{"next_ms", -1}}).has_value());
}

TEST(SkuIndex, FindsWhatWasPutAndForgetsWhatAReplaceDropped) {
  SkuIndex index;
  EXPECT_FALSE(index.Find("SKU-1").has_value());
  index.Put("SKU-1", "100001");
  index.Put("SKU-2", "100002");
  EXPECT_EQ(index.Find("SKU-1"), "100001");
  EXPECT_EQ(index.size(), 2u);
  index.Replace({{"SKU-2", "200002"}});
  EXPECT_FALSE(index.Find("SKU-1").has_value());
  EXPECT_EQ(index.Find("SKU-2"), "200002");
  const std::string why = UnknownSku("ozon", "Ozon", "X", "/v3/product/list", "product_id");
  EXPECT_EQ(why,
            "ozon: SKU \"X\" is not in the Ozon catalogue (/v3/product/list); pull the product "
            "cards or give product_id");
}

}  // namespace
}  // namespace crmhub::adapters::kit
