// crmhub demo: the whole way, on one machine, in about a minute.
//
// Starts the marketplace simulators named by the demo config (in this
// process), the daemon (`crmhub run`, a child process, with a fresh data dir
// through $STATE_DIRECTORY), posts signed website forms, pushes a stock
// update to every marketplace, shows live progress, and ends with a
// reconciliation table read from the simulators and crm.db.

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/clock.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/demo_world.h"
#include "daemon/cli/flags.h"
#include "daemon/config_check.h"
#include "net/hmac.h"
#include "net/http_client.h"

namespace crmhub::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::atomic<bool> g_interrupted{false};
extern "C" void OnInterrupt(int) { g_interrupted = true; }

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

pid_t SpawnDaemon(const fs::path& config, const fs::path& data_dir, const fs::path& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  // Child: own process group, so the terminal's Ctrl-C reaches only the
  // demo, which then stops the daemon with SIGTERM the way systemd would.
  setpgid(0, 0);
  FILE* out = std::freopen(log.c_str(), "a", stderr);
  if (out == nullptr) _exit(127);
  dup2(fileno(stderr), STDOUT_FILENO);
  setenv("STATE_DIRECTORY", data_dir.c_str(), 1);
  unsetenv("NOTIFY_SOCKET");
  execl("/proc/self/exe", "crmhub", "run", "--config", config.c_str(), "--log-format", "text",
        static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

int DemoCommand(const Args& args) {
  std::string config_path = "config/demo.toml";
  std::string data_dir_flag;
  std::string faults = "429=0.05,500=0.03,timeout=0.01,dup=0.05,malformed=0.01";
  int64_t duration_ms = 60'000;
  int64_t orders = 300;
  int64_t webhooks = 200;
  std::string contracts_flag;
  FlagParser flags(
      "crmhub demo [--config FILE] [--duration 60s] [--data-dir DIR] [--orders N] "
      "[--webhooks N] [--faults SPEC]",
      "Run the whole pipeline on this machine: marketplace simulators with faults, the daemon, "
      "signed website-form webhooks and a stock push to every marketplace, payment provider and "
      "PBX simulators pushing notifications to their hooks; 1C's CommerceML exchange "
      "(crmhub sim onec), Tochka's statements (crmhub sim tochka), a bank statement file in the "
      "bank-1c inbox and the invoices matching links those payments to; print live progress "
      "and, at the end, a reconciliation table (source count vs CRM count per adapter). "
      "Ctrl-C ends it early, cleanly. Exit 0 when every adapter reconciles.");
  flags.AddString("--config", &config_path, "FILE", "demo config (default config/demo.toml)");
  flags.AddDuration("--duration", &duration_ms, "DURATION",
                    "how long orders keep arriving and changing status (default 60s)");
  flags.AddString("--data-dir", &data_dir_flag, "DIR",
                  "where queue.db and crm.db go (default: a fresh var/demo-<time>/)");
  flags.AddInt("--orders", &orders, "N",
               "orders each marketplace simulator creates (default 300); payment and PBX "
               "simulators make a third as many payments or calls");
  flags.AddInt("--webhooks", &webhooks, "N", "website forms posted to /hooks/site (default 200)");
  flags.AddString("--faults", &faults, "SPEC",
                  "simulator faults, e.g. \"429=0.05,500=0.03,timeout=0.01,dup=0.05\" or \"none\"");
  flags.AddString("--contracts", &contracts_flag, "DIR",
                  "the vendors' samples 1C's exchange uploads (default: contracts/ beside the "
                  "config's folder, as in the repository)");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;

  auto checked = daemon::CheckConfigFile(config_path, daemon::AllAdapterTypes());
  if (!checked.ok()) {
    std::fprintf(stderr, "%s\n", checked.status().message().c_str());
    return 2;
  }
  const fs::path data_dir = fs::absolute(
      data_dir_flag.empty() ? fs::path("var") / ("demo-" + Timestamp()) : fs::path(data_dir_flag));
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "error: cannot create %s: %s\n", data_dir.c_str(), ec.message().c_str());
    return 1;
  }

  SystemClock clock;
  demo::WorldOptions world_options{
      .orders = static_cast<int>(orders),
      .webhooks = static_cast<int>(webhooks),
      .duration = std::chrono::milliseconds(duration_ms),
      .faults = faults,
      .contracts_dir = contracts_flag.empty()
                           ? fs::absolute(config_path).parent_path() / ".." / "contracts"
                           : fs::absolute(contracts_flag)};
  auto world = demo::World::Create(checked->config, world_options, clock);
  if (!world.ok()) {
    std::fprintf(stderr, "error: %s\n", world.status().message().c_str());
    return world.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("crmhub demo: data in %s\n", data_dir.c_str());
  for (const std::string& line : (*world)->Describe()) std::printf("  %s\n", line.c_str());

  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  const fs::path log = data_dir / "crmhub.log";
  const fs::path config_abs = fs::absolute(config_path);
  pid_t daemon_pid = SpawnDaemon(config_abs, data_dir, log);
  std::printf("  daemon: pid %d, log %s\n\n", static_cast<int>(daemon_pid), log.c_str());

  Status run = (*world)->Run(g_interrupted, daemon_pid, data_dir);
  // Stop the daemon the way systemd does, and wait for its drain.
  kill(daemon_pid, SIGTERM);
  int wstatus = 0;
  waitpid(daemon_pid, &wstatus, 0);
  if (!run.ok()) {
    std::fprintf(stderr, "\ndemo stopped: %s (daemon log: %s)\n", run.message().c_str(),
                 log.c_str());
  }
  const int daemon_exit = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  demo::Report report = (*world)->Reconcile(data_dir);
  report.partial = !run.ok();
  if (!run.ok()) report.stopped_because = run.message();
  std::fputs(demo::RenderReport(report, data_dir, daemon_exit).c_str(), stdout);
  return (run.ok() && report.all_match && daemon_exit == 0) ? 0 : 1;
}

}  // namespace crmhub::cli
