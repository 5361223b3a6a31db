// Scoped admin tokens, the audit journal, /metrics behind a token, and the
// public/admin listener split (daemon/admin_access.h, daemon/audit_journal.h).
// Refusals are checked both through HttpRoutes::Handle and over a loopback
// server, where they are answered from the headers alone.

#include "daemon/admin_access.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "daemon/audit_journal.h"
#include "tests/daemon/http_routes_harness.h"
#include "tests/support/spec_operations.h"

namespace crmhub::daemon {
namespace {

using nlohmann::json;
using testing::Answer;
using testing::FakeTarget;
using testing::Harness;

// Tokens long enough for [admin.tokens], and unlike each other and their names.
constexpr char kRead[] = "tok-read-5f1c9a0e77d2";
constexpr char kReplay[] = "tok-replay-8b3e61d4c0aa";
constexpr char kCommands[] = "tok-commands-2c7f90e1b5d3";
constexpr char kAdmin[] = "tok-admin-a94d0c3e6f12";
constexpr char kOps[] = "tok-ops-0d1e2f3a4b5c";

const std::string kStock =
    R"({"target":"ozon-main","command":"set_stock","items":[{"offer_id":"A-1","warehouse_id":1,"stock":5}]})";

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

net::HttpRequest Req(std::string method, std::string target, const std::string& token,
                     std::string body = "",
                     std::vector<std::pair<std::string, std::string>> headers = {}) {
  net::HttpRequest r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

json Body(const Answer& a) { return json::parse(a.body, nullptr, false); }

class AdminAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.options.admin_access = AdminAccess({
        {"grafana", Secret(kRead), {Scope::kRead}},
        {"replayer", Secret(kReplay), {Scope::kReplay}},
        {"crm-core", Secret(kCommands), {Scope::kCommands}},
        {"root", Secret(kAdmin), {Scope::kAdmin}},
        {"ops", Secret(kOps), {Scope::kRead, Scope::kReplay}},
    });
    h.AddAdapter(std::make_shared<FakeTarget>("ozon-main", std::vector<std::string>{"set_stock"}));
  }

  // Two dead letters on in.site; returns their ids.
  std::vector<int64_t> MakeDeadLetters() {
    for (const char* key : {"e1", "e2"}) {
      EXPECT_TRUE(h.sqlite
                      ->Enqueue({.lane = "in.site",
                                 .source = "site",
                                 .idempotency_key = key,
                                 .payload = R"({"id":1})"})
                      .ok());
    }
    auto leased = h.sqlite->Lease("in.site", 10, std::chrono::minutes(1));
    EXPECT_TRUE(leased.ok());
    for (const auto& l : *leased) EXPECT_TRUE(h.sqlite->Fail(l.lease, "mapping: no rule").ok());
    auto list = h.sqlite->ListDeadLetters({});
    std::vector<int64_t> ids;
    for (const auto& d : *list) ids.push_back(d.id);
    return ids;
  }

  std::vector<AuditEntry> Journal() {
    auto list = h.routes->audit().List({.after_id = 0, .limit = 1000});
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<AuditEntry>{};
  }

