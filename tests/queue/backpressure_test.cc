// EnqueueAsync never blocks: when the writer is behind and the work waiting
// for it reaches max_pending rows or max_pending_bytes bytes, it answers
// kResourceExhausted at once (through the callback, before it returns), and
// what it refused is not written. The writer is held behind by a disk whose
// fsync waits until the test releases it (FailingVfs::HoldSyncs).

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include "queue/sqlite_queue.h"
#include "tests/queue/failing_vfs.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;

// Answers of EnqueueAsync calls, by call.
class Answers {
 public:
  Queue::EnqueueCallback For(int call) {
    return [this, call](Result<std::vector<EnqueueOutcome>> r) {
      std::lock_guard lock(mu_);
      codes_[call] = r.ok() ? StatusCode::kOk : r.status().code();
      cv_.notify_all();
    };
  }
  std::optional<StatusCode> Of(int call) {
    std::lock_guard lock(mu_);
    auto it = codes_.find(call);
    if (it == codes_.end()) return std::nullopt;
    return it->second;
  }
  bool WaitAll(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return codes_.size() >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, StatusCode> codes_;
};

class BackpressureTest : public ::testing::Test {
 protected:
  SqliteQueueOptions Options() {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.vfs_name = vfs_.name();
    options.maintenance_interval = milliseconds(0);
    return options;
  }
  // Enqueues `make(i)` one call at a time (each call in a helper thread, so a
  // call that blocked would be caught) until one is refused; returns the
  // refused call's index, or -1 when all `max_calls` were taken.
  template <typename Make>
  int EnqueueUntilRefused(SqliteQueue& q, int max_calls, Make make) {
    for (int i = 0; i < max_calls; ++i) {
      auto call =
          std::async(std::launch::async, [&] { q.EnqueueAsync({make(i)}, answers_.For(i)); });
      if (call.wait_for(seconds(10)) != std::future_status::ready) {
        ADD_FAILURE() << "EnqueueAsync blocked on call " << i;
        vfs_.ReleaseSyncs();
        call.wait();
        return -2;
      }
      if (answers_.Of(i) == StatusCode::kResourceExhausted) return i;
    }
    return -1;
  }

  testing::TempDir dir_;
  testing::FailingVfs vfs_{"crmhub-backpressure"};
  ManualClock clock_;
  Answers answers_;
};

TEST_F(BackpressureTest, AFullPendingBoundAnswersResourceExhaustedWithoutBlocking) {
  SqliteQueueOptions options = Options();
  options.max_batch_size = 2;
  options.max_pending = 2;
  auto q = SqliteQueue::Open(clock_, options).value();
  vfs_.HoldSyncs();
  q->EnqueueAsync({Msg("in.a", "first")}, answers_.For(-1));
  ASSERT_TRUE(vfs_.WaitForHeldSync(seconds(10)));

  const int refused =
      EnqueueUntilRefused(*q, 100, [](int i) { return Msg("in.a", "k" + std::to_string(i)); });
  ASSERT_GE(refused, 0) << "never refused: the pending bound does not hold";
  // Two batches of two in the writer and two waiting at most, then refusals
  // (fewer when the writer had not yet taken the first ones).
  EXPECT_LE(refused, 8);
  EXPECT_LE(q->backlog().rows, 2);

  vfs_.ReleaseSyncs();
  ASSERT_TRUE(answers_.WaitAll(static_cast<size_t>(refused) + 2, seconds(10)));
  // Everything before the refusal is durable; the refused one was never written.
  for (int i = 0; i < refused; ++i) EXPECT_EQ(answers_.Of(i), StatusCode::kOk) << i;
  EXPECT_EQ(q->Depth(), refused + 1);
  auto again = q->Enqueue(Msg("in.a", "k" + std::to_string(refused)));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, EnqueueOutcome::kAccepted) << "the refused message had been written";
}

SqliteQueueOptions ByteBound(SqliteQueueOptions options) {
  options.max_batch_bytes = 512 << 10;
  options.max_pending_bytes = 1 << 20;
  options.max_pending = 100000;  // rows are not what binds here
  return options;
}

TEST_F(BackpressureTest, AFewLargeMessagesFillTheByteBound) {
  auto q = SqliteQueue::Open(clock_, ByteBound(Options())).value();
  vfs_.HoldSyncs();
  q->EnqueueAsync({Msg("in.a", "first")}, answers_.For(-1));
  ASSERT_TRUE(vfs_.WaitForHeldSync(seconds(10)));
  const std::string large(300 << 10, 'x');
  const int refused = EnqueueUntilRefused(
      *q, 100, [&](int i) { return Msg("in.a", "big" + std::to_string(i), large); });
  ASSERT_GE(refused, 0) << "300 KiB bodies never filled a 1 MiB bound";
  // At most a commit in the flusher, one in the writer (each within
  // max_batch_bytes), and 1 MiB pending: a handful, not hundreds.
  EXPECT_LE(refused, 8);
  EXPECT_LE(q->backlog().bytes, 1 << 20);
  vfs_.ReleaseSyncs();
  ASSERT_TRUE(answers_.WaitAll(static_cast<size_t>(refused) + 2, seconds(10)));
  EXPECT_EQ(q->Depth(), refused + 1);
}

TEST_F(BackpressureTest, ManySmallMessagesDoNotFillTheSameByteBound) {
  auto q = SqliteQueue::Open(clock_, ByteBound(Options())).value();
  vfs_.HoldSyncs();
  q->EnqueueAsync({Msg("in.a", "first")}, answers_.For(-1));
  ASSERT_TRUE(vfs_.WaitForHeldSync(seconds(10)));
  const std::string small(100, 'y');
  const int refused = EnqueueUntilRefused(
      *q, 1000, [&](int i) { return Msg("in.a", "small" + std::to_string(i), small); });
  EXPECT_EQ(refused, -1) << "a small message was refused at call " << refused;
  vfs_.ReleaseSyncs();
  ASSERT_TRUE(answers_.WaitAll(1001, seconds(30)));
  EXPECT_EQ(q->Depth(), 1001);
}

TEST_F(BackpressureTest, TheHighWaterMarkIsAnsweredAtOnceToo) {
  SqliteQueueOptions options = Options();
  options.high_water_mark = 2;
  auto q = SqliteQueue::Open(clock_, options).value();
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "a")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "b")).ok());
  vfs_.HoldSyncs();  // an answer that needed the writer would never come
  q->EnqueueAsync({Msg("in.a", "c")}, answers_.For(0));
  EXPECT_EQ(answers_.Of(0), StatusCode::kResourceExhausted);
  q->EnqueueAsync({Msg("", "c")}, answers_.For(1));
  EXPECT_EQ(answers_.Of(1), StatusCode::kInvalidArgument);
  vfs_.ReleaseSyncs();
}

}  // namespace
}  // namespace crmhub::queue
