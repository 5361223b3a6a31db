// config/mappings/yandex-market-orders.toml on the simulator's
// BusinessOrderDTOs, on an OrderDTO an older crmhub queued, and on what
// must not become an order (an unreadable record, an old hint).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;

class YandexMarketMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                    "/config/mappings/yandex-market-orders.toml");
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::make_unique<mapping::RuleSet>(std::move(*rules));
  }
  Result<std::vector<model::Entity>> Map(const std::string& payload) {
    return rules_->ApplyText(payload, {.source = "ym-main", .received_ms = 1});
  }
  std::unique_ptr<mapping::RuleSet> rules_;
};

TEST_F(YandexMarketMappingTest, EverySimulatedOrderMapsWithItsTotalsDatesAndVersion) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 120;
  so.arrival = std::chrono::seconds(1);
  so.lifetime = std::chrono::seconds(3);
  YandexMarketSimulator sim(so, clock);
  clock.Advance(std::chrono::seconds(2));
  net::HttpRequest r;
  r.method = "POST";
  r.path = "/v1/businesses/" + std::to_string(so.business_id()) + "/orders";
  r.headers.Set("Api-Key", so.api_key());
  r.body = R"({"dates":{"creationDateTo":"2100-01-01","creationDateFrom":"2099-12-02"}})";
  std::string answer;
  sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
  EXPECT_EQ(json::parse(answer)["orders"].size(), 0u) << "outside the creation dates";
  r.body = "{}";  // the spec's creation defaults end yesterday: nothing of today
  sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
  EXPECT_EQ(json::parse(answer)["orders"].size(), 0u) << answer.substr(0, 200);
  // The clock: 2023-11-15 in Moscow; To is exclusive, 30 days at most.
  r.body = R"({"dates":{"creationDateFrom":"2023-10-17","creationDateTo":"2023-11-16"}})";
  sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
  const json orders = json::parse(answer)["orders"];
  ASSERT_EQ(orders.size(), 50u);
  int cashback = 0;
  for (const json& order : orders) {
    auto entities = Map(order.dump());
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << order.dump();
    ASSERT_EQ(entities->size(), 2u);
    const json o = model::ToJson((*entities)[0]);
    // What Market sends when it applies (the simulator: sometimes).
    auto value = [](const json& prices, const char* part) {
      return prices.contains(part) ? prices[part]["value"].get<int64_t>() : 0;
    };
    const json& p = order["prices"];
    const json& item = order["items"][0]["prices"];
    EXPECT_EQ(o["external_id"], std::to_string(order["orderId"].get<int64_t>()));
    EXPECT_EQ(o["fields"]["status"],
              order["status"].get<std::string>() + "/" + order["substatus"].get<std::string>());
    EXPECT_EQ(o["fields"]["total"],
              (value(p, "payment") + value(p, "cashback") + value(p["delivery"], "payment")) * 100);
    EXPECT_EQ(o["fields"]["lines"][0]["total"],
              (value(item, "payment") + value(item, "cashback")) * 100);
    cashback += value(p, "cashback") > 0;
    EXPECT_EQ(o["fields"]["currency"], "RUB");
    EXPECT_EQ(o["version"], o["fields"]["updated_ms"]);
    EXPECT_LE(o["fields"]["created_ms"].get<int64_t>(), o["version"].get<int64_t>());
    EXPECT_EQ(model::ToJson((*entities)[1])["fields"]["stage"].is_string(), true);
  }
  EXPECT_GT(cashback, 0) << "some orders were paid partly in points";
}

