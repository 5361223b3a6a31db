// Issue 6, acceptance 1 for Ozon: `crmhub run` (child process) pulls FBS
// and FBO postings (a quarter FBO) from the in-process OzonSimulator (10,000
// postings with status changes, duplicated pages and 20% faults), queues, maps with
// config/mappings/ozon-orders.toml and applies to the embedded CRM store.
// The daemon is SIGKILLed mid-sync and restarted on the same data dir: every
// posting ends in crm.db exactly once (external id posting_number) with its
// final status. The scenario is tests/adapters/marketplace_e2e.h.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/ozon/ozon_adapter.h"
#include "adapters/ozon/ozon_sim.h"
#include "base/timestamp.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr int kOrders = 10'000;
// A short overlap: the re-read must not paper over a cursor that skips
// postings (the default 10 min would re-read this whole world each pass).
constexpr int64_t kOverlapMs = 2000;

TEST(OzonEndToEndTest, TenThousandPostingsWithFaultsAndAKillLandExactlyOnce) {
  SystemClock clock;
  OzonSimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(9);  // three steps: final within 9 s of creation
  // On top of the simulator's own 50 requests/s limit.
  so.faults = testutil::TwentyPercentFaults();
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());

  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "ozon-main", "ozon-orders.toml",
                                                    fmt::format(R"(poll_interval = "500ms"
request_timeout = "1s"
overlap = "{}ms"
order_lookback = "1h")",
                                                                kOverlapMs)));
  uint64_t seq_at_kill = 0;
  std::optional<OzonCursor> cursor_at_kill;
  testutil::RunKillAndResume(e2e, {.orders = kOrders,
                                   .final_statuses = testutil::FinalStatusesOf(sim, clock),
                                   .at_kill = [&](const std::string& cursor) {
                                     seq_at_kill = testutil::LogPosition(sim.log());
                                     cursor_at_kill = OzonCursor::Parse(cursor);
                                   }});
  ASSERT_GT(sim.FboPostings().size(), kOrders / 10u) << "FBO postings were in the world";
  // The restarted daemon resumed from the persisted cursor (not from
  // order_lookback): its first list request is the cursor's scheme's page.
  ASSERT_TRUE(cursor_at_kill.has_value());
  const bool fbs = cursor_at_kill->scheme == Scheme::kFbs;
  const PullCursor& state = cursor_at_kill->state(cursor_at_kill->scheme);
  auto fbs_request =
      testutil::FirstRequestAfter(sim.log(), seq_at_kill, "POST", "/v3/posting/fbs/list");
  auto fbo_request =
      testutil::FirstRequestAfter(sim.log(), seq_at_kill, "POST", "/v2/posting/fbo/list");
  auto request = fbs ? fbs_request : fbo_request;
  const auto& other = fbs ? fbo_request : fbs_request;
  ASSERT_TRUE(request.has_value());
  if (other) {
    EXPECT_LT(request->seq, other->seq) << "the other scheme's list came first";
  }
  std::optional<json> first = json::parse(request->body, nullptr, false);
  ASSERT_TRUE(first->is_object());
  if (fbs) {
    const json& changed = (*first)["filter"]["last_changed_status_date"];
    auto from = ParseTimestamp(changed.value("from", ""), kNoDefaultOffset);
    ASSERT_TRUE(from.has_value()) << first->dump();
    const int64_t expected_from =
        state.window_from_ms != 0 ? state.window_from_ms : state.watermark_ms - kOverlapMs;
    EXPECT_EQ(ToUnixMillis(*from), expected_from) << first->dump();
    if (state.window_to_ms != 0) {  // killed inside a pass: the same window
      auto to = ParseTimestamp(changed.value("to", ""), kNoDefaultOffset);
      ASSERT_TRUE(to.has_value()) << first->dump();
      EXPECT_EQ(ToUnixMillis(*to), state.window_to_ms) << first->dump();
      EXPECT_EQ((*first)["offset"].get<int64_t>(), state.offset) << first->dump();
    }
  } else {
    auto since = ParseTimestamp((*first)["filter"].value("since", ""), kNoDefaultOffset);
    auto to = ParseTimestamp((*first)["filter"].value("to", ""), kNoDefaultOffset);
    ASSERT_TRUE(since && to) << first->dump();
    if (state.window_to_ms != 0) {  // killed inside a pass: the same window
      EXPECT_EQ(ToUnixMillis(*since), state.window_from_ms) << first->dump();
      EXPECT_EQ(ToUnixMillis(*to), state.window_to_ms) << first->dump();
      EXPECT_EQ((*first)["offset"].get<int64_t>(), state.offset) << first->dump();
    } else if (state.span_ms != 0) {  // a new pass, its first window as wide as the cursor says
      EXPECT_LE(ToUnixMillis(*to) - ToUnixMillis(*since), state.span_ms) << first->dump();
    }
  }
  testutil::ExpectInjectedFaults(sim.log());
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::ozon
