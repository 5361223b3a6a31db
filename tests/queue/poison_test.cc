// The poison-message rule: a message in flight when the process ended is
// delivered alone after the restart, and one in flight at poison_after
// (default 2) ends in a row goes to the dead letters with the reason,
// instead of taking the daemon down max_attempts times. A process "ends"
// here by dropping the queue with leases unsettled, exactly what a crash
// leaves on disk (the leases are durable; nothing settles them).

#include <gtest/gtest.h>

#include <set>

#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using testing::Keys;
using testing::Msg;
using testing::TempDir;

class PoisonTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteQueue> Open(int poison_after = 2) {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.poison_after = poison_after;
    auto q = SqliteQueue::Open(clock_, options);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  TempDir dir_;
  ManualClock clock_;
};

// A target that reads before it writes again on a redelivery (attempt > 1,
// e.g. Yandex Market's status commands) must see a delivery cut short by a
// crash as one: the redelivery is attempt 2, not a first delivery again.
TEST_F(PoisonTest, ADeliveryCutShortByTheProcessCountsAsAnAttempt) {
  {
    auto q = Open();
    ASSERT_TRUE(q->Enqueue(Msg("in.x", "a")).ok());
    auto leased = q->Lease("in.x", 10, std::chrono::seconds(60));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 1u);
    EXPECT_EQ((*leased)[0].message.attempts, 1);
  }  // the process ends with "a" in flight
  auto q = Open();
  auto again = q->Lease("in.x", 10, std::chrono::seconds(60));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message.attempts, 2);
  // A retry keeps the count: the next delivery is the third.
  ASSERT_TRUE(q->Retry((*again)[0].lease, "503", clock_.Now()).ok());
  auto third = q->Lease("in.x", 10, std::chrono::seconds(60));
  ASSERT_TRUE(third.ok());
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0].message.attempts, 3);
}

TEST_F(PoisonTest, SuspectsGoAloneAndAMessageInFlightAtTwoEndsIsADeadLetter) {
  {
    auto q = Open();
    for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(q->Enqueue(Msg("in.x", k)).ok());
    auto leased = q->Lease("in.x", 10, std::chrono::seconds(60));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 3u);
  }  // the process ends with all three in flight
  {
    auto q = Open();
    // Due at once (not at the dead lease's expiry), and one at a time.
    auto first = q->Lease("in.x", 10, std::chrono::seconds(60));
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(Keys(*first), std::set<std::string>{"a"});
  }  // "a" is in flight again when the process ends: two ends in a row
  auto q = Open();
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].idempotency_key, "a");
  EXPECT_NE((*dead)[0].reason.find("poison message: in flight when the process ended 2 times"),
            std::string::npos)
      << (*dead)[0].reason;
  EXPECT_EQ((*dead)[0].payload, Msg("in.x", "a").payload);  // the raw record is kept
  // "b" and "c" were counted once: still suspects, still alone.
  auto b = q->Lease("in.x", 10, std::chrono::seconds(60));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(Keys(*b), std::set<std::string>{"b"});
  // A suspect settled by its outcome (a retry) is innocent again: it goes
  // with the others from then on.
  ASSERT_TRUE(q->Retry((*b)[0].lease, "429", clock_.Now() + std::chrono::seconds(1)).ok());
  auto c = q->Lease("in.x", 10, std::chrono::seconds(60));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Keys(*c), std::set<std::string>{"c"});
  ASSERT_TRUE(q->Ack((*c)[0].lease).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(q->Enqueue(Msg("in.x", "d")).ok());
  auto rest = q->Lease("in.x", 10, std::chrono::seconds(60));
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(Keys(*rest), (std::set<std::string>{"b", "d"}));
}

// A CLI opening the queue beside a running daemon (poison_after 0) counts
// nothing: the daemon's leases are not crashes.
TEST_F(PoisonTest, AnOpenWithoutTheRuleCountsNothing) {
  auto daemon = Open();
  ASSERT_TRUE(daemon->Enqueue(Msg("in.x", "a")).ok());
  ASSERT_TRUE(daemon->Lease("in.x", 10, std::chrono::seconds(60)).ok());
  for (int i = 0; i < 3; ++i) {
    auto cli = Open(/*poison_after=*/0);
    ASSERT_NE(cli, nullptr);
  }
  auto dead = daemon->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  EXPECT_TRUE(dead->empty());
}

}  // namespace
}  // namespace crmhub::queue
