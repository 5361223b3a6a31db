// Queue::Settle: every outcome of a leased batch (ack, retry, fail) in one
// durable commit, with a per-item answer.

#include <gtest/gtest.h>

#include <vector>

#include "queue/sqlite_queue.h"
#include "tests/queue/failing_vfs.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

class SettleTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteQueue> Open(const std::string& vfs_name = "") {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.maintenance_interval = milliseconds(0);
    options.jitter = [](int64_t cap) { return cap; };
    options.vfs_name = vfs_name;
    auto q = SqliteQueue::Open(clock_, std::move(options));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }
  void Fill(SqliteQueue& q, const std::string& lane, int n) {
    std::vector<NewMessage> batch;
    for (int i = 0; i < n; ++i) batch.push_back(Msg(lane, "k" + std::to_string(i)));
    ASSERT_TRUE(q.EnqueueBatch(std::move(batch)).ok());
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_F(SettleTest, MixedAckRetryFailInOneCallAnswersEachItem) {
  auto q = Open();
  Fill(*q, "in.a", 5);
  auto leased = q->Lease("in.a", 5, seconds(30));
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 5u);
  const auto& l = *leased;
  // Message 4's first lease is settled, so its token is stale by the call.
  ASSERT_TRUE(q->Ack(l[4].lease).ok());
  const LeaseToken forged{l[3].lease.message_id, l[3].lease.token + 1000};

  const std::vector<Settlement> settlements = {
      Settlement::Ack(l[0].lease),
      Settlement::Retry(l[1].lease, "429 slow down", clock_.Now() + seconds(60)),
      Settlement::Fail(l[2].lease, "400 bad order"),
      Settlement::Ack(forged),            // a token that never was: stale
      Settlement::Ack(l[4].lease),        // already settled: stale
      Settlement::Fail(l[0].lease, "x"),  // settled earlier in this very call: stale
  };
  const int64_t commits = q->commit_counters().commits;
  std::vector<Status> st = q->Settle(settlements);
  ASSERT_EQ(st.size(), settlements.size());
  EXPECT_TRUE(st[0].ok()) << st[0].ToString();
  EXPECT_TRUE(st[1].ok()) << st[1].ToString();
  EXPECT_TRUE(st[2].ok()) << st[2].ToString();
  EXPECT_EQ(st[3].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st[4].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st[5].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q->commit_counters().commits, commits + 1);

  // The stale items changed nothing: message 3 is still leased under its
  // real token, and settles with it.
  EXPECT_TRUE(q->Ack(l[3].lease).ok());
  // Message 1 is due again at not_before, with the error recorded.
  EXPECT_TRUE(q->Lease("in.a", 10, seconds(30))->empty());
  clock_.Advance(seconds(60));
  auto again = q->Lease("in.a", 10, seconds(30));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message.id, l[1].message.id);
  EXPECT_EQ((*again)[0].message.last_error, "429 slow down");
  // Message 2 is a dead letter with its reason; message 0 went (acked).
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, l[2].message.id);
  EXPECT_EQ((*dead)[0].reason, "400 bad order");
  EXPECT_EQ(q->Depth(), 1);
  EXPECT_TRUE(q->Settle({}).empty());
}

// Issue 18: a throttled batch used to cost one synchronous commit (and
// fsync) per Retry. Settle makes it one, counted both by the engine and at
// the VFS (xSync calls that reach the file system).
TEST_F(SettleTest, AThrottledThousandItemBatchSettlesInOneCommit) {
  testing::FailingVfs vfs("crmhub-settle-count");
  auto q = Open(vfs.name());
  Fill(*q, "out.crm", 1000);
  auto leased = q->Lease("out.crm", 1000, seconds(30));
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 1000u);
  std::vector<Settlement> throttled;
  for (const Leased& l : *leased) {
    throttled.push_back(
        Settlement::Retry(l.lease, "429 Too Many Requests", clock_.Now() + seconds(30)));
  }
  const auto before = q->commit_counters();
  const int vfs_syncs_before = vfs.syncs();
  std::vector<Status> st = q->Settle(throttled);
  const auto after = q->commit_counters();
  for (const Status& s : st) ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(after.commits - before.commits, 1);
  EXPECT_EQ(after.syncs - before.syncs, 1);
  EXPECT_EQ(after.rows - before.rows, 1000);
  // One WAL fsync (a checkpoint could add its own syncs, never 1,000).
  EXPECT_GE(vfs.syncs() - vfs_syncs_before, 1);
  EXPECT_LE(vfs.syncs() - vfs_syncs_before, 3);
  EXPECT_EQ(q->Depth(), 1000);
  EXPECT_TRUE(q->Lease("out.crm", 10, seconds(30))->empty()) << "every retry is delayed";
}

TEST_F(SettleTest, AStorageFailureFailsEveryItemAndSettlesNothing) {
  testing::FailingVfs vfs("crmhub-settle-fail");
  auto q = Open(vfs.name());
  Fill(*q, "in.a", 3);
  auto leased = q->Lease("in.a", 3, seconds(30));
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 3u);
  vfs.FailWrites(true);
  vfs.FailSyncs(true);
  std::vector<Status> st = q->Settle(std::vector<Settlement>{
      Settlement::Ack((*leased)[0].lease), Settlement::Fail((*leased)[1].lease, "e"),
      Settlement::Retry((*leased)[2].lease, "e")});
  ASSERT_EQ(st.size(), 3u);
  for (const Status& s : st) EXPECT_EQ(s.code(), StatusCode::kIoError) << s.ToString();
  vfs.FailWrites(false);
  vfs.FailSyncs(false);
  q.reset();
  // Nothing was settled: after a restart all three are there to deliver.
  auto reopened = Open(vfs.name());
  EXPECT_EQ(reopened->Depth(), 3);
  auto dead = reopened->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  EXPECT_TRUE(dead->empty());
}

}  // namespace
}  // namespace crmhub::queue
