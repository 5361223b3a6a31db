// WAL checkpoints off the writer thread (queue/sqlite_checkpointer.h): the
// background thread copies the WAL back, the writer steps in only at the
// cap, and the WAL stays bounded under a steady stream of commits.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "queue/paths.h"
#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

constexpr int kCheckpointFrames = 64;  // small, so that a test crosses it often

std::unique_ptr<SqliteQueue> Open(Clock& clock, const TempDir& dir) {
  SqliteQueueOptions options;
  options.data_dir = dir.path();
  options.maintenance_interval = milliseconds(0);
  options.checkpoint_frames = kCheckpointFrames;
  auto q = SqliteQueue::Open(clock, std::move(options));
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? std::move(q).value() : nullptr;
}

int64_t WalBytes(const TempDir& dir) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(QueueDbPath(dir.path()).string() + "-wal", ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

// Enqueues, leases and acks `rounds` batches of 50 messages of 2 KiB, one
// commit each, and returns the largest WAL seen after a commit.
int64_t Churn(SqliteQueue& q, const TempDir& dir, int rounds, int* next_key) {
  int64_t largest = 0;
  for (int r = 0; r < rounds; ++r) {
    std::vector<NewMessage> batch;
    for (int i = 0; i < 50; ++i) {
      NewMessage m = Msg("in.a", "k" + std::to_string((*next_key)++));
      m.payload.assign(2048, 'p');
      batch.push_back(std::move(m));
    }
    EXPECT_TRUE(q.EnqueueBatch(std::move(batch)).ok());
    auto leased = q.Lease("in.a", 50, seconds(30));
    EXPECT_TRUE(leased.ok());
    if (!leased.ok()) break;
    std::vector<LeaseToken> tokens;
    for (const auto& l : *leased) tokens.push_back(l.lease);
    for (const Status& st : q.AckBatch(tokens)) EXPECT_TRUE(st.ok()) << st.ToString();
    largest = std::max(largest, WalBytes(dir));
  }
  return largest;
}

TEST(CheckpointTest, BackgroundThreadCopiesTheWalAndTheWalStaysBounded) {
  TempDir dir;
  ManualClock clock;
  auto q = Open(clock, dir);
  ASSERT_NE(q, nullptr);
  int key = 0;
  const int64_t largest = Churn(*q, dir, 400, &key);  // ~40 MiB through the WAL
  const auto counters = q->commit_counters();
  EXPECT_GT(counters.background_checkpoints, 0);
  // The cap is 4 x 64 frames of 4 KiB; one commit of 50 x 2 KiB plus its
  // index pages may overshoot it before the writer steps in, never by much.
  constexpr int64_t kPage = 4096;
  EXPECT_LE(largest, (4 * kCheckpointFrames + 128) * kPage) << "WAL grew to " << largest;
  // Nothing lost on the way: every message was delivered once.
  EXPECT_EQ(q->Depth(), 0);
}

TEST(CheckpointTest, DataCheckpointedInTheBackgroundSurvivesReopen) {
  TempDir dir;
  ManualClock clock;
  int key = 0;
  {
    auto q = Open(clock, dir);
    ASSERT_NE(q, nullptr);
    Churn(*q, dir, 100, &key);
    std::vector<NewMessage> keep;
    for (int i = 0; i < 10; ++i) keep.push_back(Msg("in.b", "keep" + std::to_string(i)));
    ASSERT_TRUE(q->EnqueueBatch(std::move(keep)).ok());
    EXPECT_GT(q->commit_counters().background_checkpoints, 0);
  }
  auto q = Open(clock, dir);
  ASSERT_NE(q, nullptr);
  auto leased = q->Lease("in.b", 100, seconds(30));
  ASSERT_TRUE(leased.ok());
  EXPECT_EQ(leased->size(), 10u);
  // A key delivered before the reopen is still a duplicate after it.
  auto again = q->EnqueueBatch({Msg("in.a", "k0")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0], EnqueueOutcome::kDuplicate);
}

}  // namespace
}  // namespace crmhub::queue
