// The seller's order status writes: the simulator's status machine on its
// own (a table), its updateOrderStatuses route, and the adapter's ship,
// cancel and set_status commands against it over loopback HTTP: per-order
// outcomes, an illegal transition dead-lettered with Market's words and
// the order's fresh status, a redelivery that sends nothing twice, faults.

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <span>

#include <nlohmann/json.hpp>

#include "tests/adapters/yandex_market/ym_test_support.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;
using testing::MakeAdapter;
using testing::MakeCommand;

const std::regex kStatusUpdate(R"(/v2/campaigns/\d+/orders/status-update)");

TEST(YandexMarketSimStatusMachine, OnlyTheDocumentedSellerTransitions) {
  struct Case {
    const char* from_status;
    const char* from_substatus;
    const char* to_status;
    const char* to_substatus;
    bool allowed;
  };
  const Case cases[] = {
      {"PROCESSING", "STARTED", "PROCESSING", "READY_TO_SHIP", true},
      {"PROCESSING", "STARTED", "CANCELLED", "SHOP_FAILED", true},
      {"PROCESSING", "READY_TO_SHIP", "CANCELLED", "SHOP_FAILED", true},
      // Not a step the spec documents for a seller.
      {"PROCESSING", "READY_TO_SHIP", "PROCESSING", "READY_TO_SHIP", false},
      {"PROCESSING", "READY_TO_SHIP", "PROCESSING", "STARTED", false},
      {"PROCESSING", "STARTED", "PROCESSING", "", false},
      {"PROCESSING", "STARTED", "CANCELLED", "", false},
      {"PROCESSING", "STARTED", "CANCELLED", "USER_CHANGED_MIND", false},
      {"PROCESSING", "STARTED", "CANCELLED", "USER_UNREACHABLE", false},  // no calls made
      {"PROCESSING", "STARTED", "DELIVERY", "DELIVERY_SERVICE_RECEIVED", false},
      {"PROCESSING", "STARTED", "DELIVERED", "", false},
      {"CANCELLED", "SHOP_FAILED", "PROCESSING", "READY_TO_SHIP", false},
      {"CANCELLED", "USER_CHANGED_MIND", "CANCELLED", "SHOP_FAILED", false},
      {"DELIVERY", "DELIVERY_SERVICE_RECEIVED", "CANCELLED", "SHOP_FAILED", false},
      {"DELIVERED", "DELIVERY_SERVICE_DELIVERED", "PROCESSING", "READY_TO_SHIP", false},
      {"UNPAID", "", "PROCESSING", "READY_TO_SHIP", false},
      // LaaS drafts: confirmed with PROCESSING/STARTED, or cancelled.
      {"RESERVED", "", "PROCESSING", "STARTED", true},
      {"RESERVED", "", "CANCELLED", "SHOP_FAILED", true},
      {"RESERVED", "", "PROCESSING", "READY_TO_SHIP", false},
      {"PROCESSING", "READY_TO_SHIP", "PROCESSING", "STARTED", false},
  };
  for (const Case& c : cases) {
    const std::string refusal = SellerTransitionRefusal(7, {{}, c.from_status, c.from_substatus},
                                                        c.to_status, c.to_substatus);
    EXPECT_EQ(refusal.empty(), c.allowed)
        << c.from_status << "/" << c.from_substatus << " -> " << c.to_status << "/"
        << c.to_substatus << ": " << refusal;
    if (!c.allowed) {
      EXPECT_NE(refusal.find("Order 7"), std::string::npos) << refusal;
    }
  }
}

