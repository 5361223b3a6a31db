// config/mappings/wildberries-orders.toml against the simulator's FBS and
// DBS orders, shaped as the adapter queues them (the order as WB sent it plus
// supplierStatus, wbStatus, statusObservedMs).

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/wildberries/wildberries_sim.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

class WildberriesMappingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rules = mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) +
                                    "/config/mappings/wildberries-orders.toml");
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::make_unique<mapping::RuleSet>(std::move(*rules));
  }
  std::vector<json> Map(const json& payload) {
    mapping::ApplyContext ctx;
    ctx.source = "wb-main";
    ctx.received_ms = 1;
    auto entities = rules_->ApplyText(payload.dump(), ctx);
    EXPECT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << payload.dump();
    std::vector<json> out;
    if (entities.ok()) {
      for (const auto& e : *entities) out.push_back(model::ToJson(e));
    }
    return out;
  }
  // One simulator answer, called without sockets.
  static json Ask(WildberriesSimulator& sim, std::string method, std::string target,
                  json body = {}) {
    net::HttpRequest r;
    r.method = std::move(method);
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers.Set("Authorization", "sim-token");
    if (!body.is_null()) r.body = body.dump();
    std::string answer;
    sim.Handle(r, [&](net::HttpResponse response) { answer = response.body; });
    return json::parse(answer);
  }
  std::unique_ptr<mapping::RuleSet> rules_;
};

// Every completed DBS order maps to an order and a deal whose stage is the
// outcome (receive/sold -> won; cancel, decline, reject -> lost); an order
// on its way ("deliver") is in delivery.
TEST_F(WildberriesMappingTest, DbsOrdersMapToAnOrderAndADealStage) {
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 0;
  so.dbs_orders = 200;
  so.enforce_rate_limits = false;
  WildberriesSimulator sim(so, clock);
  clock.Advance(std::chrono::minutes(3));  // every order at its final status
  const int64_t now_s = ToUnixMillis(clock.Now()) / 1000;
  json list = Ask(sim, "GET",
                  "/api/v3/dbs/orders?limit=1000&next=0&dateFrom=" + std::to_string(now_s - 3600) +
                      "&dateTo=" + std::to_string(now_s));
  ASSERT_EQ(list["orders"].size(), 200u) << list.dump().substr(0, 500);
  json ids = json::array();
  for (const auto& o : list["orders"]) ids.push_back(o["id"]);
  json statuses = Ask(sim, "POST", "/api/v3/dbs/orders/status", {{"orders", ids}})["orders"];
  ASSERT_EQ(statuses.size(), 200u);
  std::map<std::string, int> stages;
  for (size_t i = 0; i < statuses.size(); ++i) {
    json p = list["orders"][i];
    ASSERT_EQ(p["id"], statuses[i]["id"]);
    p["supplierStatus"] = statuses[i]["supplierStatus"];
    p["wbStatus"] = statuses[i]["wbStatus"];
    p["statusObservedMs"] = 1700000000000 + static_cast<int64_t>(i);
    auto entities = Map(p);
    ASSERT_EQ(entities.size(), 2u) << p.dump();
    const json& order = entities[0];
    const json& deal = entities[1];
    EXPECT_EQ(order["kind"], "order");
    EXPECT_EQ(order["external_id"], std::to_string(p["id"].get<int64_t>()));
    EXPECT_EQ(order["fields"]["status"],
              p["supplierStatus"].get<std::string>() + "/" + p["wbStatus"].get<std::string>());
    EXPECT_EQ(order["fields"]["extra"]["delivery_type"], "dbs") << order.dump();
    EXPECT_EQ(order["fields"]["delivery_address"], p["address"]["fullAddress"]) << order.dump();
    EXPECT_EQ(deal["kind"], "deal");
    EXPECT_EQ(deal["fields"]["extra"]["delivery_type"], "dbs") << deal.dump();
    const std::string stage = deal["fields"]["stage"].get<std::string>();
    ++stages[stage];
    EXPECT_EQ(stage, p["wbStatus"] == "sold" ? "won" : "lost") << p.dump();
  }
  EXPECT_GT(stages["won"], 100);
  EXPECT_GT(stages["lost"], 10);
  // On its way, and a missed call (statuses only DBS has).
  json p = list["orders"][0];
  p["statusObservedMs"] = 1;
  p["supplierStatus"] = "deliver";
  p["wbStatus"] = "waiting";
  EXPECT_EQ(Map(p)[1]["fields"]["stage"], "in_delivery");
  p["supplierStatus"] = "cancel_missed_call";
  p["wbStatus"] = "canceled_by_missed_call";
  EXPECT_EQ(Map(p)[1]["fields"]["stage"], "lost");
}

TEST_F(WildberriesMappingTest, FbsOrdersKeepTheirShapeAndAreMarkedFbs) {
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 5;
  so.arrival = std::chrono::seconds(1);
  so.enforce_rate_limits = false;
  WildberriesSimulator sim(so, clock);
  clock.Advance(std::chrono::seconds(2));
  json list = Ask(sim, "GET", "/api/v3/orders?limit=10&next=0");
  ASSERT_EQ(list["orders"].size(), 5u);
  json p = list["orders"][0];
  p["supplierStatus"] = "confirm";
  p["wbStatus"] = "waiting";
  p["statusObservedMs"] = 5;
  auto entities = Map(p);
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(entities[0]["fields"]["extra"]["delivery_type"], "fbs");
  // Each line names its size (chrtID), which set_stock commands send.
  const json& line = entities[0]["fields"]["lines"][0];
  EXPECT_EQ(line["extra"]["chrt_id"], std::to_string(p["chrtId"].get<int64_t>())) << line.dump();
  EXPECT_EQ(line["barcode"], p["skus"][0]) << line.dump();
  EXPECT_EQ(entities[1]["fields"]["stage"], "assembly");
}

}  // namespace
}  // namespace crmhub::adapters::wildberries
