#include "base/clock.h"

#include <gtest/gtest.h>

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

TEST(ClockTest, UnixMillisRoundTripAndRfc3339) {
  const SystemTime t = FromUnixMillis(1'764'000'000'123);
  EXPECT_EQ(ToUnixMillis(t), 1'764'000'000'123);
  EXPECT_EQ(FormatRfc3339(t), "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(FromUnixMillis(0)), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace crmhub
