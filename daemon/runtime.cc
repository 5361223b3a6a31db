#include "daemon/runtime.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "base/log_fields.h"
#include "base/metrics.h"
#include "base/private_files.h"
#include "base/thread_annotations.h"
#include "base/thread_name.h"
#include "crm/sink.h"
#include "crm/store_schema.h"
#include "daemon/config_check.h"
#include "daemon/config_diff.h"
#include "daemon/config_schema.h"
#include "daemon/data_dir_lock.h"
#include "daemon/event_counters.h"
#include "daemon/http_routes.h"
#include "daemon/lane_wakeup.h"
#include "daemon/process_metrics.h"
#include "daemon/runtime_build.h"
#include "daemon/runtime_threads.h"
#include "mapping/model/status_precedence.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "queue/kafka/source_owner.h"
#include "queue/sqlite_queue.h"

#ifndef CRMHUB_VERSION
#define CRMHUB_VERSION "dev"
#endif

namespace crmhub::daemon {
namespace {

std::string MonotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::to_string(static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

// A stopped io_context lets the HTTP client shut down at once on every way
// out, where waiting for a loop that never ran took 10 s: destroyed before
// the client (and after the I/O threads are joined).
struct StopOnExit {
  boost::asio::io_context& io;
  ~StopOnExit() { io.stop(); }
};

}  // namespace

// One run of the service: the composition root. Start() builds and starts
// everything (steps 1-7 of runtime.h), Reload() is one SIGHUP, Drain() is
// SIGTERM. The parts are members declared in construction order, so they
// are destroyed in reverse on every way out, a failed Start included.
// Thread-safety: Start, Reload and Drain run on the control thread; the
// members the HTTP routes read from other threads are the atomics and the
// adapter set (under adapters_mu_).
class Daemon {
 public:
  Daemon(const RuntimeOptions& options, ControlQueue& control)
      : options_(options),
        control_(control),
        clock_(options.clock ? *options.clock : system_clock_) {}

  // 0 once serving (READY=1 sent), else the exit code: 2 for a config
  // error, 1 for a runtime failure.
  int Start();
  // Loads the config again and swaps the adapters; on any error the running
  // configuration stays. Tells systemd either way.
  Status Reload();
  // Stops accepting, lets in-flight work finish within drain_timeout, lets
  // the event loop run out. Returns the exit code (0).
  int Drain();

  // The bound listener ports: [http] listen in order, then [admin] listen.
  const std::vector<uint16_t>& ports() const { return ports_; }

 private:
  int OpenState();    // step 3: queue, sink, housekeeping
  int StartHttp();    // step 5: routes, servers, I/O threads, listeners
  void StartWatch();  // step 7: signals and the watchdog
  bool Listen(net::HttpServer& on, const config::Section& section, std::string_view what);
  void StartWorkers(const AdapterSet& set);
  void StopServers();
  std::string StatusText();
  void Notify(const std::string& message) {
    if (Status st = options_.notifier.Notify(message); !st.ok()) spdlog::warn("{}", st.ToString());
  }
  std::shared_ptr<const AdapterSet> Adapters() {
    std::lock_guard lock(adapters_mu_);
    return adapters_;
  }
  void SetAdapters(std::shared_ptr<const AdapterSet> a) {
    std::lock_guard lock(adapters_mu_);
    adapters_ = std::move(a);
  }

