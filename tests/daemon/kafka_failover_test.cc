// Issue 21, acceptance 3: two `crmhub run` processes in one consumer group
// on one librdkafka mock cluster (run by this test process, 3 brokers), each
// with the REST sink to the reference CRM server, a Wildberries pull source
// (its simulator in this process) and a webhook adapter. Webhooks go to both
// daemons. The daemon that pulls the source is SIGKILLed mid-sync; the other
// takes its lane partitions and the pull source over (from the last durable
// cursor in <prefix>._state) and the CRM server ends with every order, in its
// final status, and every lead, each exactly once.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/wildberries/wildberries_sim.h"
#include "base/clock.h"
#include "queue/kafka/mock_cluster.h"
#include "tests/adapters/marketplace_e2e.h"
#include "tests/crm/reference_crm_server.h"
#include "tests/daemon/test_support.h"

namespace crmhub::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kOrders = 300;
constexpr int kLeads = 40;  // half before the kill, half after
constexpr auto kTimeout = seconds(40);

// One daemon of the pair: its own data dir, the shared cluster and CRM.
struct Daemon {
  std::string name;
  std::unique_ptr<testutil::NotifySocket> notify;
  std::unique_ptr<testutil::ChildProcess> child;
  uint16_t port = 0;
  bool pulls() const {
    return child->Output().find("this daemon pulls the source now") != std::string::npos;
  }
};

