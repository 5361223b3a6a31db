// kit/missed_call.h: one task key per caller per window, windows aligned to
// the epoch (UTC), the due time, and no task without a window or a caller.

#include "adapters/kit/missed_call.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kMidnight = 1700006400;  // 2023-11-15 00:00:00 UTC

MissedCall At(int64_t unix_s, std::string caller = "79161234567") {
  return {.caller = std::move(caller),
          .call_id = "E1",
          .ended = SystemTime(seconds(unix_s)),
          .assignee = "101",
          .line = "74950000000"};
}

TEST(MissedCallTask, OneKeyPerCallerPerWindow) {
  const MissedCallPolicy day;  // 24h, due 1h
  auto key = [&](int64_t t, std::string caller = "79161234567") {
    return MissedCallTask(day, At(t, std::move(caller)))->idempotency_key;
  };
  EXPECT_EQ(key(kMidnight), "missed-call:79161234567:" + std::to_string(kMidnight));
  EXPECT_EQ(key(kMidnight + 86399), key(kMidnight));
  EXPECT_NE(key(kMidnight + 86400), key(kMidnight));
  EXPECT_NE(key(kMidnight - 1), key(kMidnight));
  EXPECT_NE(key(kMidnight, "79160000000"), key(kMidnight));
  MissedCallPolicy hour{.window = hours(1)};
  EXPECT_NE(MissedCallTask(hour, At(kMidnight + 3600))->idempotency_key,
            MissedCallTask(hour, At(kMidnight + 3599))->idempotency_key);
  // Before the epoch the window still starts below the call.
  EXPECT_EQ(MissedCallTask(day, At(-10))->idempotency_key, "missed-call:79161234567:-86400");
}

TEST(MissedCallTask, PayloadAndOrdering) {
  MissedCallPolicy p{.window = hours(24), .due_after = minutes(30)};
  auto e = MissedCallTask(p, At(kMidnight + 100));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, "missed_call_task");
  EXPECT_EQ(e->ordering_key, "79161234567");
  const nlohmann::json t = nlohmann::json::parse(e->payload)["missed_call_task"];
  EXPECT_EQ(t["caller"], "79161234567");
  EXPECT_EQ(t["call_id"], "E1");
  EXPECT_EQ(t["window_start"], kMidnight);
  EXPECT_EQ(t["ended"], kMidnight + 100);
  EXPECT_EQ(t["due"], kMidnight + 100 + 1800);
  EXPECT_EQ(t["assignee"], "101");
  EXPECT_EQ(t["line"], "74950000000");
}

TEST(MissedCallTask, NoWindowOrNoCallerMakesNone) {
  EXPECT_FALSE(MissedCallTask({.window = seconds(0)}, At(kMidnight)).has_value());
  EXPECT_FALSE(MissedCallTask({}, At(kMidnight, "")).has_value());
}

}  // namespace
}  // namespace crmhub::adapters::kit
