// Ship (FBS supplies) and cancel of assembly tasks: the simulator's status
// machine (from 03-orders-fbs.yaml), and the adapter's commands against it
// over loopback HTTP.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/adapters/wildberries/wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;

TEST(WbSimStatusMachine, FollowsTheSpecsStatusesAndExamples) {
  EXPECT_EQ(SellerWriteRefusal("add", "new", "waiting"), "");
  EXPECT_EQ(SellerWriteRefusal("add", "confirm", "waiting"), "");  // moved between supplies
  EXPECT_EQ(SellerWriteRefusal("add", "complete", "waiting"), "FailedToAddSupplyOrder");
  EXPECT_EQ(SellerWriteRefusal("add", "cancel", "canceled"), "FailedToAddSupplyOrder");
  EXPECT_EQ(SellerWriteRefusal("add", "new", "declined_by_client"), "FailedToAddSupplyOrder");
  EXPECT_EQ(SellerWriteRefusal("cancel", "new", "waiting"), "");
  EXPECT_EQ(SellerWriteRefusal("cancel", "confirm", "waiting"), "");
  EXPECT_EQ(SellerWriteRefusal("cancel", "complete", "waiting"), "StatusChangeNotAllowed");
  EXPECT_EQ(SellerWriteRefusal("cancel", "cancel", "canceled"), "StatusMismatch");
}

WildberriesSimOptions SimOptions() {
  WildberriesSimOptions o;
  o.orders = 40;
  o.products = 50;
  o.await_seller = true;
  o.arrival = std::chrono::seconds(10);
  o.lifetime = std::chrono::seconds(30);
  return o;
}

class WbCommandsTest : public ::testing::Test {
 protected:
  WbCommandsTest() : world_(SimOptions()) {
    world_.clock.Advance(std::chrono::minutes(1));
    WildberriesConfig config = OptionsFor(*world_.sim);
    config.client.pacing[static_cast<size_t>(Group::kOrders)] = {std::chrono::milliseconds(1), 100};
    config.client.cancel_pacing = {std::chrono::milliseconds(1), 100};
    adapter_ = std::make_unique<WildberriesAdapter>(config, world_.http.get(), world_.clock);
    // Each order's warehouse, as the list answers it.
    auto [status, page] = Call("GET", "/api/v3/orders?limit=1000&next=0", "");
    EXPECT_EQ(status, 200);
    for (const json& o : page["orders"]) warehouse_[o["id"].get<int64_t>()] = o["warehouseId"];
    for (const auto& [id, w] : warehouse_) ids_.push_back(id);
  }
  std::pair<int, json> Call(const std::string& method, const std::string& target,
                            const std::string& body) {
    net::OutboundRequest r;
    r.method = method;
    r.url = world_.sim->base_url() + target;
    r.headers.Set("Authorization", "sim-token");
    if (!body.empty()) r.headers.Set("Content-Type", "application/json");
    r.body = body;
    auto answer = world_.http->SendBlocking(std::move(r));
    EXPECT_TRUE(answer.ok());
    if (!answer.ok()) return {0, json()};
    return {answer->status, json::parse(answer->body, nullptr, false)};
  }
  std::string Status(int64_t id) { return world_.sim->OrderStatuses(false).at(std::to_string(id)); }
  size_t Sent(const std::string& method, const std::string& path_part) {
    const auto log = world_.sim->log().Snapshot();
    return std::count_if(log.begin(), log.end(), [&](const simkit::LoggedRequest& r) {
      return r.method == method && r.path.find(path_part) != std::string::npos;
    });
  }
  json Ship(int64_t id) { return {{"order_id", id}, {"warehouse_id", warehouse_.at(id)}}; }
  // Two orders of different warehouses.
  std::pair<int64_t, int64_t> TwoWarehouses() {
    for (int64_t a : ids_) {
      for (int64_t b : ids_) {
        if (warehouse_[a] != warehouse_[b]) return {a, b};
      }
    }
    ADD_FAILURE() << "one warehouse only";
    return {ids_[0], ids_[1]};
  }

  World world_;
  std::unique_ptr<WildberriesAdapter> adapter_;
  std::map<int64_t, int64_t> warehouse_;
  std::vector<int64_t> ids_;
};

