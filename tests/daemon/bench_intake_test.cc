// bench/intake.sh end to end with the built binary, for a second: the run
// must be valid (every answer 2xx, every request a new event by the daemon's
// own counters) and print req/s and p99 as numbers, which is what the
// daemon runtime issue's acceptance asks of it. The figures themselves are
// taken from Release builds (docs/performance.md), never from this test.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = CRMHUB_SOURCE_DIR;

// The first capture of `pattern` in `text`, or "".
std::string Capture(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return "";
  return m[1].str();
}

TEST(BenchIntakeTest, AShortRunIsValidAndPrintsThroughputAndP99) {
  const std::string bash = testutil::FindProgram("bash");
  ASSERT_FALSE(bash.empty());
  // A build dependency like any other: scripts/bootstrap.sh (run by
  // scripts/test.sh) installs it, so its absence is a failure, not a skip.
  ASSERT_FALSE(testutil::FindProgram("wrk").empty())
      << "wrk is not installed: run scripts/bootstrap.sh as root";
  testutil::TempDir dir;
  testutil::ChildProcess bench({bash, (kSource / "bench" / "intake.sh").string()},
                               {{"CRMHUB_BINARY", testutil::CrmhubBinary()},
                                {"DURATION", "1s"},
                                {"WARMUP", "1s"},
                                {"CONNECTIONS", "4"},
                                {"INTAKE_ONLY", "1"}},
                               dir.path() / "out.txt");
  const auto exit_code = bench.Wait(std::chrono::seconds(120));
  const std::string out = bench.Output();
  ASSERT_TRUE(exit_code.has_value()) << "bench/intake.sh did not finish\n" << out;
  ASSERT_EQ(*exit_code, 0) << out;

  const std::string rps = Capture(out, R"(\nthroughput +([0-9]+) req/s)");
  ASSERT_FALSE(rps.empty()) << out;
  EXPECT_GT(std::stol(rps), 0);
  const std::string p99 = Capture(out, R"(\np99 latency +([0-9.]+) ms)");
  ASSERT_FALSE(p99.empty()) << out;
  EXPECT_GT(std::stod(p99), 0.0);
  // Warm-up, the check request and the run: more events than one second of
  // answers, and none of them a duplicate.
  const std::string received = Capture(out, R"(\nevents +([0-9]+) received)");
  ASSERT_FALSE(received.empty()) << out;
  EXPECT_GT(std::stol(received), std::stol(rps) / 2);
  EXPECT_EQ(Capture(out, R"(received \(warm-up and check included\), ([0-9]+) duplicates)"), "0")
      << out;
}

}  // namespace
}  // namespace crmhub
