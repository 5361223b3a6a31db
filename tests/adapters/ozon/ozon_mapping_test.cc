// config/mappings/ozon-orders.toml against the simulator's postings (shaped
// like the spec's) and the spec's push-notification examples.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_adapter.h"
#include "adapters/ozon/ozon_sim.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

class OzonMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules =
        mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/ozon-orders.toml");
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::make_unique<mapping::RuleSet>(std::move(*rules));
  }
  std::vector<json> Map(const std::string& payload) {
    mapping::ApplyContext ctx;
    ctx.source = "ozon-main";
    ctx.received_ms = 1;
    auto entities = rules_->ApplyText(payload, ctx);
    EXPECT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << payload;
    std::vector<json> out;
    if (entities.ok()) {
      for (const auto& e : *entities) out.push_back(model::ToJson(e));
    }
    return out;
  }
  std::unique_ptr<mapping::RuleSet> rules_;
};

// FBS postings from /v3/posting/fbs/list and FBO ones from
// /v2/posting/fbo/list (with analytics_data, as the adapter asks), each
// with the "delivery_schema" the adapter adds, map to the same order and
// deal shapes; the scheme is kept in extra.
TEST_F(OzonMappingTest, EverySimulatedPostingMapsToAnOrderAndADeal) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.arrival = std::chrono::seconds(1);
  so.lifetime = std::chrono::seconds(3);
  OzonSimulator sim(so, clock);
  clock.Advance(std::chrono::minutes(1));  // every posting at its final status
  auto list = [&](const std::string& path, json body) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.headers.Set("Client-Id", so.client_id());
    r.headers.Set("Api-Key", so.api_key());
    body["filter"] = {{"since", "2023-11-01T00:00:00Z"}, {"to", "2023-12-01T00:00:00Z"}};
    body["limit"] = 1000;
    body["offset"] = 0;
    r.body = body.dump();
    std::string answer;
    sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
    return json::parse(answer);
  };
  json fbs = list("/v3/posting/fbs/list", json::object())["result"]["postings"];
  json fbo = list("/v2/posting/fbo/list", {{"with", {{"analytics_data", true}}}})["result"];
  ASSERT_TRUE(fbs.is_array());
  ASSERT_TRUE(fbo.is_array());
  ASSERT_EQ(fbs.size() + fbo.size(), 300u);
  ASSERT_GT(fbo.size(), 30u);
  int cancelled = 0;
  for (const auto& [postings, scheme] : {std::pair{fbs, "fbs"}, std::pair{fbo, "fbo"}}) {
    for (json p : postings) {
      // As the adapter queues it: the scheme and the amount added.
      p["delivery_schema"] = scheme;
      ASSERT_TRUE(PostingTotalMinor(p.dump()).has_value()) << p.dump();
      p["total_minor"] = *PostingTotalMinor(p.dump());
      int64_t total = 0;
      for (const json& line : p["products"]) {
        total += std::llround(std::stod(line["price"].get<std::string>()) * 100) *
                 line["quantity"].get<int64_t>();
      }
      auto entities = Map(p.dump());
      ASSERT_EQ(entities.size(), 2u) << p.dump();
      const json& order = entities[0];
      const json& deal = entities[1];
      EXPECT_EQ(order["kind"], "order");
      EXPECT_EQ(order["external_id"], p["posting_number"]);
      EXPECT_EQ(order["fields"]["status"], p["status"]);
      EXPECT_EQ(order["fields"]["lines"].size(), 1u);
      EXPECT_EQ(order["fields"]["currency"], "RUB");
      EXPECT_EQ(order["fields"]["total"], total) << order.dump();
      EXPECT_EQ(order["fields"]["extra"]["delivery_schema"], scheme) << order.dump();
      EXPECT_EQ(order["fields"]["warehouse"], std::string(scheme) == "fbo"
                                                  ? std::to_string(so.fbo_warehouse_id)
                                                  : std::to_string(so.warehouse_id))
          << order.dump();
      EXPECT_TRUE(order["fields"]["created_ms"].is_number_integer()) << order.dump();
      EXPECT_EQ(deal["kind"], "deal");
      EXPECT_EQ(deal["fields"]["extra"]["delivery_schema"], scheme) << deal.dump();
      if (p["status"] == "cancelled") {
        ++cancelled;
        EXPECT_EQ(deal["fields"]["stage"], "lost");
        EXPECT_EQ(deal["version"], 8);
      } else {
        EXPECT_EQ(p["status"], "delivered");
        EXPECT_EQ(deal["fields"]["stage"], "won");
        EXPECT_EQ(order["version"], 7);
      }
    }
  }
  EXPECT_GT(cancelled, 0);
}

// A posting queued before the adapter marked schemes is FBS.
TEST_F(OzonMappingTest, APostingWithoutAMarkIsFbs) {
  auto entities = Map(R"({"posting_number":"1-2-3","order_number":"1-2","status":"delivering",
    "in_process_at":"2024-01-01T00:00:00Z","delivery_method":{"warehouse_id":22},
    "products":[{"sku":1,"quantity":1,"name":"x","price":"10.00","offer_id":"a","currency_code":"RUB"}]})");
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(entities[0]["fields"]["extra"]["delivery_schema"], "fbs");
  EXPECT_FALSE(entities[0]["fields"].contains("total")) << "no total_minor, no amount";
  EXPECT_EQ(entities[0]["fields"]["warehouse"], "22");
}

TEST_F(OzonMappingTest, PushNotificationsUpdateTheDealStage) {
  auto changed = Map(R"({"message_type":"TYPE_STATE_CHANGED","posting_number":"24219509-0020-2",
    "new_state":"posting_delivered","changed_state_date":"2021-02-02T15:07:46.765Z","warehouse_id":0,"seller_id":15})");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0]["kind"], "deal");
  EXPECT_EQ(changed[0]["fields"]["stage"], "won");
  EXPECT_EQ(changed[0]["version"], 7);
  auto cancelled =
      Map(R"({"message_type":"TYPE_POSTING_CANCELLED","posting_number":"24219509-0020-1",
    "products":[{"sku":147451959,"quantity":1}],"old_state":"posting_transferred_to_courier_service",
    "new_state":"posting_canceled","changed_state_date":"2021-01-26T06:56:36.294Z","reason":{"id":0,"message":"string"},
    "warehouse_id":0,"seller_id":15})");
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0]["fields"]["stage"], "lost");
  EXPECT_TRUE(Map(R"({"message_type":"TYPE_NEW_POSTING","posting_number":"24219509-0020-1",
    "products":[{"sku":147451959,"quantity":2}],"in_process_at":"2021-01-26T06:56:36.294Z","warehouse_id":18850503335000,"seller_id":15})")
                  .empty());
}

}  // namespace
}  // namespace crmhub::adapters::ozon
