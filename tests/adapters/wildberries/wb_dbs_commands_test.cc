// DBS status writes (05-orders-dbs.yaml): the simulator's status machine,
// the mapping of commands (set_status, ship, cancel with delivery_type
// "dbs") to WB's calls, and the kit's rules (read first on a redelivery,
// re-read after a refusal, RefusedTransition) against the simulator over
// loopback HTTP.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/adapters/wildberries/wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;

TEST(WbSimDbsStatusMachine, OnlyTheTablesOrder) {
  EXPECT_EQ(DbsWriteRefusal("confirm", "new", "waiting"), "");
  EXPECT_EQ(DbsWriteRefusal("deliver", "confirm", "waiting"), "");
  EXPECT_EQ(DbsWriteRefusal("receive", "deliver", "waiting"), "");
  EXPECT_EQ(DbsWriteRefusal("reject", "deliver", "waiting"), "");
  EXPECT_EQ(DbsWriteRefusal("cancel", "new", "waiting"), "");
  EXPECT_EQ(DbsWriteRefusal("cancel", "confirm", "waiting"), "");
  // Skipped steps and steps back.
  EXPECT_EQ(DbsWriteRefusal("deliver", "new", "waiting"), "StatusMismatch");
  EXPECT_EQ(DbsWriteRefusal("receive", "confirm", "waiting"), "StatusMismatch");
  EXPECT_EQ(DbsWriteRefusal("confirm", "deliver", "waiting"), "StatusMismatch");
  EXPECT_EQ(DbsWriteRefusal("cancel", "deliver", "waiting"), "StatusMismatch");
  // Ended orders take nothing.
  EXPECT_EQ(DbsWriteRefusal("receive", "cancel", "canceled"), "StatusMismatch");
  EXPECT_EQ(DbsWriteRefusal("confirm", "new", "declined_by_client"), "StatusMismatch");
  EXPECT_EQ(DbsWriteRefusal("reject", "receive", "sold"), "StatusMismatch");
}

TEST(WbDbsCommandMapping, WhatEachCommandWantsAndWhichItemsAreDbs) {
  // The order is where the command wants it.
  EXPECT_TRUE(DbsReached("confirm", "confirm/waiting"));
  EXPECT_TRUE(DbsReached("confirm", "deliver/waiting"));  // past it
  EXPECT_FALSE(DbsReached("confirm", "new/waiting"));
  EXPECT_FALSE(DbsReached("confirm", "cancel/canceled"));
  EXPECT_TRUE(DbsReached("ship", "deliver/waiting"));
  EXPECT_TRUE(DbsReached("deliver", "receive/sold"));
  EXPECT_FALSE(DbsReached("ship", "confirm/waiting"));
  EXPECT_TRUE(DbsReached("receive", "receive/sold"));
  EXPECT_FALSE(DbsReached("receive", "reject/canceled_by_client"));
  EXPECT_TRUE(DbsReached("reject", "reject/canceled_by_client"));
  EXPECT_TRUE(DbsReached("cancel", "cancel/canceled"));
  EXPECT_FALSE(DbsReached("cancel", "cancel_missed_call/canceled_by_missed_call"));
  // The scheme of an item.
  EXPECT_EQ(CommandScheme(json::object()), Scheme::kFbs);
  EXPECT_EQ(CommandScheme({{"delivery_type", "fbs"}}), Scheme::kFbs);
  EXPECT_EQ(CommandScheme({{"delivery_type", "dbs"}}), Scheme::kDbs);
  EXPECT_EQ(CommandScheme({{"delivery_type", "edbs"}}), Scheme::kDbs);
  EXPECT_EQ(CommandScheme({{"delivery_type", "fbo"}}), std::nullopt);
  EXPECT_EQ(CommandScheme({{"delivery_type", 1}}), std::nullopt);
}

WildberriesSimOptions SimOptions() {
  WildberriesSimOptions o;
  o.orders = 0;
  o.dbs_orders = 20;
  o.products = 50;
  o.await_seller = true;
  o.arrival = std::chrono::seconds(10);
  o.lifetime = std::chrono::seconds(30);
  return o;
}

