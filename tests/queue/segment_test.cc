// The segment layout of the SQLite queue (schema 4, queue/sqlite_writer.h):
// one segments row per lane per group commit, settlements as a per-segment
// bitmap, the segment gone once all its messages are settled, dedup keys
// kept beside it for dedup_retention and checked from memory. These tests
// look at the file itself where the layout is the point, and reopen the
// queue (or kill the process holding it) where the index rebuilt at open is.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "queue/paths.h"
#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using testing::Keys;
using testing::Msg;
using testing::TempDir;

class SegmentTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteQueue> Open(std::chrono::milliseconds retention = hours(24 * 7)) {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.dedup_retention = retention;
    options.maintenance_interval = std::chrono::milliseconds(0);
    options.jitter = [](int64_t max_ms) { return max_ms; };
    auto q = SqliteQueue::Open(clock_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  // SELECT COUNT(*) FROM `table`, on a connection of its own.
  int64_t Count(const std::string& table) {
    sqlite3* db = nullptr;
    sqlite3_open(QueueDbPath(dir_.path()).c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, ("SELECT COUNT(*) FROM " + table).c_str(), -1, &st, nullptr);
    const int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  static std::vector<NewMessage> Batch(const std::string& lane, int n,
                                       const std::string& prefix = "k") {
    std::vector<NewMessage> batch;
    for (int i = 0; i < n; ++i) batch.push_back(Msg(lane, prefix + std::to_string(i)));
    return batch;
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_F(SegmentTest, OneCommitWritesOneSegmentPerLaneAndAllSettledDeletesIt) {
  auto q = Open();
  ASSERT_NE(q, nullptr);
  std::vector<NewMessage> batch = Batch("in.a", 60);
  for (NewMessage& m : Batch("in.b", 40, "b")) batch.push_back(std::move(m));
  ASSERT_TRUE(q->EnqueueBatch(std::move(batch)).ok());
  EXPECT_EQ(Count("segments"), 2) << "one row per lane, not per message";
  EXPECT_EQ(Count("segment_keys"), 1) << "the commit's keys in one row";
  EXPECT_EQ(Count("messages"), 0);

  auto a = q->Lease("in.a", 100, seconds(30));
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 60u);
  std::vector<LeaseToken> first_half;
  for (size_t i = 0; i < 30; ++i) first_half.push_back((*a)[i].lease);
  for (const Status& st : q->AckBatch(first_half)) ASSERT_TRUE(st.ok());
  EXPECT_EQ(Count("segments"), 2);
  EXPECT_EQ(Count("segment_settled"), 1) << "a partly settled segment has its bitmap";
  std::vector<LeaseToken> rest;
  for (size_t i = 30; i < 60; ++i) rest.push_back((*a)[i].lease);
  for (const Status& st : q->AckBatch(rest)) ASSERT_TRUE(st.ok());
  EXPECT_EQ(Count("segments"), 1) << "in.a's segment went with its last message";
  EXPECT_EQ(Count("segment_settled"), 0);
  EXPECT_EQ(Count("segment_keys"), 1) << "its dedup keys stay";
  EXPECT_EQ(q->Depth(), 40);
}

// Some messages of a segment acked, some retried, some failed, some left
// leased; the queue reopened: exactly the unsettled ones are there, each
// once, the retried ones with their error and their backoff.
TEST_F(SegmentTest, PartialSettlementSurvivesARestart) {
  std::set<std::string> acked, retried, failed, leased_only;
  {
    auto q = Open();
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->EnqueueBatch(Batch("in.a", 40)).ok());
    auto leased = q->Lease("in.a", 40, seconds(30));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 40u);
    std::vector<Settlement> settle;
    for (size_t i = 0; i < leased->size(); ++i) {
      const Leased& l = (*leased)[i];
      switch (i % 4) {
        case 0:
          settle.push_back(Settlement::Ack(l.lease));
          acked.insert(l.message.idempotency_key);
          break;
        case 1:
          settle.push_back(Settlement::Retry(l.lease, "503", clock_.Now() + seconds(60)));
          retried.insert(l.message.idempotency_key);
          break;
        case 2:
          settle.push_back(Settlement::Fail(l.lease, "422"));
          failed.insert(l.message.idempotency_key);
          break;
        default:
          leased_only.insert(l.message.idempotency_key);
      }
    }
    for (const Status& st : q->Settle(settle)) ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(q->Depth(), 20);
  }
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Depth(), 20);
  auto due = q->Lease("in.a", 100, seconds(30));
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(Keys(*due), leased_only) << "the leased ones are due again; the retried wait";
  for (const Leased& l : *due) {
    EXPECT_EQ(l.message.attempts, 1);
    EXPECT_TRUE(q->Ack(l.lease).ok());
  }
  clock_.Advance(seconds(61));
  auto later = q->Lease("in.a", 100, seconds(30));
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(Keys(*later), retried);
  for (const Leased& l : *later) {
    EXPECT_EQ(l.message.attempts, 2);
    EXPECT_EQ(l.message.first_error, "503");
    EXPECT_EQ(l.message.last_error, "503");
  }
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  std::set<std::string> dead_keys;
  for (const DeadLetter& d : *dead) dead_keys.insert(d.idempotency_key);
  EXPECT_EQ(dead_keys, failed);
  for (const std::string& key : acked) {
    EXPECT_EQ(q->Enqueue(Msg("in.a", key)).value(), EnqueueOutcome::kDuplicate) << key;
  }
}

