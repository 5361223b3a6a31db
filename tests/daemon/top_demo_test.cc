// Issue 22, acceptance 4: `crmhub top` shows every adapter of a running
// demo. The demo (`crmhub demo`, config/demo.toml: simulators, the daemon,
// webhooks, a stock push) runs as a child; top reads the same config, so it
// finds the admin listener and token as an operator would.

#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/daemon/test_support.h"

namespace crmhub {
namespace {

using std::chrono::seconds;

TEST(TopDemoTest, ShowsEveryAdapterOfARunningDemo) {
  testutil::TempDir dir;
  const std::string config = std::string(CRMHUB_SOURCE_DIR) + "/config/demo.toml";
  testutil::ChildProcess demo(
      {testutil::CrmhubBinary(), "demo", "--config", config, "--duration", "20s", "--data-dir",
       (dir.path() / "data").string(), "--orders", "40", "--webhooks", "20"},
      {}, dir.path() / "demo.log");
  // The demo's daemon listens where config/demo.toml says.
  bool ready = false;
  for (int i = 0; i < 600 && !ready; ++i) {
    ready = testutil::HttpRequest(18080, "GET", "/readyz").status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << demo.Output();
  auto top = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "top", "--config", config, "--count", "2", "--interval", "500ms"});
  EXPECT_EQ(top.exit_code, 0) << top.output;
  std::vector<std::string> lines;
  std::stringstream in(top.output);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 2u) << top.output;
  for (const std::string& line : lines) {
    for (const char* adapter :
         {"site(webhook)", "wb-demo(wildberries)", "ozon-demo(ozon)", "ym-demo(yandex-market)"}) {
      EXPECT_NE(line.find(adapter), std::string::npos) << adapter << " in: " << line;
    }
  }
  demo.Signal(SIGINT);  // Ctrl-C ends the demo early, cleanly
  EXPECT_TRUE(demo.Wait(seconds(60)).has_value()) << demo.Output();
}

}  // namespace
}  // namespace crmhub
