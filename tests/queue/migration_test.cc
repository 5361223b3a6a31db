// Queue files written by earlier versions open and keep their messages:
// schema 1 (before messages.crashes), schema 2 (leases in the message rows)
// and schema 3 (one row per message, leases in lease_batches), built here
// with the SQL those versions ran. Their rows become segments (schema 4), and
// their leases a lease batch, so the poison rule still counts them at the
// daemon's next start, and they are due again at once.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <string>

#include "queue/paths.h"
#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using testing::Msg;
using testing::TempDir;

// The tables of schema 1; schema 2 adds messages.crashes.
constexpr const char* kSchema1 = R"sql(
PRAGMA auto_vacuum=INCREMENTAL;
PRAGMA journal_mode=WAL;
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, lane TEXT NOT NULL, source TEXT NOT NULL,
  idem_key TEXT NOT NULL, ordering_key TEXT NOT NULL DEFAULT '', headers BLOB,
  payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, first_error TEXT,
  last_error TEXT, history BLOB, created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL, lease_token INTEGER NOT NULL DEFAULT 0);
CREATE INDEX messages_due ON messages(lane, next_attempt_at);
CREATE INDEX messages_order ON messages(lane, ordering_key) WHERE ordering_key <> '';
CREATE TABLE dedup (source TEXT NOT NULL, idem_key TEXT NOT NULL,
  accepted_at INTEGER NOT NULL, PRIMARY KEY (source, idem_key)) WITHOUT ROWID;
CREATE INDEX dedup_age ON dedup(accepted_at);
CREATE TABLE dead_letters (id INTEGER PRIMARY KEY, lane TEXT NOT NULL, source TEXT NOT NULL,
  idem_key TEXT NOT NULL, ordering_key TEXT NOT NULL DEFAULT '', headers BLOB,
  payload BLOB NOT NULL, attempts INTEGER NOT NULL, reason TEXT NOT NULL, history BLOB,
  created_at INTEGER NOT NULL, failed_at INTEGER NOT NULL);
CREATE INDEX dead_letters_failed ON dead_letters(failed_at);
CREATE INDEX dead_letters_lane ON dead_letters(lane, id);
CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL,
  updated_at INTEGER NOT NULL) WITHOUT ROWID;
)sql";

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
}

