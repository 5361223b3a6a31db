// `crmhub run` with [queue] engine = "kafka": the real binary as a child
// process against a librdkafka mock cluster (3 brokers) that this test
// process runs and whose bootstrap address it writes into the config. A
// webhook posted twice is answered 200 both times (Kafka accepts every
// copy: no enqueue-time dedup) and ends as ONE lead in crm.db (the CRM
// store's applied_events absorbs the repeat): docs/queue.md, "The Kafka
// engine". `crmhub kafka-dev` runs such a cluster as its own process.

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

#include "base/clock.h"
#include "crm/sqlite_store.h"
#include "queue/kafka/mock_cluster.h"
#include "tests/daemon/test_support.h"

namespace crmhub::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kTimeout = seconds(60);

// The daemon on the cluster at `bootstraps`: one webhook posted twice ends
// as one lead.
void AWebhookPostedTwiceEndsAsOneLead(const std::string& bootstraps) {
  testutil::TempDir dir;
  std::filesystem::create_directories(dir.path() / "mappings");
  std::filesystem::copy_file(
      std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings/site-lead.toml",
      dir.path() / "mappings/site-lead.toml");
  const auto config = dir.path() / "crmhub.toml";
  testutil::WriteFile(config, R"([daemon]
data_dir = "data"
io_threads = 2
drain_timeout = "20s"

[http]
listen = ["127.0.0.1:0"]

[queue]
engine = "kafka"
brokers = ")" + bootstraps +
                                  R"("
topic_prefix = "e2e"

[queue.kafka]
"client.id" = "crmhub-e2e"

[adapters.site]
type = "webhook"
idempotency_key = "/id"
allow_ips = ["127.0.0.0/8"]
mapping = "mappings/site-lead.toml"
)");
  testutil::NotifySocket notify((dir.path() / "notify.sock").string());
  testutil::ChildProcess child({testutil::CrmhubBinary(), "run", "--config", config.string()},
                               {{"NOTIFY_SOCKET", notify.name()}}, dir.path() / "daemon.log");
  const std::string ready = notify.ReceiveUntil("READY=1", kTimeout);
  ASSERT_FALSE(ready.empty()) << child.Output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ready, m, std::regex("listening on 127\\.0\\.0\\.1:([0-9]+)")))
      << ready;
  const auto port = static_cast<uint16_t>(std::stoi(m[1]));

  const std::string form =
      R"({"id":"77","name":"Ivan 77","phone":"+7 900 000-00-00","message":"call me"})";
  auto first = testutil::HttpRequest(port, "POST", "/hooks/site", form);
  ASSERT_EQ(first.status, 200) << first.body << child.Output();
  auto second = testutil::HttpRequest(port, "POST", "/hooks/site", form);
  ASSERT_EQ(second.status, 200) << second.body;

  SystemClock clock;
  crm::SqliteStoreOptions options;
  options.path = dir.path() / "data" / "crm.db";
  std::unique_ptr<crm::SqliteCrmStore> store;
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  bool found = false;
  while (!found && std::chrono::steady_clock::now() < deadline) {
    notify.Receive(milliseconds(200));
    if (!store) {
      auto opened = crm::SqliteCrmStore::Open(options, clock);
      if (!opened.ok()) continue;
      store = std::move(*opened);
    }
    auto lead = store->Find(model::EntityKind::kLead, "site", "site-77");
    found = lead.ok() && lead->has_value();
  }
  ASSERT_TRUE(found) << child.Output();
  // Both copies went through the queue; the second was absorbed at the sink.
  auto metrics = testutil::HttpRequest(port, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  const auto deadline2 = std::chrono::steady_clock::now() + seconds(20);
  while (metrics.body.find(
             "crmhub_deliveries_total{adapter=\"site\",outcome=\"ok\",target=\"crm\"} 2") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < deadline2) {
    notify.Receive(milliseconds(200));
    metrics = testutil::HttpRequest(port, "GET", "/metrics");
  }
  EXPECT_NE(metrics.body.find(
                "crmhub_deliveries_total{adapter=\"site\",outcome=\"ok\",target=\"crm\"} 2"),
            std::string::npos)
      << metrics.body;
  // The engine's own series (queue/kafka/kafka_queue.h), in crmhub_* naming.
  for (const char* series : {"crmhub_kafka_produce_duration_seconds_count 2",
                             "crmhub_kafka_consumer_lag{lane=\"in.site\"}",
                             "crmhub_kafka_rebalances_total{lane=\"in.site\"}",
                             "crmhub_kafka_rebalances_total{lane=\"_sources\"}"}) {
    EXPECT_NE(metrics.body.find(series), std::string::npos) << series << "\n" << metrics.body;
  }
  EXPECT_EQ(store->Count(model::EntityKind::kLead, std::string("site")).value(), 1);
  EXPECT_EQ(store->AppliedEventCount().value(), 1) << "one event applied, its repeat absorbed";
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(kTimeout), 0) << child.Output();
}

TEST(KafkaRuntimeTest, AWebhookPostedTwiceEndsAsOneLeadThroughTheKafkaEngine) {
  queue::kafka::MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  AWebhookPostedTwiceEndsAsOneLead(cluster.bootstraps());
}

// Issue 21, acceptance 5: `crmhub kafka-dev` (another process) is a cluster
// the daemon runs on as it runs on the test's own; it stops on SIGTERM.
TEST(KafkaRuntimeTest, TheKafkaDevCommandRunsAClusterTheDaemonWorksOn) {
  testutil::TempDir dir;
  const auto bootstrap_file = dir.path() / "bootstrap";
  testutil::ChildProcess cluster({testutil::CrmhubBinary(), "kafka-dev", "--brokers", "3",
                                  "--bootstrap-file", bootstrap_file.string()},
                                 {}, dir.path() / "kafka-dev.log");
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (!std::filesystem::exists(bootstrap_file) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(bootstrap_file)) << cluster.Output();
  std::string bootstraps;
  std::ifstream(bootstrap_file) >> bootstraps;
  ASSERT_TRUE(std::regex_match(bootstraps, std::regex("(127\\.0\\.0\\.1:[0-9]+,?){3}")))
      << bootstraps;
  AWebhookPostedTwiceEndsAsOneLead(bootstraps);
  cluster.Signal(SIGTERM);
  EXPECT_EQ(cluster.Wait(seconds(30)), 0) << cluster.Output();
  EXPECT_NE(cluster.Output().find("brokers = \"" + bootstraps + "\""), std::string::npos)
      << "it prints the [queue] lines to paste: " << cluster.Output();
}

}  // namespace
}  // namespace crmhub::daemon