TEST_F(WbCommandsTest, TheSimulatorMovesOrdersOnlyAsTheSpecDocuments) {
  ASSERT_GE(ids_.size(), 10u);
  const auto [a, b] = TwoWarehouses();
  EXPECT_EQ(Status(a), "new/waiting");  // await_seller
  auto [created, supply] = Call("POST", "/api/v3/supplies", R"({"name":"test"})");
  ASSERT_EQ(created, 201) << supply.dump();
  const std::string id = supply["id"];
  const std::string orders = "/api/marketplace/v3/supplies/" + id + "/orders";
  // One supply, one warehouse; all or nothing.
  auto mixed = Call("PATCH", orders, json{{"orders", {a, b}}}.dump());
  EXPECT_EQ(mixed.first, 409);
  EXPECT_EQ(mixed.second["code"], "FailedToAddSupplyOrder");
  EXPECT_EQ(Status(a), "new/waiting");
  EXPECT_EQ(Call("PATCH", "/api/v3/supplies/" + id + "/deliver", "").second["code"],
            "SupplyHasZeroOrders");
  EXPECT_EQ(Call("PATCH", orders, json{{"orders", {a}}}.dump()).first, 204);
  EXPECT_EQ(Status(a), "confirm/waiting");
  EXPECT_EQ(Call("PATCH", "/api/v3/supplies/" + id + "/deliver", "").first, 204);
  EXPECT_EQ(Status(a), "complete/waiting");
  // A closed supply takes nothing more; a completed order is WB's.
  EXPECT_EQ(Call("PATCH", orders, json{{"orders", {b}}}.dump()).second["code"],
            "FailedToAddSupplyOrder");
  EXPECT_EQ(Call("PATCH", "/api/v3/orders/" + std::to_string(a) + "/cancel", "").second["code"],
            "StatusChangeNotAllowed");
  // Cancel: new -> cancel/canceled, once.
  EXPECT_EQ(Call("PATCH", "/api/v3/orders/" + std::to_string(b) + "/cancel", "").first, 204);
  EXPECT_EQ(Status(b), "cancel/canceled");
  auto again = Call("PATCH", "/api/v3/orders/" + std::to_string(b) + "/cancel", "");
  EXPECT_EQ(again.first, 409);
  EXPECT_EQ(again.second["code"], "StatusMismatch");
  // A cancelled order leaves its supply and goes in none.
  const int64_t c = ids_[0] == a || ids_[0] == b ? ids_[2] : ids_[0];
  auto [created2, supply2] = Call("POST", "/api/v3/supplies", "{}");
  ASSERT_EQ(created2, 201);
  const std::string id2 = supply2["id"];
  EXPECT_EQ(
      Call("PATCH", "/api/marketplace/v3/supplies/" + id2 + "/orders", json{{"orders", {c}}}.dump())
          .first,
      204);
  EXPECT_EQ(Call("PATCH", "/api/v3/orders/" + std::to_string(c) + "/cancel", "").first, 204);
  EXPECT_EQ(Call("PATCH", "/api/v3/supplies/" + id2 + "/deliver", "").second["code"],
            "SupplyHasZeroOrders");
  EXPECT_EQ(
      Call("PATCH", "/api/marketplace/v3/supplies/" + id2 + "/orders", json{{"orders", {b}}}.dump())
          .second["code"],
      "FailedToAddSupplyOrder");
  EXPECT_EQ(Call("PATCH", "/api/v3/supplies/WB-GI-1/deliver", "").first, 404);
  EXPECT_EQ(Call("PATCH", "/api/v3/orders/99/cancel", "").first, 404);
}

TEST_F(WbCommandsTest, ShipsInOneSupplyPerWarehouseAndCancelsPerItem) {
  ASSERT_GE(ids_.size(), 10u);
  std::vector<adapters::Command> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(CommandAttempt("ship", Ship(ids_[i])));
  batch.push_back(CommandAttempt("cancel", {{"order_id", ids_[6]}}));
  batch.push_back(CommandAttempt("cancel", {{"order_id", std::to_string(ids_[7])}}));
  batch.push_back(CommandAttempt("ship", {{"order_id", ids_[8]}}));           // no warehouse
  batch.push_back(CommandAttempt("cancel", {{"order_id", "12345-0001-1"}}));  // not a task id
  const auto out = adapter_->Deliver(batch);
  for (size_t i = 0; i < 8; ++i) EXPECT_TRUE(out[i].ok()) << i << ": " << out[i].error;
  EXPECT_EQ(out[8].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[8].error.find("warehouse_id"), std::string::npos) << out[8].error;
  EXPECT_EQ(out[9].kind, DeliveryOutcome::Kind::kFail);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Status(ids_[i]), "complete/waiting") << i;
  EXPECT_EQ(Status(ids_[6]), "cancel/canceled");
  EXPECT_EQ(Status(ids_[7]), "cancel/canceled");
  EXPECT_EQ(Status(ids_[8]), "new/waiting");
  std::set<int64_t> warehouses;
  for (int i = 0; i < 6; ++i) warehouses.insert(warehouse_[ids_[i]]);
  EXPECT_EQ(Sent("POST", "/api/v3/supplies"), warehouses.size());
  EXPECT_EQ(Sent("PATCH", "/deliver"), warehouses.size());
  EXPECT_EQ(Sent("PATCH", "/cancel"), 2u);
}