  const RuntimeOptions& options_;
  ControlQueue& control_;
  SystemClock system_clock_;
  Clock& clock_;
  std::optional<config::Config> config_;
  std::optional<config::Config> start_config_;  // what the parts built at start read
  std::filesystem::path data_dir_;
  // Held from before the queue opens until after everything is closed.
  std::optional<DataDirLock> data_dir_lock_;
  std::chrono::milliseconds drain_timeout_{0};
  std::chrono::milliseconds drain_grace_{0};
  MetricsRegistry metrics_;
  std::optional<boost::asio::io_context> io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::optional<boost::asio::thread_pool> blocking_pool_;
  std::optional<net::HttpClient> http_;
  std::optional<StopOnExit> stop_io_on_exit_;
  std::unique_ptr<queue::SqliteQueue> engine_;  // [queue] engine = "sqlite"
  std::unique_ptr<queue::Queue> kafka_engine_;  // [queue] engine = "kafka"
  // Kafka: which pull sources this daemon owns (queue/kafka/source_owner.h).
  std::unique_ptr<queue::kafka::SourceOwnership> source_owner_;
  queue::Queue* queue_engine_ = nullptr;  // whichever of the two is open
  std::optional<LaneWakeup> wakeup_;
  std::optional<NotifyingQueue> queue_;
  std::unique_ptr<crm::CrmSink> sink_;
  std::optional<Housekeeper> housekeeper_;
  std::mutex adapters_mu_;
  std::shared_ptr<const AdapterSet> adapters_ GUARDED_BY(adapters_mu_);
  adapters::AdapterContext context_;
  // Each adapter's per-capability status: the daemon's, so reloads keep it.
  std::optional<AdapterHealthBook> health_;
  std::optional<Pipeline> pipeline_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> started_{false};
  std::unique_ptr<HttpRoutes> routes_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<net::HttpServer> admin_server_;
  std::optional<IoThreads> io_threads_;
  std::vector<uint16_t> ports_;
  std::string listening_;
  std::optional<SignalWatcher> signals_;
  std::optional<WatchdogPinger> watchdog_;
};

int Daemon::Start() {
  // 1. Config: the same checks as `crmhub check-config` (daemon/config_check.h).
  auto loaded = CheckConfigFile(options_.config_file, options_.adapter_types);
  if (!loaded.ok()) {
    spdlog::error("invalid config:\n{}", loaded.status().message());
    return 2;
  }
  config_ = std::move(loaded->config);
  start_config_ = config_;
  const config::Config& config = *config_;
  if (options_.configure_logging) {
    LogOptions log;
    log.journal = StderrIsJournal();
    log.level = config.Get("log").GetString("level");
    log.format = options_.log_format.value_or(
        config.Get("log").GetString("format") == "json" ? LogFormat::kJson : LogFormat::kText);
    if (Status st = SetupLogging(log); !st.ok()) spdlog::warn("logging: {}", st.ToString());
  }
  data_dir_ = ResolveDataDir(config);
  for (const std::string& warning : config.warnings()) spdlog::warn("{}", warning);
  if (Status st = EnsurePrivateDir(data_dir_); !st.ok()) {
    spdlog::error("cannot create data_dir {}: {}", data_dir_.string(), st.ToString());
    return 1;
  }
  // One daemon per data_dir: a second one would pull and deliver everything
  // twice. Exit 2 (a configuration problem: restarting will not fix it).
  auto locked = DataDirLock::Acquire(data_dir_);
  if (!locked.ok()) {
    spdlog::error("{}", locked.status().message());
    return locked.status().code() == StatusCode::kFailedPrecondition ? 2 : 1;
  }
  data_dir_lock_.emplace(std::move(*locked));
  drain_timeout_ = config.Get("daemon").GetDuration("drain_timeout");
  drain_grace_ = std::min(config.Get("daemon").GetDuration("drain_grace"), drain_timeout_);

  // 2. Event loop, outbound HTTP, metrics.
  RegisterProcessMetrics(metrics_, CRMHUB_VERSION);
  io_.emplace(static_cast<int>(config.Get("daemon").GetInt("io_threads")));
  work_.emplace(boost::asio::make_work_guard(*io_));
  blocking_pool_.emplace(2);
  http_.emplace(*io_, HttpClientOptionsFrom(config));
  stop_io_on_exit_.emplace(*io_);

  // 3. Durable state.
  if (int code = OpenState(); code != 0) return code;

  // 4. Adapters.
  context_ = adapters::AdapterContext{.http = &*http_, .clock = &clock_, .metrics = &metrics_};
  // The same precedence the CRM store applies to orders coming in, for the
  // adapters sending orders out (checked by check-config already).
  if (auto precedence = model::DeclaredStatusPrecedence::FromEntries(
          config.Get("crm").GetStringList("order_status_precedence"));
      precedence.ok() && !precedence->empty()) {
    context_.order_status_stale = [p = std::move(*precedence)](std::string_view held,
                                                               std::string_view incoming) {
      return p.Stale(held, incoming);
    };
  }
  auto built = BuildAdapters(config, options_.adapter_types, options_.hooks, context_);
  if (!built.ok()) {
    spdlog::error("invalid config:\n{}", built.status().message());
    return 2;
  }
  SetAdapters(*built);
  health_.emplace(clock_, metrics_);
  metrics_.AddCollector([this](MetricsRegistry& m) { health_->Collect(m); });
  PipelineOptions pipeline_options = PipelineOptionsFrom(config);
  pipeline_options.health = &*health_;
  if (source_owner_) {
    pipeline_options.owns_source = [owner = source_owner_.get()](const std::string& id) {
      return owner->Owns(id);
    };
  }
  pipeline_.emplace(*queue_, *sink_, clock_, metrics_, *wakeup_, pipeline_options);

  // 5. HTTP.
  if (int code = StartHttp(); code != 0) return code;

  // 6. Workers.
  StartWorkers(*Adapters());

  // 7. Signals, watchdog, READY=1.
  StartWatch();
  started_.store(true);
  Notify("READY=1\nSTATUS=" + SanitizeStatus(StatusText()) +
         "\nMAINPID=" + std::to_string(::getpid()));
  spdlog::info("crmhub {} running; data_dir {}", CRMHUB_VERSION, data_dir_.string());
  return 0;
}

int Daemon::OpenState() {
  if (config_->Get("queue").GetString("engine") == "kafka") {
    auto options = KafkaQueueOptionsFrom(*config_);
    if (!options.ok()) {
      spdlog::error("{}", options.status().ToString());
      return 2;
    }
    options->metrics = &metrics_;  // crmhub_kafka_* (queue/kafka/kafka_queue.h)
    auto opened = queue::kafka::KafkaQueue::Open(clock_, std::move(*options));
    if (!opened.ok()) {
      spdlog::error("cannot open the Kafka queue: {}", opened.status().ToString());
      return opened.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    auto owner = queue::kafka::SourceOwnership::Open(**opened);
    if (!owner.ok()) {
      spdlog::error("cannot join the pull sources' group on {}: {}", (*opened)->SourcesTopic(),
                    owner.status().ToString());
      return owner.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    source_owner_ = std::move(*owner);
    kafka_engine_ = std::move(*opened);
    queue_engine_ = kafka_engine_.get();
  } else {
    auto opened = queue::SqliteQueue::Open(clock_, QueueOptionsFrom(*config_, data_dir_));
    if (!opened.ok()) {
      spdlog::error("cannot open the queue in {}: {}", data_dir_.string(),
                    opened.status().ToString());
      return 1;
    }
    engine_ = std::move(*opened);
    queue_engine_ = engine_.get();
  }
  wakeup_.emplace(clock_);
  queue_.emplace(*queue_engine_, *wakeup_);
  auto sink = options_.hooks.make_sink(*config_, data_dir_, *http_, clock_, metrics_);
  if (!sink.ok()) {
    spdlog::error("cannot open the CRM sink: {}", sink.status().ToString());
    return sink.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  sink_ = std::move(*sink);
  housekeeper_.emplace(*queue_engine_, *sink_, std::chrono::seconds(1));
  housekeeper_->Start();
  metrics_.AddCollector([this](MetricsRegistry& m) { housekeeper_->Collect(m, clock_.Now()); });
  if (!engine_) return 0;  // the rest are the SQLite engine's own figures
  // Group commits tell how well writes batch (`crmhub bench orders` reads it).
  metrics_.AddCollector([&engine = *engine_](MetricsRegistry& m) {
    Counter& commits =
        m.GetCounter("crmhub_queue_commits_total",
                     "Group commits of the queue's writer (a WAL fsync covers one or more).");
    const queue::SqliteQueue::CommitCounters counters = engine.commit_counters();
    commits.Inc(static_cast<double>(counters.commits) - commits.value());
    // The disk's durable-write latency: rate(seconds) / rate(fsyncs).
    Counter& syncs = m.GetCounter("crmhub_queue_fsyncs_total",
                                  "WAL fsyncs of the queue (each covers one or more commits).");
    syncs.Inc(static_cast<double>(counters.syncs) - syncs.value());
    Counter& sync_seconds =
        m.GetCounter("crmhub_queue_fsync_seconds_total", "Time spent in the queue's WAL fsyncs.");
    sync_seconds.Inc(static_cast<double>(counters.sync_nanos) / 1e9 - sync_seconds.value());
    m.GetGauge("crmhub_queue_healthy",
               "1 while the queue takes writes; 0 after a storage failure until a probe "
               "succeeds.")
        .Set(engine.Healthy() ? 1 : 0);
  });
  return 0;
}

int Daemon::StartHttp() {
  const config::Config& config = *config_;
  HttpRoutesDeps deps;
  deps.queue = &*queue_;
  deps.metrics = &metrics_;
  deps.clock = &clock_;
  deps.health = &*health_;
  deps.find_adapter = [this](std::string_view id) -> std::shared_ptr<adapters::Adapter> {
    auto set = Adapters();
    auto it = set->entries.find(std::string(id));
    if (it == set->entries.end() || !it->second.enabled) return nullptr;
    return it->second.adapter;
  };
  deps.adapter_statuses = [this]() {
    std::vector<AdapterStatus> out;
    const std::string metrics_text = metrics_.RenderPrometheus();  // the breakers' gauges
    auto set = Adapters();
    for (const auto& [id, entry] : set->entries) {
      AdapterStatus s;
      s.id = id;
      s.type = entry.type;
      s.enabled = entry.enabled;
      if (entry.adapter) {
        s.capabilities = Capabilities(*entry.adapter);
        s.details_json = entry.adapter->DescribeJson();
      }
      if (auto w = pipeline_->StatusOf(id)) {
        s.last_success = w->last_success;
        s.cursor = w->cursor;
        s.last_error = w->last_error;
        s.last_error_at = w->last_error_at;
      }
      if (auto h = health_->Find(id)) {
        for (Capability c : h->capabilities()) {
          CapabilityStatus cs = h->Get(c);
          // The overall fields also cover what the workers do not see
          // (pushes); the newest of each wins.
          if (cs.last_success && (!s.last_success || *s.last_success < *cs.last_success)) {
            s.last_success = cs.last_success;
          }
          if (cs.last_error_at && (!s.last_error_at || *s.last_error_at < *cs.last_error_at)) {
            s.last_error = cs.last_error;
            s.last_error_at = cs.last_error_at;
          }
          s.capability_status.emplace(std::string(CapabilityName(c)), std::move(cs));
        }
      }
      s.circuit_state = AdapterHealthBook::CircuitStateFrom(metrics_text, id);
      const std::string adapter_label = "adapter=\"" + id + "\"";
      auto sum = [&](std::string_view name, std::vector<std::string> labels) {
        labels.push_back(adapter_label);
        return static_cast<int64_t>(AdapterHealthBook::SumFrom(metrics_text, name, labels));
      };
      s.counts["received"] = sum("crmhub_events_received_total", {});
      s.counts["delivered"] = sum("crmhub_deliveries_total", {"outcome=\"ok\""});
      s.counts["retrying"] = sum("crmhub_deliveries_total", {"outcome=\"retry\""});
      s.counts["failed"] = sum("crmhub_deliveries_total", {"outcome=\"fail\""});
      s.counts["throttled"] = static_cast<int64_t>(
          AdapterHealthBook::SumFrom(metrics_text, "crmhub_upstream_throttled_total", {}, id));
      out.push_back(std::move(s));
    }
    return out;
  };
  deps.readiness = [this]() -> Readiness {
    if (draining_.load()) return {false, "draining"};
    if (!started_.load()) return {false, "starting"};
    return {true, ""};
  };
  deps.run_blocking = [this](std::function<void()> fn) {
    boost::asio::post(*blocking_pool_, std::move(fn));
  };
  HttpRoutesOptions routes_options;
  const config::Section& admin = config.Get("admin");
  routes_options.queue_high_water = config.Get("queue").GetInt("high_water_mark");
  // Checked by CheckConfigFile; a failure here is a config error all the same.
  auto access = AdminAccess::FromConfig(config);
  if (!access.ok()) {
    std::fprintf(stderr, "%s\n", access.status().message().c_str());
    return 2;
  }
  routes_options.admin_access = std::move(access).value();
  routes_options.metrics_require_token = admin.GetBool("metrics_require_token");
  routes_options.idempotency_db = data_dir_ / "idempotency.db";
  routes_options.audit_db = data_dir_ / "audit.db";
  routes_options.crm_db = data_dir_ / std::string(crm::kCrmDbFileName);
  routes_options.audit_retention = admin.GetDuration("audit_retention");
  routes_options.max_json_depth = static_cast<int>(config.Get("http").GetInt("max_json_depth"));
  routes_options.admin_max_body = admin.GetSize("max_body");
  auto routes = HttpRoutes::Create(std::move(deps), std::move(routes_options));
  if (!routes.ok()) {
    spdlog::error("cannot start the HTTP routes: {}", routes.status().ToString());
    return 1;
  }
  routes_ = std::move(*routes);
  // With [admin] listen, a second server: the public one serves webhooks
  // and health, the admin one the API, the metrics and health.
  const bool separate_admin = admin.Has("listen");
  auto make_server = [&](Listener listener) {
    net::HttpServerOptions server_options = HttpServerOptionsFrom(config);
    server_options.body_limit_for = routes_->BodyLimitFunction();
    server_options.screen_headers = routes_->ScreenFunction(listener);
    server_options.clock = &clock_;
    return std::make_unique<net::HttpServer>(*io_, server_options, routes_->Handler(listener));
  };
  server_ = make_server(separate_admin ? Listener::kPublic : Listener::kAll);
  if (separate_admin) admin_server_ = make_server(Listener::kAdmin);
  io_threads_.emplace(*io_, static_cast<int>(config.Get("daemon").GetInt("io_threads")));
  if (!Listen(*server_, config.Get("http"), "") ||
      (admin_server_ && !Listen(*admin_server_, admin, "admin "))) {
    StopServers();
    work_.reset();
    io_threads_->Join(SteadyClock::now() + drain_timeout_);
    return 2;
  }
  return 0;
}

bool Daemon::Listen(net::HttpServer& on, const config::Section& section, std::string_view what) {
  size_t index = 0;
  for (const std::string& address : section.GetStringList("listen")) {
    if (Status st = on.Listen(address); !st.ok()) {
      // A config error like any other: where, and exit 2.
      std::fprintf(stderr, "%s\n",
                   section.ErrorAt("listen", "cannot listen on " + address + ": " + st.message())
                       .message()
                       .c_str());
      return false;
    }
    ports_.push_back(on.port(index++));
    std::string host = address.substr(0, address.rfind(':'));
    if (!listening_.empty()) listening_ += ' ';
    listening_ += fmt::format("{}{}:{}", what, host, ports_.back());
    spdlog::info("listening on {}:{}{}", host, ports_.back(),
                 what.empty() ? "" : " (admin API and metrics)");
  }
  return true;
}

void Daemon::StartWorkers(const AdapterSet& set) {
  std::vector<std::string> lanes;
  for (const auto& [id, entry] : set.entries) {
    if (!entry.enabled) continue;
    if (entry.adapter->source() != nullptr || entry.adapter->webhook() != nullptr) {
      lanes.push_back(InboundLane(id));
    }
    if (entry.adapter->target() != nullptr) lanes.push_back(OutboundLane(id));
  }
  housekeeper_->AddLanes(lanes);
  // The intake counters at 0 from the start (they used to appear with the
  // first event), so rate() and alerts see every adapter at once.
  for (const auto& [id, entry] : set.entries) {
    if (!entry.enabled) continue;
    const bool webhook = entry.adapter->webhook() != nullptr;
    if (!webhook && entry.adapter->source() == nullptr) continue;
    EventCountersFor(metrics_, id);
    if (!webhook) continue;
    for (const char* reason : {"unauthenticated", "forbidden", "malformed", "too_large",
                               "unavailable", "overloaded", "method", "internal"}) {
      metrics_.GetCounter("crmhub_events_rejected_total", "Webhook requests refused, by reason",
                          {{"adapter", id}, {"reason", reason}});
    }
  }
  for (const auto& [id, entry] : set.entries) {
    if (!entry.enabled) continue;
    if (Status st = pipeline_->Start(entry.adapter, entry.mapper); !st.ok()) {
      spdlog::error("adapter {}: {}", id, st.ToString());
    }
  }
}

void Daemon::StopServers() {
  server_->Stop();
  if (admin_server_) admin_server_->Stop();
}

std::string Daemon::StatusText() {
  size_t n = 0;
  // Held for the loop: a reload may swap the set meanwhile, and the range
  // would not keep a temporary's pointee alive.
  const auto adapters = Adapters();
  for (const auto& [id, e] : adapters->entries) n += e.enabled ? 1 : 0;
  return fmt::format("{}{}; {} adapters; queue depth {}; listening on {}",
                     draining_.load() ? "draining" : "running",
                     queue_engine_->Healthy() ? "" : "; queue refusing writes (storage failure)", n,
                     housekeeper_->depth(), listening_);
}

void Daemon::StartWatch() {
  if (options_.handle_signals) {
    signals_.emplace(*io_, control_, [](int signo) {
      spdlog::info("received signal {} ({})", signo, signo == SIGHUP ? "reload" : "stop");
    });
  }
  if (auto interval = WatchdogPingInterval(options_.notifier)) {
    // A queue that has refused writes for longer than unhealthy_restart_after
    // did not heal by probing; a restart (a fresh open) is the next remedy.
    const auto restart_after = config_->Get("queue").GetDuration("unhealthy_restart_after");
    auto healthy = [this, restart_after] {
      if (!engine_) return queue_engine_->Healthy();  // Kafka: a fatal producer error
      auto down = engine_->UnhealthyFor();
      return !down || restart_after.count() == 0 || *down < restart_after;
    };
    watchdog_.emplace(
        *io_, options_.notifier, *interval, [this] { return StatusText(); }, healthy);
    watchdog_->Start();
  }
}

Status Daemon::Reload() {
  Notify("RELOADING=1\nMONOTONIC_USEC=" + MonotonicUsec() + "\nSTATUS=reloading configuration");
  std::vector<ConfigChange> changes;
  Status result = [&]() -> Status {
    auto checked = CheckConfigFile(options_.config_file, options_.adapter_types);
    if (!checked.ok()) return checked.status();
    auto next = std::optional<config::Config>(std::move(checked->config));
    auto next_adapters = BuildAdapters(*next, options_.adapter_types, options_.hooks, context_);
    if (!next_adapters.ok()) return next_adapters.status();
    // Live settings against the running ones; restart-bound ones against
    // what the process started with (a second reload still names them).
    const config::Schema schema = BuildSchema(options_.adapter_types);
    for (ConfigChange& c : DiffConfigs(*config_, *next, schema)) {
      if (!c.needs_restart) changes.push_back(std::move(c));
    }
    for (ConfigChange& c : DiffConfigs(*start_config_, *next, schema)) {
      if (c.needs_restart) changes.push_back(std::move(c));
    }
    // Swap: the old workers finish the batch in hand; queued messages stay
    // in their lanes and the new workers pick them up.
    pipeline_->StopAll(SteadyClock::now() + drain_timeout_);
    SetAdapters(*next_adapters);
    StartWorkers(**next_adapters);
    spdlog::set_level(spdlog::level::from_str(next->Get("log").GetString("level")));
    config_ = std::move(*next);
    return Status::Ok();
  }();
  if (result.ok()) {
    // What changed, each setting once; what waits for a restart is a
    // warning, so that `journalctl -p warning` shows the reload did not
    // apply it. The running configuration (config_) now reads the new
    // values, but the parts built at start keep the old ones.
    int waiting = 0;
    for (const ConfigChange& c : changes) {
      waiting += c.needs_restart ? 1 : 0;
      LogWithFields(c.needs_restart ? spdlog::level::warn : spdlog::level::info,
                    c.needs_restart ? "reload: setting changed; it waits for a restart"
                                    : "reload: setting changed",
                    {{"setting", c.setting}, {"before", c.before}, {"after", c.after}});
    }
    spdlog::info("reloaded {}: {}", options_.config_file.string(),
                 changes.empty() ? std::string("no setting changed")
                                 : fmt::format("{} settings changed, {} applied, {} wait for a "
                                               "restart",
                                               changes.size(), changes.size() - waiting, waiting));
    Notify("READY=1\nSTATUS=" + SanitizeStatus(StatusText()));
  } else {
    spdlog::error("reload failed, the running configuration stays:\n{}", result.message());
    Notify("READY=1\nSTATUS=" +
           SanitizeStatus("reload failed (old configuration running); " + StatusText()));
  }
  return result;
}

int Daemon::Drain() {
  const auto deadline = SteadyClock::now() + drain_timeout_;
  draining_.store(true);
  Notify("STOPPING=1\nSTATUS=draining");
  spdlog::info("stopping: draining (up to {} ms)", drain_timeout_.count());
  // /readyz answers 503 draining from now on; the listeners stay open for
  // drain_grace so that a load balancer polling it sees that before the
  // connections are refused (they used to close first).
  if (drain_grace_.count() > 0) std::this_thread::sleep_for(drain_grace_);
  StopServers();
  bool workers_done = pipeline_->StopAll(deadline);
  if (watchdog_) watchdog_->Cancel();
  if (signals_) signals_->Cancel();
  work_.reset();
  if (!io_threads_->Join(deadline)) {
    spdlog::warn("the event loop still had work at the drain deadline; stopped it");
  }
  blocking_pool_->join();
  housekeeper_->Stop();
  if (!workers_done) {
    // A worker is stuck in a sink or adapter call. Its lease expires and the
    // message is delivered again after the restart; everything acknowledged
    // is already durable (synchronous=FULL), so exiting now loses nothing.
    spdlog::warn("exiting with deliveries still in flight");
    spdlog::default_logger()->flush();
    std::_Exit(0);
  }
  spdlog::info("stopped");
  return 0;
}

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {
  if (!options_.hooks.make_sink || !options_.hooks.make_mapper) {
    RuntimeHooks defaults = DefaultRuntimeHooks();
    if (!options_.hooks.make_sink) options_.hooks.make_sink = defaults.make_sink;
    if (!options_.hooks.make_mapper) options_.hooks.make_mapper = defaults.make_mapper;
  }
}

Runtime::~Runtime() = default;

int Runtime::Run() {
  Daemon daemon(options_, control_);
  if (int code = daemon.Start(); code != 0) return code;
  if (on_ready) on_ready(daemon.ports());
  while (control_.Wait() != ControlCommand::kStop) {
    Status result = daemon.Reload();
    if (on_reload) on_reload(result);
  }
  return daemon.Drain();
}

}  // namespace crmhub::daemon
