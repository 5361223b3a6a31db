#include "daemon/runtime.h"

#include "base/private_files.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <set>
#include <thread>

#include "base/metrics.h"
#include "base/thread_name.h"
#include "crm/sink.h"
#include "daemon/config_check.h"
#include "daemon/config_schema.h"
#include "daemon/http_routes.h"
#include "daemon/lane_wakeup.h"
#include "daemon/process_metrics.h"
#include "daemon/runtime_build.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "queue/sqlite_queue.h"

#ifndef CRMHUB_VERSION
#define CRMHUB_VERSION "dev"
#endif

namespace crmhub::daemon {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Refreshes queue statistics off the I/O threads (SQLite reads), for
// /metrics (crmhub_queue_depth, crmhub_dead_letters) and STATUS=, and runs
// the sink's housekeeping (CrmSink::Maintain) once a minute.
class Housekeeper {
 public:
  Housekeeper(queue::Queue& queue, crm::CrmSink& sink, std::chrono::milliseconds interval)
      : queue_(queue), sink_(sink), interval_(interval) {}
  ~Housekeeper() { Stop(); }

  void Start() {
    Refresh();
    thread_ = std::thread([this] {
      SetCurrentThreadName("crmhub-house");
      auto next_maintain = SteadyClock::now() + kMaintainEvery;
      std::unique_lock lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, wait_, [&] { return stop_; });
        if (stop_) break;
        lock.unlock();
        const auto started = SteadyClock::now();
        Refresh();
        // The statistics scan the queue's tables: with a large backlog that
        // is not free, so it never takes more than ~5% of a core.
        wait_ = std::max<std::chrono::milliseconds>(
            interval_, 20 * std::chrono::duration_cast<std::chrono::milliseconds>(
                                SteadyClock::now() - started));
        if (SteadyClock::now() >= next_maintain) {
          next_maintain = SteadyClock::now() + kMaintainEvery;
          if (Status st = sink_.Maintain(); !st.ok()) {
            spdlog::warn("CRM sink housekeeping: {}", st.ToString());
          }
        }
        lock.lock();
      }
    });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Refresh() {
    auto stats = queue_.Stats();
    if (!stats.ok()) return;
    int64_t depth = 0;
    for (const auto& s : *stats) depth += s.ready + s.delayed + s.leased;
    std::lock_guard lock(stats_mu_);
    stats_ = std::move(*stats);
    depth_.store(depth);
  }
  int64_t depth() const { return depth_.load(); }

  // Sets the per-lane gauges from the last refresh (a metrics collector).
  // A lane that emptied drops out of Stats(); its gauges must read 0, not
  // keep their last value, so every lane ever seen is reported.
  void Collect(MetricsRegistry& m) {
    std::lock_guard lock(stats_mu_);
    std::set<std::string> present;
    for (const auto& s : stats_) {
      present.insert(s.lane);
      seen_lanes_.insert(s.lane);
      m.GetGauge("crmhub_queue_depth", "Messages not yet delivered (ready, delayed, leased).",
                 {{"lane", s.lane}})
          .Set(static_cast<double>(s.ready + s.delayed + s.leased));
      m.GetGauge("crmhub_dead_letters", "Dead letters waiting for an operator.", {{"lane", s.lane}})
          .Set(static_cast<double>(s.dead));
    }
    for (const std::string& lane : seen_lanes_) {
      if (present.contains(lane)) continue;
      m.GetGauge("crmhub_queue_depth", "Messages not yet delivered (ready, delayed, leased).",
                 {{"lane", lane}})
          .Set(0);
      m.GetGauge("crmhub_dead_letters", "Dead letters waiting for an operator.", {{"lane", lane}})
          .Set(0);
    }
  }

 private:
  static constexpr std::chrono::minutes kMaintainEvery{1};

  queue::Queue& queue_;
  crm::CrmSink& sink_;
  const std::chrono::milliseconds interval_;
  std::chrono::milliseconds wait_ = interval_;  // housekeeping thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
  std::mutex stats_mu_;
  std::vector<queue::LaneStats> stats_;  // GUARDED_BY(stats_mu_)
  std::set<std::string> seen_lanes_;     // GUARDED_BY(stats_mu_)
  std::atomic<int64_t> depth_{0};
};

// The io_context's threads, joinable with a deadline.
class IoThreads {
 public:
  IoThreads(boost::asio::io_context& io, int n) : io_(io) {
    running_ = n;
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        SetCurrentThreadName("crmhub-io");
        io_.run();
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
      });
    }
  }
  ~IoThreads() { Join(SteadyClock::time_point::max()); }

  // Waits for the loop to run out of work by `deadline`; past it, stops the
  // loop (the last resort, after draining) and joins. True if it ran out.
  bool Join(SteadyClock::time_point deadline) {
    bool ran_out;
    {
      std::unique_lock lock(mu_);
      ran_out = cv_.wait_until(lock, deadline, [&] { return running_ == 0; });
    }
    if (!ran_out) io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return ran_out;
  }

 private:
  boost::asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

