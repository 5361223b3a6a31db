// create_act: the item and act/list readings (pure), the simulator's acts
// (from the spec: only postings in awaiting_deliver of the method,
// check-status in_process -> ready, the documented errors), the adapter's
// command against it over loopback HTTP (no blocking while the act forms,
// no second act on a redelivery), and the shipped rules' task.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mapping/model/entity.h"
#include "mapping/rules/rule_set.h"
#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

const SystemTime kNow = SystemTime(std::chrono::seconds(1'797'076'800));  // 2026-12-12T12:00:00Z

adapters::Command MakeCommand(const std::string& name, const json& item, int attempt = 1) {
  adapters::Command m;
  m.name = name;
  m.payload = item.dump();
  m.attempt = attempt;
  return m;
}

TEST(OzonActRequest, ReadsTheMethodAndTheDay) {
  auto r = ReadActRequest({{"delivery_method_id", 21321684811000}}, kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->delivery_method_id, 21321684811000);
  EXPECT_EQ(r->departure_date, "");
  EXPECT_EQ(r->day, "2026-12-12");  // today, UTC
  r = ReadActRequest(
      {{"delivery_method_id", "21321684811000"}, {"departure_date", "2026-12-14T10:00:00+03:00"}},
      kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->delivery_method_id, 21321684811000);
  EXPECT_EQ(r->departure_date, "2026-12-14T10:00:00+03:00");  // sent as given
  EXPECT_EQ(r->day, "2026-12-14");
  for (const json& bad :
       {json{{"delivery_method_id", 0}}, json::object(), json{{"delivery_method_id", "x"}},
        json{{"delivery_method_id", 1}, {"departure_date", "tomorrow"}},
        json{{"delivery_method_id", 1}, {"departure_date", "2026-12-14T10:00:00"}},
        json{{"delivery_method_id", 1}, {"departure_date", 20261214}}}) {
    auto read = ReadActRequest(bad, kNow);
    EXPECT_FALSE(read.ok()) << bad.dump();
    EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument) << bad.dump();
  }
}

TEST(OzonActRequest, FindsTheSameActInTheList) {
  const ActRequest today{.delivery_method_id = 7, .departure_date = "", .day = "2026-12-12"};
  const ActRequest monday{
      .delivery_method_id = 7, .departure_date = "2026-12-14T10:00:00Z", .day = "2026-12-14"};
  const ActSummary act{.id = 1,
                       .delivery_method_id = 7,
                       .status = "formed",
                       .departure_date = "2026-12-14T10:00:00Z",
                       .created_at = "2026-12-12T11:00:00.000Z"};
  EXPECT_TRUE(SameAct(act, monday));
  EXPECT_TRUE(SameAct(act, today));  // no departure asked: created today
  ActSummary other = act;
  other.delivery_method_id = 8;
  EXPECT_FALSE(SameAct(other, monday));
  for (const char* dead : {"cancelled", "error"}) {
    other = act;
    other.status = dead;
    EXPECT_FALSE(SameAct(other, monday)) << dead;
  }
  other = act;
  other.departure_date = "2026-12-15T10:00:00Z";
  EXPECT_FALSE(SameAct(other, monday));
  other.created_at = "2026-12-11T23:00:00.000Z";
  EXPECT_FALSE(SameAct(other, today));
}

TEST(OzonActRecord, MapsToATaskWithItsPostingsAndNoOrder) {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/ozon-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const ActRequest r{
      .delivery_method_id = 7, .departure_date = "2026-12-14T10:00:00Z", .day = "2026-12-14"};
  const std::string record = ActRecord(5819327210249, r, {"1-1-1", "2-2-1"}, 1'765'000'000'000);
  mapping::ApplyContext ctx;
  ctx.source = "ozon-main";
  auto entities = rules->ApplyText(record, ctx);
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  ASSERT_EQ(entities->size(), 1u) << record;  // a task, no order or deal
  const model::Entity& task = entities->front();
  EXPECT_EQ(task.kind, model::EntityKind::kTask);
  EXPECT_EQ(task.external_id, "5819327210249");
  EXPECT_EQ(task.version, 1'765'000'000'000);
  EXPECT_EQ(task.fields["title"], "Hand over Ozon act 5819327210249");
  EXPECT_EQ(task.fields["status"], "open");
  EXPECT_EQ(task.fields["due_ms"], 1'797'242'400'000);  // 2026-12-14T10:00:00Z
  EXPECT_EQ(task.fields["extra"]["postings"], json({"1-1-1", "2-2-1"}));
  EXPECT_EQ(task.fields["extra"]["delivery_method_id"], "7");
}

class OzonActsTest : public ::testing::Test {
 protected:
  OzonActsTest() {
    options_.orders = 20;
    options_.products = 20;
    options_.fbo_share = 0;
    options_.await_seller = true;
    options_.arrival = std::chrono::seconds(10);
    options_.lifetime = std::chrono::seconds(30);
    options_.act_forming = std::chrono::seconds(3);
  }
  void Start() {
    sim_ = std::make_unique<OzonSimulator>(options_, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    clock_.Advance(std::chrono::minutes(1));
    OzonConfig config = ConfigFor("ozon-main", options_, sim_->base_url());
    adapter_ = std::make_unique<OzonAdapter>(config, http_.transport(), clock_);
    for (const auto& [number, status] : sim_->OrderStatuses(false)) postings_.push_back(number);
  }
  DeliveryOutcome Deliver(const std::string& name, const json& item, int attempt = 1) {
    const adapters::Command c = MakeCommand(name, item, attempt);
    return adapter_->Deliver(std::span<const adapters::Command>(&c, 1)).front();
  }
  void Ship(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      DeliveryOutcome o = Deliver("ship", {{"order_id", postings_[i]}});
      ASSERT_TRUE(o.ok()) << o.error;
    }
  }
  size_t Sent(const std::string& path) {
    const auto log = sim_->log().Snapshot();
    return std::count_if(log.begin(), log.end(),
                         [&](const simkit::LoggedRequest& r) { return r.path == path; });
  }
  std::pair<int, json> Post(const std::string& path, const json& body) {
    net::OutboundRequest r;
    r.method = "POST";
    r.url = sim_->base_url() + path;
    r.headers.Set("Client-Id", options_.client_id());
    r.headers.Set("Api-Key", options_.api_key());
    r.headers.Set("Content-Type", "application/json");
    r.body = body.dump();
    auto answer = http_.transport()("", std::move(r));
    EXPECT_TRUE(answer.ok());
    if (!answer.ok()) return {0, json()};
    return {answer->status, json::parse(answer->body, nullptr, false)};
  }
  // The kind=act records a command learned.
  static std::vector<json> ActRecords(const DeliveryOutcome& outcome) {
    std::vector<json> out;
    for (const InboundEvent& e : outcome.learned) {
      EXPECT_EQ(e.kind, "act");
      EXPECT_EQ(e.idempotency_key, e.ordering_key);
      if (e.kind == "act") out.push_back(json::parse(e.payload));
    }
    return out;
  }
  std::vector<std::string> Shipped(size_t n) {
    std::vector<std::string> out(postings_.begin(), postings_.begin() + n);
    std::sort(out.begin(), out.end());
    return out;
  }

  ManualClock clock_;
  OzonSimOptions options_;
  ClientThread http_;
  std::unique_ptr<OzonSimulator> sim_;
  std::unique_ptr<OzonAdapter> adapter_;
  std::vector<std::string> postings_;
};

TEST_F(OzonActsTest, TheSimulatorKeepsTheSpecsActRules) {
  Start();
  const json create = {{"delivery_method_id", kSimDeliveryMethodId}};
  // No packed posting: no_postings.
  auto [status, body] = Post("/v2/posting/fbs/act/create", create);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["message"], "no_postings");
  Ship(2);
  EXPECT_EQ(Post("/v2/posting/fbs/act/create", {{"delivery_method_id", 1}}).second["message"],
            "DELIVERY_METHOD_NOT_FOUND");
  EXPECT_EQ(Post("/v2/posting/fbs/act/create", json::object()).first, 400);
  EXPECT_EQ(Post("/v2/posting/fbs/act/create",
                 {{"delivery_method_id", kSimDeliveryMethodId},
                  {"departure_date", OzonTime(clock_.Now() - std::chrono::hours(48))}})
                .second["message"],
            "outdated");
  EXPECT_EQ(Post("/v2/posting/fbs/act/create",
                 {{"delivery_method_id", kSimDeliveryMethodId}, {"containers_count", 1}})
                .second["message"],
            "Trying set ContainersCount to not HasEntrustedAcceptance company");
  EXPECT_TRUE(sim_->Acts().empty());
  auto [created, answer] = Post("/v2/posting/fbs/act/create", create);
  ASSERT_EQ(created, 200) << answer.dump();
  const int64_t id = answer["result"]["id"].get<int64_t>();
  // The act holds the packed postings, still awaiting_deliver (the spec
  // names no status change); a second act has none left to take.
  ASSERT_EQ(sim_->Acts().size(), 1u);
  std::vector<std::string> in_act = sim_->Acts().front().postings;
  std::sort(in_act.begin(), in_act.end());
  EXPECT_EQ(in_act, Shipped(2));
  for (const std::string& p : in_act)
    EXPECT_EQ(sim_->OrderStatuses(false).at(p), "awaiting_deliver");
  EXPECT_EQ(Post("/v2/posting/fbs/act/create", create).second["message"], "no_postings");
  // check-status: in_process, then ready once formed.
  auto check = Post("/v2/posting/fbs/act/check-status", {{"id", id}});
  EXPECT_EQ(check.second["result"]["status"], "in_process");
  EXPECT_EQ(check.second["result"]["added_to_act"].size(), 2u);
  clock_.Advance(options_.act_forming);
  check = Post("/v2/posting/fbs/act/check-status", {{"id", id}});
  EXPECT_EQ(check.second["result"]["status"], "ready");
  EXPECT_EQ(Post("/v2/posting/fbs/act/check-status", {{"id", id + 1}}).first, 404);
  // get-postings and list.
  auto postings = Post("/v2/posting/fbs/act/get-postings", {{"id", id}});
  ASSERT_EQ(postings.first, 200);
  EXPECT_EQ(postings.second["result"].size(), 2u);
  EXPECT_EQ(postings.second["result"][0]["status"], "awaiting_deliver");
  const std::string today = OzonTime(clock_.Now()).substr(0, 10);
  auto list = Post("/v2/posting/fbs/act/list",
                   {{"filter", {{"date_from", today}, {"date_to", today}}}, {"limit", 10}});
  ASSERT_EQ(list.first, 200);
  ASSERT_EQ(list.second["result"].size(), 1u);
  EXPECT_EQ(list.second["result"][0]["id"], id);
  EXPECT_EQ(list.second["result"][0]["status"], "formed");
  EXPECT_EQ(list.second["result"][0]["delivery_method_id"], kSimDeliveryMethodId);
  EXPECT_EQ(Post("/v2/posting/fbs/act/list", {{"limit", 10}}).first, 400);  // filter required
  EXPECT_EQ(
      Post("/v2/posting/fbs/act/list",
           {{"filter", {{"date_from", "2020-01-01"}, {"date_to", "2020-01-02"}}}, {"limit", 10}})
          .second["result"]
          .size(),
      0u);
}

