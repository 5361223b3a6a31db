// The lease floor (WriterStore::LeaseFloor): each Lease starts past the rows
// earlier leases accounted for. These are the ways a row can come back
// behind the floor; each must still be leased.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

class LeaseFloorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.maintenance_interval = milliseconds(0);
    options.jitter = [](int64_t) { return int64_t{0}; };
    options.default_policy.initial_backoff = milliseconds(0);
    options.default_policy.max_backoff = milliseconds(0);
    auto q = SqliteQueue::Open(clock_, std::move(options));
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    q_ = std::move(q).value();
  }
  void Fill(const std::string& lane, const std::string& prefix, int n,
            const std::string& ordering_key = "") {
    std::vector<NewMessage> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back(Msg(lane, prefix + std::to_string(i), "{}", ordering_key));
    }
    auto r = q_->EnqueueBatch(std::move(batch));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<Leased> Take(const std::string& lane, int max, seconds lease = seconds(30)) {
    auto leased = q_->Lease(lane, max, lease);
    EXPECT_TRUE(leased.ok()) << leased.status().ToString();
    return leased.ok() ? std::move(leased).value() : std::vector<Leased>{};
  }
  static std::set<std::string> Keys(const std::vector<Leased>& leased) {
    std::set<std::string> keys;
    for (const auto& l : leased) keys.insert(l.message.idempotency_key);
    return keys;
  }
  void AckAll(const std::vector<Leased>& leased) {
    for (const auto& l : leased) ASSERT_TRUE(q_->Ack(l.lease).ok());
  }

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<SqliteQueue> q_;
};

TEST_F(LeaseFloorTest, SiblingLeasesAreSkippedAndEveryRowIsHandedOutOnce) {
  Fill("in.a", "m", 30);
  std::set<std::string> seen;
  for (int round = 0; round < 3; ++round) {
    for (const auto& k : Keys(Take("in.a", 10))) EXPECT_TRUE(seen.insert(k).second) << k;
  }
  EXPECT_EQ(seen.size(), 30u);
  EXPECT_TRUE(Take("in.a", 10).empty());
}

TEST_F(LeaseFloorTest, AnExpiredLeaseBehindTheFloorIsLeasedAgain) {
  Fill("in.a", "m", 3);
  auto first = Take("in.a", 1, seconds(5));  // m0, short lease
  ASSERT_EQ(first.size(), 1u);
  auto rest = Take("in.a", 2, seconds(60));  // m1, m2: the floor is past m2
  ASSERT_EQ(rest.size(), 2u);
  Fill("in.a", "n", 1);
  EXPECT_EQ(Keys(Take("in.a", 5)), std::set<std::string>({"n0"}));
  clock_.Advance(seconds(6));  // m0's lease expired, m1/m2's did not
  EXPECT_EQ(Keys(Take("in.a", 5)), std::set<std::string>({"m0"}));
}

TEST_F(LeaseFloorTest, ARetryDueAtOnceBehindTheFloorIsLeasedAgain) {
  Fill("in.a", "m", 3);
  auto leased = Take("in.a", 3);
  ASSERT_EQ(leased.size(), 3u);
  // Zero backoff: due now, i.e. at the floor's own time, with a smaller id.
  ASSERT_TRUE(q_->Retry(leased[0].lease, "try again").ok());
  EXPECT_EQ(Keys(Take("in.a", 5)), std::set<std::string>({leased[0].message.idempotency_key}));
}

TEST_F(LeaseFloorTest, ARowHeldBackByItsOrderingKeyIsNotPassed) {
  Fill("in.a", "k", 2, "sku-1");  // k0 then k1, same ordering key
  Fill("in.a", "p", 2);           // p0, p1: no ordering key
  auto first = Take("in.a", 10);  // k0, p0, p1 (k1 waits for k0)
  EXPECT_EQ(Keys(first), std::set<std::string>({"k0", "p0", "p1"}));
  AckAll(first);
  EXPECT_EQ(Keys(Take("in.a", 10)), std::set<std::string>({"k1"}));
}

TEST_F(LeaseFloorTest, AMessageEnqueuedAfterTheClockWentBackIsLeased) {
  Fill("in.a", "m", 2);
  AckAll(Take("in.a", 2));
  clock_.Advance(-seconds(10));  // NTP stepped the wall clock back
  Fill("in.a", "late", 1);
  EXPECT_EQ(Keys(Take("in.a", 5)), std::set<std::string>({"late0"}));
}

TEST_F(LeaseFloorTest, AReplayedDeadLetterIsLeasedAgain) {
  Fill("in.a", "m", 3);
  auto leased = Take("in.a", 3);
  ASSERT_EQ(leased.size(), 3u);
  ASSERT_TRUE(q_->Fail(leased[0].lease, "400 bad").ok());
  AckAll({leased[1], leased[2]});
  auto dead = q_->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  ASSERT_TRUE(q_->ReplayDeadLetter((*dead)[0].id).ok());
  EXPECT_EQ(Keys(Take("in.a", 5)), std::set<std::string>({leased[0].message.idempotency_key}));
}

}  // namespace
}  // namespace crmhub::queue
