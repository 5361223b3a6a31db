// `crmhub dlq` and `crmhub queue stats` with a --config naming [queue]
// engine = "kafka", as real processes against a librdkafka mock cluster run
// by this test: dead letters the engine produced are listed and shown from
// the cluster's dead-letter topic, and replayed; what is not built yet on
// Kafka (queue stats) fails with the reason instead of acting on an empty
// SQLite file.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "queue/kafka/kafka_queue.h"
#include "queue/kafka/mock_cluster.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue::kafka {
namespace {

using std::chrono::seconds;
using testing::CliRun;
using testing::Msg;

CliRun Crmhub(const std::string& args) { return testing::RunCrmhub(args, /*with_stderr=*/true); }

// The JSON array the command printed (librdkafka may log lines before it).
nlohmann::json JsonOf(const std::string& out) {
  const size_t at = out.find_first_of("[{");
  if (at == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(out.substr(at), nullptr, /*allow_exceptions=*/false);
}

TEST(KafkaCliTest, DlqAndQueueStatsReadTheCluster) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ManualClock clock;
  {
    KafkaQueueOptions options;
    options.brokers = cluster.bootstraps();
    options.topic_prefix = "cli";
    options.group_id = "cli";
    options.properties = MockKafkaCluster::LowLatencyProperties();
    options.retry_tiers = {std::chrono::minutes(1)};
    auto q = KafkaQueue::Open(clock, options);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    NewMessage bad = Msg("in.site", "bad-1", "{\"raw\":true}");
    bad.headers = {{"X-Id", "7"}};
    ASSERT_TRUE((*q)->Enqueue(bad).ok());
    ASSERT_TRUE((*q)->Enqueue(Msg("in.site", "slow-1", "{}")).ok());
    std::vector<Leased> leased;
    const auto guard = std::chrono::steady_clock::now() + seconds(15);
    while (leased.size() < 2 && std::chrono::steady_clock::now() < guard) {
      auto got = (*q)->Lease("in.site", 2, seconds(30));
      ASSERT_TRUE(got.ok());
      leased.insert(leased.end(), got->begin(), got->end());
    }
    ASSERT_EQ(leased.size(), 2u);
    // The partitions may hand them in either order.
    if (leased[0].message.idempotency_key != "bad-1") std::swap(leased[0], leased[1]);
    ASSERT_EQ(leased[0].message.idempotency_key, "bad-1");
    ASSERT_TRUE((*q)->Fail(leased[0].lease, "mapping: no field x").ok());
    // Due in 5 minutes: a copy waits in the lane's 1m delay-tier topic.
    ASSERT_TRUE(
        (*q)->Retry(leased[1].lease, "HTTP 503", clock.Now() + std::chrono::minutes(5)).ok());
  }
  testing::TempDir dir;
  const auto config = dir.path() / "crmhub.toml";
  std::ofstream(config) << "[daemon]\ndata_dir = \"data\"\n\n[queue]\nengine = \"kafka\"\n"
                        << "brokers = \"" << cluster.bootstraps() << "\"\n"
                        << "topic_prefix = \"cli\"\n\n[queue.kafka]\n\"log_level\" = \"3\"\n";

  // [queue.kafka] declares librdkafka's properties one by one: log_level is
  // not one of them, so the config is refused (exit 2) and says why.
  CliRun refused = Crmhub("dlq list --json --config " + config.string());
  EXPECT_EQ(refused.code, 2) << refused.out;
  EXPECT_NE(refused.out.find("unknown key \"log_level\""), std::string::npos) << refused.out;
  std::ofstream(config) << "[daemon]\ndata_dir = \"data\"\n\n[queue]\nengine = \"kafka\"\n"
                        << "brokers = \"" << cluster.bootstraps() << "\"\n"
                        << "topic_prefix = \"cli\"\n";
  const std::string flags = " --config " + config.string();

  // queue stats reads the cluster: the lane's two records are finished (its
  // group committed past them), the retry waits in the tier topic, the dead
  // letter is counted.
  CliRun stats = Crmhub("queue stats --json" + flags);
  ASSERT_EQ(stats.code, 0) << stats.out;
  nlohmann::json counts = JsonOf(stats.out);
  ASSERT_TRUE(counts.is_object()) << stats.out;
  EXPECT_EQ(counts.value("engine", ""), "kafka");
  ASSERT_EQ(counts["lanes"].size(), 1u) << stats.out;
  EXPECT_EQ(counts["lanes"][0].value("lane", ""), "in.site");
  EXPECT_EQ(counts["lanes"][0].value("backlog", -1), 0) << stats.out;
  EXPECT_EQ(counts["lanes"][0].value("retrying", -1), 1) << stats.out;
  EXPECT_EQ(counts["lanes"][0].value("dead", -1), 1) << stats.out;
  EXPECT_GE(counts["lanes"][0].value("partitions", 0), 1) << stats.out;

  CliRun list = Crmhub("dlq list --json" + flags);
  ASSERT_EQ(list.code, 0) << list.out;
  nlohmann::json dead = JsonOf(list.out);
  ASSERT_TRUE(dead.is_array()) << list.out;
  ASSERT_EQ(dead.size(), 1u) << list.out;
  EXPECT_EQ(dead[0].value("lane", ""), "in.site");
  EXPECT_EQ(dead[0].value("reason", ""), "mapping: no field x");
  const int64_t id = dead[0].value("id", int64_t{0});
  CliRun show = Crmhub("dlq show " + std::to_string(id) + " --json" + flags);
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_NE(show.out.find("{\\\"raw\\\":true}"), std::string::npos) << show.out;
  EXPECT_EQ(Crmhub("dlq show " + std::to_string(id + 1) + flags).code, 1) << "no such id";

  // Replay puts it back on its lane topic and settles it in the
  // dead-letter topic: the listing no longer has it, a second replay finds
  // nothing.
  CliRun replay = Crmhub("dlq replay " + std::to_string(id) + flags);
  EXPECT_EQ(replay.code, 0) << replay.out;
  CliRun after = Crmhub("dlq list --json" + flags);
  ASSERT_EQ(after.code, 0) << after.out;
  EXPECT_TRUE(JsonOf(after.out).is_array() && JsonOf(after.out).empty()) << after.out;
  EXPECT_EQ(Crmhub("dlq replay " + std::to_string(id) + flags).code, 1) << "gone";
  EXPECT_EQ(Crmhub("dlq drop " + std::to_string(id) + flags).code, 1) << "gone";
  // The replayed copy waits on the lane topic: backlog 1, no dead letter.
  CliRun table = Crmhub("queue stats" + flags);
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("BACKLOG"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("total backlog: 2 "), std::string::npos) << table.out;
  counts = JsonOf(Crmhub("queue stats --json" + flags).out);
  ASSERT_TRUE(counts.is_object());
  ASSERT_EQ(counts["lanes"].size(), 1u) << counts.dump();
  EXPECT_EQ(counts["lanes"][0].value("backlog", -1), 1) << counts.dump();
  EXPECT_EQ(counts["lanes"][0].value("retrying", -1), 1) << counts.dump();
  EXPECT_EQ(counts["lanes"][0].value("dead", -1), 0) << counts.dump();
  // Nothing was created in the data directory on the way.
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "data" / "queue.db"));
}

}  // namespace
}  // namespace crmhub::queue::kafka
