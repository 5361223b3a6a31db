// `crmhub run` end to end against the four payment simulators at once:
// 1,000 payments (250 a provider), each told as its provider does (YooKassa
// hints re-fetched from its API, CloudPayments forms with Content-HMAC,
// T-Bank JSON with its Token, Robokassa's ResultURL), pushed with 20%
// duplicates and out of order, retried when not answered as the provider
// requires; 20% of YooKassa's API answers are 5xx or time out; the daemon is
// SIGKILLed once, mid-stream. It ends as exactly the simulators' payments in
// crm.db, each at the final status its provider decided.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "adapters/cloudpayments/cloudpayments_sim.h"
#include "adapters/robokassa/robokassa_sim.h"
#include "adapters/tbank/tbank_sim.h"
#include "adapters/yookassa/yookassa_sim.h"
#include "crm/sqlite_store.h"
#include "tests/daemon/test_support.h"
#include "tests/support/prism.h"

namespace crmhub::adapters {
namespace {

using std::chrono::seconds;
using testutil::ChildProcess;
using testutil::NotifySocket;
using testutil::TempDir;
using testutil::WriteFile;

constexpr int kPerProvider = 250;

struct Provider {
  std::string id;  // the adapter's id and type
  std::string mapping;
  simkit::PaymentSimulator* sim;
  std::string keys;  // the section's keys beyond type, mapping and secrets
};

TEST(PaymentsEndToEndTest, ThousandPaymentsOnceEachAtTheirFinalStatusThroughFaultsAndAKill) {
  SystemClock clock;
  auto daemon_port = crmhub::testing::PickFreeLoopbackPort();
  auto yookassa_port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(daemon_port.ok() && yookassa_port.ok());
  auto options = [&](const std::string& id, simkit::SimOptions o) {
    o.orders = kPerProvider;
    o.start = clock.Now() - std::chrono::minutes(10);  // every event due: pushed as fast as taken
    o.faults.dup = 0.2;
    o.extra["target"] = fmt::format("http://127.0.0.1:{}/hooks/{}", *daemon_port, id);
    return o;
  };
  yookassa::YooKassaSimOptions yo;
  static_cast<simkit::SimOptions&>(yo) = options("yookassa", {});
  yo.faults.p500 = 0.1;
  yo.faults.p503 = 0.05;
  yo.faults.timeout = 0.05;
  yookassa::YooKassaSimulator yookassa_sim(yo, clock);
  cloudpayments::CloudPaymentsSimOptions co;
  static_cast<simkit::SimOptions&>(co) = options("cloudpayments", {});
  cloudpayments::CloudPaymentsSimulator cloudpayments_sim(co, clock);
  tbank::TbankSimOptions to;
  static_cast<simkit::SimOptions&>(to) = options("tbank", {});
  tbank::TbankSimulator tbank_sim(to, clock);
  // Robokassa tells of paid invoices only: as many invoices as make 250
  // paid ones, so that the providers tell of exactly 1,000 payments.
  robokassa::RobokassaSimOptions ro;
  static_cast<simkit::SimOptions&>(ro) = options("robokassa", {});
  std::unique_ptr<robokassa::RobokassaSimulator> robokassa;
  for (int n = kPerProvider;; ++n) {
    ro.orders = n;
    robokassa = std::make_unique<robokassa::RobokassaSimulator>(ro, clock);
    if (robokassa->OrderStatuses(/*final_only=*/true).size() >= kPerProvider) break;
  }
  robokassa::RobokassaSimulator& robokassa_sim = *robokassa;

  std::vector<Provider> providers = {
      {"yookassa", "yookassa-payments.toml", &yookassa_sim,
       fmt::format("shop_id = \"sim-shop\"\nbase_url = \"http://127.0.0.1:{}/v3\"\n"
                   "request_timeout = \"1s\"\nallow_ips = [\"127.0.0.0/8\"]\n",
                   *yookassa_port)},
      {"cloudpayments", "cloudpayments-payments.toml", &cloudpayments_sim, ""},
      {"tbank", "tbank-payments.toml", &tbank_sim, ""},
      {"robokassa", "robokassa-payments.toml", &robokassa_sim, ""},
  };
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::string config = fmt::format(R"([daemon]
data_dir = "data"
io_threads = 2

[log]
level = "warn"

[http]
listen = ["127.0.0.1:{}"]
)",
                                   *daemon_port);
  for (Provider& p : providers) {
    std::filesystem::copy_file(
        std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings" / p.mapping,
        dir.path() / "mappings" / p.mapping);
    const simkit::AdapterWiring wiring = p.sim->Wiring();
    std::string secrets;
    for (const auto& [key, value] : wiring.secrets) {
      WriteFile(dir.path() / (p.id + "-" + key), value);
      secrets += fmt::format("{} = \"./{}-{}\"\n", key, p.id, key);
    }
    config += fmt::format("\n[adapters.{}]\ntype = \"{}\"\nmapping = \"mappings/{}\"\n{}{}", p.id,
                          wiring.type, p.mapping, secrets, p.keys.empty() ? wiring.keys : p.keys);
  }
  WriteFile(dir.path() / "crmhub.toml", config);

