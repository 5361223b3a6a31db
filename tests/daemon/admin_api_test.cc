// /api/v1/*: bearer token, adapters' status, queue stats, dead letters, and
// POST /api/v1/commands with the IETF Idempotency-Key rules. Route logic is
// called directly (HttpRoutes::Handle); a few cases go over a loopback server.

#include "daemon/admin_api.h"

#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "tests/daemon/http_routes_harness.h"
#include "tests/queue/failing_vfs.h"

namespace crmhub::daemon {
namespace {

using nlohmann::json;
using testing::Answer;
using testing::FakeTarget;
using testing::Harness;

constexpr char kToken[] = "admin-token-123";  // Harness's options.admin_token

net::HttpRequest Req(std::string method, std::string target, std::string body = "",
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     bool with_token = true) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  if (with_token) r.headers.Add("Authorization", std::string("Bearer ") + kToken);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

json Body(const Answer& a) { return json::parse(a.body, nullptr, false); }

const std::string kStock = R"({"target":"ozon-main","command":"set_stock","items":[)"
                           R"({"offer_id":"A-1","warehouse_id":"123","stock":5},)"
                           R"({"offer_id":"B-2","warehouse_id":123,"stock":0}]})";

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.AddAdapter(std::make_shared<FakeTarget>("ozon-main",
                                              std::vector<std::string>{"set_stock", "set_price"}));
  }
  Answer Command(const std::string& key, const std::string& body) {
    return h.Call(Req("POST", "/api/v1/commands", body, {{"Idempotency-Key", key}}));
  }
  Harness h;
};

// The ops status page: static files compiled in, served without a token
// (they hold no data; the page sends the operator's token to the API), with
// a strict Content-Security-Policy.
TEST_F(AdminApiTest, TheStatusPageIsServedUnderUi) {
  h.Start(false);
  Answer index = h.Call(Req("GET", "/ui/", "", {}, /*with_token=*/false));
  ASSERT_EQ(index.status, 200) << index.body;
  EXPECT_NE(index.body.find("<title>crmhub</title>"), std::string::npos);
  EXPECT_EQ(index.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(index.Header("content-security-policy").find("default-src 'none'"), std::string::npos);
  Answer js = h.Call(Req("GET", "/ui/app.js", "", {}, false));
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("sessionStorage"), std::string::npos);
  EXPECT_EQ(h.Call(Req("GET", "/ui/style.css", "", {}, false)).status, 200);
  Answer bare = h.Call(Req("GET", "/ui", "", {}, false));
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(bare.Header("location"), "/ui/");
  EXPECT_EQ(h.Call(Req("GET", "/ui/../metrics", "", {}, false)).status, 404);
  EXPECT_EQ(h.Call(Req("POST", "/ui/", "", {}, false)).status, 405);
}

TEST_F(AdminApiTest, NoOrWrongTokenIs401Everywhere) {
  h.Start(/*serve=*/false);
  for (const std::string path : {"/api/v1/queue", "/api/v1/adapters", "/api/v1/nosuch"}) {
    Answer none = h.Call(Req("GET", path, "", {}, /*with_token=*/false));
    EXPECT_EQ(none.status, 401) << path;
    EXPECT_EQ(Body(none).value("error", ""), "unauthorized");
    EXPECT_FALSE(none.Header("www-authenticate").empty());
    Answer wrong =
        h.Call(Req("GET", path, "", {{"Authorization", "Bearer admin-token-12"}}, false));
    EXPECT_EQ(wrong.status, 401) << path;
    Answer basic = h.Call(Req("GET", path, "", {{"Authorization", "Basic YWRtaW4="}}, false));
    EXPECT_EQ(basic.status, 401) << path;
  }
  Answer cmd = h.Call(Req("POST", "/api/v1/commands", kStock, {{"Idempotency-Key", "k"}}, false));
  EXPECT_EQ(cmd.status, 401);
  EXPECT_TRUE(h.Drain("out.ozon-main").empty());
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/queue")).status, 200);
  EXPECT_EQ(
      h.Call(Req("GET", "/api/v1/queue", "", {{"Authorization", "bearer admin-token-123"}}, false))
          .status,
      200);  // the scheme is case-insensitive
}

TEST_F(AdminApiTest, NoConfiguredTokenMeansEveryoneIs401) {
  h.options.admin_access = AdminAccess();
  h.Start(false);
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/queue", "", {{"Authorization", "Bearer "}}, false)).status,
            401);
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/queue")).status, 401);
}