  Harness h;
};

// What each scope may do, over the loopback server (refusals come from the
// header screen) and through Handle (the same rules without the screen).
TEST_F(AdminAccessTest, EachScopeIsRefusedWhatItMayNotDo) {
  h.Start(/*serve=*/true);
  const std::vector<int64_t> ids = MakeDeadLetters();
  ASSERT_EQ(ids.size(), 2u);
  const std::string one = "/api/v1/dead-letters/" + std::to_string(ids[0]);

  struct Case {
    const char* method;
    std::string target;
    std::string body;
    // Expected status per token: read, replay, commands, admin.
    int read, replay, commands;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/v1/queue", "", 200, 403, 403},
      {"GET", "/api/v1/adapters", "", 200, 403, 403},
      {"GET", "/api/v1/dead-letters", "", 200, 403, 403},
      {"GET", one, "", 200, 403, 403},
      {"GET", "/api/v1/audit", "", 403, 403, 403},
      {"POST", "/api/v1/dead-letters/999999/replay", "", 403, 404, 403},
      {"POST", "/api/v1/dead-letters/replay?lane=in.none", "", 403, 200, 403},
      {"DELETE", "/api/v1/dead-letters/999999", "", 403, 403, 403},
      {"POST", "/api/v1/dead-letters/999999/drop", "", 403, 403, 403},
      {"POST", "/api/v1/commands", kStock, 403, 403, 202},
  };
  int n = 0;
  for (const Case& c : cases) {
    const auto key = std::vector<std::pair<std::string, std::string>>{
        {"Idempotency-Key", "k" + std::to_string(n++)}};
    auto with = [&](const char* token) {
      auto headers = Bearer(token);
      headers.insert(headers.end(), key.begin(), key.end());
      return headers;
    };
    for (auto [token, want] : {std::pair{kRead, c.read}, std::pair{kReplay, c.replay},
                               std::pair{kCommands, c.commands}}) {
      Answer over_http = h.Http(c.method, c.target, c.body, with(token));
      EXPECT_EQ(over_http.status, want) << c.method << " " << c.target << " with " << token;
      if (want == 403) {
        EXPECT_EQ(Body(over_http).value("error", ""), "forbidden");
        EXPECT_NE(over_http.Header("www-authenticate").find("insufficient_scope"),
                  std::string::npos);
      }
      // Handle() alone (no screen) refuses alike.
      if (want == 403) {
        EXPECT_EQ(h.Call(Req(c.method, c.target, token, c.body, key)).status, 403)
            << c.method << " " << c.target << " with " << token << " (Handle)";
      }
    }
  }
  // admin may do everything; an unknown token nothing (401, not 403).
  EXPECT_EQ(h.Http("GET", "/api/v1/audit", "", Bearer(kAdmin)).status, 200);
  EXPECT_EQ(h.Http("DELETE", one, "", Bearer(kAdmin)).status, 200);
  EXPECT_EQ(h.Http("GET", "/api/v1/queue", "", Bearer("tok-unknown-000000000")).status, 401);
  // The dead letter the admin dropped is gone; the other is still there:
  // nothing refused above changed anything.
  auto left = h.sqlite->ListDeadLetters({});
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].id, ids[1]);
  // A token may hold several scopes.
  EXPECT_EQ(h.Http("GET", "/api/v1/queue", "", Bearer(kOps)).status, 200);
  EXPECT_EQ(
      h.Http("POST", "/api/v1/dead-letters/" + std::to_string(ids[1]) + "/replay", "", Bearer(kOps))
          .status,
      200);
}

// Every mutating call is in the journal once, named by its token's name,
// with its result; reads are not; no token appears anywhere in the file.
TEST_F(AdminAccessTest, EveryMutatingCallIsJournaledOnceWithoutSecrets) {
  h.Start(/*serve=*/true);
  const std::vector<int64_t> ids = MakeDeadLetters();
  const std::string a = std::to_string(ids[0]), b = std::to_string(ids[1]);
  ASSERT_EQ(h.Http("GET", "/api/v1/dead-letters", "", Bearer(kRead)).status, 200);  // a read
  ASSERT_EQ(h.Http("POST", "/api/v1/dead-letters/" + a + "/replay", "", Bearer(kReplay)).status,
            200);
  ASSERT_EQ(h.Http("DELETE", "/api/v1/dead-letters/" + b, "", Bearer(kReplay)).status, 403);
  ASSERT_EQ(h.Http("POST", "/api/v1/dead-letters/" + b + "/drop", "", Bearer(kAdmin)).status, 200);
  ASSERT_EQ(h.Http("POST", "/api/v1/dead-letters/424242/replay", "", Bearer(kAdmin)).status, 404);
  ASSERT_EQ(h.Http("POST", "/api/v1/dead-letters/replay?lane=in.site", "", Bearer(kOps)).status,
            200);
  auto cmd = Bearer(kCommands);
  cmd.emplace_back("Idempotency-Key", "order-77");
  ASSERT_EQ(h.Http("POST", "/api/v1/commands", kStock, cmd).status, 202);
  ASSERT_EQ(h.Http("POST", "/api/v1/commands", kStock, cmd).status, 202);     // a replayed answer
  ASSERT_EQ(h.Http("GET", "/api/v1/queue", "", Bearer(kAdmin)).status, 200);  // a read

  const std::vector<AuditEntry> journal = Journal();
  struct Want {
    const char* actor;
    const char* action;
    std::string target;
    const char* result;
    int status;
  };
  const std::vector<Want> want = {
      {"replayer", "replay_dead_letter", a, "ok", 200},
      {"replayer", "drop_dead_letter", b, "denied", 403},
      {"root", "drop_dead_letter", b, "ok", 200},
      {"root", "replay_dead_letter", "424242", "not_found", 404},
      {"ops", "replay_dead_letters", "lane in.site", "ok", 200},
      {"crm-core", "submit_command", "ozon-main set_stock (1 items)", "ok", 202},
      {"crm-core", "submit_command", "ozon-main set_stock (1 items)", "ok", 202},
  };
  ASSERT_EQ(journal.size(), want.size());
  std::set<int64_t> ids_seen;
  for (size_t i = 0; i < want.size(); ++i) {
    const AuditEntry& e = journal[i];
    EXPECT_EQ(e.actor, want[i].actor) << i;
    EXPECT_EQ(e.action, want[i].action) << i;
    EXPECT_EQ(e.target, want[i].target) << i;
    EXPECT_EQ(e.result, want[i].result) << i;
    EXPECT_EQ(e.status, want[i].status) << i;
    EXPECT_EQ(e.via, "api");
    EXPECT_EQ(e.remote, "127.0.0.1");
    EXPECT_TRUE(ids_seen.insert(e.id).second);
  }
  EXPECT_EQ(json::parse(journal[5].detail)["idempotency_key"], "order-77");
  EXPECT_EQ(json::parse(journal[5].detail)["answer"]["accepted"], 1);
  EXPECT_EQ(json::parse(journal[1].detail)["missing_scope"], "admin");

  // Through the API as well, for an admin.
  Answer listed = h.Http("GET", "/api/v1/audit?last=2", "", Bearer(kAdmin));
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(Body(listed)["entries"].size(), 2u);
  EXPECT_EQ(Body(listed)["entries"][1]["actor"], "crm-core");

  // No token in the journal's files (the database and its WAL).
  for (const char* file : {"audit.db", "audit.db-wal"}) {
    std::ifstream in(h.dir() / file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const char* token : {kRead, kReplay, kCommands, kAdmin, kOps}) {
      EXPECT_EQ(bytes.find(token), std::string::npos) << file << " holds a token";
    }
    if (std::string(file) == "audit.db-wal") {
      EXPECT_NE(bytes.find("crm-core"), std::string::npos);  // the entries are there
    }
  }
}