// A process killed in the middle of a segment's life (some settled, some
// leased, one retried into the next commit's segment) leaves a file whose
// reopen hands out every unsettled message once and none of the settled.
TEST_F(SegmentTest, AKillMidSegmentLosesAndResurrectsNothing) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto q = Open();
    if (q == nullptr) _exit(2);
    if (!q->EnqueueBatch(Batch("in.a", 50)).ok()) _exit(3);
    auto leased = q->Lease("in.a", 30, seconds(30));
    if (!leased.ok() || leased->size() != 30) _exit(4);
    std::vector<Settlement> settle;
    for (size_t i = 0; i < 20; ++i) settle.push_back(Settlement::Ack((*leased)[i].lease));
    settle.push_back(Settlement::Retry((*leased)[20].lease, "timeout"));
    for (const Status& st : q->Settle(settle)) {
      if (!st.ok()) _exit(5);
    }
    // Report what was settled, then die without closing anything.
    std::string report;
    for (size_t i = 0; i < 21; ++i) report += (*leased)[i].message.idempotency_key + "\n";
    if (write(fds[1], report.data(), report.size()) != static_cast<ssize_t>(report.size())) {
      _exit(6);
    }
    raise(SIGKILL);
    _exit(7);
  }
  close(fds[1]);
  std::string report;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) report.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  std::set<std::string> acked;
  std::string retried;
  size_t at = 0;
  for (int line = 0; line < 21; ++line) {
    const size_t end = report.find('\n', at);
    ASSERT_NE(end, std::string::npos);
    std::string key = report.substr(at, end - at);
    if (line < 20) {
      acked.insert(std::move(key));
    } else {
      retried = std::move(key);
    }
    at = end + 1;
  }

  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Depth(), 30);
  clock_.Advance(hours(1));  // past any backoff
  auto all = q->Lease("in.a", 100, seconds(30));
  ASSERT_TRUE(all.ok());
  const std::set<std::string> keys = Keys(*all);
  EXPECT_EQ(keys.size(), 30u);
  EXPECT_EQ(all->size(), 30u) << "each once";
  for (const std::string& key : acked) EXPECT_EQ(keys.count(key), 0u) << key;
  EXPECT_EQ(keys.count(retried), 1u);
  for (const Leased& l : *all) {
    if (l.message.idempotency_key == retried) {
      EXPECT_EQ(l.message.last_error, "timeout");
    }
  }
  auto check = q->IntegrityCheck();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(*check, "ok");
}

TEST_F(SegmentTest, DedupHoldsAfterARestartAlsoOnceTheSegmentWent) {
  {
    auto q = Open();
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "delivered")).ok());
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "queued")).ok());
    auto leased = q->Lease("in.a", 1, seconds(30));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 1u);
    ASSERT_EQ((*leased)[0].message.idempotency_key, "delivered");
    ASSERT_TRUE(q->Ack((*leased)[0].lease).ok());
  }
  EXPECT_EQ(Count("segments"), 1);
  auto q = Open();
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "delivered")).value(), EnqueueOutcome::kDuplicate);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "queued")).value(), EnqueueOutcome::kDuplicate);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "queued", "{}", "", "other-source")).value(),
            EnqueueOutcome::kAccepted)
      << "keys are per source";
  EXPECT_EQ(q->Depth(), 2);
}

TEST_F(SegmentTest, DedupKeysExpireBySegmentAgeAndTheirRowsGo) {
  {
    auto q = Open(hours(1));
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "old")).ok());
    clock_.Advance(std::chrono::minutes(30));
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "newer")).ok());
    EXPECT_EQ(Count("segment_keys"), 2);
    clock_.Advance(std::chrono::minutes(31));  // "old" is 61 minutes old
    auto pruned = q->RunMaintenance();
    ASSERT_TRUE(pruned.ok());
    EXPECT_EQ(*pruned, 1);
    EXPECT_EQ(Count("segment_keys"), 1) << "the older commit's keys went";
    EXPECT_EQ(q->Depth(), 2) << "the messages themselves stay";
    EXPECT_EQ(q->Enqueue(Msg("in.a", "newer")).value(), EnqueueOutcome::kDuplicate);
  }
  auto q = Open(hours(1));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "old")).value(), EnqueueOutcome::kAccepted)
      << "past the retention window, also after a restart";
  EXPECT_EQ(q->Enqueue(Msg("in.a", "newer")).value(), EnqueueOutcome::kDuplicate);
  EXPECT_EQ(q->Depth(), 3);
}

// `crmhub dlq replay` beside a running daemon: another connection writes a
// segment; the daemon's queue takes it in at its next transaction and keeps
// the leases it holds.
TEST_F(SegmentTest, AnotherProcessesReplayIsSeenAndLeasesSurviveIt) {
  auto daemon = Open();
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(daemon->EnqueueBatch(Batch("in.a", 3)).ok());
  auto leased = daemon->Lease("in.a", 2, seconds(30));
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 2u);
  ASSERT_TRUE(daemon->Fail((*leased)[0].lease, "bad").ok());
  {
    auto cli = Open();
    ASSERT_NE(cli, nullptr);
    ASSERT_TRUE(cli->ReplayDeadLetter((*leased)[0].message.id).ok());
  }
  auto again = daemon->Lease("in.a", 10, seconds(30));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Keys(*again), (std::set<std::string>{"k0", "k2"}))
      << "the replayed one and the one never leased; k1 is still leased";
  EXPECT_TRUE(daemon->Ack((*leased)[1].lease).ok()) << "its lease survived the rebuild";
  for (const Leased& l : *again) EXPECT_TRUE(daemon->Ack(l.lease).ok());
  EXPECT_EQ(daemon->Depth(), 0);
  EXPECT_EQ(Count("segments"), 0);
}

}  // namespace
}  // namespace crmhub::queue
