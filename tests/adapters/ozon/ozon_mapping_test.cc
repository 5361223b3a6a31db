// config/mappings/ozon-orders.toml against the simulator's postings (shaped
// like the spec's) and the spec's push-notification examples.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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

TEST_F(OzonMappingTest, EverySimulatedPostingMapsToAnOrderAndADeal) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.arrival_span = std::chrono::seconds(1);
  so.step_delay = std::chrono::seconds(1);
  OzonSimulator sim(so, clock);
  clock.Advance(std::chrono::minutes(1));  // every posting at its final status
  net::HttpRequest r;
  r.method = "POST";
  r.path = "/v3/posting/fbs/list";
  r.headers.Set("Client-Id", so.client_id);
  r.headers.Set("Api-Key", so.api_key);
  r.body = json{
      {"filter", {{"since", "2023-11-01T00:00:00Z"}, {"to", "2023-12-01T00:00:00Z"}}},
      {"limit", 1000},
      {"offset",
       0}}.dump();
  std::string answer;
  sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
  auto postings = json::parse(answer)["result"]["postings"];
  ASSERT_FALSE(postings.is_null()) << answer;
  ASSERT_EQ(postings.size(), 300u);
  int cancelled = 0;
  for (const auto& p : postings) {
    auto entities = Map(p.dump());
    ASSERT_EQ(entities.size(), 2u) << p.dump();
    const json& order = entities[0];
    const json& deal = entities[1];
    EXPECT_EQ(order["kind"], "order");
    EXPECT_EQ(order["external_id"], p["posting_number"]);
    EXPECT_EQ(order["fields"]["status"], p["status"]);
    EXPECT_EQ(order["fields"]["lines"].size(), 1u);
    EXPECT_EQ(order["fields"]["currency"], "RUB");
    EXPECT_EQ(deal["kind"], "deal");
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
  EXPECT_GT(cancelled, 0);
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
