#include "tests/adapters/call_e2e.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crm/sqlite_store.h"
#include "tests/daemon/test_support.h"

namespace crmhub::testutil {

using std::chrono::seconds;

void RunCallsKillAndResume(simkit::CallSimulator& sim, const CallE2eOptions& o) {
  SystemClock clock;
  const simkit::AdapterWiring wiring = sim.Wiring();
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::copy_file(
      std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings" / o.mapping,
      dir.path() / "mappings" / o.mapping);
  std::string secrets;
  for (const auto& [key, value] : wiring.secrets) {
    WriteFile(dir.path() / key, value);
    secrets += fmt::format("{} = \"./{}\"\n", key, key);
  }
  WriteFile(dir.path() / "crmhub.toml",
            fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]

[adapters.{}]
type = "{}"
mapping = "mappings/{}"
{}{})",
                        o.port, o.adapter_id, wiring.type, o.mapping, secrets, wiring.keys));
  NotifySocket notify((dir.path() / "notify.sock").string());
  auto start_daemon = [&](int n) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{CrmhubBinary(), "run", "--config",
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
    return store ? store->Count(model::EntityKind::kCall, o.adapter_id).value_or(0) : 0;
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
  ASSERT_TRUE(wait_until([&] { return calls() >= o.calls / 4; }, seconds(120))) << daemon->Output();
  daemon->Signal(SIGKILL);
  ASSERT_TRUE(daemon->Wait(seconds(10)).has_value());
  const int64_t at_kill = calls();
  EXPECT_LT(at_kill, o.calls) << "the kill came after the stream, not in the middle of it";
  std::this_thread::sleep_for(seconds(1));  // notifications fail meanwhile, and are retried
  daemon = start_daemon(2);

  const std::map<std::string, std::string> expected = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(expected.size(), static_cast<size_t>(o.calls));
  std::set<std::string> callers;
  std::set<std::pair<std::string, int64_t>> tasks;  // (caller, UTC day)
  const auto unix_s = [](SystemTime t) {
    return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
  };
  // Per task: its missed calls' ends; per number: its answered calls' ends.
  std::map<std::pair<std::string, int64_t>, std::vector<int64_t>> misses;
  std::map<std::string, std::vector<int64_t>> answered;
  for (const simkit::SimCall& c : sim.calls()) {
    if (c.answered) answered[c.customer].push_back(unix_s(o.answered_at(c)));
    if (!c.incoming) continue;
    callers.insert(c.customer);
    if (!c.answered) {
      const int64_t s = unix_s(o.missed_at(c));
      tasks.insert({c.customer, s / 86400});
      misses[{c.customer, s / 86400}].push_back(s);
    }
  }
  // A task is closed by an answered call that ended after its missed call,
  // that day or the next. Which of a day's missed calls made the task is
  // the delivery's order: closed after the last is "done", not after the
  // first is "open", between is either.
  std::map<std::pair<std::string, int64_t>, std::string> task_status;
  for (const auto& [task, ends] : misses) {
    const int64_t first = *std::min_element(ends.begin(), ends.end());
    const int64_t last = *std::max_element(ends.begin(), ends.end());
    bool after_first = false, after_last = false;
    for (int64_t a : answered[task.first]) {
      if (a / 86400 != task.second && a / 86400 != task.second + 1) continue;
      after_first = after_first || a > first;
      after_last = after_last || a > last;
    }
    task_status[task] = after_last ? "done" : after_first ? "either" : "open";
  }
  std::map<std::string, int> closed_expected;
  for (const auto& [task, status] : task_status) ++closed_expected[status];
  auto count = [&](model::EntityKind kind) {
    return store ? store->Count(kind, o.adapter_id).value_or(-1) : -1;
  };
  auto all_right = [&] {
    if (!sim.PushesDone() || calls() != o.calls) return false;
    if (count(model::EntityKind::kContact) != static_cast<int64_t>(callers.size()) ||
        count(model::EntityKind::kLead) != static_cast<int64_t>(callers.size()) ||
        count(model::EntityKind::kTask) != static_cast<int64_t>(tasks.size())) {
      return false;
    }
    for (const auto& [id, result] : expected) {
      auto found = store->Find(model::EntityKind::kCall, o.adapter_id, id);
      if (!found.ok() || !found->has_value()) return false;
      if ((*found)->entity.fields.value("result", "") != result) return false;
    }
    return true;
  };
  // Every task with the status its calls give it: "" when all are, else
  // the first that is not.
  auto wrong_task = [&]() -> std::string {
    for (const auto& [task, status] : task_status) {
      auto found = store->Find(model::EntityKind::kTask, o.adapter_id,
                               "+" + task.first + ":" + std::to_string(task.second * 86400));
      if (!found.ok() || !found->has_value()) return task.first + ": no task";
      const std::string held = (*found)->entity.fields.value("status", "");
      if (status != "either" && held != status) {
        return fmt::format("{} day {}: {} (expected {})", task.first, task.second, held, status);
      }
    }
    return "";
  };
  const bool done = wait_until([&] { return all_right() && wrong_task().empty(); }, seconds(240));
  const simkit::PushStats stats = sim.Stats();
  fmt::print("{} contacts, {} leads, {} tasks ({} to close, {} to stay open, {} either); ",
             count(model::EntityKind::kContact), count(model::EntityKind::kLead),
             count(model::EntityKind::kTask), closed_expected["done"], closed_expected["open"],
             closed_expected["either"]);
  fmt::print(
      "{} calls; {} at the kill; pushes: {} sent, {} delivered, {} retried, {} duplicated, "
      "{} reordered, {} abandoned\n",
      calls(), at_kill, stats.sent, stats.delivered, stats.retried, stats.duplicated,
      stats.reordered, stats.abandoned);
  EXPECT_TRUE(done) << calls() << " calls in crm.db\n" << daemon->Output();
  EXPECT_EQ(calls(), o.calls);
  EXPECT_EQ(count(model::EntityKind::kContact), static_cast<int64_t>(callers.size()));
  EXPECT_EQ(count(model::EntityKind::kLead), static_cast<int64_t>(callers.size()));
  EXPECT_EQ(count(model::EntityKind::kTask), static_cast<int64_t>(tasks.size()));
  EXPECT_EQ(wrong_task(), "");
  EXPECT_GT(closed_expected["done"], 0) << "no task to close: the closing was not tested";
  EXPECT_GT(closed_expected["open"], 0) << "every task closed: staying open was not tested";
  EXPECT_LT(tasks.size(), static_cast<size_t>(std::count_if(
                              sim.calls().begin(), sim.calls().end(),
                              [](const simkit::SimCall& c) { return c.incoming && !c.answered; })))
      << "no caller missed twice in a day: the window was not tested";
  EXPECT_EQ(stats.abandoned, 0);
  EXPECT_GT(stats.duplicated, 0);
  EXPECT_GT(stats.reordered, 0);
  EXPECT_GT(stats.retried, 0) << "the kill made no notification fail";
  sim.Stop();
  store.reset();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(30)), 0) << daemon->Output();
}

}  // namespace crmhub::testutil