TEST(KafkaFailoverTest, TwoDaemonsShareTheWorkAndTheSurvivorOfASigkillFinishesIt) {
  queue::kafka::MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  for (const char* topic : {"fo.in.wb-main", "fo.in.site", "fo._sources"}) {
    ASSERT_TRUE(cluster.CreateTopic(topic, 4));
  }
  ASSERT_TRUE(cluster.CreateTopic("fo._state", 1));

  testutil::TempDir dir;
  SystemClock clock;
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  struct JoinIo {  // also when an assertion returns early
    boost::asio::io_context& io;
    std::thread& thread;
    ~JoinIo() {
      io.stop();
      thread.join();
    }
  } join_io{io, io_thread};
  auto crm = crm::testing::ReferenceCrmServer::Start(
      io, clock, {.token = "crm-token", .db_path = dir.path() / "crm-core.db"});
  ASSERT_TRUE(crm.ok()) << crm.status().ToString();

  adapters::wildberries::WildberriesSimOptions so;
  so.orders = kOrders;
  so.seed = 21;
  so.arrival = seconds(8);
  so.lifetime = seconds(6);
  adapters::wildberries::WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  const testutil::MarketplaceE2eOptions wb = testutil::OptionsFor(
      sim, "wb-main", "wildberries-orders.toml", "poll_interval = \"300ms\"\nlookback = \"1h\"\n");

  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::create_directories(dir.path() / "secrets");
  for (const char* m : {"site-lead.toml", "wildberries-orders.toml"}) {
    std::filesystem::copy_file(std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings" / m,
                               dir.path() / "mappings" / m);
  }
  for (const auto& [file, content] : wb.files) testutil::WriteFile(dir.path() / file, content);
  testutil::WriteFile(dir.path() / "secrets/crm-token", "crm-token");

  std::vector<Daemon> daemons(2);
  for (int i = 0; i < 2; ++i) {
    Daemon& d = daemons[i];
    d.name = i == 0 ? "a" : "b";
    const auto config = dir.path() / (d.name + ".toml");
    testutil::WriteFile(config, fmt::format(R"([daemon]
data_dir = "data-{0}"
io_threads = 2
drain_timeout = "10s"

[http]
listen = ["127.0.0.1:0"]

[queue]
engine = "kafka"
brokers = "{1}"
topic_prefix = "fo"

[queue.kafka]
"client.id" = "crmhub-{0}"
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500

[crm]
sink = "http"
url = "{2}"
token_file = "secrets/crm-token"

[adapters.site]
type = "webhook"
idempotency_key = "/id"
allow_ips = ["127.0.0.0/8"]
mapping = "mappings/site-lead.toml"

[adapters.wb-main]
type = "{3}"
mapping = "mappings/wildberries-orders.toml"
{4}
)",
                                            d.name, cluster.bootstraps(), (*crm)->base_url(),
                                            wb.adapter_type, wb.adapter_keys));
    d.notify = std::make_unique<testutil::NotifySocket>(
        (dir.path() / ("notify-" + d.name + ".sock")).string());
    d.child = std::make_unique<testutil::ChildProcess>(
        std::vector<std::string>{testutil::CrmhubBinary(), "run", "--config", config.string()},
        std::map<std::string, std::string>{{"NOTIFY_SOCKET", d.notify->name()}},
        dir.path() / ("daemon-" + d.name + ".log"));
  }
  for (Daemon& d : daemons) {
    const std::string ready = d.notify->ReceiveUntil("READY=1", kTimeout);
    ASSERT_FALSE(ready.empty()) << d.child->Output();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ready, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")))
        << ready;
    d.port = static_cast<uint16_t>(std::stoi(m[1]));
  }

  // Leads `from`..`to`-1, alternately to each daemon still alive.
  auto post_leads = [&](int from, int to) {
    std::vector<const Daemon*> alive;
    for (const Daemon& d : daemons) {
      if (!d.child->Wait(milliseconds(0)).has_value()) alive.push_back(&d);
    }
    for (int i = from; i < to; ++i) {
      const std::string body = fmt::format(
          R"({{"id":"{0}","name":"Lead {0}","phone":"+7 900 000-{0:02}-00","message":"hi"}})", i);
      auto answer =
          testutil::HttpRequest(alive[i % alive.size()]->port, "POST", "/hooks/site", body);
      ASSERT_EQ(answer.status, 200) << answer.body;
    }
  };
  post_leads(0, kLeads / 2);

  // The one that pulls, once some orders went through it.
  crm::SqliteCrmStore& store = (*crm)->store();
  const auto orders = [&] {
    return store.Count(model::EntityKind::kOrder, std::string("wb-main")).value_or(-1);
  };
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  int puller = -1;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 2; ++i) {
      if (daemons[i].pulls()) puller = i;
    }
    if (puller >= 0 && orders() >= kOrders / 5) break;
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_GE(puller, 0) << "no daemon pulls the source:\n"
                       << daemons[0].child->Output() << daemons[1].child->Output();
  ASSERT_GE(orders(), kOrders / 5);
  ASSERT_LT(orders(), kOrders) << "the kill should come mid-sync";
  EXPECT_FALSE(daemons[1 - puller].pulls()) << "both daemons pulled the one source";
  daemons[puller].child->Signal(SIGKILL);
  ASSERT_TRUE(daemons[puller].child->Wait(seconds(10)).has_value());
  post_leads(kLeads / 2, kLeads);

  // The survivor takes the source (after the group's session timeout) and
  // finishes the world.
  Daemon& survivor = daemons[1 - puller];
  const auto final_statuses = testutil::FinalStatusesOf(sim, clock);
  auto done = [&] {
    auto want = final_statuses();
    if (!want) return false;
    if (orders() != static_cast<int64_t>(want->size())) return false;
    for (const auto& [id, status] : *want) {
      auto found = store.Find(model::EntityKind::kOrder, "wb-main", id);
      if (!found.ok() || !found->has_value()) return false;
      if ((*found)->entity.fields.value("status", "") != status) return false;
    }
    return store.Count(model::EntityKind::kLead, std::string("site")).value_or(-1) == kLeads;
  };
  // 20 s under ASan on a quiet machine; beside the rest of the suite under
  // ASan it once had every order but not every final status at 40 s. The
  // count is what is asserted, not the speed.
  deadline = std::chrono::steady_clock::now() + 3 * kTimeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    survivor.notify->Receive(milliseconds(250));
  }
  ASSERT_TRUE(done()) << "orders " << orders() << " of " << kOrders << ", leads "
                      << store.Count(model::EntityKind::kLead, std::string("site")).value_or(-1)
                      << "\n"
                      << survivor.child->Output();
  EXPECT_TRUE(survivor.pulls()) << "the survivor took the pull source over";
  // Exactly once: one row per order and per lead (checked above), and the
  // CRM core saw each event's effect applied once; repeats (redeliveries
  // after the kill) were answered as duplicates by its Idempotency-Key.
  EXPECT_EQ(orders(), kOrders);
  EXPECT_EQ(store.Count(model::EntityKind::kLead, std::string("site")).value(), kLeads);

  survivor.child->Signal(SIGTERM);
  EXPECT_EQ(survivor.child->Wait(seconds(30)), 0) << survivor.child->Output();
  sim.Stop();
  (*crm)->Stop();
}

}  // namespace
}  // namespace crmhub::daemon
