// Reconciliation on a small hand-made store with known differences, and the
// `crmhub reconcile` command on the same data (real child process).

#include "crm/reconcile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>

#include "crm/sqlite_store.h"
#include "queue/sqlite_queue.h"
#include "queue/sqlite_schema.h"
#include "tests/crm/crm_test_util.h"

namespace crmhub::crm {
namespace {

using testing::Event;
using ::testing::HasSubstr;
using testing::Order;

void Exec(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << "\n" << sql;
  sqlite3_free(err);
  sqlite3_close(raw);
}

// ManualClock starts at 1'700'000'000 s = 2023-11-14T22:13:20Z.
constexpr const char* kDay1 = "2023-11-14";
constexpr const char* kDay2 = "2023-11-15";

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteCrmStore::Open({.path = dir_.path() / "crm.db"}, clock_).value();
    ASSERT_TRUE(
        store
            ->Apply({Event("ozon", "1",
                           {Order("ozon", "A", 1, "new", 100), Order("ozon", "B", 1, "new", 250)}),
                     Event("wb", "2", {Order("wb", "W", 1, "new", 700)})})
            .at(0)
            .ok());
    // A later status change of A (new amount) is still A, received on day 1.
    ASSERT_TRUE(
        store->Apply({Event("ozon", "3", {Order("ozon", "A", 2, "paid", 120)})}).at(0).ok());
    clock_.Advance(std::chrono::hours(24));
    SinkEvent day2 = Event("ozon", "4", {Order("ozon", "C", 1, "new", 5)});
    day2.received_at = clock_.Now();
    ASSERT_TRUE(store->Apply({day2}).at(0).ok());
  }

  Result<ReconcileReport> Run(std::optional<std::string> since = {}) {
    ReconcileOptions options;
    options.crm_db = dir_.path() / "crm.db";
    options.queue_db = dir_.path() / "queue.db";
    options.since = std::move(since);
    return Reconcile(options);
  }

  // Edits behind the hub's back.
  void EditTheStore() {
    Exec(dir_.path() / "crm.db",
         "DELETE FROM orders WHERE source = 'ozon' AND external_id = 'B';"
         "UPDATE orders SET amount_minor = 701 WHERE source = 'wb';");
  }

  // The store's edits, and a queue.db written by the real engine on day 1
  // with one pending and one dead inbound message of ozon, one delivered
  // inbound message and one outbound message (neither may count).
  void MakeDifferences() {
    EditTheStore();
    ManualClock day1;  // 2023-11-14, as clock_ started
    auto q = queue::SqliteQueue::Open(day1, {.path = dir_.path() / "queue.db"});
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    auto message = [](std::string lane, std::string key) {
      return queue::NewMessage{.lane = std::move(lane),
                               .source = "ozon",
                               .idempotency_key = std::move(key),
                               .payload = "{}"};
    };
    std::vector<queue::NewMessage> batch;
    batch.push_back(message("in.ozon", "d1"));
    batch.push_back(message("in.ozon", "a1"));
    batch.push_back(message("in.ozon", "p1"));
    batch.push_back(message("out.ozon", "o1"));
    ASSERT_TRUE((*q)->EnqueueBatch(std::move(batch)).ok());
    auto leased = (*q)->Lease("in.ozon", 2, std::chrono::minutes(1));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 2u);
    ASSERT_EQ(leased->at(0).message.idempotency_key, "d1");
    ASSERT_TRUE((*q)->Fail(leased->at(0).lease, "HTTP 422").ok());
    ASSERT_TRUE((*q)->Ack(leased->at(1).lease).ok());
  }

  testing::TempDir dir_;
  ManualClock clock_;
};

TEST_F(ReconcileTest, CleanStoreHasNoDifferences) {
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_FALSE(report->queue_checked);  // no queue.db
  ASSERT_EQ(report->rows.size(), 3u);
  const ReconcileRow& ozon1 = report->rows[0];
  EXPECT_EQ(ozon1.source, "ozon");
  EXPECT_EQ(ozon1.day, kDay1);
  EXPECT_EQ(ozon1.events, 2);
  EXPECT_EQ(ozon1.received, 2);
  EXPECT_EQ(ozon1.in_crm, 2);
  EXPECT_EQ(ozon1.amount_received_minor, 370);  // A's latest 120 + B's 250
  EXPECT_EQ(ozon1.amount_in_crm_minor, 370);
  EXPECT_FALSE(ozon1.pending.has_value());
  EXPECT_EQ(report->rows[1].day, kDay2);
  EXPECT_EQ(report->rows[1].received, 1);
  EXPECT_EQ(report->rows[1].events, 1);
  EXPECT_EQ(report->rows[2].source, "wb");
  EXPECT_FALSE(report->has_differences());
}

