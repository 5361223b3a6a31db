// Retries (backoff, jitter, Retry-After, limits) and dead letters (content,
// list, replay, drop, purge), with a ManualClock and an injected jitter.

#include <gtest/gtest.h>

#include "queue/backoff.h"
#include "queue/sqlite_queue.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

TEST(BackoffTest, CapDoublesUpToMax) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(1000);
  EXPECT_EQ(BackoffCap(p, 1), milliseconds(100));
  EXPECT_EQ(BackoffCap(p, 2), milliseconds(200));
  EXPECT_EQ(BackoffCap(p, 4), milliseconds(800));
  EXPECT_EQ(BackoffCap(p, 5), milliseconds(1000));
  EXPECT_EQ(BackoffCap(p, 1'000'000), milliseconds(1000)) << "no overflow";
}

TEST(BackoffTest, FullJitterStaysInRangeAndCoversIt) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(1000);
  p.max_backoff = milliseconds(8000);
  JitterFn jitter = SeededJitter(42);
  for (int attempts = 1; attempts <= 6; ++attempts) {
    const int64_t cap = BackoffCap(p, attempts).count();
    int64_t lo = cap, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      const int64_t d = ComputeBackoff(p, attempts, jitter).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, cap);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    EXPECT_LT(lo, cap / 10) << "full jitter reaches near zero";
    EXPECT_GT(hi, cap * 9 / 10) << "and near the cap";
  }
  // Same seed, same sequence: tests can rely on it.
  JitterFn a = SeededJitter(7), b = SeededJitter(7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a(1000), b(1000));
  // A misbehaving jitter source is clamped into the range.
  EXPECT_EQ(ComputeBackoff(p, 1, [](int64_t) { return int64_t{-5}; }), milliseconds(0));
  EXPECT_EQ(ComputeBackoff(p, 1, [](int64_t c) { return c * 3; }), milliseconds(1000));
}

class RetryTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteQueue> OpenQueue(RetryPolicy policy) {
    SqliteQueueOptions options;
    options.data_dir = dir_.path();
    options.maintenance_interval = milliseconds(0);
    options.lane_policies["out.x"] = policy;
    options.default_policy.max_attempts = 1000;
    // The test decides the jitter: a fraction of the cap it can change.
    options.jitter = [this](int64_t cap) {
      last_cap_ = cap;
      return cap * jitter_percent_ / 100;
    };
    auto q = SqliteQueue::Open(clock_, std::move(options));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return std::move(q).value();
  }

  Leased LeaseOne(SqliteQueue& q, const std::string& lane = "out.x") {
    auto leased = q.Lease(lane, 1, seconds(30));
    EXPECT_TRUE(leased.ok());
    EXPECT_EQ(leased->size(), 1u);
    return leased->empty() ? Leased{} : (*leased)[0];
  }

  TempDir dir_;
  ManualClock clock_;
  int64_t jitter_percent_ = 100;
  int64_t last_cap_ = -1;
};

TEST_F(RetryTest, BackoffScheduleUsesLanePolicyAndJitter) {
  RetryPolicy p;
  p.initial_backoff = seconds(1);
  p.max_backoff = seconds(4);
  p.max_attempts = 100;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k")).ok());
  const int64_t expected_caps[] = {1000, 2000, 4000, 4000};
  for (int64_t cap : expected_caps) {
    Leased l = LeaseOne(*q);
    jitter_percent_ = 50;
    ASSERT_TRUE(q->Retry(l.lease, "503").ok());
    EXPECT_EQ(last_cap_, cap);
    clock_.Advance(milliseconds(cap / 2 - 1));
    EXPECT_TRUE(q->Lease("out.x", 1, seconds(30))->empty()) << "not before the jittered delay";
    clock_.Advance(milliseconds(1));
  }
  Leased l = LeaseOne(*q);
  EXPECT_EQ(l.message.attempts, 5);
  EXPECT_EQ(l.message.first_error, "503");
  EXPECT_EQ(l.message.last_error, "503");
}

TEST_F(RetryTest, ZeroJitterRetriesImmediately) {
  RetryPolicy p;
  p.max_attempts = 10;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k")).ok());
  jitter_percent_ = 0;
  ASSERT_TRUE(q->Retry(LeaseOne(*q).lease, "e").ok());
  EXPECT_EQ(LeaseOne(*q).message.attempts, 2);
}