  NotifySocket notify((dir.path() / "notify.sock").string());
  auto start_daemon = [&](int n) {
    return std::make_unique<ChildProcess>(
        std::vector<std::string>{testutil::CrmhubBinary(), "run", "--config",
                                 (dir.path() / "crmhub.toml").string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", notify.name()}},
        dir.path() / fmt::format("daemon-{}.log", n));
  };
  std::unique_ptr<crm::SqliteCrmStore> store;
  auto payments = [&]() -> int64_t {
    if (!store && std::filesystem::exists(dir.path() / "data/crm.db")) {
      auto opened = crm::SqliteCrmStore::Open({.path = dir.path() / "data/crm.db"}, clock);
      if (opened.ok()) store = std::move(*opened);
    }
    return store ? store->Count(model::EntityKind::kPayment).value_or(0) : 0;
  };
  auto wait_until = [&](const std::function<bool()>& done, seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      notify.Receive(std::chrono::milliseconds(100));
    }
    return done();
  };
  std::map<std::string, std::map<std::string, std::string>> expected;
  size_t total = 0;
  for (Provider& p : providers) {
    expected[p.id] = p.sim->OrderStatuses(/*final_only=*/true);
    total += expected[p.id].size();
  }

  auto daemon = start_daemon(1);
  ASSERT_TRUE(yookassa_sim.Start(fmt::format("127.0.0.1:{}", *yookassa_port)).ok());
  for (Provider& p : providers) {
    if (p.sim != &yookassa_sim) {
      ASSERT_TRUE(p.sim->Start("127.0.0.1:0").ok());
    }
  }
  ASSERT_TRUE(
      wait_until([&] { return payments() >= static_cast<int64_t>(total / 4); }, seconds(60)))
      << daemon->Output();
  daemon->Signal(SIGKILL);
  ASSERT_TRUE(daemon->Wait(seconds(10)).has_value());
  const int64_t at_kill = payments();
  EXPECT_LT(at_kill, static_cast<int64_t>(total)) << "the kill came after the stream";
  std::this_thread::sleep_for(seconds(1));  // notifications fail meanwhile, and are retried
  daemon = start_daemon(2);

  std::string wrong;
  auto all_right = [&] {
    for (Provider& p : providers) {
      if (!p.sim->PushesDone()) return false;
    }
    if (payments() != static_cast<int64_t>(total)) return false;
    for (const auto& [source, statuses] : expected) {
      for (const auto& [id, status] : statuses) {
        auto found = store->Find(model::EntityKind::kPayment, source, id);
        if (!found.ok() || !found->has_value()) {
          wrong = source + "/" + id + " missing";
          return false;
        }
        const std::string held = (*found)->entity.fields.value("status", "");
        if (held != status) {
          wrong = source + "/" + id + " is " + held + ", not " + status;
          return false;
        }
      }
    }
    return true;
  };
  const bool done = wait_until(all_right, seconds(120));
  for (Provider& p : providers) {
    const simkit::PushStats s = p.sim->Stats();
    fmt::print(
        "{}: {} payments; pushes {} sent, {} delivered, {} retried, {} duplicated, {} "
        "reordered, {} abandoned\n",
        p.id, expected[p.id].size(), s.sent, s.delivered, s.retried, s.duplicated, s.reordered,
        s.abandoned);
    EXPECT_EQ(s.abandoned, 0) << p.id;
    EXPECT_GT(s.duplicated, 0) << p.id;
    EXPECT_GT(s.reordered, 0) << p.id;
  }
  fmt::print("{} payments in crm.db, {} at the kill\n", payments(), at_kill);
  EXPECT_TRUE(done) << payments() << " payments in crm.db; " << wrong << "\n" << daemon->Output();
  EXPECT_EQ(payments(), static_cast<int64_t>(total));
  EXPECT_EQ(total, 4u * kPerProvider);
  for (Provider& p : providers) p.sim->Stop();
  store.reset();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(30)), 0) << daemon->Output();
}

}  // namespace
}  // namespace crmhub::adapters
