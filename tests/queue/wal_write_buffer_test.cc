// The queue's WAL writes go through the gathering VFS
// (queue/wal_write_buffer.h): a commit reaches the file system in a few large
// writes, and is in the file, for every other connection and after a reopen,
// once the commit returns.

#include "queue/wal_write_buffer.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "queue/paths.h"
#include "queue/sqlite_queue.h"
#include "tests/queue/failing_vfs.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

SqliteQueueOptions Through(const TempDir& dir, const testing::FailingVfs& vfs) {
  SqliteQueueOptions options;
  options.data_dir = dir.path();
  options.vfs_name = vfs.name();
  options.maintenance_interval = milliseconds(0);
  return options;
}

// Rows of `table` in queue.db, read on a connection of SQLite's own VFS
// (its own file handles): what any other process would see.
int64_t RowsSeenElsewhere(const TempDir& dir, const char* table) {
  sqlite3* db = nullptr;
  const std::string path = QueueDbPath(dir.path()).string();
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = std::string("SELECT count(*) FROM ") + table;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t rows = -1;
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) rows = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

TEST(WalWriteBufferTest, ACommitReachesTheFileInAFewWritesAndIsSeenAtOnce) {
  TempDir dir;
  ManualClock clock;
  testing::FailingVfs vfs("crmhub-gather-count");
  auto opened = SqliteQueue::Open(clock, Through(dir, vfs));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto q = std::move(opened).value();

  // One commit of about 300 KiB: some 75 pages, so SQLite makes about 150
  // frame writes (a header and a page each).
  std::vector<NewMessage> batch;
  for (int i = 0; i < 150; ++i) {
    NewMessage m = Msg("in.a", "k" + std::to_string(i));
    m.payload.assign(2048, static_cast<char>('a' + i % 26));
    batch.push_back(std::move(m));
  }
  const int writes_before = vfs.writes();
  ASSERT_TRUE(q->EnqueueBatch(std::move(batch)).ok());
  const int writes = vfs.writes() - writes_before;
  // Pieces of 64 KiB: 5 or 6 for the commit; the bound leaves room for a
  // page of the database file, never for one write per frame.
  EXPECT_GE(writes, 1);
  EXPECT_LE(writes, 12) << "the commit's frames were not gathered";

  // Another connection, through SQLite's own VFS, sees the commit at once.
  EXPECT_GE(RowsSeenElsewhere(dir, "segments"), 1);

  // And a reopened queue finds every message, byte for byte.
  q.reset();
  auto again = SqliteQueue::Open(clock, Through(dir, vfs));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  auto leased = (*again)->Lease("in.a", 1000, seconds(30));
  ASSERT_TRUE(leased.ok()) << leased.status().ToString();
  ASSERT_EQ(leased->size(), 150u);
  for (const Leased& l : *leased) {
    const int i = std::stoi(l.message.idempotency_key.substr(1));
    EXPECT_EQ(l.message.payload, std::string(2048, static_cast<char>('a' + i % 26)))
        << l.message.idempotency_key;
  }
}

TEST(WalWriteBufferTest, OneVfsPerBaseObjectEvenUnderAReusedName) {
  std::string first, second;
  {
    testing::FailingVfs vfs("crmhub-gather-reused");
    auto name = internal::WalWriteBufferVfs(vfs.name());
    ASSERT_TRUE(name.ok()) << name.status().ToString();
    first = *name;
    auto same = internal::WalWriteBufferVfs(vfs.name());
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(*same, first);  // registered once
    ASSERT_NE(sqlite3_vfs_find(first.c_str()), nullptr);
    EXPECT_EQ(sqlite3_vfs_find(first.c_str())->pAppData, sqlite3_vfs_find(vfs.name().c_str()));
  }
  std::vector<std::unique_ptr<testing::FailingVfs>> keep;  // a new object, the same name
  keep.push_back(std::make_unique<testing::FailingVfs>("crmhub-gather-reused"));
  auto name = internal::WalWriteBufferVfs(keep.back()->name());
  ASSERT_TRUE(name.ok());
  second = *name;
  // Whatever the new object's address, the VFS found by the name forwards
  // to it, not to the one destroyed above.
  EXPECT_EQ(sqlite3_vfs_find(second.c_str())->pAppData,
            sqlite3_vfs_find(keep.back()->name().c_str()));
  EXPECT_FALSE(internal::WalWriteBufferVfs("no-such-vfs").ok());
}

}  // namespace
}  // namespace crmhub::queue
