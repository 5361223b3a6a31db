// sd_notify over a real unix datagram socket, and the shipped unit file
// checked by systemd-analyze. The daemon-level notifications (READY=1,
// STATUS=, WATCHDOG=1, STOPPING=1 from `crmhub run`) are in runtime_test.cc.

#include "daemon/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "tests/daemon/test_support.h"

namespace crmhub::daemon {
namespace {

SdNotifier::EnvLookup EnvFrom(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(SdNotifierTest, SendsDatagramToPathSocket) {
  testutil::TempDir dir;
  testutil::NotifySocket socket(dir.path() / "notify.sock");
  SdNotifier notifier =
      SdNotifier::FromEnvironment(EnvFrom({{"NOTIFY_SOCKET", socket.name()}}), 1234);
  ASSERT_TRUE(notifier.enabled());
  EXPECT_FALSE(notifier.watchdog_timeout().has_value());
  ASSERT_TRUE(notifier.Notify("READY=1\nSTATUS=running").ok());
  EXPECT_EQ(socket.Receive(std::chrono::seconds(5)), "READY=1\nSTATUS=running");
}

TEST(SdNotifierTest, SendsDatagramToAbstractSocket) {
  std::string name = "@crmhub-sd-notify-test-" + std::to_string(::getpid());
  testutil::NotifySocket socket(name);
  SdNotifier notifier = SdNotifier::FromEnvironment(EnvFrom({{"NOTIFY_SOCKET", name}}), 1);
  ASSERT_TRUE(notifier.Notify("WATCHDOG=1").ok());
  EXPECT_EQ(socket.Receive(std::chrono::seconds(5)), "WATCHDOG=1");
}

TEST(SdNotifierTest, WatchdogOnlyForOurPid) {
  auto mine = SdNotifier::FromEnvironment(
      EnvFrom({{"NOTIFY_SOCKET", "@x"}, {"WATCHDOG_USEC", "3000000"}, {"WATCHDOG_PID", "42"}}), 42);
  ASSERT_TRUE(mine.watchdog_timeout().has_value());
  EXPECT_EQ(*mine.watchdog_timeout(), std::chrono::seconds(3));
  auto other = SdNotifier::FromEnvironment(
      EnvFrom({{"NOTIFY_SOCKET", "@x"}, {"WATCHDOG_USEC", "3000000"}, {"WATCHDOG_PID", "7"}}), 42);
  EXPECT_FALSE(other.watchdog_timeout().has_value());
  auto garbage = SdNotifier::FromEnvironment(
      EnvFrom({{"NOTIFY_SOCKET", "@x"}, {"WATCHDOG_USEC", "soon"}}), 42);
  EXPECT_FALSE(garbage.watchdog_timeout().has_value());
}

TEST(SdNotifierTest, DisabledWithoutSocketIsNoOp) {
  auto none = SdNotifier::FromEnvironment(EnvFrom({}), 1);
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(none.Notify("READY=1").ok());
  // A relative name is not a valid NOTIFY_SOCKET.
  auto relative = SdNotifier::FromEnvironment(EnvFrom({{"NOTIFY_SOCKET", "notify.sock"}}), 1);
  EXPECT_FALSE(relative.enabled());
}

TEST(SdNotifierTest, UnreachableSocketIsAnError) {
  testutil::TempDir dir;
  SdNotifier notifier((dir.path() / "nobody-listens").string(), std::nullopt);
  Status status = notifier.Notify("READY=1");
  EXPECT_EQ(status.code(), StatusCode::kIoError) << status.ToString();
}

TEST(SdNotifierTest, SanitizeStatusKeepsOneLine) {
  EXPECT_EQ(SanitizeStatus("depth 3\nlanes 2"), "depth 3 lanes 2");
}

// The unit file as shipped, with ExecStart pointing at the built binary
// (systemd-analyze refuses commands that do not exist on this machine).
TEST(SystemdUnitTest, SystemdAnalyzeVerifyPasses) {
  const std::string analyze = testutil::FindProgram("systemd-analyze");
  // scripts/bootstrap.sh installs systemd, so a missing tool is a broken
  // environment, reported as a failure rather than skipped silently.
  ASSERT_FALSE(analyze.empty())
      << "systemd-analyze is not installed (scripts/bootstrap.sh installs systemd)";
  std::ifstream in(std::filesystem::path(CRMHUB_SOURCE_DIR) / "systemd/crmhub.service");
  ASSERT_TRUE(in) << "systemd/crmhub.service missing";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string unit = buffer.str();
  for (const char* key :
       {"Type=notify", "WatchdogSec=", "ExecStartPre=/usr/bin/crmhub check-config",
        "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=crmhub",
        "LoadCredential=", "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
        "MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service"}) {
    EXPECT_NE(unit.find(key), std::string::npos) << key;
  }
  const std::string binary = testutil::CrmhubBinary();
  size_t pos = 0;
  while ((pos = unit.find("/usr/bin/crmhub", pos)) != std::string::npos) {
    unit.replace(pos, 15, binary);
    pos += binary.size();
  }
  testutil::TempDir dir;
  auto unit_path = dir.path() / "crmhub.service";
  std::ofstream(unit_path) << unit;
  auto result = testutil::RunAndCapture({analyze, "verify", unit_path.string()});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.find("crmhub.service:"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace crmhub::daemon