class WbDbsCommandsTest : public ::testing::Test {
 protected:
  WbDbsCommandsTest() : world_(SimOptions()) {
    world_.clock.Advance(std::chrono::minutes(1));
    WildberriesConfig config = OptionsFor(*world_.sim);
    config.client.pacing[static_cast<size_t>(Group::kDbs)] = {std::chrono::milliseconds(1), 100};
    config.client.dbs_status_pacing = {std::chrono::milliseconds(1), 100};
    adapter_ = std::make_unique<WildberriesAdapter>(config, world_.http.get(), world_.clock);
    for (int i = 0; i < 20; ++i) ids_.push_back(20'000'000 + i);
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
  std::pair<int, json> Write(int64_t id, const std::string& write, const std::string& body = "") {
    return Call("PATCH", "/api/v3/dbs/orders/" + std::to_string(id) + "/" + write, body);
  }
  std::string Status(int64_t id) { return world_.sim->OrderStatuses(false).at(std::to_string(id)); }
  // The PATCHes sent, "<id>/<write>" in order.
  std::vector<std::string> Patches() {
    std::vector<std::string> out;
    for (const auto& r : world_.sim->log().Snapshot()) {
      if (r.method == "PATCH")
        out.push_back(r.path.substr(std::string("/api/v3/dbs/orders/").size()));
    }
    return out;
  }
  size_t StatusReads() {
    const auto log = world_.sim->log().Snapshot();
    return std::count_if(log.begin(), log.end(), [](const simkit::LoggedRequest& r) {
      return r.path == "/api/v3/dbs/orders/status";
    });
  }
  static json Set(int64_t id, const std::string& status) {
    json item = {{"order_id", id}, {"status", status}};
    if (status == "receive" || status == "reject")
      item["code"] = WildberriesSimulator::BuyerCode(id);
    return item;
  }

  World world_;
  std::unique_ptr<WildberriesAdapter> adapter_;
  std::vector<int64_t> ids_;
};

TEST_F(WbDbsCommandsTest, TheSimulatorMovesOrdersOnlyAsTheSpecDocuments) {
  const int64_t a = ids_[0], b = ids_[1];
  EXPECT_EQ(Status(a), "new/waiting");  // await_seller
  // Deliver before confirm: 409 StatusMismatch, nothing moves.
  auto early = Write(a, "deliver");
  EXPECT_EQ(early.first, 409);
  EXPECT_EQ(early.second["code"], "StatusMismatch");
  EXPECT_EQ(Status(a), "new/waiting");
  EXPECT_EQ(Write(a, "confirm").first, 204);
  EXPECT_EQ(Status(a), "confirm/waiting");
  EXPECT_EQ(Write(a, "confirm").second["code"], "StatusMismatch");  // once
  EXPECT_EQ(Write(a, "deliver").first, 204);
  EXPECT_EQ(Status(a), "deliver/waiting");
  EXPECT_EQ(Write(a, "cancel").second["code"], "StatusMismatch");  // in delivery
  // receive and reject take the buyer's code: no body 400, a wrong code 409.
  EXPECT_EQ(Write(a, "receive").first, 400);
  auto wrong = Write(a, "receive", R"({"code":"000000x"})");
  EXPECT_EQ(wrong.first, 409);
  EXPECT_EQ(wrong.second["code"], "InvalidWBCode");
  // «Один запрос с кодом ответа 409 учитывается как 33 запроса»: past the
  // burst of 20 until the bucket refills.
  const std::string code = json{{"code", WildberriesSimulator::BuyerCode(a)}}.dump();
  EXPECT_EQ(Write(a, "receive", code).first, 429);
  world_.clock.Advance(std::chrono::seconds(20));
  EXPECT_EQ(Write(a, "receive", code).first, 204);
  EXPECT_EQ(Status(a), "receive/sold");
  EXPECT_EQ(
      Write(a, "reject", json{{"code", WildberriesSimulator::BuyerCode(a)}}.dump()).second["code"],
      "StatusMismatch");
  // A cancelled order takes nothing more.
  EXPECT_EQ(Write(b, "cancel").first, 204);
  EXPECT_EQ(Status(b), "cancel/canceled");
  EXPECT_EQ(
      Write(b, "receive", json{{"code", WildberriesSimulator::BuyerCode(b)}}.dump()).second["code"],
      "StatusMismatch");
  EXPECT_EQ(Write(99, "confirm").first, 404);
  EXPECT_EQ(Write(ids_[2], "confirm").first, 204);  // the state shows the buyer's code
  const json state = world_.sim->State();
  EXPECT_EQ(state["dbs_orders"][2]["buyerCode"], WildberriesSimulator::BuyerCode(ids_[2]));
}

TEST_F(WbDbsCommandsTest, EachCommandIsItsCallsInTheDocumentedOrder) {
  // One batch: the whole path of one order per command kind.
  const auto first = adapter_->Deliver(std::vector{
      CommandAttempt("set_status", Set(ids_[0], "confirm")),
      CommandAttempt("ship", {{"order_id", ids_[1]}, {"delivery_type", "dbs"}}),
      CommandAttempt("cancel", {{"order_id", ids_[2]}, {"delivery_type", "edbs"}}),
      CommandAttempt("set_status", Set(ids_[3], "cancel")),
  });
  for (size_t i = 0; i < first.size(); ++i) EXPECT_TRUE(first[i].ok()) << i << first[i].error;
  EXPECT_EQ(Status(ids_[0]), "confirm/waiting");
  EXPECT_EQ(Status(ids_[1]), "deliver/waiting");  // ship = confirm + deliver
  EXPECT_EQ(Status(ids_[2]), "cancel/canceled");
  EXPECT_EQ(Status(ids_[3]), "cancel/canceled");
  const std::string a = std::to_string(ids_[0]), b = std::to_string(ids_[1]);
  const std::string c = std::to_string(ids_[2]), d = std::to_string(ids_[3]);
  EXPECT_EQ(Patches(), (std::vector<std::string>{a + "/confirm", b + "/confirm", b + "/deliver",
                                                 c + "/cancel", d + "/cancel"}));
  EXPECT_EQ(StatusReads(), 1u);  // the ship's read, once for the batch
  // Then deliver, receive and reject, each with its code.
  const auto second = adapter_->Deliver(std::vector{
      CommandAttempt("set_status", Set(ids_[0], "deliver")),
      CommandAttempt("set_status", Set(ids_[1], "reject")),
  });
  for (const auto& o : second) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_TRUE(
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[0], "receive"))})[0]
          .ok());
  EXPECT_EQ(Status(ids_[0]), "receive/sold");
  EXPECT_EQ(Status(ids_[1]), "reject/canceled_by_client");
  const auto log = world_.sim->log().Snapshot();
  auto body_of = [&](const std::string& path) {
    for (const auto& r : log) {
      if (r.path == path) return r.body;
    }
    return std::string("(not sent)");
  };
  EXPECT_EQ(json::parse(body_of("/api/v3/dbs/orders/" + a + "/receive")),
            json({{"code", WildberriesSimulator::BuyerCode(ids_[0])}}));
  EXPECT_EQ(body_of("/api/v3/dbs/orders/" + a + "/deliver"), "");
}