TEST_F(OzonActsTest, CreatesOneActWithoutBlockingAndRecordsItsPostings) {
  Start();
  Ship(3);
  const json item = {{"delivery_method_id", kSimDeliveryMethodId}};
  // Forming: three polls, then a retry a few seconds on; nothing slept.
  const SystemTime before = clock_.Now();
  DeliveryOutcome first = Deliver("create_act", item);
  EXPECT_EQ(first.kind, DeliveryOutcome::Kind::kRetry) << first.error;
  ASSERT_TRUE(first.not_before.has_value());
  EXPECT_EQ(*first.not_before, before + kActRecheck);
  EXPECT_EQ(Sent("/v2/posting/fbs/act/create"), 1u);
  EXPECT_EQ(Sent("/v2/posting/fbs/act/check-status"), static_cast<size_t>(kActStatusPolls));
  EXPECT_TRUE(ActRecords(first).empty());
  // The retry finds the act in act/list and creates no second one.
  clock_.Advance(kActRecheck);
  DeliveryOutcome second = Deliver("create_act", item, 2);
  EXPECT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(Sent("/v2/posting/fbs/act/list"), 1u);
  EXPECT_EQ(Sent("/v2/posting/fbs/act/create"), 1u);
  ASSERT_EQ(sim_->Acts().size(), 1u);
  std::vector<std::string> in_act = sim_->Acts().front().postings;
  std::sort(in_act.begin(), in_act.end());
  EXPECT_EQ(in_act, Shipped(3));
  // Its postings come back as the command's learned record.
  const std::vector<json> records = ActRecords(second);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["act_id"], sim_->Acts().front().id);
  std::vector<std::string> recorded = records[0]["postings"].get<std::vector<std::string>>();
  std::sort(recorded.begin(), recorded.end());
  EXPECT_EQ(recorded, Shipped(3));
}