// set_status takes the pairs the spec documents a seller sending, and
// nothing else: every OrderStatusType against the PROCESSING substatuses,
// the CANCELLED reasons, a DBS delivery substatus and none.
TEST(YandexMarketSellerPairs, OnlyTheDocumentedPairsPassAndTheErrorListsThem) {
  const std::set<std::pair<std::string, std::string>> allowed = {{"PROCESSING", "READY_TO_SHIP"},
                                                                 {"PROCESSING", "STARTED"},
                                                                 {"CANCELLED", "SHOP_FAILED"},
                                                                 {"CANCELLED", "USER_UNREACHABLE"}};
  const char* statuses[] = {
      "PLACING",   "RESERVED",  "UNPAID",  "PROCESSING",         "DELIVERY", "PICKUP",
      "DELIVERED", "CANCELLED", "PENDING", "PARTIALLY_RETURNED", "RETURNED", "UNKNOWN"};
  const char* substatuses[] = {"",
                               "STARTED",
                               "READY_TO_SHIP",
                               "SHIPPED",
                               "SHOP_FAILED",
                               "USER_UNREACHABLE",
                               "USER_CHANGED_MIND",
                               "USER_REFUSED_DELIVERY",
                               "RESERVATION_EXPIRED",
                               "DELIVERY_SERVICE_DELIVERED",
                               "DELIVERY_SERVICE_RECEIVED"};
  int passed = 0;
  for (const char* status : statuses) {
    for (const char* substatus : substatuses) {
      const Status s = CheckSellerStatusPair(status, substatus);
      EXPECT_EQ(s.ok(), allowed.contains({status, substatus}))
          << status << "/" << substatus << ": " << s.message();
      passed += s.ok();
      if (s.ok()) continue;
      for (const auto& [st, sub] : allowed) {
        EXPECT_NE(s.message().find(st + "/" + sub), std::string::npos) << s.message();
      }
      EXPECT_NE(s.message().find(std::string(status) + "/" + (*substatus ? substatus : "-")),
                std::string::npos)
          << s.message();
    }
  }
  EXPECT_EQ(passed, 4);
}

class YandexMarketStatusTest : public ::testing::Test {
 protected:
  void StartSim(int orders, simkit::FaultSpec faults = {}) {
    so_.orders = orders;
    so_.arrival = std::chrono::seconds(10);
    so_.start = clock_.Now() - std::chrono::minutes(1);
    so_.await_seller = true;
    so_.faults = faults;
    sim_ = std::make_unique<YandexMarketSimulator>(so_, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    config_ = ConfigFor("ym", so_, sim_->base_url());
    adapter_ = MakeAdapter(config_, &http_.client(), clock_);
  }
  std::string StatusOf(int64_t id) const {
    return sim_->OrderStatuses(false).at(std::to_string(id));
  }
  // Requests to updateOrderStatuses the simulator acted on (the handler ran:
  // answered, or held back by a slow or timeout fault), per order id.
  std::map<int64_t, int> Writes() const {
    std::map<int64_t, int> out;
    for (const auto& r : sim_->log().Snapshot()) {
      if (!std::regex_match(r.path, kStatusUpdate)) continue;
      if (r.fault == simkit::Fault::k429 || r.fault == simkit::Fault::k500 ||
          r.fault == simkit::Fault::k503) {
        continue;
      }
      const json body = json::parse(r.body);
      for (const json& o : body["orders"]) ++out[o["id"].get<int64_t>()];
    }
    return out;
  }
  size_t StatusRequests() const {
    size_t n = 0;
    for (const auto& r : sim_->log().Snapshot()) n += std::regex_match(r.path, kStatusUpdate);
    return n;
  }

  ManualClock clock_;
  ClientThread http_;
  YandexMarketSimOptions so_;
  std::unique_ptr<YandexMarketSimulator> sim_;
  YandexMarketConfig config_;
  std::unique_ptr<YandexMarketAdapter> adapter_;
};

TEST_F(YandexMarketStatusTest, ShipAndCancelMoveTheOrdersAndARedeliverySendsNothing) {
  StartSim(80);
  std::vector<adapters::Command> batch;
  for (int i = 0; i < 70; ++i) {
    batch.push_back(MakeCommand("ship", {{"order_id", 70000000 + i}}));
  }
  batch.push_back(MakeCommand("cancel", {{"order_id", "70000070"}}));
  batch.push_back(MakeCommand("cancel", {{"order_id", 70000071}, {"reason", "SHOP_FAILED"}}));
  batch.push_back(MakeCommand(
      "set_status",
      {{"order_id", 70000072}, {"status", "PROCESSING"}, {"substatus", "READY_TO_SHIP"}}));
  auto outcomes = adapter_->Deliver(batch);
  for (const auto& o : outcomes) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(StatusOf(70000000), "PROCESSING/READY_TO_SHIP");
  EXPECT_EQ(StatusOf(70000069), "PROCESSING/READY_TO_SHIP");
  EXPECT_EQ(StatusOf(70000070), "CANCELLED/SHOP_FAILED");
  EXPECT_EQ(StatusOf(70000071), "CANCELLED/SHOP_FAILED");
  EXPECT_EQ(StatusOf(70000072), "PROCESSING/READY_TO_SHIP");
  EXPECT_EQ(StatusOf(70000073), "PROCESSING/STARTED");
  EXPECT_EQ(StatusRequests(), 3u) << "73 orders, 30 a request";
  size_t reads = 0;
  for (const auto& r : sim_->log().Snapshot())
    reads += r.method == "POST" && r.path.find("/orders") != std::string::npos &&
             !std::regex_match(r.path, kStatusUpdate);
  EXPECT_EQ(reads, 0u) << "a first attempt is sent without reading";
  // The same commands again (a lost answer, a restart): read, nothing sent.
  for (auto& c : batch) c.attempt = 2;
  for (const auto& o : adapter_->Deliver(batch)) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(StatusRequests(), 3u);
  for (const auto& [id, n] : Writes()) EXPECT_EQ(n, 1) << id;
  std::string violations;
  for (const auto& v : testing::ProseViolations(sim_->log().Snapshot())) violations += v + "\n";
  EXPECT_TRUE(violations.empty()) << violations;
}

// getBusinessOrders' budget (6 at once, then 10,000 an hour) reads 300
// orders: a redelivered batch of 400 moves those and retries the rest when
// the budget allows, instead of failing whole forever.
TEST_F(YandexMarketStatusTest, ABatchLargerThanTheReadBudgetMovesByWhatItCouldRead) {
  StartSim(400);
  std::vector<adapters::Command> batch;
  for (int i = 0; i < 400; ++i) {
    batch.push_back(MakeCommand("ship", {{"order_id", 70000000 + i}}));
    batch.back().attempt = 2;  // a redelivery: its orders are read first
  }
  auto outcomes = adapter_->Deliver(batch);
  int ok = 0, later = 0;
  std::optional<SystemTime> not_before;
  for (const auto& o : outcomes) {
    ok += o.ok();
    if (o.kind == DeliveryOutcome::Kind::kRetry) {
      ++later;
      not_before = o.not_before;
    }
  }
  EXPECT_EQ(ok, 300);
  EXPECT_EQ(later, 100);
  ASSERT_TRUE(not_before.has_value()) << "throttled: retried when the budget allows";
  std::vector<adapters::Command> rest;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].ok()) rest.push_back(batch[i]);
  }
  clock_.Advance(std::chrono::duration_cast<Duration>(*not_before - clock_.Now()) +
                 std::chrono::seconds(1));
  for (const auto& o : adapter_->Deliver(rest)) EXPECT_TRUE(o.ok()) << o.error;
  for (const auto& [id, n] : Writes()) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(Writes().size(), 400u);
}

