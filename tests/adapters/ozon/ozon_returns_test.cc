// Returns (/v1/returns/list): pulled after the postings with a cursor of
// their own (kit::ReturnsPass), linked to their postings, mapped to
// `return` entities by config/mappings/ozon-orders.toml.

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

// Returns are created after delivery and walk through their statuses while
// rounds run; every one must arrive, with its final status last, linked to
// a posting that was pulled too, each state queued once; each maps to a
// return entity whose order_external_id is that posting's.
TEST(OzonReturns, PulledWithTheirOwnCursorAndLinkedToTheirPostings) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.seed = 11;
  so.arrival = std::chrono::seconds(10);
  so.lifetime = std::chrono::seconds(10);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.returns = true;
  config.page_size = 100;
  config.poll_interval = std::chrono::seconds(1);
  OzonAdapter adapter(config, http.transport(), clock);
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/ozon-orders.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();

  std::set<std::string> postings;                 // pulled as orders
  std::map<int64_t, std::string> return_posting;  // return id -> posting_number
  std::map<int64_t, std::string> return_status;   // return id -> last status
  std::map<std::string, int> keys;                // idempotency key -> times queued
  int entities_checked = 0;
  std::optional<std::string> cursor;
  const SystemTime done_at = sim.AllFinalAt() + std::chrono::seconds(2);
  SystemTime round_started = clock.Now();
  bool more = true;
  for (int pulls = 0; round_started <= done_at || more; ++pulls) {
    if (!more) round_started = clock.Now();
    ASSERT_LT(pulls, 5000) << "pull loop does not converge";
    auto pulled = adapter.Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    for (const InboundEvent& e : pulled->events) {
      json record = json::parse(e.payload);
      if (e.kind == "order") {
        postings.insert(record["posting_number"].get<std::string>());
        continue;
      }
      ASSERT_EQ(e.kind, "return") << e.payload;
      ++keys[e.idempotency_key];
      const int64_t id = record["id"].get<int64_t>();
      return_posting[id] = record["posting_number"];
      return_status[id] = record["visual"]["status"]["sys_name"];
      EXPECT_EQ(json(e.ordering_key), record["posting_number"]);
      auto entities = rules->ApplyText(e.payload, {.source = "ozon-main", .received_ms = 1});
      ASSERT_TRUE(entities.ok()) << entities.status().ToString() << "\n" << e.payload;
      ASSERT_EQ(entities->size(), 1u) << e.payload;
      const model::Entity& r = entities->front();
      EXPECT_EQ(r.kind, model::EntityKind::kReturn);
      EXPECT_EQ(r.external_id, std::to_string(id));
      EXPECT_EQ(r.fields["order_external_id"], record["posting_number"]);
      EXPECT_EQ(r.fields["status"], record["visual"]["status"]["sys_name"]);
      EXPECT_EQ(r.fields["type"], "return");
      ASSERT_EQ(r.fields["lines"].size(), 1u);
      EXPECT_EQ(r.fields["lines"][0]["offer_id"], record["product"]["offer_id"]);
      EXPECT_EQ(r.fields["lines"][0]["quantity"], record["product"]["quantity"]);
      ++entities_checked;
    }
    more = pulled->more;
    cursor = pulled->next_cursor;
    clock.Advance(more ? std::chrono::milliseconds(100) : config.poll_interval);
  }
  const std::map<int64_t, std::string> made = sim.ReturnPostings();
  ASSERT_GT(made.size(), 20u);
  EXPECT_EQ(return_posting, made);
  for (const auto& [id, status] : return_status) EXPECT_EQ(status, "ReceivedBySeller") << id;
  for (const auto& [id, number] : return_posting) EXPECT_EQ(postings.count(number), 1u) << number;
  // Returns seen in more than their final status: the passes are
  // incremental. (A state is read again within `overlap`: the same key, which
  // the queue's dedup absorbs.)
  EXPECT_GT(keys.size(), made.size());
  int reread = 0;
  for (const auto& [key, n] : keys) reread += n > 1;
  EXPECT_LT(reread, static_cast<int>(keys.size()));
  EXPECT_GT(entities_checked, 0);

  // Every request within the spec: one time filter, limit <= 500, last_id
  // a return id read before.
  auto requests = sim.log().Find("POST", "/v1/returns/list");
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["limit"], kMaxReturnsPerPage);
    ASSERT_EQ(body["filter"].size(), 1u) << r.body;
    EXPECT_TRUE(body["filter"]["visual_status_change_moment"].contains("time_from")) << r.body;
    if (body.contains("last_id")) {
      EXPECT_EQ(made.count(body["last_id"].get<int64_t>()), 1u);
    }
  }
}