TEST_F(AdminApiTest, AdaptersStatusComesFromTheRuntime) {
  h.deps.adapter_statuses = [] {
    AdapterStatus s;
    s.id = "ozon-main";
    s.type = "ozon";
    s.capabilities = {"source", "target"};
    s.cursor = "2026-11-24T10:00:00Z";
    s.last_error = "HTTP 429";
    s.last_success = FromUnixMillis(1'700'000'000'000);
    s.circuit_state = "open";
    s.details_json = R"({"client_id":"42"})";
    return std::vector<AdapterStatus>{s};
  };
  h.Start(false);
  Answer list = h.Call(Req("GET", "/api/v1/adapters"));
  ASSERT_EQ(list.status, 200);
  json j = Body(list);
  ASSERT_EQ(j["adapters"].size(), 1u);
  EXPECT_EQ(j["adapters"][0]["circuit_state"], "open");
  EXPECT_EQ(j["adapters"][0]["cursor"], "2026-11-24T10:00:00Z");
  EXPECT_EQ(j["adapters"][0]["last_error"], "HTTP 429");
  EXPECT_EQ(j["adapters"][0]["last_success"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["adapters"][0]["details"]["client_id"], "42");
  EXPECT_EQ(Body(h.Call(Req("GET", "/api/v1/adapters/ozon-main")))["type"], "ozon");
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/adapters/nosuch")).status, 404);
}

TEST_F(AdminApiTest, QueueStatsAndDeadLetters) {
  h.Start(false);
  ASSERT_TRUE(h.sqlite
                  ->Enqueue({.lane = "in.site",
                             .source = "site",
                             .idempotency_key = "e1",
                             .payload = R"({"id":"e1"})"})
                  .ok());
  ASSERT_TRUE(h.sqlite
                  ->Enqueue({.lane = "in.site",
                             .source = "site",
                             .idempotency_key = "e2",
                             .payload = R"({"id":"e2"})"})
                  .ok());
  Answer stats = h.Call(Req("GET", "/api/v1/queue"));
  ASSERT_EQ(stats.status, 200);
  json s = Body(stats);
  EXPECT_EQ(s["depth"], 2);
  EXPECT_EQ(s["healthy"], true);
  ASSERT_EQ(s["lanes"].size(), 1u);
  EXPECT_EQ(s["lanes"][0]["lane"], "in.site");
  EXPECT_EQ(s["lanes"][0]["ready"], 2);

  // Make both dead letters.
  auto leased = h.sqlite->Lease("in.site", 10, std::chrono::minutes(1));
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 2u);
  for (const auto& l : *leased) ASSERT_TRUE(h.sqlite->Fail(l.lease, "mapping: no rule").ok());

  Answer list = h.Call(Req("GET", "/api/v1/dead-letters?lane=in.site&limit=1"));
  ASSERT_EQ(list.status, 200);
  json l = Body(list);
  ASSERT_EQ(l["dead_letters"].size(), 1u);
  const int64_t first = l["dead_letters"][0]["id"];
  EXPECT_EQ(l["next_after_id"], first);
  json page2 = Body(h.Call(Req("GET", "/api/v1/dead-letters?after_id=" + std::to_string(first))));
  ASSERT_EQ(page2["dead_letters"].size(), 1u);
  const int64_t second = page2["dead_letters"][0]["id"];

  Answer show = h.Call(Req("GET", "/api/v1/dead-letters/" + std::to_string(first)));
  ASSERT_EQ(show.status, 200);
  EXPECT_EQ(Body(show)["reason"], "mapping: no rule");
  EXPECT_EQ(Body(show)["payload"], R"({"id":"e1"})");

  // Issue 22, item 4: the answer names the message, which keeps its id.
  Answer replayed =
      h.Call(Req("POST", "/api/v1/dead-letters/" + std::to_string(first) + "/replay"));
  EXPECT_EQ(replayed.status, 200);
  EXPECT_EQ(Body(replayed), json({{"replayed", 1}, {"message_id", first}}));
  EXPECT_EQ(h.Call(Req("DELETE", "/api/v1/dead-letters/" + std::to_string(second))).status, 200);
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/dead-letters/" + std::to_string(second))).status, 404);
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/dead-letters/999999")).status, 404);
  EXPECT_EQ(h.Call(Req("GET", "/api/v1/dead-letters?limit=0")).status, 400);
  auto back = h.Drain("in.site");
  ASSERT_EQ(back.size(), 1u);  // the replayed one
  EXPECT_EQ(back[0].idempotency_key, "e1");
  EXPECT_EQ(back[0].id, first);
}