TEST_F(YandexMarketStatusTest, AnIllegalTransitionFailsWithMarketsWordsAndTheFreshStatus) {
  StartSim(10);
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{MakeCommand("cancel", {{"order_id", 70000001}})})[0].ok());
  // Ship a cancelled order, beside one that can be shipped: each answered.
  auto outcomes = adapter_->Deliver(std::vector{MakeCommand("ship", {{"order_id", 70000001}}),
                                                MakeCommand("ship", {{"order_id", 70000002}})});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(outcomes[0].error.find("cannot be changed to PROCESSING/READY_TO_SHIP"),
            std::string::npos)
      << outcomes[0].error;
  EXPECT_NE(outcomes[0].error.find("the order is now CANCELLED/SHOP_FAILED"), std::string::npos)
      << outcomes[0].error;
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].error;
  EXPECT_EQ(StatusOf(70000001), "CANCELLED/SHOP_FAILED");
  // A cancel reason Market does not let this seller use: its refusal, once.
  const size_t before = StatusRequests();
  auto unreachable = adapter_->Deliver(
      std::vector{MakeCommand("cancel", {{"order_id", 70000003}, {"reason", "USER_UNREACHABLE"}})});
  EXPECT_EQ(unreachable[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(unreachable[0].error.find("USER_UNREACHABLE"), std::string::npos);
  EXPECT_NE(unreachable[0].error.find("now PROCESSING/STARTED"), std::string::npos)
      << unreachable[0].error;
  EXPECT_EQ(StatusRequests(), before + 1);
}

TEST_F(YandexMarketStatusTest, AnOrderAlreadyWhereTheCommandWantsItIsOkWithoutAWrite) {
  StartSim(10);
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{MakeCommand("cancel", {{"order_id", 70000004}})})[0].ok());
  // Cancelled meanwhile (by another command, by the buyer): a cancel is
  // answered Ok; a ship after a ship too.
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{MakeCommand("ship", {{"order_id", 70000005}})})[0].ok());
  // A first attempt is sent: Market refuses, the re-read finds the order
  // there, Ok.
  auto batch =
      std::vector{MakeCommand("cancel", {{"order_id", 70000004}, {"reason", "USER_CHANGED_MIND"}}),
                  MakeCommand("ship", {{"order_id", 70000005}})};
  size_t before = StatusRequests();
  for (const auto& o : adapter_->Deliver(batch)) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(StatusRequests(), before + 1);
  // A redelivery reads first and sends nothing.
  for (auto& c : batch) c.attempt = 2;
  before = StatusRequests();
  for (const auto& o : adapter_->Deliver(batch)) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(StatusRequests(), before);
}