// More returns than a page: the pass goes on by last_id, none is skipped.
TEST(OzonReturns, PagesByLastId) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 300;
  so.arrival = std::chrono::seconds(1);
  so.lifetime = std::chrono::seconds(3);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(5));  // every return made and final
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.returns = true;
  config.returns_page_size = 7;
  OzonAdapter adapter(config, http.transport(), clock);
  std::set<int64_t> ids;
  std::optional<std::string> cursor;
  auto round = testing::PullRound(adapter, cursor, 100, [&](const InboundEvent& e) {
    if (e.kind == "return") ids.insert(json::parse(e.payload)["id"].get<int64_t>());
  });
  ASSERT_TRUE(round.ok()) << round.status().ToString();
  const auto made = sim.ReturnPostings();
  ASSERT_GT(made.size(), 30u);
  EXPECT_EQ(ids.size(), made.size());
  auto requests = sim.log().Find("POST", "/v1/returns/list");
  EXPECT_GE(requests.size(), made.size() / 7);
  for (const auto& r : requests) EXPECT_EQ(json::parse(r.body)["limit"], 7) << r.body;
}

// returns = false: no returns request, a round is the postings alone.
TEST(OzonReturns, OffSendsNoReturnsRequest) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 60;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(5));
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.returns = false;
  OzonAdapter adapter(config, http.transport(), clock);
  std::optional<std::string> cursor;
  ASSERT_TRUE(testing::PullRound(adapter, cursor, 100).ok());
  EXPECT_TRUE(sim.log().Find("POST", "/v1/returns/list").empty());
  EXPECT_FALSE(sim.log().Find("POST", "/v3/posting/fbs/list").empty());
}

// A cursor of before returns were pulled reads as "returns not started";
// the returns' state survives a round trip.
TEST(OzonReturns, CursorKeepsTheReturnsPass) {
  auto old =
      OzonCursor::Parse(R"({"v":2,"scheme":"fbo","fbs":{"watermark":5},"fbo":{"watermark":0}})");
  ASSERT_TRUE(old.has_value());
  EXPECT_FALSE(old->in_returns);
  EXPECT_EQ(old->returns.watermark_ms, 0);
  OzonCursor c = *old;
  c.in_returns = true;
  c.returns = {.watermark_ms = 1000, .window_to_ms = 2000, .page_token = "1000015560"};
  auto back = OzonCursor::Parse(c.ToJson());
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->in_returns);
  EXPECT_EQ(back->returns.watermark_ms, 1000);
  EXPECT_EQ(back->returns.window_to_ms, 2000);
  EXPECT_EQ(back->returns.page_token, "1000015560");
  EXPECT_EQ(back->scheme, Scheme::kFbo);
  EXPECT_FALSE(
      OzonCursor::Parse(R"({"v":2,"scheme":"fbs","fbs":{},"fbo":{},"returns":{"watermark":-1}})"));
}

// The simulator holds to the spec's request rules.
TEST(OzonReturns, SimulatorRefusesWhatTheSpecForbids) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 10;
  OzonSimulator sim(so, clock);
  auto post = [&](const json& body) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = "/v1/returns/list";
    r.headers.Set("Client-Id", so.client_id());
    r.headers.Set("Api-Key", so.api_key());
    r.body = body.dump();
    int status = 0;
    sim.Handle(r, [&](net::HttpResponse response) { status = response.status; });
    return status;
  };
  const json range = {{"time_from", "2023-11-01T00:00:00Z"}, {"time_to", "2023-12-01T00:00:00Z"}};
  EXPECT_EQ(post({{"limit", 500}, {"filter", {{"visual_status_change_moment", range}}}}), 200);
  EXPECT_EQ(post({{"filter", {{"visual_status_change_moment", range}}}}), 400);  // no limit
  EXPECT_EQ(post({{"limit", 501}}), 400);
  EXPECT_EQ(
      post({{"limit", 10},
            {"filter", {{"visual_status_change_moment", range}, {"logistic_return_date", range}}}}),
      400);  // «только один фильтр»
}

}  // namespace
}  // namespace crmhub::adapters::ozon