TEST_F(YandexMarketMappingTest, AnOrderOfTheDeprecatedGetOrdersStillMaps) {
  auto entities = Map(R"({"id":42,"status":"DELIVERED","substatus":"DELIVERY_SERVICE_DELIVERED",
      "creationDate":"01-05-2024 10:00:00","updatedAt":"02-05-2024 11:00:00","currency":"RUR",
      "items":[{"offerId":"A","offerName":"x","count":2,"price":100}]})");
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  const json o = model::ToJson((*entities)[0]);
  EXPECT_EQ(o["external_id"], "42");
  EXPECT_EQ(o["version"], 1714636800000);  // 2024-05-02T11:00:00+03:00
  EXPECT_EQ(o["fields"]["lines"][0]["price"], 10000);
}

TEST_F(YandexMarketMappingTest, UnreadableRecordsDeadLetterAndOldHintsAreSkipped) {
  auto unreadable = Map(R"({"unreadable":{"orderId":"7"},"error":"orderId is not an integer"})");
  ASSERT_FALSE(unreadable.ok());
  EXPECT_NE(unreadable.status().message().find("orderId"), std::string::npos);
  auto hint = Map(R"({"notificationType":"ORDER_CREATED","orderId":7})");
  ASSERT_TRUE(hint.ok());
  EXPECT_TRUE(hint->empty());
}

// The simulator's returns (getReturns) map to return entities linked to
// their orders; a return's record makes no order or deal, an order's no
// return.
TEST_F(YandexMarketMappingTest, SimulatedReturnsMapToReturnsLinkedToTheirOrders) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 120;
  so.arrival = std::chrono::seconds(1);
  so.lifetime = std::chrono::seconds(3);
  YandexMarketSimulator sim(so, clock);
  clock.Advance(std::chrono::seconds(30));
  const auto linked = sim.ReturnOrders();
  ASSERT_GT(linked.size(), 3u);
  net::HttpRequest r;
  r.method = "GET";
  r.path = "/v2/campaigns/" + std::to_string(so.campaign_id()) + "/returns";
  r.target = r.path + "?limit=100";
  r.headers.Set("Api-Key", so.api_key());
  std::string answer;
  sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
  const json returns = json::parse(answer)["result"]["returns"];
  ASSERT_EQ(returns.size(), linked.size()) << answer.substr(0, 300);
  for (const json& ret : returns) {
    auto entities = Map(ret.dump());
    ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << ret.dump();
    ASSERT_EQ(entities->size(), 1u) << ret.dump();
    const model::Entity& e = (*entities)[0];
    EXPECT_EQ(e.kind, model::EntityKind::kReturn);
    EXPECT_TRUE(model::ValidateEntity(e).ok()) << model::ValidateEntity(e).ToString();
    const json o = model::ToJson(e);
    const int64_t id = ret["id"].get<int64_t>();
    EXPECT_EQ(o["external_id"], std::to_string(id));
    EXPECT_EQ(o["fields"]["order_external_id"], std::to_string(linked.at(id)));
    EXPECT_EQ(o["fields"]["status"], "READY_FOR_PICKUP");
    EXPECT_EQ(o["fields"]["refund_status"], "REFUNDED");
    EXPECT_EQ(o["fields"]["type"], "return");
    EXPECT_EQ(o["fields"]["amount"], ret["amount"]["value"].get<int64_t>() * 100);
    EXPECT_EQ(o["fields"]["currency"], "RUB");
    EXPECT_EQ(o["fields"]["lines"][0]["sku"], ret["items"][0]["shopSku"]);
    EXPECT_EQ(o["version"], o["fields"]["updated_ms"]);
  }
  // A fast return: no shipmentStatus, the refund's status stands.
  auto fast = Map(R"({"id":5,"orderId":7,"returnType":"UNREDEEMED","refundStatus":"REFUNDED",
      "updateDate":"2025-01-01T10:00:00+03:00",
      "items":[{"shopSku":"A","count":1}]})");
  ASSERT_TRUE(fast.ok()) << fast.status().ToString();
  EXPECT_EQ(model::ToJson((*fast)[0])["fields"]["status"], "REFUNDED");
  EXPECT_EQ(model::ToJson((*fast)[0])["fields"]["type"], "unredeemed");
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