TEST_F(YandexMarketStatusTest, ItemsThatAreNotCommandsFailLocallyAndNothingIsSent) {
  StartSim(5);
  const std::vector<json> bad = {
      json::object(),         {{"order_id", 0}},   {{"order_id", -3}},
      {{"order_id", "YM-1"}}, {{"order_id", 1.5}},
  };
  std::vector<adapters::Command> batch;
  for (const json& item : bad) batch.push_back(MakeCommand("ship", item));
  batch.push_back(MakeCommand("cancel", {{"order_id", 70000001}, {"reason", "STARTED"}}));
  batch.push_back(MakeCommand("cancel", {{"order_id", 70000001}, {"reason", 5}}));
  batch.push_back(MakeCommand("set_status", {{"order_id", 70000001}, {"status", "SHIPPED"}}));
  batch.push_back(MakeCommand(
      "set_status", {{"order_id", 70000001}, {"status", "PROCESSING"}, {"substatus", "NOPE"}}));
  batch.push_back(MakeCommand("set_status", {{"order_id", 70000001}}));
  batch.push_back(MakeCommand(  // an enum pair the spec does not document for a seller
      "set_status", {{"order_id", 70000001}, {"status", "DELIVERED"}, {"substatus", ""}}));
  batch.push_back(MakeCommand(
      "set_status",
      {{"order_id", 70000001}, {"status", "CANCELLED"}, {"substatus", "USER_CHANGED_MIND"}}));
  auto outcomes = adapter_->Deliver(batch);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    EXPECT_EQ(outcomes[i].kind, DeliveryOutcome::Kind::kFail) << i;
    EXPECT_EQ(outcomes[i].error.rfind("yandex-market: ", 0), 0u) << outcomes[i].error;
  }
  EXPECT_NE(outcomes.back().error.find("it documents: PROCESSING/READY_TO_SHIP"), std::string::npos)
      << outcomes.back().error;
  EXPECT_EQ(sim_->log().size(), 0u) << sim_->log().ToJson();
}