TEST_F(AdminApiTest, CommandIsSplitIntoOneMessagePerItem) {
  h.Start(false);
  Answer a = Command("cmd-1", kStock);
  ASSERT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(Body(a), json({{"accepted", 2}, {"duplicates", 0}}));
  auto msgs = h.Drain("out.ozon-main");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].source, "commands");
  EXPECT_EQ(msgs[0].idempotency_key, "cmd-1:0");
  EXPECT_EQ(msgs[1].idempotency_key, "cmd-1:1");
  EXPECT_EQ(msgs[0].ordering_key, "set_stock:A-1:123");
  EXPECT_EQ(msgs[1].ordering_key, "set_stock:B-2:123");
  EXPECT_EQ(msgs[0].headers, (queue::Headers{{"command", "set_stock"}}));
  EXPECT_EQ(json::parse(msgs[0].payload),
            json::parse(R"({"offer_id":"A-1","warehouse_id":"123","stock":5})"));
}

TEST_F(AdminApiTest, MissingIdempotencyKeyIs400) {
  h.Start(false);
  Answer a = h.Call(Req("POST", "/api/v1/commands", kStock));
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(Body(a).value("detail", "").find("Idempotency-Key"), std::string::npos);
  EXPECT_EQ(Command("", kStock).status, 400);
  EXPECT_TRUE(h.Drain("out.ozon-main").empty());
}

TEST_F(AdminApiTest, RepeatAfterSuccessGetsTheFirstAnswerAlsoAfterRestart) {
  h.Start(false);
  Answer first = Command("cmd-1", kStock);
  ASSERT_EQ(first.status, 202);
  Answer again = Command("\"cmd-1\"", kStock);  // sf-string form of the same key
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("idempotent-replayed"), "true");
  EXPECT_EQ(h.Drain("out.ozon-main").size(), 2u);  // nothing enqueued twice

  // The record is durable: a new router on the same file replays it.
  h.routes.reset();
  h.Start(false);
  Answer after_restart = Command("cmd-1", kStock);
  EXPECT_EQ(after_restart.status, 202);
  EXPECT_EQ(after_restart.body, first.body);
  EXPECT_TRUE(h.Drain("out.ozon-main").empty());
}

TEST_F(AdminApiTest, SameKeyWithAnotherBodyIs422) {
  h.Start(false);
  ASSERT_EQ(Command("cmd-1", kStock).status, 202);
  std::string other = kStock;
  other.replace(other.find("\"stock\":5"), 9, "\"stock\":6");
  Answer a = Command("cmd-1", other);
  EXPECT_EQ(a.status, 422);
  EXPECT_EQ(Body(a).value("error", ""), "idempotency_key_reused");
  EXPECT_EQ(h.Drain("out.ozon-main").size(), 2u);
}

TEST_F(AdminApiTest, SameKeyWhileTheFirstIsBeingAcceptedIs409) {
  h.Start(/*serve=*/true);
  h.queue->Hold();
  Answer first;
  std::thread client([&] {
    first = h.Http(
        "POST", "/api/v1/commands", kStock,
        {{"Authorization", std::string("Bearer ") + kToken}, {"Idempotency-Key", "cmd-slow"}});
  });
  ASSERT_TRUE(h.queue->WaitParked(1, std::chrono::seconds(20)));
  Answer concurrent = Command("cmd-slow", kStock);
  EXPECT_EQ(concurrent.status, 409);
  EXPECT_EQ(Body(concurrent).value("error", ""), "conflict");
  Answer other_body = Command("cmd-slow", R"({"target":"ozon-main","command":"set_price",)"
                                          R"("items":[{"offer_id":"A-1","price":"10"}]})");
  EXPECT_EQ(other_body.status, 422);
  h.queue->Release();
  client.join();
  EXPECT_EQ(first.status, 202) << first.body;
  Answer replay = Command("cmd-slow", kStock);
  EXPECT_EQ(replay.status, 202);
  EXPECT_EQ(replay.body, first.body);
  EXPECT_EQ(h.Drain("out.ozon-main").size(), 2u);
}

