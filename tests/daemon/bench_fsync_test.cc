// `crmhub bench fsync` through the real binary, on a real directory: the
// figures it prints are consistent with each other and with the ceiling
// formula in bench/fsync_bench.h, and bad flags or an unusable directory are
// refused.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

nlohmann::json ResultLine(const std::string& output) {
  size_t pos = output.find("{\"bench\":\"fsync\"");
  if (pos == std::string::npos) return nlohmann::json();
  return nlohmann::json::parse(output.substr(pos, output.find('\n', pos) - pos));
}

TEST(BenchFsyncTest, MeasuresTheGivenDirectoryAndDerivesTheCeiling) {
  testutil::TempDir dir;
  auto r = testutil::RunAndCapture({testutil::CrmhubBinary(), "bench", "fsync", "--dir",
                                    dir.path().string(), "--writes", "20", "--bytes", "512",
                                    "--connections", "8", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = ResultLine(r.output);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j.value("writes", 0), 20);
  EXPECT_EQ(j.value("bytes", 0), 512);
  EXPECT_EQ(j.value("connections", 0), 8);
  const double p50 = j.value("p50_us", 0.0), p90 = j.value("p90_us", 0.0),
               p99 = j.value("p99_us", 0.0), max = j.value("max_us", 0.0);
  EXPECT_GT(p50, 0.0);
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  EXPECT_LE(p99, max);
  EXPECT_GT(j.value("syncs_per_s", 0.0), 0.0);
  EXPECT_NEAR(j.value("ceiling_per_s", 0.0), 8 * 1e6 / p50, 0.01 * 8 * 1e6 / p50 + 0.1);
  EXPECT_NEAR(j.value("group_commit_estimate_per_s", 0.0), 8 * 1e6 / (1.5 * p50),
              0.01 * 8 * 1e6 / (1.5 * p50) + 0.1);
  // The probe file is removed; the given directory is kept.
  EXPECT_TRUE(fs::is_directory(dir.path()));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(BenchFsyncTest, TextOutputNamesTheCeiling) {
  testutil::TempDir dir;
  auto r = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "bench", "fsync", "--dir", dir.path().string(), "--writes", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("5 appends of 4096 bytes"));
  EXPECT_THAT(r.output, HasSubstr("32 connections, each waiting"));
  EXPECT_THAT(r.output, HasSubstr("ceiling"));
}

TEST(BenchFsyncTest, RefusesBadFlagsAndAnUnusableDirectory) {
  auto zero =
      testutil::RunAndCapture({testutil::CrmhubBinary(), "bench", "fsync", "--writes", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.output;
  EXPECT_THAT(zero.output, HasSubstr("must be positive"));

  testutil::TempDir dir;
  const fs::path file = dir.path() / "not-a-dir";
  std::ofstream(file) << "x";
  auto bad = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "bench", "fsync", "--dir", file.string(), "--writes", "3"});
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("error:"));
}

}  // namespace
}  // namespace crmhub