// 20% faults, some of them after Market acted (timeouts, slow answers):
// redelivered until settled, every order ends as commanded and was written
// once.
TEST_F(YandexMarketStatusTest, ThroughFaultsEveryOrderIsWrittenOnce) {
  auto faults = simkit::ParseFaultSpec("500=0.07,503=0.05,timeout=0.03,malformed=0.03,slow=0.02");
  ASSERT_TRUE(faults.ok());
  faults->slow_delay = std::chrono::milliseconds(20);
  faults->timeout_hold = std::chrono::milliseconds(600);
  StartSim(120, *faults);
  config_.client.timeout = std::chrono::milliseconds(300);
  adapter_ = MakeAdapter(config_, &http_.client(), clock_);
  std::vector<adapters::Command> pending;
  for (int i = 0; i < 120; ++i) {
    pending.push_back(MakeCommand(i % 10 == 0 ? "cancel" : "ship", {{"order_id", 70000000 + i}}));
  }
  for (int round = 0; !pending.empty(); ++round) {
    ASSERT_LT(round, 60) << "does not settle";
    std::vector<adapters::Command> again;
    // Batches of 5, as a queue with more workers would hand them.
    for (size_t from = 0; from < pending.size(); from += 5) {
      const std::span<const adapters::Command> batch(
          pending.begin() + from, pending.begin() + std::min(pending.size(), from + 5));
      // Time passes between deliveries: getBusinessOrders' budget (10,000
      // an hour, 6 at once) refills.
      clock_.Advance(std::chrono::seconds(3));
      auto outcomes = adapter_->Deliver(batch);
      for (size_t i = 0; i < outcomes.size(); ++i) {
        ASSERT_NE(outcomes[i].kind, DeliveryOutcome::Kind::kFail) << outcomes[i].error;
        if (!outcomes[i].ok()) {
          again.push_back(batch[i]);
          ++again.back().attempt;
        }
      }
    }
    pending = std::move(again);
  }
  for (int i = 0; i < 120; ++i) {
    EXPECT_EQ(StatusOf(70000000 + i),
              i % 10 == 0 ? "CANCELLED/SHOP_FAILED" : "PROCESSING/READY_TO_SHIP");
  }
  const auto writes = Writes();
  EXPECT_EQ(writes.size(), 120u);
  // Faults hit the writes, some after Market had acted.
  int acted_unseen = 0, refused = 0;
  for (const auto& r : sim_->log().Snapshot()) {
    if (!std::regex_match(r.path, kStatusUpdate)) continue;
    acted_unseen += r.fault == simkit::Fault::kTimeout || r.fault == simkit::Fault::kMalformed;
    refused += r.fault == simkit::Fault::k500 || r.fault == simkit::Fault::k503;
  }
  EXPECT_GT(acted_unseen, 0);
  EXPECT_GT(refused, 0);
  for (const auto& [id, n] : writes) EXPECT_EQ(n, 1) << id;
}

TEST(YandexMarketSimStatusRoute, TheSchemaIsA400AndEachOrderIsAnsweredOnItsOwn) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 3;
  so.start = clock.Now() - std::chrono::minutes(1);
  so.arrival = std::chrono::seconds(1);
  so.await_seller = true;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto post = [&](const json& body) {
    net::OutboundRequest r;
    r.method = "POST";
    r.url = sim.base_url() + "/v2/campaigns/" + std::to_string(so.campaign_id()) +
            "/orders/status-update";
    r.headers.Set("Api-Key", so.api_key());
    r.headers.Set("Content-Type", "application/json");
    r.body = body.dump();
    auto answer = http.client().SendBlocking(r);
    EXPECT_TRUE(answer.ok());
    return std::pair(answer->status, json::parse(answer->body, nullptr, false));
  };
  json many = json::array();
  for (int i = 0; i < 31; ++i) many.push_back({{"id", 70000000}, {"status", "PROCESSING"}});
  EXPECT_EQ(post({{"orders", many}}).first, 400);
  EXPECT_EQ(post({{"orders", json::array()}}).first, 400);
  EXPECT_EQ(post({{"orders", {{{"id", 70000000}, {"status", "SHIPPED"}}}}}).first, 400);
  EXPECT_EQ(post({{"orders", {{{"id", "x"}, {"status", "PROCESSING"}}}}}).first, 400);
  auto [status, body] =
      post({{"orders",
             {{{"id", 70000000}, {"status", "PROCESSING"}, {"substatus", "READY_TO_SHIP"}},
              {{"id", 70000001}, {"status", "DELIVERED"}},
              {{"id", 79999999}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}}}}});
  ASSERT_EQ(status, 200) << body.dump();
  const json& orders = body["result"]["orders"];
  ASSERT_EQ(orders.size(), 3u) << body.dump();
  EXPECT_EQ(orders[0]["updateStatus"], "OK");
  EXPECT_EQ(orders[0]["substatus"], "READY_TO_SHIP");
  EXPECT_EQ(orders[1]["updateStatus"], "ERROR");
  EXPECT_EQ(orders[1]["status"], "PROCESSING");
  EXPECT_NE(orders[1]["errorDetails"].get<std::string>().find("cannot be changed"),
            std::string::npos);
  EXPECT_EQ(orders[2]["updateStatus"], "ERROR");
  EXPECT_EQ(sim.OrderStatuses(false).at("70000000"), "PROCESSING/READY_TO_SHIP");
  EXPECT_EQ(sim.OrderStatuses(false).at("70000001"), "PROCESSING/STARTED");
  // USER_UNREACHABLE without the calls it needs: «Вернется ответ с кодом
  // ошибки 400», for the request: nothing of it applied.
  auto [unreachable, refusal] =
      post({{"orders",
             {{{"id", 70000002}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}},
              {{"id", 70000001}, {"status", "CANCELLED"}, {"substatus", "USER_UNREACHABLE"}}}}});
  EXPECT_EQ(unreachable, 400) << refusal.dump();
  EXPECT_NE(refusal.dump().find("USER_UNREACHABLE"), std::string::npos) << refusal.dump();
  EXPECT_EQ(sim.OrderStatuses(false).at("70000002"), "PROCESSING/STARTED");
  EXPECT_EQ(sim.OrderStatuses(false).at("70000001"), "PROCESSING/STARTED");
  // An undocumented seller step (a DBS delivery status): the order's ERROR.
  auto [later, answer] =
      post({{"orders", {{{"id", 70000001}, {"status", "DELIVERY"}, {"substatus", "SHIPPED"}}}}});
  ASSERT_EQ(later, 200) << answer.dump();
  EXPECT_EQ(answer["result"]["orders"][0]["updateStatus"], "ERROR");
  EXPECT_EQ(sim.OrderStatuses(false).at("70000001"), "PROCESSING/STARTED");
}

