// adapters/kit/keyed_limit.h: a limit per key.

#include "adapters/kit/keyed_limit.h"

#include <gtest/gtest.h>

#include <string>

namespace crmhub::adapters::kit {
namespace {

TEST(KeyedLimitTest, EachKeyHasItsOwnWindow) {
  ManualClock clock;
  KeyedLimit limit(clock, 2, std::chrono::minutes(1));
  EXPECT_FALSE(limit.TryTake("a").has_value());
  clock.Advance(std::chrono::seconds(10));
  EXPECT_FALSE(limit.TryTake("a").has_value());
  auto wait = limit.TryTake("a");
  ASSERT_TRUE(wait.has_value()) << "a third unit within the window";
  EXPECT_EQ(*wait, std::chrono::seconds(50)) << "until the first unit leaves the window";
  EXPECT_FALSE(limit.TryTake("b").has_value()) << "another key is not held up";
  clock.Advance(std::chrono::seconds(50));
  EXPECT_FALSE(limit.TryTake("a").has_value());
}

// Emptied windows are dropped (and a dropped key starts afresh, as it
// would with its empty window), live ones are kept.
TEST(KeyedLimitTest, ManyKeysDoNotPinTheirWindows) {
  ManualClock clock;
  KeyedLimit limit(clock, 1, std::chrono::seconds(30));
  for (int i = 0; i < 5000; ++i) {
    ASSERT_FALSE(limit.TryTake(std::to_string(i)).has_value()) << i;
    if (i == 2500) clock.Advance(std::chrono::seconds(30));
  }
  EXPECT_TRUE(limit.TryTake("4999").has_value()) << "a live window survives pruning";
  clock.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(limit.TryTake("4999").has_value());
}

}  // namespace
}  // namespace crmhub::adapters::kit
