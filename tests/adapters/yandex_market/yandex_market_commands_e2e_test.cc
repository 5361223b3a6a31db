// Issue 23, acceptance 1 for Yandex Market: through the real daemon
// (`crmhub run`, a child process) and the in-process simulator with 20%
// faults and one SIGKILL, 1,000 orders are pulled, 900 shipped and 100
// cancelled by CRM commands (POST /api/v1/commands); the simulator's final
// states equal the commands; each command's outcome (the order's new
// status, pulled back) is in crm.db's journal; nothing is written twice
// (the simulator's request log: every order in exactly one
// updateOrderStatuses request that Market acted on).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "tests/adapters/marketplace_e2e.h"
#include "tests/adapters/yandex_market/ym_test_support.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 1000;
constexpr int kShipped = 900;
constexpr int64_t kFirstId = 70000000;
const std::string kToken = "e2e-admin-token-0123456789abcdef";

// order id -> "STATUS/SUBSTATUS" of every journal entry of the source's
// orders, in order (read-only, beside the running daemon: WAL).
std::map<std::string, std::vector<std::string>> JournalStatuses(const std::filesystem::path& db) {
  std::map<std::string, std::vector<std::string>> out;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn,
                           "SELECT external_id, after FROM journal WHERE kind = 'order' AND "
                           "source = 'ym-main' ORDER BY id",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const std::string id(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        const json after = json::parse(
            reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), nullptr, false);
        const json* fields = after.is_object() && after.contains("fields") ? &after["fields"] : &after;
        out[id].push_back(fields->is_object() && (*fields).contains("status")
                              ? (*fields)["status"].get<std::string>()
                              : "?");
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(conn);
  return out;
}

