// create_act through the real daemon (`crmhub run`, a child process) and the
// in-process simulator: 10 of 30 FBS postings shipped by CRM commands
// (POST /api/v1/commands), then one create_act for their delivery method.
// The simulator loses the answer of the first act/create (it creates the
// act, then answers 503), so the command is redelivered: it must find the
// act in act/list rather than create a second. Then the simulator holds one
// act with exactly the shipped postings, act/create was sent once, and
// crm.db holds (and journals) the act's task with those postings.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_sim.h"
#include "crm/sqlite_store.h"
#include "tests/adapters/commands_e2e.h"
#include "tests/support/client_thread.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr size_t kPostings = 30;
constexpr size_t kShipped = 10;

// The "after" of every journal entry of `source`'s tasks, oldest first.
std::vector<json> TaskJournal(const std::filesystem::path& db, const std::string& source) {
  std::vector<json> out;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn,
                           "SELECT after FROM journal WHERE kind = 'task' AND source = ?1 "
                           "ORDER BY id",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, source.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        out.push_back(json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                                  nullptr, false));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(conn);
  return out;
}

TEST(OzonActsEndToEndTest, ShippedPostingsGetOneActThroughALostAnswer) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = kPostings;
  so.products = 50;
  so.seed = 7;
  so.arrival = seconds(1);
  so.fbo_share = 0;
  so.await_seller = true;
  so.requests_per_second = 1000;
  so.act_forming = std::chrono::seconds(1);
  so.lost_act_answers = 1;  // the first act/create acts, its answer is lost
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml", R"(
poll_interval = "500ms"
request_timeout = "2s"
order_lookback = "1h"
)" + testutil::CommandsE2eConfig(*port, "100ms", "2s"));
  options.files["admin-token"] = testutil::kCommandsE2eToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();

  std::vector<std::string> postings;
  for (const auto& [number, status] : sim.OrderStatuses(/*final_only=*/true)) {
    postings.push_back(number);
  }
  ASSERT_EQ(postings.size(), kPostings);
  testutil::FinalStatuses started;
  for (const std::string& p : postings) started[p] = "awaiting_packaging";
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(started); }, seconds(60)))
      << e2e.Differences(started) << e2e.child().Output();

  crmhub::testing::ClientThread http(seconds(10));
  auto post = [&](const std::string& command, const json& items) {
    net::OutboundRequest r;
    r.method = "POST";
    r.url = fmt::format("http://127.0.0.1:{}/api/v1/commands", *port);
    r.headers.Set("Authorization", std::string("Bearer ") + testutil::kCommandsE2eToken);
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Idempotency-Key", "e2e-acts-" + command);
    r.body = json{{"target", "ozon-main"}, {"command", command}, {"items", items}}.dump();
    auto answer = http.client().SendBlocking(r);
    ASSERT_TRUE(answer.ok());
    ASSERT_LT(answer->status, 300) << answer->body;
  };
  json ships = json::array();
  for (size_t i = 0; i < kShipped; ++i) ships.push_back({{"order_id", postings[i]}});
  post("ship", ships);
  auto shipped = [&] {
    const auto statuses = sim.OrderStatuses(false);
    return std::all_of(postings.begin(), postings.begin() + kShipped,
                       [&](const std::string& p) { return statuses.at(p) == "awaiting_deliver"; });
  };
  ASSERT_TRUE(e2e.WaitUntil(shipped, seconds(60))) << e2e.child().Output();

  const auto began = std::chrono::steady_clock::now();
  post("create_act", json::array({{{"delivery_method_id", kSimDeliveryMethodId}}}));
  std::set<std::string> expected(postings.begin(), postings.begin() + kShipped);
  // The act's task in crm.db, with exactly the shipped postings.
  auto task_landed = [&] {
    for (const json& after : TaskJournal(e2e.dir() / "data/crm.db", "ozon-main")) {
      const json* fields = after.contains("fields") ? &after["fields"] : &after;
      const json postings_in = fields->value("extra", json::object()).value("postings", json());
      if (postings_in.is_array() &&
          std::set<std::string>(postings_in.begin(), postings_in.end()) == expected) {
        return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(e2e.WaitUntil(task_landed, seconds(60))) << e2e.child().Output();
  fmt::print("create_act to its task in crm.db: {} ms\n",
             std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - began)
                 .count());

  // One act, exactly the shipped postings; act/create sent once (its
  // redelivery read act/list instead).
  const std::vector<SimAct> acts = sim.Acts();
  ASSERT_EQ(acts.size(), 1u);
  EXPECT_EQ(std::set<std::string>(acts[0].postings.begin(), acts[0].postings.end()), expected);
  const auto log = sim.log().Snapshot();
  auto sent = [&](std::string_view path) {
    return std::count_if(log.begin(), log.end(),
                         [&](const simkit::LoggedRequest& r) { return r.path == path; });
  };
  EXPECT_EQ(sent("/v2/posting/fbs/act/create"), 1);
  EXPECT_GE(sent("/v2/posting/fbs/act/list"), 1);
  EXPECT_GE(sent("/v2/posting/fbs/act/get-postings"), 1);
  // The task in the store, keyed by the act id.
  crm::SqliteStoreOptions store_options;
  store_options.path = e2e.dir() / "data/crm.db";
  auto store = crm::SqliteCrmStore::Open(store_options, clock);
  ASSERT_TRUE(store.ok());
  auto task = (*store)->Find(model::EntityKind::kTask, "ozon-main", std::to_string(acts[0].id));
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_EQ((*task)->entity.fields["title"], fmt::format("Hand over Ozon act {}", acts[0].id));
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(std::chrono::milliseconds(30000)), 0) << e2e.child().Output();
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