TEST_F(AdminAccessTest, MetricsCanRequireAReadToken) {
  h.options.metrics_require_token = true;
  h.Start(/*serve=*/true);
  EXPECT_EQ(h.Http("GET", "/metrics").status, 401);
  EXPECT_EQ(h.Http("GET", "/metrics", "", Bearer(kCommands)).status, 403);
  Answer ok = h.Http("GET", "/metrics", "", Bearer(kRead));
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("crmhub_admin_refused_total{reason=\"unauthorized\"}"), std::string::npos);
  // The health checks stay open: systemd and load balancers carry no token.
  EXPECT_EQ(h.Http("GET", "/healthz").status, 200);
}

TEST_F(AdminAccessTest, MetricsAreOpenByDefault) {
  h.Start(/*serve=*/true);
  EXPECT_EQ(h.Http("GET", "/metrics").status, 200);
}

TEST_F(AdminAccessTest, ThePublicListenerServesNoAdminRoute) {
  h.listener = Listener::kPublic;
  h.Start(/*serve=*/true);
  for (const char* path : {"/api/v1/queue", "/api/v1/audit", "/metrics"}) {
    Answer a = h.Http("GET", path, "", Bearer(kAdmin));
    EXPECT_EQ(a.status, 404) << path;
  }
  // A body sent to the admin API on the public port is not read either.
  EXPECT_EQ(h.Http("POST", "/api/v1/commands", std::string(512 * 1024, 'x'), Bearer(kAdmin)).status,
            404);
  EXPECT_EQ(h.Http("GET", "/healthz").status, 200);
  EXPECT_EQ(h.Http("GET", "/readyz").status, 200);
  // /hooks is served (404 here only because no such webhook adapter exists,
  // with the intake's own reason).
  Answer hook = h.Http("POST", "/hooks/nosuch", "{}");
  EXPECT_EQ(hook.status, 404);
  EXPECT_NE(hook.body.find("webhook"), std::string::npos);
}

TEST_F(AdminAccessTest, TheAdminListenerServesNoWebhook) {
  h.listener = Listener::kAdmin;
  h.Start(/*serve=*/true);
  Answer hook = h.Http("POST", "/hooks/nosuch", "{}");
  EXPECT_EQ(hook.status, 404);
  EXPECT_EQ(hook.body.find("webhook"), std::string::npos);
  EXPECT_EQ(h.Http("GET", "/api/v1/queue", "", Bearer(kAdmin)).status, 200);
  EXPECT_EQ(h.Http("GET", "/metrics").status, 200);
}

// Tokens are identified in constant time against every configured token,
// and the name is what a caller is known by.
TEST(AdminAccess, IdentifiesByTokenAndNeverByPrefix) {
  AdminAccess access({{"a", Secret("token-aaaaaaaaaaaa"), {Scope::kRead}},
                      {"b", Secret("token-bbbbbbbbbbbb"), {Scope::kAdmin}}});
  net::HeaderMap h;
  h.Add("Authorization", "Bearer token-bbbbbbbbbbbb");
  auto caller = access.Identify(h);
  ASSERT_TRUE(caller.has_value());
  EXPECT_EQ(caller->name, "b");
  EXPECT_TRUE(caller->Grants(Scope::kReplay));  // admin holds every scope
  for (const char* wrong : {"Bearer token-bbbbbbbbbbb", "Bearer token-bbbbbbbbbbbbb",
                            "Basic token-bbbbbbbbbbbb", "Bearer ", "token-bbbbbbbbbbbb"}) {
    net::HeaderMap w;
    w.Add("Authorization", wrong);
    EXPECT_FALSE(access.Identify(w).has_value()) << wrong;
  }
  EXPECT_FALSE(access.Identify(net::HeaderMap{}).has_value());
}

