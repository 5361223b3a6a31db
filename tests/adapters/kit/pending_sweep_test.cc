// kit::PendingSweep: what a payment provider's sweep remembers, when it
// hands entries back, and its cursor across a restart.

#include "adapters/kit/pending_sweep.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TEST(PendingSweepTest, HandsBackWhatIsPendingLongEnoughAtMostEveryPeriod) {
  ManualClock clock;
  PendingSweep sweep(hours(1), minutes(5), clock);
  sweep.Track("a", "payment", "a", false);
  sweep.Track("r", "refund", "a", false);
  sweep.Track("done", "payment", "done", true);
  EXPECT_EQ(sweep.size(), 2u);
  EXPECT_TRUE(sweep.Due(50).empty());  // a first look: nothing pending an hour
  clock.Advance(hours(2));
  sweep.Track("a", "payment", "a", false);  // seen again: its first sighting counts
  sweep.Track("b", "payment", "b", false);  // new: not due for an hour
  std::vector<PendingSweep::Entry> due = sweep.Due(50);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].id, "a");
  EXPECT_EQ(due[1].id, "r");
  EXPECT_EQ(due[1].kind, "refund");
  EXPECT_EQ(due[1].ordering_key, "a");
  EXPECT_TRUE(sweep.Due(50).empty());  // within reconcile_every of that look
  clock.Advance(minutes(5));
  EXPECT_EQ(sweep.Due(1).size(), 1u);  // at most `max`
  sweep.Track("a", "payment", "a", true);
  sweep.Forget("r");
  EXPECT_EQ(sweep.size(), 1u);
}

TEST(PendingSweepTest, TheCursorCarriesTheMemoryAndABadOneRestoresNothing) {
  ManualClock clock;
  PendingSweep before(hours(1), minutes(5), clock);
  before.Track("a", "payment", "a", false);
  clock.Advance(hours(2));
  PendingSweep after(hours(1), minutes(5), clock);
  after.Restore(before.Cursor());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after.Due(50).at(0).id, "a");  // its first sighting, not the restart
  for (const char* bad : {"", "[]", "not json", R"({"x":[1,2,3]})", R"({"x":["payment","x"]})"}) {
    PendingSweep fresh(hours(1), minutes(5), clock);
    fresh.Restore(std::string(bad));
    EXPECT_EQ(fresh.size(), 0u) << bad;
  }
  EXPECT_EQ(nlohmann::json::parse(after.Cursor()), nlohmann::json::parse(before.Cursor()));
}

}  // namespace
}  // namespace crmhub::adapters::kit