// Without room in the orders group for a supply's creation and its first
// add, a ship creates no supply it could not add to (an empty supply WB
// keeps, and another on every retry): it waits, throttled, until both fit.
TEST_F(WbCommandsTest, AShipWithoutRoomForTheAddCreatesNoEmptySupply) {
  ASSERT_GE(ids_.size(), 2u);
  WildberriesConfig config = OptionsFor(*world_.sim);
  // Three tokens, one back every 10 s: a ship takes them all (create, add,
  // deliver).
  config.client.pacing[static_cast<size_t>(Group::kOrders)] = {std::chrono::seconds(10), 3};
  WildberriesAdapter adapter(config, world_.http.get(), world_.clock);
  auto ship = [&](int64_t id) {
    const std::vector<adapters::Command> one = {CommandAttempt("ship", Ship(id))};
    return adapter.Deliver(one).at(0);
  };
  ASSERT_TRUE(ship(ids_[0]).ok());
  EXPECT_EQ(Sent("POST", "/api/v3/supplies"), 1u);
  world_.clock.Advance(std::chrono::seconds(10));  // one token back: room for a create only
  DeliveryOutcome out = ship(ids_[1]);
  ASSERT_EQ(out.kind, DeliveryOutcome::Kind::kRetry) << out.error;
  EXPECT_TRUE(out.throttled) << out.error;
  EXPECT_TRUE(out.not_before.has_value());
  EXPECT_EQ(Sent("POST", "/api/v3/supplies"), 1u) << "no supply to stay empty";
  EXPECT_EQ(Status(ids_[1]), "new/waiting");
  world_.clock.Advance(std::chrono::seconds(20));
  out = ship(ids_[1]);
  EXPECT_TRUE(out.ok()) << out.error;
  EXPECT_EQ(Status(ids_[1]), "complete/waiting");
  EXPECT_EQ(Sent("POST", "/api/v3/supplies"), 2u);
}

TEST_F(WbCommandsTest, AnIllegalTransitionIsADeadLetterWithTheFreshStatus) {
  ASSERT_GE(ids_.size(), 4u);
  // Cancelled, then shipped in a batch with a good order of its warehouse:
  // the supply refuses the pair, then each alone.
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{CommandAttempt("cancel", {{"order_id", ids_[0]}})})[0].ok());
  int64_t good = 0;
  for (int64_t id : ids_) {
    if (id != ids_[0] && warehouse_[id] == warehouse_[ids_[0]]) good = id;
  }
  ASSERT_NE(good, 0);
  const auto out = adapter_->Deliver(
      std::vector{CommandAttempt("ship", Ship(ids_[0])), CommandAttempt("ship", Ship(good))});
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[0].error.find("HTTP 409: Не удалось закрепить"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("the order is now cancel/canceled"), std::string::npos)
      << out[0].error;
  EXPECT_TRUE(out[1].ok()) << out[1].error;
  EXPECT_EQ(Status(good), "complete/waiting");
  // A cancel of a completed order: StatusChangeNotAllowed, sent once.
  const size_t cancels = Sent("PATCH", "/cancel");
  const auto late = adapter_->Deliver(std::vector{CommandAttempt("cancel", {{"order_id", good}})});
  EXPECT_EQ(late[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(late[0].error.find("the order is now complete/waiting"), std::string::npos)
      << late[0].error;
  EXPECT_EQ(Sent("PATCH", "/cancel"), cancels + 1);
}

TEST_F(WbCommandsTest, ARedeliverySendsNothingTwice) {
  ASSERT_GE(ids_.size(), 2u);
  for (const auto& o :
       adapter_->Deliver(std::vector{CommandAttempt("ship", Ship(ids_[0])),
                                     CommandAttempt("cancel", {{"order_id", ids_[1]}})})) {
    EXPECT_TRUE(o.ok()) << o.error;
  }
  const size_t supplies = Sent("POST", "/api/v3/supplies"), cancels = Sent("PATCH", "/cancel");
  for (const auto& o :
       adapter_->Deliver(std::vector{CommandAttempt("ship", Ship(ids_[0]), 2),
                                     CommandAttempt("cancel", {{"order_id", ids_[1]}}, 2)})) {
    EXPECT_TRUE(o.ok()) << o.error;
  }
  EXPECT_EQ(Sent("POST", "/api/v3/supplies"), supplies);
  EXPECT_EQ(Sent("PATCH", "/cancel"), cancels);
  // An order added to a supply that was never delivered (a crash between
  // the two) is read as confirm and shipped in a new supply.
  auto [created, supply] = Call("POST", "/api/v3/supplies", "{}");
  ASSERT_EQ(created, 201);
  ASSERT_EQ(
      Call("PATCH", "/api/marketplace/v3/supplies/" + supply["id"].get<std::string>() + "/orders",
           json{{"orders", {ids_[2]}}}.dump())
          .first,
      204);
  EXPECT_TRUE(adapter_->Deliver(std::vector{CommandAttempt("ship", Ship(ids_[2]), 2)})[0].ok());
  EXPECT_EQ(Status(ids_[2]), "complete/waiting");
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