class MigrationTest : public ::testing::TestWithParam<int> {
 protected:
  // An old file with: "ready" due, "leased" under a live lease (token 77,
  // expiring in an hour, attempts already counted), "later" delayed by a
  // retry; their dedup records, a cursor, and a dead letter.
  void WriteOldFile(int version) {
    const int64_t now = ToUnixMillis(clock_.Now());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(QueueDbPath(dir_.path()).c_str(), &db), SQLITE_OK);
    Exec(db, kSchema1);
    if (version >= 2)
      Exec(db, "ALTER TABLE messages ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0");
    // Schema 3 keeps the row of a leased message as it was (due, attempts
    // not counted) and names it in a lease_batches row (ids, i64 LE).
    if (version == 3) {
      Exec(db,
           "CREATE TABLE lease_batches (id INTEGER PRIMARY KEY, ids BLOB NOT NULL);"
           "INSERT INTO lease_batches(ids) VALUES (x'0200000000000000')");
    }
    const std::string n = std::to_string(now);
    const std::string leased = version == 3
                                   ? "0, " + n + ", " + n + ", 0"
                                   : "1, " + n + ", " + std::to_string(now + 3600000) + ", 77";
    Exec(db,
         "INSERT INTO messages(lane, source, idem_key, payload, attempts, created_at, "
         "next_attempt_at, lease_token) VALUES "
         "('in.x', 'src', 'ready', 'p-ready', 0, " +
             n + ", " + n +
             ", 0), "
             "('in.x', 'src', 'leased', 'p-leased', " +
             leased +
             "), "
             "('in.x', 'src', 'later', 'p-later', 1, " +
             n + ", " + std::to_string(now + 60000) + ", 0)");
    Exec(db, "INSERT INTO dedup VALUES ('src', 'ready', " + n + "), ('src', 'leased', " + n +
                 "), ('src', 'later', " + n + "), ('src', 'done', " + n + ")");
    Exec(db, "INSERT INTO state VALUES ('cursor/x', 'c-42', " + n + ")");
    Exec(db,
         "INSERT INTO dead_letters VALUES (9, 'in.x', 'src', 'dead', '', NULL, 'p-dead', 3, "
         "'400', NULL, " +
             n + ", " + n + ")");
    Exec(db, "PRAGMA user_version=" + std::to_string(version));
    sqlite3_close(db);
  }

  std::unique_ptr<SqliteQueue> Open() {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.poison_after = 2;
    options.maintenance_interval = std::chrono::milliseconds(0);
    auto q = SqliteQueue::Open(clock_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_P(MigrationTest, AnOldFileOpensAndKeepsEverything) {
  WriteOldFile(GetParam());
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Depth(), 3);
  EXPECT_EQ(q->GetState("cursor/x").value(), std::optional<std::string>("c-42"));
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].payload, "p-dead");
  // Dedup records came along: a repeat of a delivered or queued key is a duplicate.
  EXPECT_EQ(q->Enqueue(Msg("in.x", "done")).value(), EnqueueOutcome::kDuplicate);
  EXPECT_EQ(q->Enqueue(Msg("in.x", "leased")).value(), EnqueueOutcome::kDuplicate);

  // The old lease was in flight when its process ended: it is due at once
  // (not at its hour-long expiry), and counted by the poison rule, so it
  // goes alone: the lease stops before it, and the next one is it alone.
  auto first = q->Lease("in.x", 10, std::chrono::seconds(30));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].message.payload, "p-ready");
  ASSERT_TRUE(q->Ack((*first)[0].lease).ok());
  auto suspect = q->Lease("in.x", 10, std::chrono::seconds(30));
  ASSERT_TRUE(suspect.ok());
  ASSERT_EQ(suspect->size(), 1u);
  EXPECT_EQ((*suspect)[0].message.payload, "p-leased");
  EXPECT_EQ((*suspect)[0].message.attempts, 2);
  ASSERT_TRUE(q->Ack((*suspect)[0].lease).ok());
  clock_.Advance(std::chrono::minutes(1));
  auto later = q->Lease("in.x", 10, std::chrono::seconds(30));
  ASSERT_TRUE(later.ok());
  ASSERT_EQ(later->size(), 1u);
  EXPECT_EQ((*later)[0].message.payload, "p-later");
  const int64_t later_id = (*later)[0].message.id;
  EXPECT_EQ(later_id, 3) << "a message keeps its id";
  ASSERT_TRUE(q->Retry((*later)[0].lease, "503").ok());
  // A new message gets an id the old file never handed out (dead letter 9).
  ASSERT_EQ(q->Enqueue(Msg("in.y", "fresh")).value(), EnqueueOutcome::kAccepted);
  auto fresh = q->Lease("in.y", 10, std::chrono::seconds(30));
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_GT((*fresh)[0].message.id, 9);
  q.reset();

  // Reopened, the retried message is still there, with its history.
  q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Depth(), 2);
  clock_.Advance(std::chrono::hours(1));
  auto retried = q->Lease("in.x", 10, std::chrono::seconds(30));
  ASSERT_TRUE(retried.ok());
  ASSERT_EQ(retried->size(), 1u);
  EXPECT_EQ((*retried)[0].message.id, later_id);
  EXPECT_EQ((*retried)[0].message.last_error, "503");
  q.reset();

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(QueueDbPath(dir_.path()).c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 4);
  sqlite3_finalize(st);
  // The rows became segments: none is left in the old table.
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT (SELECT COUNT(*) FROM messages), "
                               "(SELECT COUNT(*) FROM segments)",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  EXPECT_GT(sqlite3_column_int(st, 1), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

INSTANTIATE_TEST_SUITE_P(Schemas, MigrationTest, ::testing::Values(1, 2, 3),
                         [](const ::testing::TestParamInfo<int>& param_info) {
                           return "Schema" + std::to_string(param_info.param);
                         });

}  // namespace
}  // namespace crmhub::queue
