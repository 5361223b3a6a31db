// `crmhub bench orders` through the real binary: a small run per marketplace
// reports exactly the orders the simulator holds, stored in crm.db (the
// benchmark itself fails unless crm.db ends with exactly N orders).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kSource = CRMHUB_SOURCE_DIR;

testutil::RunResult BenchOrders(const std::string& marketplace, const fs::path& data_dir,
                                std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {
      testutil::CrmhubBinary(),
      "bench",
      "orders",
      "--marketplace",
      marketplace,
      "--orders",
      "2000",
      "--json",
      "--data-dir",
      data_dir.string(),
      "--rules",
      (kSource / "config" / "mappings" / (marketplace + "-orders.toml")).string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testutil::RunAndCapture(argv);
}

// The result line among the output (stderr carries any warnings).
nlohmann::json ResultLine(const std::string& output) {
  for (size_t pos = 0; pos < output.size();) {
    size_t end = output.find('\n', pos);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(pos, end - pos);
    if (line.rfind("{\"bench\":\"orders\"", 0) == 0) return nlohmann::json::parse(line);
    pos = end + 1;
  }
  return nlohmann::json();
}

class BenchOrdersTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BenchOrdersTest, StoresExactlyTheOrdersTheSimulatorHolds) {
  testutil::TempDir dir;
  auto r = BenchOrders(GetParam(), dir.path() / "data");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = ResultLine(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j.value("marketplace", ""), GetParam());
  EXPECT_EQ(j.value("orders", int64_t{0}), 2000);
  EXPECT_GT(j.value("seconds", 0.0), 0.0);
  EXPECT_GT(j.value("orders_per_s", 0.0), 0.0);
  EXPECT_GT(j.value("peak_rss_bytes", int64_t{0}), 0);
  // The process did work during the run, and the figure per order is that
  // work spread over the orders.
  const double cpu_seconds = j.value("cpu_seconds", 0.0);
  EXPECT_GT(cpu_seconds, 0.0);
  EXPECT_NEAR(j.value("cpu_us_per_order", 0.0), cpu_seconds * 1e6 / 2000, 0.01);
  // Pages of at most the documented maximum (1000; 50 for Yandex Market).
  const int64_t max_page = std::string(GetParam()) == "yandex-market" ? 50 : 1000;
  EXPECT_GE(j.value("pull_pages", int64_t{0}), 2000 / max_page);
  // Every order went through the queue: at least one group commit for the
  // pulls and the acks.
  EXPECT_GT(j.value("queue_commits", int64_t{0}), 0);
  EXPECT_GE(j.value("events_received", int64_t{0}), 2000);
}

INSTANTIATE_TEST_SUITE_P(Marketplaces, BenchOrdersTest,
                         ::testing::Values("wildberries", "ozon", "yandex-market"),
                         [](const auto& param_info) {
                           std::string name = param_info.param;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(BenchOrdersCliTest, RefusesADataDirThatAlreadyHoldsAStore) {
  testutil::TempDir dir;
  fs::create_directories(dir.path() / "data");
  { std::ofstream(dir.path() / "data" / "crm.db") << ""; }
  auto r = BenchOrders("ozon", dir.path() / "data");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("needs an empty data dir"));
}

TEST(BenchOrdersCliTest, UnknownMarketplaceIsAUsageError) {
  testutil::TempDir dir;
  auto r = BenchOrders("amazon", dir.path() / "data");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("unknown marketplace"));
}

}  // namespace
}  // namespace crmhub