TEST_F(WbDbsCommandsTest, BadItemsAreDeadLettersNamingTheRule) {
  const auto out = adapter_->Deliver(std::vector{
      CommandAttempt("set_status", {{"order_id", ids_[0]}, {"status", "complete"}}),
      CommandAttempt("set_status", {{"order_id", ids_[0]}}),
      CommandAttempt("set_status", {{"order_id", ids_[0]}, {"status", "receive"}}),  // no code
      CommandAttempt("set_status",
                     {{"order_id", ids_[0]}, {"status", "confirm"}, {"delivery_type", "fbs"}}),
      CommandAttempt("ship", {{"order_id", ids_[0]}, {"delivery_type", "pickup"}}),
      CommandAttempt("set_status", {{"order_id", "12345-0001-1"}, {"status", "confirm"}}),
  });
  for (const auto& o : out) EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kFail) << o.error;
  EXPECT_NE(out[0].error.find("one of confirm, deliver, receive, reject, cancel"),
            std::string::npos)
      << out[0].error;
  EXPECT_NE(out[0].error.find("\"complete\""), std::string::npos) << out[0].error;
  EXPECT_NE(out[1].error.find("got nothing"), std::string::npos) << out[1].error;
  EXPECT_NE(out[2].error.find("set_status receive needs \"code\""), std::string::npos)
      << out[2].error;
  EXPECT_NE(out[3].error.find("set_status is for DBS orders only"), std::string::npos)
      << out[3].error;
  EXPECT_NE(out[4].error.find("delivery_type must be"), std::string::npos) << out[4].error;
  EXPECT_NE(out[5].error.find("order_id must be the assembly task's id"), std::string::npos)
      << out[5].error;
  EXPECT_TRUE(Patches().empty());
  EXPECT_EQ(Status(ids_[0]), "new/waiting");
}