std::string MonotonicUsec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::to_string(static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000);
}

}  // namespace

// Everything one Run() owns, declared in construction order (destroyed in
// reverse).
struct Runtime::State {
  std::shared_ptr<const AdapterSet> adapters;  // GUARDED_BY(adapters_mu)
  std::mutex adapters_mu;

  std::shared_ptr<const AdapterSet> Adapters() {
    std::lock_guard lock(adapters_mu);
    return adapters;
  }
  void SetAdapters(std::shared_ptr<const AdapterSet> a) {
    std::lock_guard lock(adapters_mu);
    adapters = std::move(a);
  }
};

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {
  if (!options_.hooks.make_sink || !options_.hooks.make_mapper) {
    RuntimeHooks defaults = DefaultRuntimeHooks();
    if (!options_.hooks.make_sink) options_.hooks.make_sink = defaults.make_sink;
    if (!options_.hooks.make_mapper) options_.hooks.make_mapper = defaults.make_mapper;
  }
}

Runtime::~Runtime() = default;

int Runtime::Run() {
  SystemClock system_clock;
  Clock& clock = options_.clock ? *options_.clock : system_clock;
  const SdNotifier& notifier = options_.notifier;
  auto notify = [&](const std::string& message) {
    if (Status st = notifier.Notify(message); !st.ok()) spdlog::warn("{}", st.ToString());
  };

  // 1. Config.
  // The same checks as `crmhub check-config` (daemon/config_check.h).
  auto loaded = CheckConfigFile(options_.config_file, options_.adapter_types);
  if (!loaded.ok()) {
    spdlog::error("invalid config:\n{}", loaded.status().message());
    return 2;
  }
  config::Config config = std::move(loaded->config);
  if (options_.configure_logging) {
    LogOptions log;
    log.journal = StderrIsJournal();
    log.level = config.Get("log").GetString("level");
    log.format = options_.log_format.value_or(
        config.Get("log").GetString("format") == "json" ? LogFormat::kJson : LogFormat::kText);
    if (Status st = SetupLogging(log); !st.ok()) spdlog::warn("logging: {}", st.ToString());
  }
  const std::filesystem::path data_dir = ResolveDataDir(config);
  for (const std::string& warning : config.warnings()) spdlog::warn("{}", warning);
  if (Status st = EnsurePrivateDir(data_dir); !st.ok()) {
    spdlog::error("cannot create data_dir {}: {}", data_dir.string(), st.ToString());
    return 1;
  }
  const auto drain_timeout = config.Get("daemon").GetDuration("drain_timeout");

  // 2. Event loop, outbound HTTP, metrics.
  MetricsRegistry metrics;
  RegisterProcessMetrics(metrics, CRMHUB_VERSION);
  boost::asio::io_context io(static_cast<int>(config.Get("daemon").GetInt("io_threads")));
  auto work = boost::asio::make_work_guard(io);
  boost::asio::thread_pool blocking_pool(2);
  net::HttpClient http(io, HttpClientOptionsFrom(config));
  // Destroyed before `http` (and after the I/O threads, declared later, are
  // joined): a stopped io_context lets the client shut down at once on every
  // way out, where waiting for a loop that never ran took 10 s.
  struct StopOnExit {
    boost::asio::io_context& io;
    ~StopOnExit() { io.stop(); }
  } stop_io_on_exit{io};

  // 3. Durable state.
  auto opened = queue::SqliteQueue::Open(clock, QueueOptionsFrom(config, data_dir));
  if (!opened.ok()) {
    spdlog::error("cannot open the queue in {}: {}", data_dir.string(), opened.status().ToString());
    return 1;
  }
  std::unique_ptr<queue::SqliteQueue> engine = std::move(*opened);
  LaneWakeup wakeup(clock);
  NotifyingQueue queue(*engine, wakeup);
  auto sink = options_.hooks.make_sink(config, data_dir, http, clock);
  if (!sink.ok()) {
    spdlog::error("cannot open the CRM sink: {}", sink.status().ToString());
    return sink.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Housekeeper housekeeper(*engine, **sink, std::chrono::seconds(1));
  housekeeper.Start();
  metrics.AddCollector([&housekeeper](MetricsRegistry& m) { housekeeper.Collect(m); });
  // Group commits tell how well writes batch (`crmhub bench orders` reads it).
  metrics.AddCollector([&engine = *engine](MetricsRegistry& m) {
    Counter& commits =
        m.GetCounter("crmhub_queue_commits_total",
                     "Group commits of the queue's writer (a WAL fsync covers one or more).");
    commits.Inc(static_cast<double>(engine.commit_counters().commits) - commits.value());
  });

  // 4. Adapters.
  State state;
  const adapters::AdapterContext context{.http = &http, .clock = &clock, .metrics = &metrics};
  auto built = BuildAdapters(config, options_.adapter_types, options_.hooks, context);
  if (!built.ok()) {
    spdlog::error("invalid config:\n{}", built.status().message());
    return 2;
  }
  state.SetAdapters(*built);
  Pipeline pipeline(queue, **sink, clock, metrics, wakeup, PipelineOptionsFrom(config));

  // 5. HTTP.
  std::atomic<bool> draining{false};
  std::atomic<bool> started{false};
  HttpRoutesDeps deps;
  deps.queue = &queue;
  deps.metrics = &metrics;
  deps.clock = &clock;
  deps.find_adapter = [&state](std::string_view id) -> std::shared_ptr<adapters::Adapter> {
    auto set = state.Adapters();
    auto it = set->entries.find(std::string(id));
    if (it == set->entries.end() || !it->second.enabled) return nullptr;
    return it->second.adapter;
  };
  deps.adapter_statuses = [&state, &pipeline]() {
    std::vector<AdapterStatus> out;
    auto set = state.Adapters();
    for (const auto& [id, entry] : set->entries) {
      AdapterStatus s;
      s.id = id;
      s.type = entry.type;
      s.enabled = entry.enabled;
      if (entry.adapter) {
        s.capabilities = Capabilities(*entry.adapter);
        s.details_json = entry.adapter->DescribeJson();
      }
      if (auto w = pipeline.StatusOf(id)) {
        s.last_success = w->last_success;
        s.cursor = w->cursor;
        s.last_error = w->last_error;
        s.last_error_at = w->last_error_at;
      }
      out.push_back(std::move(s));
    }
    return out;
  };
  deps.readiness = [&draining, &started]() -> Readiness {
    if (draining.load()) return {false, "draining"};
    if (!started.load()) return {false, "starting"};
    return {true, ""};
  };
  deps.run_blocking = [&blocking_pool](std::function<void()> fn) {
    boost::asio::post(blocking_pool, std::move(fn));
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
  routes_options.idempotency_db = data_dir / "idempotency.db";
  routes_options.audit_db = data_dir / "audit.db";
  routes_options.audit_retention = admin.GetDuration("audit_retention");
  routes_options.max_json_depth = static_cast<int>(config.Get("http").GetInt("max_json_depth"));
  routes_options.admin_max_body = admin.GetSize("max_body");
  auto routes = HttpRoutes::Create(std::move(deps), std::move(routes_options));
  if (!routes.ok()) {
    spdlog::error("cannot start the HTTP routes: {}", routes.status().ToString());
    return 1;
  }
  // With [admin] listen, a second server: the public one serves webhooks
  // and health, the admin one the API, the metrics and health.
  const bool separate_admin = admin.Has("listen");
  auto make_server = [&](Listener listener) {
    net::HttpServerOptions server_options = HttpServerOptionsFrom(config);
    server_options.body_limit_for = (*routes)->BodyLimitFunction();
    server_options.screen_headers = (*routes)->ScreenFunction(listener);
    server_options.clock = &clock;
    return std::make_unique<net::HttpServer>(io, server_options, (*routes)->Handler(listener));
  };
  std::unique_ptr<net::HttpServer> server =
      make_server(separate_admin ? Listener::kPublic : Listener::kAll);
  std::unique_ptr<net::HttpServer> admin_server =
      separate_admin ? make_server(Listener::kAdmin) : nullptr;
  IoThreads io_threads(io, static_cast<int>(config.Get("daemon").GetInt("io_threads")));
  auto stop_servers = [&] {
    server->Stop();
    if (admin_server) admin_server->Stop();
  };

  std::vector<uint16_t> ports;
  std::string listening;
  auto listen_all = [&](net::HttpServer& on, const config::Section& section,
                        std::string_view what) -> bool {
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
      ports.push_back(on.port(index++));
      std::string host = address.substr(0, address.rfind(':'));
      if (!listening.empty()) listening += ' ';
      listening += fmt::format("{}{}:{}", what, host, ports.back());
      spdlog::info("listening on {}:{}{}", host, ports.back(),
                   what.empty() ? "" : " (admin API and metrics)");
    }
    return true;
  };
  if (!listen_all(*server, config.Get("http"), "") ||
      (admin_server && !listen_all(*admin_server, admin, "admin "))) {
    stop_servers();
    work.reset();
    io_threads.Join(SteadyClock::now() + drain_timeout);
    return 2;
  }

  // 6. Workers.
  auto start_workers = [&](const AdapterSet& set) {
    for (const auto& [id, entry] : set.entries) {
      if (!entry.enabled) continue;
      if (Status st = pipeline.Start(entry.adapter, entry.mapper); !st.ok()) {
        spdlog::error("adapter {}: {}", id, st.ToString());
      }
    }
  };
  start_workers(*state.Adapters());

  // 7. Signals, watchdog, READY=1.
  std::optional<SignalWatcher> signals;
  if (options_.handle_signals) {
    signals.emplace(io, control_, [](int signo) {
      spdlog::info("received signal {} ({})", signo, signo == SIGHUP ? "reload" : "stop");
    });
  }
  auto status_text = [&]() {
    size_t n = 0;
    for (const auto& [id, e] : state.Adapters()->entries) n += e.enabled ? 1 : 0;
    return fmt::format("{}{}; {} adapters; queue depth {}; listening on {}",
                       draining.load() ? "draining" : "running",
                       engine->Healthy() ? "" : "; queue refusing writes (storage failure)", n,
                       housekeeper.depth(), listening);
  };
  std::optional<WatchdogPinger> watchdog;
  if (auto interval = WatchdogPingInterval(notifier)) {
    // A queue that has refused writes for longer than unhealthy_restart_after
    // did not heal by probing; a restart (a fresh open) is the next remedy.
    const auto restart_after = config.Get("queue").GetDuration("unhealthy_restart_after");
    auto healthy = [&engine = *engine, restart_after] {
      auto down = engine.UnhealthyFor();
      return !down || restart_after.count() == 0 || *down < restart_after;
    };
    watchdog.emplace(io, notifier, *interval, status_text, healthy);
    watchdog->Start();
  }
  started.store(true);
  notify("READY=1\nSTATUS=" + SanitizeStatus(status_text()) +
         "\nMAINPID=" + std::to_string(::getpid()));
  spdlog::info("crmhub {} running; data_dir {}", CRMHUB_VERSION, data_dir.string());
  if (on_ready) on_ready(ports);

  // 8. Control loop: reloads until stopped.
  while (control_.Wait() != ControlCommand::kStop) {
    notify("RELOADING=1\nMONOTONIC_USEC=" + MonotonicUsec() + "\nSTATUS=reloading configuration");
    Status result = [&]() -> Status {
      auto checked = CheckConfigFile(options_.config_file, options_.adapter_types);
      if (!checked.ok()) return checked.status();
      auto next = std::optional<config::Config>(std::move(checked->config));
      auto next_adapters = BuildAdapters(*next, options_.adapter_types, options_.hooks, context);
      if (!next_adapters.ok()) return next_adapters.status();
      if (ResolveDataDir(*next) != data_dir) {
        spdlog::warn("reload: data_dir changed; it takes effect at the next restart");
      }
      // Swap: the old workers finish the batch in hand; queued messages stay
      // in their lanes and the new workers pick them up.
      pipeline.StopAll(SteadyClock::now() + drain_timeout);
      state.SetAdapters(*next_adapters);
      start_workers(**next_adapters);
      spdlog::set_level(spdlog::level::from_str(next->Get("log").GetString("level")));
      config = std::move(*next);
      return Status::Ok();
    }();
    if (result.ok()) {
      spdlog::info("reloaded {}", options_.config_file.string());
      notify("READY=1\nSTATUS=" + SanitizeStatus(status_text()));
    } else {
      spdlog::error("reload failed, the running configuration stays:\n{}", result.message());
      notify("READY=1\nSTATUS=" +
             SanitizeStatus("reload failed (old configuration running); " + status_text()));
    }
    if (on_reload) on_reload(result);
  }

  // 9. Drain: stop accepting, finish in-flight work, let the loop run out.
  const auto deadline = SteadyClock::now() + drain_timeout;
  draining.store(true);
  notify("STOPPING=1\nSTATUS=draining");
  spdlog::info("stopping: draining (up to {} ms)", drain_timeout.count());
  stop_servers();
  bool workers_done = pipeline.StopAll(deadline);
  if (watchdog) watchdog->Cancel();
  if (signals) signals->Cancel();
  work.reset();
  if (!io_threads.Join(deadline)) {
    spdlog::warn("the event loop still had work at the drain deadline; stopped it");
  }
  blocking_pool.join();
  housekeeper.Stop();
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

}  // namespace crmhub::daemon