// A request refused as a whole (a 400 naming no order) is sent again an
// order at a time, so each refusal is the order's own; what a fresh read
// finds there meanwhile is Ok.
TEST(YandexMarketStatusFallback, ARequestRefusedAsAWholeIsSentAnOrderAtATime) {
  ManualClock clock;
  std::vector<json> writes;
  auto transport = [&](std::string_view, net::OutboundRequest request) -> net::OutboundResult {
    net::OutboundResponse r;
    r.headers.Set("Content-Type", "application/json");
    if (request.url.find("/orders/status-update") != std::string::npos) {
      const json body = json::parse(request.body);
      writes.push_back(body);
      if (body["orders"].size() > 1) {
        r.status = 400;
        r.body = R"({"status":"ERROR","errors":[{"code":"BAD_REQUEST","message":"bad"}]})";
      } else if (body["orders"][0]["id"] == 2) {
        r.status = 400;
        r.body = R"({"status":"ERROR","errors":[{"code":"BAD_REQUEST","message":"no, 2"}]})";
      } else {
        r.status = 200;
        r.body = json{{"status", "OK"},
                      {"result",
                       {{"orders",
                         {{{"id", body["orders"][0]["id"]},
                           {"status", "PROCESSING"},
                           {"substatus", "READY_TO_SHIP"},
                           {"updateStatus", "OK"}}}}}}}
                     .dump();
      }
      return r;
    }
    // getBusinessOrders: every order asked for, at STARTED.
    json orders = json::array();
    const json asked = json::parse(request.body);
    for (const json& id : asked["orderIds"]) {
      orders.push_back({{"orderId", id}, {"status", "PROCESSING"}, {"substatus", "STARTED"}});
    }
    r.status = 200;
    r.body = json{{"orders", orders}, {"paging", json::object()}}.dump();
    return r;
  };
  YandexMarketConfig c;
  c.id = "ym";
  c.client.base_url = "http://market.test";
  c.client.campaign_id = 1;
  c.client.business_id = 2;
  YandexMarketAdapter adapter(c, transport, clock);
  auto outcomes = adapter.Deliver(std::vector{MakeCommand("ship", {{"order_id", 1}}),
                                              MakeCommand("ship", {{"order_id", 2}}),
                                              MakeCommand("ship", {{"order_id", 3}})});
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].error;
  EXPECT_EQ(outcomes[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(outcomes[1].error.find("no, 2"), std::string::npos) << outcomes[1].error;
  EXPECT_NE(outcomes[1].error.find("now PROCESSING/STARTED"), std::string::npos)
      << outcomes[1].error;
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2].error;
  EXPECT_EQ(writes.size(), 4u) << "the whole, then each of the three";
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
