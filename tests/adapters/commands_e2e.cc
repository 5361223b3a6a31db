#include "tests/adapters/commands_e2e.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <thread>

#include "crm/sqlite_store.h"
#include "tests/support/client_thread.h"

namespace crmhub::testutil {

using nlohmann::json;
using std::chrono::seconds;

std::string CommandsE2eConfig(int admin_port, std::string_view initial_backoff,
                              std::string_view max_backoff) {
  return fmt::format(R"(
[admin]
listen = "127.0.0.1:{}"
token_file = "./admin-token"

# The commands redelivered one at a time after the kill each read their
# order first; some are throttled a few times, and a throttled retry counts
# as an attempt; with 20% faults a command of two requests fails one in
# three times. Retries here converge in seconds (not at the 5 minutes'
# cap) and are not dead-lettered by faults or throttling alone.
[queue]
initial_backoff = "{}"
max_backoff = "{}"
max_attempts = 200
)",
                     admin_port, initial_backoff, max_backoff);
}

std::map<std::string, std::vector<std::string>> JournalStatuses(const std::filesystem::path& db,
                                                                const std::string& source) {
  std::map<std::string, std::vector<std::string>> out;
  sqlite3* conn = nullptr;
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(conn,
                           "SELECT external_id, after FROM journal WHERE kind = 'order' AND "
                           "source = ?1 ORDER BY id",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(stmt, 1, source.c_str(), -1, SQLITE_TRANSIENT);
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        const std::string id(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
        const json after = json::parse(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
                                       nullptr, false);
        const json* fields =
            after.is_object() && after.contains("fields") ? &after["fields"] : &after;
        out[id].push_back(fields->is_object() && fields->contains("status") &&
                                  (*fields)["status"].is_string()
                              ? (*fields)["status"].get<std::string>()
                              : "?");
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(conn);
  return out;
}

void RunCommandsScenario(MarketplaceE2e& e2e, simkit::Simulator& sim, const CommandsE2eOptions& o) {
  const size_t n = o.orders.size();
  ASSERT_EQ(n % 100, 0u);
  // Every order pulled, awaiting the seller.
  FinalStatuses started;
  for (const std::string& id : o.orders) started[id] = o.started;
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(started); }, seconds(120)))
      << e2e.Differences(started) << e2e.child().Output();

  // The CRM's commands, as sellers work: requests of 100 orders, each after
  // the one before has been acted on. The daemon is SIGKILLed while it
  // delivers the fifth: those in flight are redelivered after the restart,
  // each reading its order first, and the ones already moved are not
  // written again.
  crmhub::testing::ClientThread http(seconds(10));
  auto post = [&](const std::string& command, size_t from, size_t to) {
    json items = json::array();
    for (size_t i = from; i < to; ++i) items.push_back(o.item(i));
    net::OutboundRequest r;
    r.method = "POST";
    r.url = fmt::format("http://127.0.0.1:{}/api/v1/commands", o.admin_port);
    r.headers.Set("Authorization", std::string("Bearer ") + kCommandsE2eToken);
    r.headers.Set("Content-Type", "application/json");
    r.headers.Set("Idempotency-Key", fmt::format("e2e-{}-{}", command, from));
    r.body = json{{"target", o.adapter_id}, {"command", command}, {"items", items}}.dump();
    for (int tries = 0; tries < 50; ++tries) {  // the daemon may be restarting
      auto answer = http.client().SendBlocking(r);
      if (answer.ok() && answer->status < 300) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ADD_FAILURE() << "POST /api/v1/commands " << command << " " << from << " failed";
  };
  auto moved_of = [&](size_t from, size_t to) {
    const auto statuses = sim.OrderStatuses(false);
    int moved = 0;
    for (size_t i = from; i < to; ++i) moved += statuses.at(o.orders[i]) != o.started;
    return moved;
  };
  for (size_t chunk = 0; chunk < n / 100; ++chunk) {
    const size_t from = chunk * 100, to = from + 100;
    post(from < o.shipped ? "ship" : "cancel", from, to);
    if (chunk == 4) {
      ASSERT_TRUE(e2e.WaitUntil([&] { return moved_of(from, to) > 0; }, seconds(120)))
          << e2e.child().Output();
      e2e.child().Signal(SIGKILL);
      e2e.child().Wait(std::chrono::milliseconds(10000));
      fmt::print("killed with {} of the fifth request's 100 orders moved\n", moved_of(from, to));
      e2e.Start();
    }
    ASSERT_TRUE(e2e.WaitUntil([&] { return moved_of(from, to) == 100; }, seconds(240)))
        << chunk << ": " << moved_of(from, to) << "\n"
        << e2e.child().Output();
  }

  // The simulator's final states equal the commands, and crm.db has pulled
  // them back.
  FinalStatuses commanded;
  for (size_t i = 0; i < n; ++i) {
    commanded[o.orders[i]] = i < o.shipped ? o.shipped_status : o.cancelled_status;
  }
  auto sim_states = [&] {
    FinalStatuses now;
    const auto statuses = sim.OrderStatuses(false);
    for (const std::string& id : o.orders) now[id] = statuses.at(id);
    return now;
  };
  ASSERT_TRUE(e2e.WaitUntil([&] { return sim_states() == commanded; }, seconds(120)))
      << moved_of(0, n) << "\n"
      << e2e.child().Output();
  ASSERT_TRUE(e2e.WaitUntil([&] { return e2e.AllFinalInStore(commanded); }, seconds(120)))
      << e2e.Differences(commanded);
  // Each command's outcome in crm.db's journal: the order's entry at the
  // status it was pulled at, then at the status the command asked for.
  const auto journal = JournalStatuses(e2e.dir() / "data/crm.db", o.adapter_id);
  int missing = 0;
  for (const auto& [id, status] : commanded) {
    auto it = journal.find(id);
    const bool ok = it != journal.end() && !it->second.empty() && it->second.back() == status &&
                    it->second.front() == o.started;
    missing += !ok;
    if (!ok && missing < 5)
      ADD_FAILURE() << id << ": journal does not go from " << o.started << " to " << status;
  }
  EXPECT_EQ(missing, 0);
  // Nothing sent twice: each order in exactly one write the system acted on.
  const std::map<std::string, int> writes = o.writes(sim.log().Snapshot());
  EXPECT_EQ(writes.size(), n);
  int twice = 0;
  for (const auto& [id, count] : writes) {
    if (count != 1 && ++twice < 5) ADD_FAILURE() << id << " written " << count << " times";
  }
  EXPECT_EQ(twice, 0);
  EXPECT_EQ(sim.log().dropped(), 0u) << "the log holds every request";
  ExpectInjectedFaults(sim.log());
  e2e.child().Signal(SIGTERM);
  EXPECT_EQ(e2e.child().Wait(std::chrono::milliseconds(30000)), 0) << e2e.child().Output();
}

