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

// The follow-up of an answered call: keyed by the call (a redelivery is a
// duplicate), ordered with the number's task, naming this window and the
// one before it.
TEST(MissedCallClosure, NamesTheCallsWindowAndThePreviousOne) {
  const MissedCallPolicy day;
  AnsweredCall answered{.number = "79161234567",
                        .call_id = "E9",
                        .ended = SystemTime(seconds(kMidnight + 600)),
                        .outgoing = true};
  auto e = MissedCallClosure(day, answered);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->idempotency_key, "missed-call-closed:E9");
  EXPECT_EQ(e->kind, "missed_call_closed");
  EXPECT_EQ(e->ordering_key, MissedCallTask(day, At(kMidnight))->ordering_key);
  const nlohmann::json c = nlohmann::json::parse(e->payload)["missed_call_closed"];
  EXPECT_EQ(c["number"], "79161234567");
  EXPECT_EQ(c["call_id"], "E9");
  EXPECT_EQ(c["ended"], kMidnight + 600);
  EXPECT_EQ(c["outgoing"], true);
  EXPECT_EQ(c["window_start"], kMidnight);
  EXPECT_EQ(c["previous_window_start"], kMidnight - 86400);
  // The task of a call missed in either window has the window start the
  // closure names.
  const auto task_window = [&](int64_t t) {
    return nlohmann::json::parse(
        MissedCallTask(day, At(t))->payload)["missed_call_task"]["window_start"];
  };
  EXPECT_EQ(task_window(kMidnight + 10), c["window_start"]);
  EXPECT_EQ(task_window(kMidnight - 10), c["previous_window_start"]);
  EXPECT_FALSE(MissedCallClosure(MissedCallPolicy{.window = seconds(0)}, answered).has_value());
  answered.number.clear();
  EXPECT_FALSE(MissedCallClosure(day, answered).has_value());
}

}  // namespace
}  // namespace crmhub::adapters::kit