TEST_F(WbDbsCommandsTest, AnIllegalTransitionIsADeadLetterWithWbsErrorAndTheFreshStatus) {
  // Deliver before confirm.
  const auto early =
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[0], "deliver"))});
  EXPECT_EQ(early[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(early[0].error, "wildberries: set_status deliver order " + std::to_string(ids_[0]) +
                                ": refused: wildberries: PATCH /api/v3/dbs/orders/" +
                                std::to_string(ids_[0]) +
                                "/deliver: HTTP 409: Несоответствие статусов, проверьте их "
                                "правильность; the order is now new/waiting");
  // Receive a cancelled order.
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[1], "cancel"))})[0].ok());
  const auto late =
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[1], "receive"))});
  EXPECT_EQ(late[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(late[0].error.find("the order is now cancel/canceled"), std::string::npos)
      << late[0].error;
  // A wrong code: WB's InvalidWBCode, the order still in delivery.
  ASSERT_TRUE(adapter_
                  ->Deliver(std::vector{
                      CommandAttempt("ship", {{"order_id", ids_[2]}, {"delivery_type", "dbs"}})})[0]
                  .ok());
  world_.clock.Advance(std::chrono::seconds(20));  // the 409 above cost 33 of a burst of 20
  json wrong = Set(ids_[2], "receive");
  wrong["code"] = "not-it";
  const auto bad = adapter_->Deliver(std::vector{CommandAttempt("set_status", wrong)});
  EXPECT_EQ(bad[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(bad[0].error.find("InvalidWBCode"), std::string::npos) << bad[0].error;
  EXPECT_NE(bad[0].error.find("the order is now deliver/waiting"), std::string::npos)
      << bad[0].error;
  // Each refused write was sent once (no retry loop).
  const auto patches = Patches();
  EXPECT_EQ(std::count(patches.begin(), patches.end(), std::to_string(ids_[0]) + "/deliver"), 1);
  EXPECT_EQ(std::count(patches.begin(), patches.end(), std::to_string(ids_[1]) + "/receive"), 1);
}

// The status re-read after a refusal meets our own limit: the command is
// retried (throttled), not dead-lettered without the status nor written
// again; the retry's read dead-letters it with the fresh status.
TEST_F(WbDbsCommandsTest, ARefusalWhoseReReadIsThrottledIsDeadLetteredByTheRetry) {
  WildberriesConfig config = OptionsFor(*world_.sim);
  config.client.pacing[static_cast<size_t>(Group::kDbs)] = {std::chrono::minutes(1), 1};
  config.client.dbs_status_pacing = {std::chrono::milliseconds(1), 100};
  adapter_ = std::make_unique<WildberriesAdapter>(config, world_.http.get(), world_.clock);
  // The one read token goes to the first refusal's re-read.
  const auto first =
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[0], "deliver"))});
  EXPECT_EQ(first[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(first[0].error.find("the order is now new/waiting"), std::string::npos)
      << first[0].error;
  const std::string id = std::to_string(ids_[1]);
  const auto refused =
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[1], "deliver"))});
  EXPECT_EQ(refused[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(refused[0].throttled);
  EXPECT_NE(refused[0].error.find("set_status deliver order " + id + ": refused: "),
            std::string::npos)
      << refused[0].error;
  EXPECT_NE(refused[0].error.find("its status is re-read before the dead letter"),
            std::string::npos)
      << refused[0].error;
  world_.clock.Advance(std::chrono::minutes(1));
  const auto retried =
      adapter_->Deliver(std::vector{CommandAttempt("set_status", Set(ids_[1], "deliver"), 2)});
  EXPECT_EQ(retried[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(retried[0].error.find("HTTP 409: Несоответствие статусов"), std::string::npos)
      << retried[0].error;
  EXPECT_NE(retried[0].error.find("the order is now new/waiting"), std::string::npos)
      << retried[0].error;
  const auto patches = Patches();
  EXPECT_EQ(std::count(patches.begin(), patches.end(), id + "/deliver"), 1);
}

TEST_F(WbDbsCommandsTest, ARedeliverySendsNothingTwice) {
  for (const auto& o : adapter_->Deliver(std::vector{
           CommandAttempt("set_status", Set(ids_[0], "confirm")),
           CommandAttempt("ship", {{"order_id", ids_[1]}, {"delivery_type", "dbs"}}),
           CommandAttempt("cancel", {{"order_id", ids_[2]}, {"delivery_type", "dbs"}})})) {
    EXPECT_TRUE(o.ok()) << o.error;
  }
  const size_t sent = Patches().size();
  for (const auto& o : adapter_->Deliver(std::vector{
           CommandAttempt("set_status", Set(ids_[0], "confirm"), 2),
           CommandAttempt("ship", {{"order_id", ids_[1]}, {"delivery_type", "dbs"}}, 2),
           CommandAttempt("cancel", {{"order_id", ids_[2]}, {"delivery_type", "dbs"}}, 2)})) {
    EXPECT_TRUE(o.ok()) << o.error;
  }
  EXPECT_EQ(Patches().size(), sent);
  // A ship whose confirm passed and whose deliver was lost: the retry reads
  // confirm and sends only the deliver.
  ASSERT_EQ(Write(ids_[3], "confirm").first, 204);
  EXPECT_TRUE(adapter_
                  ->Deliver(std::vector{CommandAttempt(
                      "ship", {{"order_id", ids_[3]}, {"delivery_type", "dbs"}}, 2)})[0]
                  .ok());
  EXPECT_EQ(Status(ids_[3]), "deliver/waiting");
  const auto patches = Patches();
  EXPECT_EQ(std::count(patches.begin(), patches.end(), std::to_string(ids_[3]) + "/confirm"), 1);
  EXPECT_EQ(patches.back(), std::to_string(ids_[3]) + "/deliver");
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
