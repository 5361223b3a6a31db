// crmhub run: the long-running service (daemon/runtime.h).

#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/logging.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/runtime.h"
#include "daemon/sd_notify.h"

namespace crmhub::cli {

int RunCommand(const Args& args) {
  std::string config_path;
  std::string log_format;
  std::vector<std::string> positional;
  FlagParser flags(
      "crmhub run --config FILE [--log-format text|json]",
      "Run the integration hub in the foreground: webhooks and the admin API over HTTP, source "
      "adapters' pull loops, delivery to the CRM sink and to target adapters. Under systemd "
      "(Type=notify) it reports READY=1, WATCHDOG=1 and STATUS=. SIGTERM/SIGINT drain and exit "
      "0; SIGHUP reloads the config (an invalid one is logged and the old one keeps running).");
  flags.AddString("--config", &config_path, "FILE", "config file (TOML)");
  flags.AddString("--log-format", &log_format, "FORMAT", "text or json; overrides [log] format");
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (config_path.empty() && positional.size() == 1) config_path = positional[0];
  if (config_path.empty() || positional.size() > 1) {
    std::fprintf(stderr, "error: --config FILE is required\n\n%s", flags.Help().c_str());
    return 2;
  }
  LogOptions log;
  log.journal = StderrIsJournal();
  if (!log_format.empty()) {
    auto format = ParseLogFormat(log_format);
    if (!format.ok()) {
      std::fprintf(stderr, "error: %s\n", format.status().message().c_str());
      return 2;
    }
    log.format = *format;
  }
  if (Status st = SetupLogging(log); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
    return 1;
  }

  daemon::RuntimeOptions options;
  options.config_file = config_path;
  options.adapter_types = daemon::AllAdapterTypes();
  options.hooks = daemon::DefaultRuntimeHooks();
  options.notifier = daemon::SdNotifier::FromEnvironment();
  options.configure_logging = true;
  if (!log_format.empty()) options.log_format = log.format;
  daemon::Runtime runtime(std::move(options));
  return runtime.Run();
}

}  // namespace crmhub::cli
