// `crmhub run` end to end against the Mango simulator: N calls, each told
// as Mango does (legs by seq, recordings, the final summary), pushed to the
// daemon with duplicates, out of order, retried when not answered 200, and
// one SIGKILL of the daemon mid-stream. At the end crm.db holds exactly N
// calls, each answered or missed as the simulator decided.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <fmt/format.h>

#include "adapters/mango/mango_sim.h"
#include "crm/sqlite_store.h"
#include "tests/daemon/test_support.h"
#include "tests/support/prism.h"

namespace crmhub::adapters::mango {
namespace {

using std::chrono::seconds;

constexpr int kCalls = 300;

TEST(MangoEndToEndTest, EveryCallOnceWithItsResultThroughDuplicatesReorderingAndAKill) {
  SystemClock clock;
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  MangoSimOptions so;
  so.orders = kCalls;
  so.start = clock.Now() - std::chrono::minutes(10);  // every event due: pushed as fast as taken
  so.arrival = seconds(60);
  so.faults.dup = 0.2;
  so.extra["target"] = fmt::format("http://127.0.0.1:{}/hooks/mango-main", *port);
  MangoSimulator sim(so, clock);

  testutil::TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::copy_file(std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings/mango-calls.toml",
                             dir.path() / "mappings/mango-calls.toml");
  std::string secrets;
  for (const auto& [key, value] : sim.Wiring().secrets) {
    testutil::WriteFile(dir.path() / key, value);
    secrets += fmt::format("{} = \"./{}\"\n", key, key);
  }
  testutil::WriteFile(dir.path() / "crmhub.toml", fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[adapters.mango-main]
type = "mango"
mapping = "mappings/mango-calls.toml"
{}{})",
                                                                 *port, secrets, sim.Wiring().keys));
  testutil::NotifySocket notify((dir.path() / "notify.sock").string());
  auto start_daemon = [&](int n) {
    return std::make_unique<testutil::ChildProcess>(
        std::vector<std::string>{testutil::CrmhubBinary(), "run", "--config",
                                 (dir.path() / "crmhub.toml").string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.name()}},
        dir.path() / fmt::format("daemon-{}.log", n));
  };
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto calls = [&]() -> int64_t {
    if (!store && std::filesystem::exists(dir.path() / "data/crm.db")) {
      auto opened = crm::SqliteCrmStore::Open({.path = dir.path() / "data/crm.db"}, clock);
      if (opened.ok()) store = std::move(*opened);
    }
    return store ? store->Count(model::EntityKind::kCall, "mango-main").value_or(0) : 0;
  };
  auto wait_until = [&](const std::function<bool()>& done, seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      notify.Receive(std::chrono::milliseconds(100));
    }
    return done();
  };

  auto daemon = start_daemon(1);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ASSERT_TRUE(wait_until([&] { return calls() >= kCalls / 4; }, seconds(120))) << daemon->Output();
  daemon->Signal(SIGKILL);
  ASSERT_TRUE(daemon->Wait(seconds(10)).has_value());
  const int64_t at_kill = calls();
  EXPECT_LT(at_kill, kCalls) << "the kill came after the stream, not in the middle of it";
  std::this_thread::sleep_for(seconds(1));  // notifications fail meanwhile, and are retried
  daemon = start_daemon(2);

  const std::map<std::string, std::string> expected = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(expected.size(), static_cast<size_t>(kCalls));
  auto all_right = [&] {
    if (!sim.PushesDone() || calls() != kCalls) return false;
    for (const auto& [entry_id, result] : expected) {
      auto found = store->Find(model::EntityKind::kCall, "mango-main", entry_id);
      if (!found.ok() || !found->has_value()) return false;
      if ((*found)->entity.fields.value("result", "") != result) return false;
    }
    return true;
  };
  const bool done = wait_until(all_right, seconds(240));
  const simkit::PushStats stats = sim.PushStats();
  fmt::print("{} calls; {} at the kill; pushes: {} sent, {} delivered, {} retried, {} duplicated, "
             "{} reordered, {} abandoned\n",
             calls(), at_kill, stats.sent, stats.delivered, stats.retried, stats.duplicated,
             stats.reordered, stats.abandoned);
  EXPECT_TRUE(done) << calls() << " calls in crm.db\n" << daemon->Output();
  EXPECT_EQ(calls(), kCalls);
  EXPECT_EQ(stats.abandoned, 0);
  EXPECT_GT(stats.duplicated, 0);
  EXPECT_GT(stats.reordered, 0);
  EXPECT_GT(stats.retried, 0) << "the kill made no notification fail";
  sim.Stop();
  store.reset();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(30)), 0) << daemon->Output();
}

}  // namespace
}  // namespace crmhub::adapters::mango