TEST(AdminAccess, ScopeOfEachRoute) {
  EXPECT_EQ(ScopeNeeded("GET", "/api/v1/queue"), Scope::kRead);
  EXPECT_EQ(ScopeNeeded("GET", "/api/v1/dead-letters/3"), Scope::kRead);
  EXPECT_EQ(ScopeNeeded("POST", "/api/v1/dead-letters/3/replay"), Scope::kReplay);
  EXPECT_EQ(ScopeNeeded("POST", "/api/v1/dead-letters/replay"), Scope::kReplay);
  EXPECT_EQ(ScopeNeeded("POST", "/api/v1/dead-letters/3/drop"), Scope::kAdmin);
  EXPECT_EQ(ScopeNeeded("DELETE", "/api/v1/dead-letters/3"), Scope::kAdmin);
  EXPECT_EQ(ScopeNeeded("POST", "/api/v1/commands"), Scope::kCommands);
  EXPECT_EQ(ScopeNeeded("GET", "/api/v1/audit"), Scope::kAdmin);
  EXPECT_EQ(ScopeNeeded("GET", "/metrics"), Scope::kRead);
}

// docs/api.yaml says which scope each admin operation needs
// (x-crmhub-scope); the daemon decides by ScopeNeeded. They must agree, and
// every /api/v1 operation must say.
TEST(AdminAccess, TheApiDocumentStatesTheScopeTheDaemonChecks) {
  auto ops =
      crmhub::testing::LoadSpecOperations({std::string(CRMHUB_SOURCE_DIR) + "/docs/api.yaml"});
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  int admin_ops = 0;
  for (const auto& op : *ops) {
    if (op.path.rfind("/api/v1/", 0) != 0) continue;
    ++admin_ops;
    std::string concrete = op.path;
    if (auto brace = concrete.find("{id}"); brace != std::string::npos)
      concrete.replace(brace, 4, "7");
    std::optional<Scope> documented = ParseScope(op.scope);
    ASSERT_TRUE(documented.has_value())
        << op.method << " " << op.path << ": x-crmhub-scope \"" << op.scope << "\"";
    EXPECT_EQ(ScopeName(ScopeNeeded(op.method, concrete)), ScopeName(*documented))
        << op.method << " " << op.path;
  }
  EXPECT_GE(admin_ops, 11);
}

TEST(AuditJournal, ListsOldestFirstPagesAndPurgesByAge) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("crmhub-audit-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ManualClock clock(FromUnixMillis(1'800'000'000'000));
  {
    auto j = AuditJournal::Open(dir / "audit.db", clock, std::chrono::hours(24));
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*j)->Record({.actor = "ops",
                                .via = "cli",
                                .action = "drop_dead_letter",
                                .target = std::to_string(i),
                                .result = "ok"})
                      .ok());
      clock.Advance(std::chrono::hours(1));
    }
    auto page = (*j)->List({.after_id = 2, .limit = 2});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->size(), 2u);
    EXPECT_EQ((*page)[0].target, "2");
    EXPECT_EQ((*page)[1].target, "3");
    EXPECT_EQ((*page)[0].detail, "{}");
    auto last = (*j)->List({.limit = 2, .newest = true});
    ASSERT_TRUE(last.ok());
    ASSERT_EQ(last->size(), 2u);
    EXPECT_EQ((*last)[0].target, "3");
    EXPECT_EQ((*last)[1].target, "4");
    EXPECT_EQ(std::filesystem::status(dir / "audit.db").permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  // A day later, reopened: the entries older than the retention are gone.
  clock.Advance(std::chrono::hours(21) + std::chrono::minutes(30));
  auto j = AuditJournal::Open(dir / "audit.db", clock, std::chrono::hours(24));
  ASSERT_TRUE(j.ok());
  auto all = (*j)->List({.limit = 100});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);  // recorded at +3 h and +4 h; now is +26.5 h
  EXPECT_EQ((*all)[0].target, "3");
  // Read-only opening of a journal that does not exist says so.
  auto none = AuditJournal::Open(dir / "none.db", clock, std::chrono::hours(1), /*create=*/false);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace crmhub::daemon