TEST_F(RetryTest, RetryAfterOverridesComputedDelay) {
  RetryPolicy p;
  p.initial_backoff = seconds(1);
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k")).ok());
  last_cap_ = -1;
  ASSERT_TRUE(q->Retry(LeaseOne(*q).lease, "429", clock_.Now() + seconds(120)).ok());
  EXPECT_EQ(last_cap_, -1) << "jitter not consulted";
  clock_.Advance(seconds(119));
  EXPECT_TRUE(q->Lease("out.x", 1, seconds(30))->empty());
  clock_.Advance(seconds(1));
  Leased l = LeaseOne(*q);
  // A Retry-After in the past means now.
  ASSERT_TRUE(q->Retry(l.lease, "429", clock_.Now() - seconds(5)).ok());
  EXPECT_EQ(LeaseOne(*q).message.attempts, 3);
}

TEST_F(RetryTest, MaxAttemptsMovesToDeadLettersWithHistory) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(10);
  p.max_attempts = 3;
  auto q = OpenQueue(p);
  NewMessage m = Msg("out.x", "k", "payload-1", "ok1");
  m.headers = {{"H", "v"}};
  ASSERT_TRUE(q->Enqueue(m).ok());
  const SystemTime created = clock_.Now();
  std::vector<SystemTime> times;
  for (int i = 1; i <= 3; ++i) {
    Leased l = LeaseOne(*q);
    times.push_back(clock_.Now());
    ASSERT_TRUE(q->Retry(l.lease, "error " + std::to_string(i)).ok());
    clock_.Advance(seconds(1));
  }
  EXPECT_TRUE(q->Lease("out.x", 1, seconds(30))->empty());
  EXPECT_EQ(q->Depth(), 0);
  auto list = q->ListDeadLetters({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  const DeadLetter& d = (*list)[0];
  EXPECT_EQ(d.lane, "out.x");
  EXPECT_EQ(d.source, "src");
  EXPECT_EQ(d.idempotency_key, "k");
  EXPECT_EQ(d.ordering_key, "ok1");
  EXPECT_EQ(d.payload, "payload-1");
  EXPECT_EQ(d.headers, m.headers);
  EXPECT_EQ(d.attempts, 3);
  // Issue 22, item 3: the reason says the queue gave up, and after how many.
  EXPECT_EQ(d.reason, "gave up after 3 attempts: error 3");
  EXPECT_EQ(d.created_at, FromUnixMillis(ToUnixMillis(created)));
  EXPECT_EQ(d.failed_at, FromUnixMillis(ToUnixMillis(times[2])));
  ASSERT_EQ(d.history.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d.history[i].error, "error " + std::to_string(i + 1));
    EXPECT_EQ(d.history[i].at, FromUnixMillis(ToUnixMillis(times[i])));
  }
  auto got = q->GetDeadLetter(d.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->payload, "payload-1");
  EXPECT_EQ(q->GetDeadLetter(d.id + 100).status().code(), StatusCode::kNotFound);
}

TEST_F(RetryTest, MaxAgeMovesToDeadLetters) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(10);
  p.max_age = hours(1);
  p.max_attempts = 1000;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k")).ok());
  Leased l = (*q->Lease("out.x", 1, hours(2)))[0];
  clock_.Advance(hours(1) - seconds(1));
  ASSERT_TRUE(q->Retry(l.lease, "still young").ok());
  clock_.Advance(seconds(1));
  l = LeaseOne(*q);
  EXPECT_EQ(l.message.attempts, 2);
  ASSERT_TRUE(q->Retry(l.lease, "too old").ok());
  EXPECT_EQ(q->Depth(), 0);
  auto list = q->ListDeadLetters({});
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].reason, "gave up after 2 attempts (older than max_age 3600s): too old");
}

TEST_F(RetryTest, LeaseExpiringOnLastAttemptBecomesDeadLetter) {
  RetryPolicy p;
  p.max_attempts = 2;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k")).ok());
  LeaseOne(*q);  // attempt 1, never settled
  clock_.Advance(seconds(31));
  LeaseOne(*q);  // attempt 2, never settled (a consumer that crashes on it)
  clock_.Advance(seconds(31));
  EXPECT_TRUE(q->Lease("out.x", 1, seconds(30))->empty());
  auto list = q->ListDeadLetters({});
  ASSERT_EQ(list->size(), 1u);
  EXPECT_NE((*list)[0].reason.find("lease expired"), std::string::npos);
}