TEST_F(AdminApiTest, UnknownTargetOrCommandAndBadBodies) {
  h.Start(false);
  std::string unknown = kStock;
  unknown.replace(unknown.find("ozon-main"), 9, "wb-main");
  Answer a = Command("k1", unknown);
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(Body(a).value("error", ""), "unknown_target");
  Answer b = Command("k2", R"({"target":"ozon-main","command":"cancel_order","items":[{"id":1}]})");
  EXPECT_EQ(b.status, 422);
  EXPECT_EQ(Body(b).value("error", ""), "unsupported_command");
  EXPECT_EQ(Command("k3", "not json").status, 400);
  EXPECT_EQ(Command("k4", R"({"target":"ozon-main","command":"set_stock","items":[]})").status,
            400);
  EXPECT_EQ(Command("k5", R"({"target":"ozon-main","command":"set_stock","items":[1]})").status,
            400);
  EXPECT_EQ(Command("k6", R"({"command":"set_stock","items":[{"id":1}]})").status, 400);
  EXPECT_TRUE(h.Drain("out.ozon-main").empty());
  // A refused request leaves the key free: the corrected one goes through.
  EXPECT_EQ(Command("k1", kStock).status, 202);
}

// Regression: a command nested 300,000 deep used to be parsed and dumped
// back recursively (ParseCommand -> dump()), overflowing the stack.
TEST_F(AdminApiTest, ADeepCommandIs400AndTheApiGoesOn) {
  h.Start(false);
  const std::string deep = R"({"target":"ozon-main","command":"set_stock","items":[{"x":)" +
                           std::string(300'000, '[') + std::string(300'000, ']') + "}]}";
  Answer a = Command("deep", deep);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(Body(a).value("detail", ""), "body JSON nested deeper than 64 levels");
  EXPECT_TRUE(h.Drain("out.ozon-main").empty());
  EXPECT_EQ(Command("after", kStock).status, 202);
}

TEST_F(AdminApiTest, CommandsAnswer503WhenTheQueueCannotTakeThem) {
  h.Start(false);
  h.queue->unhealthy = true;
  Answer a = Command("k1", kStock);
  EXPECT_EQ(a.status, 503);
  EXPECT_FALSE(a.Header("retry-after").empty());
  h.queue->unhealthy = false;
  EXPECT_EQ(Command("k1", kStock).status, 202);  // the key was not used up
}

// The writer behind (its disk held, its backlog at the bound): the command
// is refused with 503 + Retry-After at once, and its key is not used up.
TEST(AdminApiBackpressureTest, CommandsAnswer503AtOnceWhenTheWriterIsBehind) {
  queue::testing::FailingVfs vfs("crmhub-commands-full");
  Harness h(vfs.name(), [](queue::SqliteQueueOptions& o) {
    o.max_batch_size = 1;
    o.max_pending = 1;
  });
  h.AddAdapter(std::make_shared<FakeTarget>("ozon-main", std::vector<std::string>{"set_stock"}));
  h.Start(false);
  vfs.HoldSyncs();
  struct Release {
    queue::testing::FailingVfs& vfs;
    ~Release() { vfs.ReleaseSyncs(); }
  } release{vfs};
  ASSERT_GT(testing::FillPendingBound(*h.queue, "out.ozon-main"), 0);
  Answer a = h.Call(Req("POST", "/api/v1/commands", kStock, {{"Idempotency-Key", "full-1"}}));
  EXPECT_EQ(a.status, 503) << a.body;
  EXPECT_EQ(a.Header("retry-after"), "5");
  vfs.ReleaseSyncs();
  for (const queue::Message& m : h.Drain("out.ozon-main")) EXPECT_EQ(m.source, "fill");
  Answer again = h.Call(Req("POST", "/api/v1/commands", kStock, {{"Idempotency-Key", "full-1"}}));
  EXPECT_EQ(again.status, 202) << again.body;
}

TEST_F(AdminApiTest, OverLoopback) {
  h.Start(/*serve=*/true);
  EXPECT_EQ(h.Http("GET", "/api/v1/queue").status, 401);
  Answer a =
      h.Http("POST", "/api/v1/commands", kStock,
             {{"Authorization", std::string("Bearer ") + kToken}, {"Idempotency-Key", "net-1"}});
  EXPECT_EQ(a.status, 202) << a.body;
  EXPECT_EQ(Body(a)["accepted"], 2);
  Answer missing = h.Http("POST", "/api/v1/commands", kStock,
                          {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(missing.status, 400);
}

TEST(OrderingKey, FromTheItemsIdentity) {
  EXPECT_EQ(AdminApi::OrderingKeyFor("set_price", R"({"offer_id":"A-1","price":"10"})"),
            "set_price:A-1");
  EXPECT_EQ(AdminApi::OrderingKeyFor("set_stock", R"({"nm_id":123,"warehouse_id":7,"stock":1})"),
            "set_stock:123:7");
  EXPECT_EQ(AdminApi::OrderingKeyFor("set_stock", R"({"stock":1})"), "");
}

}  // namespace
}  // namespace crmhub::daemon
