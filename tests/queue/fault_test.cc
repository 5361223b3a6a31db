// A failing disk: writes or fsyncs fail (through a VFS shim, so this works
// as root too). The queue must answer errors, never a false Accepted, and
// report unhealthy from then on.

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "queue/sqlite_queue.h"
#include "tests/queue/failing_vfs.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;

class FaultTest : public ::testing::TestWithParam<bool> {  // true: fail syncs
 protected:
  std::unique_ptr<SqliteQueue> Open() {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.vfs_name = vfs_.name();
    options.maintenance_interval = milliseconds(0);
    auto q = SqliteQueue::Open(clock_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return std::move(q).value();
  }
  void Break(bool on) {
    if (GetParam()) {
      vfs_.FailSyncs(on);
    } else {
      vfs_.FailWrites(on);
    }
  }

  testing::TempDir dir_;
  testing::FailingVfs vfs_{"crmhub-failing"};
  ManualClock clock_;
};

TEST_P(FaultTest, StorageFailureRefusesWritesAndTurnsUnhealthy) {
  auto q = Open();
  ASSERT_EQ(q->Enqueue(Msg("in.a", "before")).value(), EnqueueOutcome::kAccepted);
  ASSERT_TRUE(q->Healthy());

  Break(true);
  auto r = q->Enqueue(Msg("in.a", "during"));
  ASSERT_FALSE(r.ok()) << "a write that could not be made durable was answered Accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_FALSE(q->Healthy());
  EXPECT_GT(vfs_.failures(), 0);

  // The disk recovers, but the engine does not pretend: it refuses writes
  // until its next probe (a write of its own, committed and fsync'd)
  // succeeds, one probe_interval after the failure.
  Break(false);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "after")).status().code(), StatusCode::kIoError);
  EXPECT_FALSE(q->Lease("in.a", 10, seconds(30)).ok());
  EXPECT_FALSE(q->PutState("k", "v").ok());
  EXPECT_FALSE(q->Healthy());
  EXPECT_TRUE(q->UnhealthyFor().has_value());
  // Reads still work.
  EXPECT_TRUE(q->Stats().ok());
  // While the disk is still broken, a probe fails and the engine waits for
  // the next one.
  Break(true);
  clock_.Advance(seconds(1));
  EXPECT_EQ(q->Enqueue(Msg("in.a", "still")).status().code(), StatusCode::kIoError);
  Break(false);
  clock_.Advance(seconds(1));
  EXPECT_EQ(q->Enqueue(Msg("in.a", "healed")).value(), EnqueueOutcome::kAccepted);
  EXPECT_TRUE(q->Healthy());
  EXPECT_EQ(q->UnhealthyFor(), std::nullopt);

  q.reset();
  q = Open();
  EXPECT_TRUE(q->Healthy());
  EXPECT_EQ(q->Enqueue(Msg("in.a", "before")).value(), EnqueueOutcome::kDuplicate)
      << "the accepted message survived";
  auto leased = q->Lease("in.a", 10, seconds(30));
  ASSERT_TRUE(leased.ok());
  ASSERT_GE(leased->size(), 1u);
  EXPECT_EQ((*leased)[0].message.idempotency_key, "before");
  std::set<std::string> keys;
  for (const auto& l : *leased) keys.insert(l.message.idempotency_key);
  // Writes refused while unhealthy never appear. "during" committed before
  // its fsync failed: answered as a failure, it may still be on the disk
  // once a later fsync succeeds (its sender retries; idempotency absorbs
  // the repeat), but a failed write never is.
  std::set<std::string> expected = {"before", "healed"};
  if (GetParam()) keys.erase("during");
  EXPECT_EQ(keys, expected) << "refused writes must not appear";
}

TEST_P(FaultTest, FailureDuringAckIsReportedNotSwallowed) {
  auto q = Open();
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "k")).ok());
  auto leased = q->Lease("in.a", 1, seconds(30));
  ASSERT_EQ(leased->size(), 1u);
  Break(true);
  EXPECT_EQ(q->Ack((*leased)[0].lease).code(), StatusCode::kIoError);
  EXPECT_FALSE(q->Healthy());
  Break(false);
}

// A queue in `dir` whose file goes through `vfs`, with no maintenance.
SqliteQueueOptions OptionsThrough(const testing::TempDir& dir, const testing::FailingVfs& vfs) {
  SqliteQueueOptions options;
  options.data_dir = dir.path();
  options.vfs_name = vfs.name();
  options.maintenance_interval = milliseconds(0);
  return options;
}

