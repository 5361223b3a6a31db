// Yandex Market through the real daemon (`crmhub run`, a child process) and
// the in-process YandexMarketSimulator:
//
// 1. Issue 6, acceptance 1: 10,000 orders with status changes, duplicated
//    pages and 20% faults are pulled, queued, mapped with
//    config/mappings/yandex-market-orders.toml and applied to the embedded
//    CRM store; the daemon is SIGKILLed mid-sync and restarted on the same
//    data dir: every order ends in crm.db exactly once with its final
//    "STATUS/SUBSTATUS" (tests/adapters/marketplace_e2e.h). getBusinessOrders
//    allows 10,000 requests an hour (50 orders a page): reading 10,000
//    orders takes at least 200 requests, about 72 s at that rate: the long
//    tier runs 10,000 orders, the default tier 2,000 (CRMHUB_YM_E2E_ORDERS).
// 2. API notifications: with a poll interval of an hour, an order Market
//    creates after the first pull and notifies /hooks/<id>/notification of
//    is in crm.db within seconds, fetched once by its id, without a poll.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "adapters/yandex_market/yandex_market_adapter.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "base/timestamp.h"
#include "crm/sqlite_store.h"
#include "tests/adapters/marketplace_e2e.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;
using std::chrono::seconds;

#ifndef CRMHUB_YM_E2E_ORDERS
#define CRMHUB_YM_E2E_ORDERS 2000
#endif
constexpr int kOrders = CRMHUB_YM_E2E_ORDERS;
// A short overlap: the re-read must not paper over a cursor that skips
// orders (the default 10 min would re-read this whole world each pass).
constexpr int64_t kOverlapMs = 2000;

TEST(YandexMarketEndToEndTest, ThousandsOfOrdersWithFaultsAndAKillLandExactlyOnce) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(9);                     // three steps of 1..3 s: final within 9 s
  so.faults = testutil::TwentyPercentFaults();  // "429" answers Market's 420
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
  testutil::RunKillAndResume(e2e, {.orders = kOrders,
                                   .until_all_final = seconds(420),
                                   .final_statuses = testutil::FinalStatusesOf(sim, clock),
                                   .at_kill = [&](const std::string& cursor) {
                                     seq_at_kill = testutil::LogPosition(sim.log());
                                     cursor_at_kill = PullCursor::Parse(cursor);
                                   }});
  // The restarted daemon resumed from the persisted cursor (not from
  // lookback): its first getBusinessOrders request is the cursor's page.
  ASSERT_TRUE(cursor_at_kill.has_value());
  auto request = testutil::FirstRequestAfter(sim.log(), seq_at_kill, sim.Wiring().orders_method,
                                             sim.Wiring().orders_path);
  ASSERT_TRUE(request.has_value());
  const json dates = json::parse(request->body)["dates"];
  auto from = ParseTimestampMs(dates.value("updateDateFrom", ""), kNoDefaultOffset);
  ASSERT_TRUE(from.ok()) << request->body;
  EXPECT_EQ(*from, cursor_at_kill->watermark_ms - kOverlapMs) << request->body;
  if (cursor_at_kill->window_to_ms != 0) {  // killed inside a pass: the same page
    auto to = ParseTimestampMs(dates.value("updateDateTo", ""), kNoDefaultOffset);
    ASSERT_TRUE(to.ok()) << request->body;
    EXPECT_EQ(*to, cursor_at_kill->window_to_ms) << request->body;
    net::HttpRequest first;
    first.query = request->query;
    EXPECT_EQ(first.QueryParam("pageToken").value_or(""), cursor_at_kill->page_token)
        << request->query;
  }
  testutil::ExpectInjectedFaults(sim.log());
  sim.Stop();
}

TEST(YandexMarketEndToEndTest, ANotificationBringsANewOrderInWithoutAPoll) {
  SystemClock clock;
  YandexMarketSimOptions so;
  so.orders = 20;
  so.start = clock.Now() - std::chrono::hours(1);  // a world already at rest
  so.arrival = seconds(10);
  so.lifetime = seconds(3);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());

  testutil::TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::copy_file(
      std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings/yandex-market-orders.toml",
      dir.path() / "mappings/yandex-market-orders.toml");
  testutil::WriteFile(dir.path() / "ym-api-key", so.api_key());
  testutil::WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[adapters.ym-main]
type = "yandex-market"
mapping = "mappings/yandex-market-orders.toml"
api_key_file = "./ym-api-key"
{}poll_interval = "1h"
lookback = "2h"
push_allow_ips = []
)",
                                                              *port, sim.Wiring().keys));
  testutil::NotifySocket notify((dir.path() / "notify.sock").string());
  testutil::ChildProcess daemon(
      {testutil::CrmhubBinary(), "run", "--config", (dir.path() / "crmhub.toml").string()},
      {{"NOTIFY_SOCKET", notify.name()}}, dir.path() / "daemon.log");
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto status_of = [&](const std::string& id) -> std::string {
    if (!store && std::filesystem::exists(dir.path() / "data/crm.db")) {
      auto opened = crm::SqliteCrmStore::Open({.path = dir.path() / "data/crm.db"}, clock);
      if (opened.ok()) store = std::move(*opened);
    }
    auto found = store ? store->Find(model::EntityKind::kOrder, "ym-main", id)
                       : Result<std::optional<crm::StoredEntity>>(std::nullopt);
    return found.ok() && found->has_value() ? (*found)->entity.fields.value("status", "?") : "";
  };
  auto wait_until = [&](const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      notify.Receive(std::chrono::milliseconds(100));
    }
    return done();
  };
  // The first pull brings the world in.
  const auto finals = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& [id, status] : finals) {
          if (status_of(id) != status) return false;
        }
        return true;
      },
      seconds(60)))
      << daemon.Output();
  const std::string orders_path = sim.Wiring().orders_path;
  auto requests = [&](bool by_id) {
    int n = 0;
    for (const auto& r : sim.log().Find("POST", orders_path)) {
      n += json::parse(r.body).contains("orderIds") == by_id;
    }
    return n;
  };
  const int polls = requests(false);

  Result<int64_t> id = sim.CreateOrderAndNotify(
      fmt::format("http://127.0.0.1:{}/hooks/ym-main/notification", *port));
  ASSERT_TRUE(id.ok()) << id.status().ToString() << "\n" << daemon.Output();
  const auto notified = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return status_of(std::to_string(*id)) == "PROCESSING/STARTED"; },
                         seconds(10)))
      << daemon.Output();
  fmt::print("the notified order was in crm.db after {} ms\n",
             std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - notified)
                 .count());
  EXPECT_EQ(requests(false), polls) << "no poll in between";
  EXPECT_EQ(requests(true), 1) << "one getBusinessOrders by the order's id";
  store.reset();
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(30)), 0) << daemon.Output();
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
