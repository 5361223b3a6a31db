#pragma once
// Runtime: `crmhub run`, the long-running service.
//
// Run() on the calling (control) thread, through a Daemon object
// (daemon/runtime.cc): Start() is steps 1-5, each SIGHUP a Reload(), the
// stop a Drain():
//   1. loads and validates the config (exit 2 on errors);
//   2. opens data_dir/queue.db and the CRM sink (data_dir/crm.db, or REST);
//   3. starts one io_context on [daemon] io_threads threads, with the shared
//      outbound net::HttpClient, the HTTP server (daemon/http_routes.h) and
//      the signal and watchdog handlers;
//   4. builds every enabled adapter from daemon/adapter_registry.cc and
//      starts its pipeline workers (daemon/pipeline.h);
//   5. sends READY=1 (with STATUS=) once the listeners are up;
//   6. waits for commands: SIGHUP reloads (RELOADING=1 ... READY=1; an
//      invalid new config is logged and the old one keeps running);
//      SIGTERM/SIGINT drain: STOPPING=1, stop accepting, let in-flight
//      requests and deliveries finish within [daemon] drain_timeout, let the
//      event loop run out, close the queue, return 0.
//
// Blocking work (SQLite, sink, adapters' pulls and deliveries, reloads) never
// runs on I/O threads: it runs on pipeline threads, a small blocking pool
// (admin API reads, idempotency store), a housekeeping thread (queue stats
// for metrics and STATUS=) or the control thread.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "adapters/adapter.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "config/config.h"
#include "crm/sink.h"
#include "daemon/lifecycle.h"
#include "daemon/pipeline.h"
#include "daemon/sd_notify.h"

namespace crmhub::net {
class HttpClient;
}

namespace crmhub::daemon {

// Seams for the parts built from config that tests may replace.
struct RuntimeHooks {
  // Builds the CRM sink from [crm]. Default: DefaultSinkFactory().
  // `metrics`: the daemon's registry, for the sink's own series.
  std::function<Result<std::unique_ptr<crm::CrmSink>>(
      const config::Config& config, const std::filesystem::path& data_dir, net::HttpClient& http,
      Clock& clock, MetricsRegistry& metrics)>
      make_sink;
  // Builds the mapper of one [adapters.<id>] section from its `mapping` key;
  // an empty RecordMapper when the section has none. Default:
  // DefaultMapperFactory().
  std::function<Result<RecordMapper>(const config::Section& adapter)> make_mapper;
};

// The production wiring: SqliteCrmStore at data_dir/crm.db or the REST
// sink; the mapping rules engine for `mapping = "<rules file>"`.
RuntimeHooks DefaultRuntimeHooks();

struct RuntimeOptions {
  std::filesystem::path config_file;
  std::vector<adapters::AdapterType> adapter_types;  // AllAdapterTypes()
  RuntimeHooks hooks;                                // DefaultRuntimeHooks()
  SdNotifier notifier;                               // SdNotifier::FromEnvironment()
  Clock* clock = nullptr;                            // null: the system clock
  // Set up logging from [log] once the config is loaded (and its level again
  // on reload); `log_format` overrides [log] format (--log-format).
  bool configure_logging = false;
  std::optional<LogFormat> log_format;
  // Catch SIGTERM/SIGINT/SIGHUP (off in in-process tests, which use
  // RequestStop/RequestReload instead).
  bool handle_signals = true;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Serves until stopped; returns the exit code (0 after a clean drain, 1 on
  // a runtime failure such as a port in use, 2 on a config error).
  int Run();

  // The same as SIGTERM / SIGHUP; callable from any thread.
  void RequestStop() { control_.Post(ControlCommand::kStop); }
  void RequestReload() { control_.Post(ControlCommand::kReload); }

  // Called (on the control thread) after READY=1 and after each reload
  // attempt; for in-process tests. `ports` are the bound listener ports:
  // [http] listen in order, then [admin] listen.
  std::function<void(const std::vector<uint16_t>& ports)> on_ready;
  std::function<void(const Status& reload_status)> on_reload;

 private:
  RuntimeOptions options_;
  ControlQueue control_;
};

}  // namespace crmhub::daemon