// The pipelined commit (synchronous=NORMAL plus the flusher's own fsync):
// every answer that says "written" comes after an fsync that followed it.
TEST(DurabilityTest, EveryAcceptedEnqueueIsAnsweredAfterAnFsync) {
  testing::TempDir dir;
  testing::FailingVfs vfs("crmhub-counting");
  ManualClock clock;
  auto q = SqliteQueue::Open(clock, OptionsThrough(dir, vfs)).value();
  for (int i = 0; i < 20; ++i) {
    const int before = vfs.syncs();
    auto r = q->Enqueue(Msg("in.a", "k" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, EnqueueOutcome::kAccepted);
    EXPECT_GT(vfs.syncs(), before) << "answered Accepted without an fsync after the write";
  }
  // Answers that wrote nothing need no fsync (an empty lease), and a
  // duplicate is answered as durable as the first copy.
  auto leased = q->Lease("in.b", 10, seconds(30));
  ASSERT_TRUE(leased.ok());
  EXPECT_TRUE(leased->empty());
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k0")).value(), EnqueueOutcome::kDuplicate);
  EXPECT_GT(q->commit_counters().syncs, 0);
  EXPECT_LE(q->commit_counters().syncs, q->commit_counters().commits);
}

// Answers of EnqueueAsync calls: how many, and how many were accepted.
class AnswerCount {
 public:
  Queue::EnqueueCallback Callback() {
    return [this](Result<std::vector<EnqueueOutcome>> r) {
      std::lock_guard lock(mu_);
      ++answered_;
      if (r.ok() && r->size() == 1 && (*r)[0] == EnqueueOutcome::kAccepted) ++accepted_;
      cv_.notify_all();
    };
  }
  bool WaitFor(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return answered_ >= n; });
  }
  int accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int answered_ = 0;
  int accepted_ = 0;
};

// A queue whose disk holds every fsync until the test releases it (or the
// fixture ends), with one batch committed and waiting in the held fsync.
class HeldFsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    q_ = SqliteQueue::Open(clock_, OptionsThrough(dir_, vfs_)).value();
    vfs_.HoldSyncs();
    q_->EnqueueAsync({Msg("in.a", "first")}, answers_.Callback());
    ASSERT_TRUE(vfs_.WaitForHeldSync(seconds(10))) << "the first batch never reached its fsync";
    commits_before_ = q_->commit_counters().commits;
  }
  // Whatever a test did, the disk comes back before the queue closes.
  void TearDown() override { vfs_.ReleaseSyncs(); }

  testing::TempDir dir_;
  testing::FailingVfs vfs_{"crmhub-held"};
  ManualClock clock_;
  AnswerCount answers_;  // outlives the queue, which may still answer
  std::unique_ptr<SqliteQueue> q_;
  int64_t commits_before_ = 0;
};

// While the flusher is busy with a batch, the writer keeps its next
// transaction open and takes in what arrives, committing once the flusher is
// free: one commit (one set of WAL frames) for all of it rather than one per
// small batch. Requests this large (64 KiB each) are worth waking the writer
// for, so it applies them while the fsync runs: once it has taken the four
// late requests (the backlog is empty), none may be committed before the
// held fsync ends (the engine used to commit them and then block).
TEST_F(HeldFsyncTest, RequestsArrivingDuringAnFsyncShareOneCommit) {
  const std::string large(64 * 1024, 'x');
  for (int i = 0; i < 4; ++i) {
    q_->EnqueueAsync({Msg("in.a", "late" + std::to_string(i), large)}, answers_.Callback());
  }
  const auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (q_->backlog().rows > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(q_->backlog().rows, 0)
      << "the writer stopped taking requests while the flusher was busy";
  EXPECT_EQ(q_->commit_counters().commits, commits_before_)
      << "requests were committed while the flusher still held an earlier batch";

  vfs_.ReleaseSyncs();
  ASSERT_TRUE(answers_.WaitFor(5, seconds(10)));
  EXPECT_EQ(answers_.accepted(), 5);
  EXPECT_EQ(q_->commit_counters().commits, commits_before_ + 1);
}

// Small requests arriving during an fsync are not worth a wake-up each: the
// writer takes them when the flusher is free. They still share one commit.
TEST_F(HeldFsyncTest, SmallRequestsArrivingDuringAnFsyncAlsoShareOneCommit) {
  for (int i = 0; i < 8; ++i) {
    q_->EnqueueAsync({Msg("in.a", "late" + std::to_string(i))}, answers_.Callback());
  }
  EXPECT_EQ(q_->commit_counters().commits, commits_before_);

  vfs_.ReleaseSyncs();
  ASSERT_TRUE(answers_.WaitFor(9, seconds(10)));
  EXPECT_EQ(answers_.accepted(), 9);
  EXPECT_EQ(q_->commit_counters().commits, commits_before_ + 1)
      << "the late requests were split over several commits";
}

INSTANTIATE_TEST_SUITE_P(WritesAndSyncs, FaultTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("FailingFsync")
                                                   : std::string("FailingWrite");
                         });

}  // namespace
}  // namespace crmhub::queue
