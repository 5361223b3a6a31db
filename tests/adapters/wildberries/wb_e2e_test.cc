// End to end with the real daemon: `crmhub run` (child process) pulls from
// the in-process simulator (10,000 orders with status changes, duplicated
// pages and 20% faults), queues, maps with config/mappings/
// wildberries-orders.toml and applies to the embedded CRM store. The daemon
// is SIGKILLed mid-sync and restarted on the same data dir: every order ends
// in crm.db exactly once (one row per external id, count checked) with its
// final status.

#include <csignal>

#include <fmt/format.h>

#include "crm/sqlite_store.h"
#include "tests/daemon/test_support.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kOrders = 10'000;

std::string Config(uint16_t sim_port) {
  return fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:0"]

[adapters.wb-main]
type = "wildberries"
token_file = "secrets/wb-token"
mapping = "mappings/wildberries-orders.toml"
marketplace_url = "http://127.0.0.1:{0}"
content_url = "http://127.0.0.1:{0}"
prices_url = "http://127.0.0.1:{0}"
poll_interval = "500ms"
request_timeout = "1s"
lookback = "1h"
)",
                     sim_port);
}

class E2e {
 public:
  explicit E2e(const testutil::TempDir& dir)
      : dir_(dir), notify_((dir.path() / "notify.sock").string()) {}
  void Start() {
    child_.reset();
    child_ = std::make_unique<testutil::ChildProcess>(
        std::vector<std::string>{testutil::CrmhubBinary(), "run", "--config",
                                 (dir_.path() / "crmhub.toml").string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify_.name()}},
        dir_.path() / fmt::format("daemon-{}.log", ++starts_));
  }
  // Evaluates `done` at each notification or every 500 ms until true.
  bool WaitUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      notify_.Receive(milliseconds(500));
    }
    return true;
  }
  testutil::ChildProcess& child() { return *child_; }

 private:
  const testutil::TempDir& dir_;
  testutil::NotifySocket notify_;
  std::unique_ptr<testutil::ChildProcess> child_;
  int starts_ = 0;
};

TEST(WildberriesEndToEndTest, TenThousandOrdersWithFaultsAndAKillLandExactlyOnce) {
  Loop loop;
  SystemClock clock;
  SimOptions so;
  so.orders = kOrders;
  so.seed = 2026;
  so.arrival = seconds(8);
  so.lifetime = seconds(8);
  // 20% of requests fail or misbehave.
  so.faults = simkit::ParseFaultSpec(
                  "429=0.05,500=0.04,503=0.03,timeout=0.02,slow=0.02,dup=0.02,malformed=0.02")
                  .value();
  so.faults.slow_delay = milliseconds(100);
  WildberriesSim sim(loop.io(), clock, so);
  ASSERT_TRUE(sim.Listen("127.0.0.1:0").ok());

  testutil::TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::create_directories(dir.path() / "secrets");
  std::filesystem::copy_file(
      std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings/wildberries-orders.toml",
      dir.path() / "mappings/wildberries-orders.toml");
  testutil::WriteFile(dir.path() / "secrets/wb-token", "sim-token");
  testutil::WriteFile(dir.path() / "crmhub.toml", Config(sim.port()));

  E2e daemon(dir);
  daemon.Start();
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto orders_in_store = [&]() -> int64_t {
    if (!store) {
      if (!std::filesystem::exists(dir.path() / "data/crm.db")) return 0;
      crm::SqliteStoreOptions options;
      options.path = dir.path() / "data/crm.db";
      auto opened = crm::SqliteCrmStore::Open(options, clock);
      if (!opened.ok()) return 0;
      store = std::move(*opened);
    }
    return store->Count(model::EntityKind::kOrder, "wb-main").value_or(0);
  };
  // Mid-sync: some orders applied, far from all.
  ASSERT_TRUE(daemon.WaitUntil([&] { return orders_in_store() >= 1500; }, seconds(120)))
      << daemon.child().Output();
  daemon.child().Signal(SIGKILL);
  ASSERT_TRUE(daemon.child().Wait(seconds(10)).has_value());
  const int64_t at_kill = orders_in_store();
  EXPECT_LT(at_kill, kOrders);
  daemon.Start();

  // Done when the world has ended and the store holds every final status.
  json state;
  std::map<int64_t, std::string> expected;
  auto all_final_in_store = [&]() {
    if (expected.empty()) {
      state = sim.StateJson();
      if (!state["all_final"].get<bool>() || state["orders"].size() != size_t{kOrders}) {
        return false;
      }
      for (const auto& o : state["orders"]) {
        expected[o["id"].get<int64_t>()] = o["finalSupplierStatus"].get<std::string>() + "/" +
                                           o["finalWbStatus"].get<std::string>();
      }
    }
    if (orders_in_store() != kOrders) return false;
    for (const auto& [id, status] : expected) {
      auto found = store->Find(model::EntityKind::kOrder, "wb-main", std::to_string(id));
      if (!found.ok() || !found->has_value()) return false;
      if ((*found)->entity.fields.value("status", "") != status) return false;
    }
    return true;
  };
  ASSERT_TRUE(daemon.WaitUntil(all_final_in_store, seconds(240))) << daemon.child().Output();
  // Exactly once: one order and one deal per WB order, no more.
  EXPECT_EQ(store->Count(model::EntityKind::kOrder, "wb-main").value_or(-1), kOrders);
  EXPECT_EQ(store->Count(model::EntityKind::kDeal, "wb-main").value_or(-1), kOrders);
  // The faults really happened.
  int faults = 0, requests = 0;
  for (const auto& r : sim.log().Snapshot()) {
    ++requests;
    if (r.fault != simkit::Fault::kNone) ++faults;
  }
  EXPECT_GT(faults, requests / 10);
  daemon.child().Signal(SIGTERM);
  EXPECT_TRUE(daemon.child().Wait(seconds(30)).has_value());
  sim.Stop();
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
