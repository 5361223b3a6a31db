// `crmhub bench queue --engine kafka` through the real binary (a librdkafka
// mock cluster in process, no --brokers): it prints the same JSON keys as
// the SQLite engine, every message made it end to end, and the SQLite-only
// figures are 0 rather than absent. An unknown engine is a usage error.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

nlohmann::json ResultLine(const std::string& output) {
  size_t pos = output.find("{\"bench\":\"queue\"");
  if (pos == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(output.substr(pos, output.find('\n', pos) - pos));
}

std::set<std::string> Keys(const nlohmann::json& j) {
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  return keys;
}

TEST(BenchQueueEnginesTest, KafkaPrintsTheSameJsonKeysAsSqlite) {
  testutil::TempDir dir;
  auto sqlite = testutil::RunAndCapture({testutil::CrmhubBinary(), "bench", "queue", "--messages",
                                         "2000", "--data-dir", dir.path().string(), "--json"});
  ASSERT_EQ(sqlite.exit_code, 0) << sqlite.output;
  auto kafka = testutil::RunAndCapture({testutil::CrmhubBinary(), "bench", "queue", "--engine",
                                        "kafka", "--messages", "2000", "--json"});
  ASSERT_EQ(kafka.exit_code, 0) << kafka.output;
  nlohmann::json s = ResultLine(sqlite.output), k = ResultLine(kafka.output);
  ASSERT_TRUE(s.is_object()) << sqlite.output;
  ASSERT_TRUE(k.is_object()) << kafka.output;
  EXPECT_EQ(Keys(k), Keys(s));
  EXPECT_EQ(k.value("messages", 0), 2000);
  EXPECT_GT(k.value("enqueue_per_s", 0.0), 0);
  EXPECT_GT(k.value("end_to_end_per_s", 0.0), 0) << "every message leased and acked";
  EXPECT_EQ(k.value("commits", -1), 0);
  EXPECT_EQ(k.value("syncs", -1), 0);
  EXPECT_EQ(k.value("db_bytes", -1), 0);
  EXPECT_GT(s.value("commits", 0), 0);
  EXPECT_GT(s.value("sync_seconds", 0.0), 0) << "the time in WAL fsyncs";
  EXPECT_EQ(k.value("sync_seconds", -1.0), 0.0);

  auto bad = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "bench", "queue", "--engine", "redis", "--messages", "10"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

}  // namespace
}  // namespace crmhub