TEST_F(OzonActsTest, ALostAnswerIsRedeliveredWithoutASecondAct) {
  options_.lost_act_answers = 1;
  options_.act_forming = std::chrono::milliseconds(0);
  Start();
  Ship(2);
  const json item = {{"delivery_method_id", kSimDeliveryMethodId}};
  DeliveryOutcome first = Deliver("create_act", item);
  EXPECT_EQ(first.kind, DeliveryOutcome::Kind::kRetry) << first.error;  // a 503
  ASSERT_EQ(sim_->Acts().size(), 1u);                                   // but it acted
  DeliveryOutcome again = Deliver("create_act", item, 2);
  EXPECT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(sim_->Acts().size(), 1u);
  EXPECT_EQ(Sent("/v2/posting/fbs/act/create"), 1u);
  EXPECT_TRUE(ActRecords(first).empty());
  ASSERT_EQ(ActRecords(again).size(), 1u);
}

TEST_F(OzonActsTest, RefusalsAndBadItemsAreDeadLetters) {
  Start();
  // Nothing packed: Ozon's no_postings, not a retry.
  DeliveryOutcome none = Deliver("create_act", {{"delivery_method_id", kSimDeliveryMethodId}});
  EXPECT_EQ(none.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(none.error.find("refused"), std::string::npos) << none.error;
  EXPECT_NE(none.error.find("no_postings"), std::string::npos) << none.error;
  Ship(1);
  DeliveryOutcome unknown = Deliver("create_act", {{"delivery_method_id", 42}});
  EXPECT_EQ(unknown.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(unknown.error.find("DELIVERY_METHOD_NOT_FOUND"), std::string::npos) << unknown.error;
  const size_t sent = sim_->log().Snapshot().size();
  DeliveryOutcome bad = Deliver("create_act", {{"departure_date", "2026-12-14T10:00:00Z"}});
  EXPECT_EQ(bad.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(bad.error.find("delivery_method_id"), std::string::npos) << bad.error;
  EXPECT_EQ(sim_->log().Snapshot().size(), sent);  // nothing sent
  EXPECT_TRUE(sim_->Acts().empty());
}

}  // namespace
}  // namespace crmhub::adapters::ozon
