// Issue 6, acceptance 1 for Yandex Market: `crmhub run` (child process)
// pulls orders from the in-process YandexMarketSimulator (10,000 orders with status
// changes, duplicated pages and 20% faults), queues, maps with
// config/mappings/yandex-market-orders.toml and applies to the embedded CRM
// store. The daemon is SIGKILLed mid-sync and restarted on the same data
// dir: every order ends in crm.db exactly once (external id the order id)
// with its final "STATUS/SUBSTATUS". The scenario is
// tests/adapters/marketplace_e2e.h.
//
// getOrders allows 10,000 requests per hour (50 orders a page), so reading
// 10,000 orders takes at least 200 requests, about 72 s at that rate: this
// test is slower than the other marketplaces' by design.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/yandex_market/adapter.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::adapters::yandex_market {
namespace {

using std::chrono::seconds;

constexpr int kOrders = 10'000;
// A short overlap: the re-read must not paper over a cursor that skips
// orders (the default 10 min would re-read this whole world each pass).
constexpr int64_t kOverlapMs = 2000;

TEST(YandexMarketEndToEndTest, TenThousandOrdersWithFaultsAndAKillLandExactlyOnce) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(9);  // three steps of 1..3 s: final within 9 s
  // "429" answers Market's 420.
  so.faults = testutil::TwentyPercentFaults();
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());

  testutil::MarketplaceE2e e2e(testutil::OptionsFor(sim, "ym-main", "yandex-market-orders.toml",
                                                    fmt::format(R"(poll_interval = "500ms"
request_timeout = "1s"
overlap = "{}ms"
lookback = "1h"
orders_rate_limit = 10000)",
                                                                kOverlapMs)));
  uint64_t seq_at_kill = 0;
  std::optional<PullCursor> cursor_at_kill;
  testutil::RunKillAndResume(
      e2e, {.orders = kOrders,
            .until_all_final = seconds(420),
            .final_statuses = testutil::FinalStatusesOf(sim, clock),
            .at_kill =
                [&](const std::string& cursor) {
                  seq_at_kill = testutil::LogPosition(sim.log());
                  cursor_at_kill = PullCursor::Parse(cursor);
                }});
  // The restarted daemon resumed from the persisted cursor (not from
  // lookback): its first getOrders request is the cursor's page.
  ASSERT_TRUE(cursor_at_kill.has_value());
  auto request = testutil::FirstRequestAfter(
      sim.log(), seq_at_kill, "GET", fmt::format("/v2/campaigns/{}/orders", so.campaign_id()));
  ASSERT_TRUE(request.has_value());
  std::optional<net::HttpRequest> first(std::in_place);
  first->query = request->query;
  auto from = ParseIsoTime(first->QueryParam("updatedAtFrom").value_or(""));
  ASSERT_TRUE(from.has_value()) << first->query;
  EXPECT_EQ(ToUnixMillis(*from), cursor_at_kill->watermark_ms - kOverlapMs) << first->query;
  if (cursor_at_kill->window_to_ms != 0) {  // killed inside a pass: the same page
    auto to = ParseIsoTime(first->QueryParam("updatedAtTo").value_or(""));
    ASSERT_TRUE(to.has_value()) << first->query;
    EXPECT_EQ(ToUnixMillis(*to), cursor_at_kill->window_to_ms) << first->query;
    EXPECT_EQ(first->QueryParam("pageToken").value_or(""), cursor_at_kill->page_token)
        << first->query;
  }
  testutil::ExpectInjectedFaults(sim.log());
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