TEST_F(ReconcileTest, FindsMissingRowsAmountsAndQueueLeftovers) {
  MakeDifferences();
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->queue_checked);
  ASSERT_EQ(report->rows.size(), 3u);

  const ReconcileRow& ozon1 = report->rows[0];
  EXPECT_EQ(ozon1.received, 2);
  EXPECT_EQ(ozon1.in_crm, 1);
  EXPECT_EQ(ozon1.amount_received_minor, 370);
  EXPECT_EQ(ozon1.amount_in_crm_minor, 120);
  EXPECT_EQ(ozon1.pending, 1);  // the outbound message is not counted
  EXPECT_EQ(ozon1.dead, 1);
  EXPECT_EQ(ozon1.difference, 3);
  EXPECT_TRUE(ozon1.differs());

  EXPECT_FALSE(report->rows[1].differs());  // ozon day 2
  EXPECT_EQ(report->rows[1].pending, 0);

  const ReconcileRow& wb = report->rows[2];
  EXPECT_EQ(wb.difference, 0);
  EXPECT_EQ(wb.amount_received_minor, 700);
  EXPECT_EQ(wb.amount_in_crm_minor, 701);
  EXPECT_TRUE(wb.differs());

  nlohmann::json j = ReconcileJson(*report);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["source"], "ozon");
  EXPECT_EQ(j[0]["amount_in_crm_minor"], 120);
  EXPECT_EQ(j[0]["dead"], 1);
  EXPECT_EQ(j[0]["difference"], 3);
  std::string table = ReconcileTable(*report);
  EXPECT_THAT(table, HasSubstr("DIFFERENCE"));
  EXPECT_THAT(table, HasSubstr("3 rows, 2 with differences"));

  // --since drops day 1.
  auto since = Run(std::string(kDay2));
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->rows.size(), 1u);
  EXPECT_FALSE(since->has_differences());
}

// A queue file from before schema 4 that no daemon has migrated yet keeps
// its messages as rows; they count as pending just the same.
TEST_F(ReconcileTest, CountsTheRowsOfAnUnmigratedQueueFile) {
  const std::string day1_ms = "1700000000000";
  Exec(dir_.path() / "queue.db",
       "CREATE TABLE messages (id INTEGER PRIMARY KEY, lane TEXT, source TEXT, "
       "  idem_key TEXT, payload BLOB, created_at INTEGER, next_attempt_at INTEGER);"
       "CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, lane TEXT, source TEXT, "
       "  created_at INTEGER);"
       "INSERT INTO messages (lane, source, idem_key, payload, created_at, next_attempt_at) "
       "  VALUES ('in.ozon', 'ozon', 'p1', x'00', " +
           day1_ms + ", 0), ('in.ozon', 'ozon', 'p2', x'00', " + day1_ms +
           ", 0), ('out.ozon', 'ozon', 'o1', x'00', " + day1_ms + ", 0);");
  auto report = Run();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->queue_checked);
  ASSERT_EQ(report->rows.size(), 3u);
  EXPECT_EQ(report->rows[0].pending, 2);
  EXPECT_EQ(report->rows[0].dead, 0);
}

TEST_F(ReconcileTest, BadInputs) {
  EXPECT_EQ(Run(std::string("2023-13-01")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Run(std::string("yesterday")).status().code(), StatusCode::kInvalidArgument);
  ReconcileOptions options;
  options.crm_db = dir_.path() / "missing.db";
  EXPECT_EQ(Reconcile(options).status().code(), StatusCode::kNotFound);
}

// Runs `crmhub reconcile ARGS`; returns (exit code, stdout).
std::pair<int, std::string> RunCli(const std::string& args) {
  std::string cmd = std::string(CRMHUB_BINARY) + " reconcile " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST_F(ReconcileTest, CommandExitCodesAndJson) {
  const std::string dir = dir_.path().string();
  auto [clean_rc, clean_out] = RunCli("--data-dir " + dir);
  EXPECT_EQ(clean_rc, 0) << clean_out;
  EXPECT_THAT(clean_out, HasSubstr("3 rows, 0 with differences"));

  MakeDifferences();
  auto [rc, out] = RunCli("--json --data-dir " + dir);
  EXPECT_EQ(rc, 1) << out;
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << out;
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["received"], 2);
  EXPECT_EQ(j[0]["in_crm"], 1);
  EXPECT_EQ(j[0]["pending"], 1);

  EXPECT_EQ(RunCli("--since " + std::string(kDay2) + " --data-dir " + dir).first, 0);
  EXPECT_EQ(RunCli("--data-dir " + dir + "/nowhere").first, 2);
  EXPECT_EQ(RunCli("--since tomorrow --data-dir " + dir).first, 2);
  EXPECT_EQ(RunCli("").first, 2);
}

}  // namespace
}  // namespace crmhub::crm