TEST(YandexMarketCommandsEndToEndTest, ShipAndCancelAThousandOrdersThroughFaultsAndAKill) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = kOrders;
  so.seed = 23;
  so.arrival = seconds(5);
  so.await_seller = true;  // the seller (the CRM's commands) moves them
  so.faults = testutil::TwentyPercentFaults();
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  testutil::MarketplaceE2eOptions options =
      testutil::OptionsFor(sim, "ym-main", "yandex-market-orders.toml", fmt::format(R"(
poll_interval = "5s"
request_timeout = "1s"
overlap = "2s"
lookback = "1h"
orders_rate_limit = 10000

[admin]
listen = "127.0.0.1:{}"
token_file = "./admin-token"

# The commands redelivered one at a time after the kill each read their
# order first, against getBusinessOrders' 10,000 an hour: some are
# throttled by our limiter a few times, and a throttled retry counts as an
# attempt. Retries here converge in seconds (not at the 5 minutes' cap) and
# are not dead-lettered by throttling alone.
[queue]
max_backoff = "30s"
max_attempts = 200
)",
                                                                                    *port));
  options.files["admin-token"] = kToken;
  testutil::MarketplaceE2e e2e(options);
  e2e.Start();
  // Every order pulled, awaiting the seller.
  testutil::FinalStatuses started;
  for (int i = 0; i < kOrders; ++i) started[std::to_string(kFirstId + i)] = "PROCESSING/STARTED";
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(started); }, seconds(120)))
      << e2e.Differences(started) << e2e.child().Output();

  // The CRM's commands, as sellers work: ten requests of 100 orders (nine
  // of ships, one of cancels), each after the one before has been acted on.
  // The daemon is SIGKILLed while it delivers the fifth: those in flight are
  // redelivered one at a time after the restart (the queue's poison rule),
  // each reading its order first (getBusinessOrders, 10,000 an hour shared
  // with the pull), and the ones Market already moved are not written again.
  testing::ClientThread http(seconds(10));
  auto post = [&](const std::string& command, int from, int to) {
    json items = json::array();
    for (int i = from; i < to; ++i) items.push_back({{"order_id", kFirstId + i}});
    net::OutboundRequest r;
    r.method = "POST";
    r.url = fmt::format("http://127.0.0.1:{}/api/v1/commands", *port);
    r.headers.Set("Authorization", "Bearer " + kToken);
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Idempotency-Key", fmt::format("e2e-{}-{}", command, from));
    r.body = json{{"target", "ym-main"}, {"command", command}, {"items", items}}.dump();
    for (int tries = 0; tries < 50; ++tries) {  // the daemon may be restarting
      auto answer = http.client().SendBlocking(r);
      if (answer.ok() && answer->status < 300) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "POST /api/v1/commands " << command << " " << from << " failed";
  };
  auto moved_of = [&](int from, int to) {
    const auto statuses = sim.OrderStatuses(false);
    int n = 0;
    for (int i = from; i < to; ++i) {
      n += statuses.at(std::to_string(kFirstId + i)) != "PROCESSING/STARTED";
    }
    return n;
  };
  auto moved = [&] { return moved_of(0, kOrders); };
  for (int chunk = 0; chunk < kOrders / 100; ++chunk) {
    const int from = chunk * 100, to = from + 100;
    post(from < kShipped ? "ship" : "cancel", from, to);
    if (chunk == 4) {
      ASSERT_TRUE(e2e.WaitUntil([&] { return moved_of(from, to) > 0; }, seconds(120)))
          << e2e.child().Output();
      e2e.child().Signal(SIGKILL);
      e2e.child().Wait(std::chrono::milliseconds(10000));
      fmt::print("killed with {} of the fifth request's 100 orders moved\n", moved_of(from, to));
      e2e.Start();
    }
    ASSERT_TRUE(e2e.WaitUntil([&] { return moved_of(from, to) == 100; }, seconds(240)))
        << chunk << ": " << moved_of(from, to) << "\n" << e2e.child().Output();
  }

  // The simulator's final states equal the commands, and crm.db has pulled
  // them back.
  testutil::FinalStatuses commanded;
  for (int i = 0; i < kOrders; ++i) {
    commanded[std::to_string(kFirstId + i)] =
        i < kShipped ? "PROCESSING/READY_TO_SHIP" : "CANCELLED/SHOP_FAILED";
  }
  ASSERT_TRUE(e2e.WaitUntil([&] { return sim.OrderStatuses(false) == commanded; }, seconds(420)))
      << moved() << "\n" << e2e.child().Output();
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(commanded); }, seconds(120)))
      << e2e.Differences(commanded);
  // Each command's outcome in crm.db's journal: the order's entry at
  // STARTED, then at the status the command asked for.
  const auto journal = JournalStatuses(e2e.dir() / "data/crm.db");
  int missing = 0;
  for (const auto& [id, status] : commanded) {
    auto it = journal.find(id);
    const bool ok = it != journal.end() && !it->second.empty() && it->second.back() == status &&
                    it->second.front() == "PROCESSING/STARTED";
    missing += !ok;
    if (!ok && missing < 5) ADD_FAILURE() << id << ": journal does not end at " << status;
  }
  EXPECT_EQ(missing, 0);
  // Nothing sent twice: each order in exactly one status write Market acted
  // on (answered, or held by a timeout or slow fault after acting).
  static const std::regex kStatusUpdate(R"(/v2/campaigns/\d+/orders/status-update)");
  std::map<int64_t, int> writes;
  int faulted = 0;
  for (const auto& r : sim.log().Snapshot()) {
    if (!std::regex_match(r.path, kStatusUpdate)) continue;
    if (r.fault == simkit::Fault::k429 || r.fault == simkit::Fault::k500 ||
        r.fault == simkit::Fault::k503) {
      ++faulted;
      continue;
    }
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) continue;
    for (const json& o : body["orders"]) ++writes[o["id"].get<int64_t>()];
  }
  EXPECT_EQ(writes.size(), static_cast<size_t>(kOrders));
  int twice = 0;
  for (const auto& [id, n] : writes) twice += n != 1;
  EXPECT_EQ(twice, 0);
  EXPECT_GT(faulted, 0) << "faults hit the status writes too";
  EXPECT_EQ(sim.log().dropped(), 0u) << "the log holds every request";
  testutil::ExpectInjectedFaults(sim.log());
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(std::chrono::milliseconds(30000)), 0) << e2e.child().Output();
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
