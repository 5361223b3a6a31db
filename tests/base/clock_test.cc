#include "base/clock.h"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

namespace crmhub {
namespace {

TEST(ManualClockTest, MovesOnlyWhenAdvanced) {
  ManualClock clock;
  const SystemTime t0 = clock.Now();
  const auto s0 = clock.SteadyNow();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(std::chrono::seconds(90));
  EXPECT_EQ(clock.Now() - t0, std::chrono::seconds(90));
  EXPECT_EQ(clock.SteadyNow() - s0, std::chrono::seconds(90));
}

// A wait on a ManualClock ends when the clock is advanced past its
// deadline, and not before: no real time passes in the test.
TEST(CondVarTest, AManualClockWaitEndsWhenTheClockPassesItsDeadline) {
  ManualClock clock;
  std::mutex mu;
  CondVar cv(clock, mu);
  std::future<bool> woken = std::async(std::launch::async, [&] {
    std::unique_lock lock(mu);
    return cv.WaitFor(lock, std::chrono::hours(1), [] { return false; });
  });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  clock.Advance(std::chrono::minutes(59));
  ASSERT_TRUE(clock.AwaitWaiting(1));
  EXPECT_EQ(woken.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  clock.Advance(std::chrono::minutes(1));
  EXPECT_FALSE(woken.get());  // timed out, by the clock
  EXPECT_EQ(clock.Waiting(), 0);
}

TEST(CondVarTest, ANotifyEndsAWaitWhosePredicateHolds) {
  ManualClock clock;
  std::mutex mu;
  CondVar cv(clock, mu);
  bool ready = false;
  std::future<bool> woken = std::async(std::launch::async, [&] {
    std::unique_lock lock(mu);
    return cv.WaitFor(lock, std::chrono::hours(1), [&] { return ready; });
  });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  {
    std::lock_guard lock(mu);
    ready = true;
  }
  cv.NotifyAll();
  EXPECT_TRUE(woken.get());
  // A zero timeout only reads the predicate.
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.WaitFor(lock, Duration(0), [&] { return ready; }));
  EXPECT_FALSE(cv.WaitFor(lock, Duration(0), [] { return false; }));
}

// The system clock's waits are real ones (a millisecond here).
TEST(CondVarTest, ASystemClockWaitTimesOutInRealTime) {
  SystemClock clock;
  std::mutex mu;
  CondVar cv(clock, mu);
  std::unique_lock lock(mu);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cv.WaitFor(lock, std::chrono::milliseconds(1), [] { return false; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1));
}

TEST(ClockTest, UnixMillisRoundTripAndRfc3339) {
  const SystemTime t = FromUnixMillis(1'764'000'000'123);
  EXPECT_EQ(ToUnixMillis(t), 1'764'000'000'123);
  EXPECT_EQ(FormatRfc3339(t), "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace crmhub