TEST_F(RetryTest, FailGoesStraightToDeadLettersAndReplayResetsAttempts) {
  RetryPolicy p;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "k", "raw")).ok());
  ASSERT_TRUE(q->Retry(LeaseOne(*q).lease, "first").ok());
  clock_.Advance(hours(1));
  ASSERT_TRUE(q->Fail(LeaseOne(*q).lease, "mapping: field x missing").ok());
  auto list = q->ListDeadLetters({});
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].attempts, 2);
  EXPECT_EQ((*list)[0].history.size(), 2u);
  const int64_t id = (*list)[0].id;

  ASSERT_TRUE(q->ReplayDeadLetter(id).ok());
  EXPECT_EQ(q->ReplayDeadLetter(id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(q->ListDeadLetters({})->empty());
  EXPECT_EQ(q->Depth(), 1);
  Leased l = LeaseOne(*q);
  EXPECT_EQ(l.message.attempts, 1) << "attempts reset";
  EXPECT_EQ(l.message.payload, "raw");
  EXPECT_EQ(l.message.idempotency_key, "k");
  // Issue 22, item 4: the replayed message keeps its id and its history; a
  // second failure is the same dead letter with every attempt in it.
  EXPECT_EQ(l.message.id, id);
  ASSERT_TRUE(q->Fail(l.lease, "still missing").ok());
  auto again = q->GetDeadLetter(id);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->history.size(), 3u);
  EXPECT_EQ(again->history[0].error, "first");
  EXPECT_EQ(again->history[2].error, "still missing");
  ASSERT_TRUE(q->ReplayDeadLetter(id).ok());
  l = LeaseOne(*q);
  EXPECT_EQ(l.message.id, id);
  ASSERT_TRUE(q->Ack(l.lease).ok());
  // The replay kept the key: a re-send is still a duplicate.
  EXPECT_EQ(q->Enqueue(Msg("out.x", "k")).value(), EnqueueOutcome::kDuplicate);
}

TEST_F(RetryTest, ReplayAllByLaneDropAndPurgeByAge) {
  RetryPolicy p;
  auto q = OpenQueue(p);
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "x1")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "x2")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("in.y", "y1")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("in.y", "y2")).ok());
  for (const auto& lane : {"out.x", "in.y"}) {
    auto leased = q->Lease(lane, 10, seconds(30));
    for (const auto& l : *leased) ASSERT_TRUE(q->Fail(l.lease, "bad").ok());
    clock_.Advance(hours(24));
  }
  ASSERT_EQ(q->ListDeadLetters({})->size(), 4u);
  DeadLetterFilter only_y;
  only_y.lane = "in.y";
  ASSERT_EQ(q->ListDeadLetters(only_y)->size(), 2u);
  DeadLetterFilter page;
  page.limit = 3;
  auto first_page = q->ListDeadLetters(page);
  ASSERT_EQ(first_page->size(), 3u);
  page.after_id = first_page->back().id;
  EXPECT_EQ(q->ListDeadLetters(page)->size(), 1u);

  auto replayed = q->ReplayAllDeadLetters("in.y");
  ASSERT_TRUE(replayed.ok());
  EXPECT_EQ(*replayed, 2);
  EXPECT_EQ(q->Lease("in.y", 10, seconds(30))->size(), 2u);

  auto xs = q->ListDeadLetters({});
  ASSERT_EQ(xs->size(), 2u);
  ASSERT_TRUE(q->DropDeadLetter((*xs)[0].id).ok());
  EXPECT_EQ(q->DropDeadLetter((*xs)[0].id).code(), StatusCode::kNotFound);
  // x2 failed 48h ago: a 30h cutoff keeps nothing older.
  auto none = q->PurgeDeadLetters(clock_.Now() - hours(50));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  auto purged = q->PurgeDeadLetters(clock_.Now() - hours(30));
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 1);
  EXPECT_TRUE(q->ListDeadLetters({})->empty());
  EXPECT_EQ(*q->ReplayAllDeadLetters(std::nullopt), 0);
}

}  // namespace
}  // namespace crmhub::queue