void RunProductsScenario(MarketplaceE2e& e2e, const ProductsE2eOptions& o) {
  SystemClock clock;
  std::string missing;
  auto landed = [&] {
    crm::SqliteStoreOptions options;
    options.path = e2e.dir() / "data/crm.db";
    if (!std::filesystem::exists(options.path)) return false;
    auto store = crm::SqliteCrmStore::Open(options, clock);
    if (!store.ok()) return false;
    if ((*store)->Count(model::EntityKind::kProduct, o.adapter_id).value_or(0) !=
        static_cast<int64_t>(o.cards.size())) {
      missing = "count";
      return false;
    }
    for (const auto& [id, sku] : o.cards) {
      auto found = (*store)->Find(model::EntityKind::kProduct, o.adapter_id, id);
      if (!found.ok() || !found->has_value()) {
        missing = id;
        return false;
      }
      const json& fields = (*found)->entity.fields;
      const json offer_ids = fields.value("offer_ids", json::object());
      if (fields.value("sku", "") != sku || offer_ids.value(o.offer_key, "") != id) {
        missing = id + " (" + fields.dump() + ")";
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(e2e.WaitUntil(landed, seconds(120)))
      << "products in crm.db, first wrong: " << missing << "\n"
      << e2e.child().Output();

  crmhub::testing::ClientThread http(seconds(10));
  net::OutboundRequest r;
  r.method = "POST";
  r.url = fmt::format("http://127.0.0.1:{}/api/v1/commands", o.admin_port);
  r.headers.Set("Authorization", std::string("Bearer ") + kCommandsE2eToken);
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Idempotency-Key", "e2e-stock-by-sku");
  r.body = json{{"target", o.adapter_id},
                {"command", "set_stock"},
                {"items", json::array({o.stock_item})}}
               .dump();
  auto answer = http.client().SendBlocking(r);
  ASSERT_TRUE(answer.ok());
  ASSERT_LT(answer->status, 300) << answer->body;
  EXPECT_TRUE(e2e.WaitUntil(o.stock_reached, seconds(60))) << e2e.child().Output();
  e2e.child().Signal(SIGTERM);
  ASSERT_EQ(e2e.child().Wait(std::chrono::seconds(30)), 0) << e2e.child().Output();
}

}  // namespace crmhub::testutil
