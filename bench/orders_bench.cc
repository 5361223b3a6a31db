#include "bench/orders_bench.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/simkit/simulator.h"
#include "adapters/simulator_registry.h"
#include "base/clock.h"
#include "base/json_get.h"
#include "base/thread_annotations.h"
#include "bench/runtime_thread.h"
#include "bench/scratch_dir.h"
#include "daemon/adapter_registry.h"
#include "daemon/runtime.h"
#include "net/http_client.h"

namespace crmhub::bench {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The orders exist before the run: created over the past day, each at its
// final status within a minute, so the pull reads history (the way a
// first start against a busy seller account does) and nothing arrives
// during the measurement.
constexpr auto kHistory = std::chrono::hours(24);
constexpr auto kSettled = std::chrono::minutes(2);  // the last order's final step is older

using simkit::TomlString;

Status WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError("bench: cannot write " + path.string());
  ::chmod(path.c_str(), 0600);
  return Status::Ok();
}

// A simulator of `type` holding N settled orders (see kHistory), serving on
// a loopback port, limits not enforced.
Result<std::unique_ptr<simkit::Simulator>> MakeSim(const simkit::SimulatorType& type, Clock& clock,
                                                   int64_t orders) {
  simkit::SimOptions o;
  o.orders = static_cast<int>(orders);
  o.arrival = kHistory;
  o.lifetime = std::chrono::minutes(1);
  o.start = clock.Now() - kHistory - o.lifetime - kSettled;
  o.enforce_rate_limits = false;
  auto sim = simkit::CreateSimulator(type, o, clock);
  if (!sim.ok()) return sim.status();
  if (Status st = (*sim)->Start("127.0.0.1:0"); !st.ok()) {
    return st.WithContext("starting the simulator");
  }
  return sim;
}

// Every adapter type, each key the simulator's unthrottled lines set
// widened to take that value: the documented limits cap a key's maximum
// (Yandex Market's orders_rate_limit stops at 10,000 an hour), and the
// benchmark measures crmhub, not the limit.
std::vector<adapters::AdapterType> BenchAdapterTypes(const simkit::AdapterWiring& wiring) {
  std::vector<adapters::AdapterType> types = daemon::AllAdapterTypes();
  std::istringstream lines(wiring.unthrottled_keys);
  for (std::string line; std::getline(lines, line);) {
    const size_t eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    const std::optional<int64_t> value = ParseDecimalInt(line.substr(eq + 3));
    if (!value) continue;
    for (adapters::AdapterType& t : types) {
      if (t.schema.type != wiring.type) continue;
      for (config::KeySpec& k : t.schema.keys) {
        if (k.name == line.substr(0, eq) && k.max && *k.max < *value) k.max = *value;
      }
    }
  }
  return types;
}

Result<fs::path> FindRules(const std::string& marketplace) {
  const fs::path name = fs::path("config") / "mappings" / (marketplace + "-orders.toml");
  std::error_code ec;
  std::vector<fs::path> candidates = {fs::current_path(ec) / name};
  // A build directory sits in the source tree (build-*/crmhub).
  if (fs::path exe = fs::read_symlink("/proc/self/exe", ec); !ec) {
    candidates.push_back(exe.parent_path().parent_path() / name);
  }
  for (const fs::path& p : candidates) {
    if (fs::exists(p, ec)) return fs::absolute(p);
  }
  return Status::NotFound("cannot find " + name.string() +
                          " (run from the source tree or pass --rules FILE)");
}

// Read-only view of crm.db while the daemon writes it (WAL: readers do not
// block the writer).
class StoreProbe {
 public:
  explicit StoreProbe(fs::path db) : db_(std::move(db)) {}
  ~StoreProbe() {
    sqlite3_finalize(max_id_);
    sqlite3_finalize(count_);
    sqlite3_close(conn_);
  }
  StoreProbe(const StoreProbe&) = delete;
  StoreProbe& operator=(const StoreProbe&) = delete;

  // Orders of `source`; -1 while the store is not there yet. Cheap while the
  // highest row id is below `at_least` (crm.db is fresh: rows are only added).
  int64_t Orders(const std::string& source, int64_t at_least) {
    if (!Ready()) return -1;
    if (at_least > 0 && Scalar(max_id_, nullptr) < at_least) return Scalar(max_id_, nullptr);
    return Scalar(count_, &source);
  }

 private:
  bool Ready() {
    if (count_ != nullptr) return true;
    std::error_code ec;
    if (!fs::exists(db_, ec)) return false;
    if (conn_ == nullptr &&
        sqlite3_open_v2(db_.c_str(), &conn_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(conn_);
      conn_ = nullptr;
      return false;
    }
    if (sqlite3_prepare_v2(conn_, "SELECT COALESCE(MAX(id), 0) FROM orders", -1, &max_id_,
                           nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(conn_, "SELECT COUNT(*) FROM orders WHERE source = ?", -1, &count_,
                           nullptr) != SQLITE_OK) {
      // The schema is not there yet.
      sqlite3_finalize(max_id_);
      sqlite3_finalize(count_);
      max_id_ = count_ = nullptr;
      return false;
    }
    return true;
  }
  int64_t Scalar(sqlite3_stmt* st, const std::string* bind) {
    sqlite3_reset(st);
    if (bind)
      sqlite3_bind_text(st, 1, bind->data(), static_cast<int>(bind->size()), SQLITE_TRANSIENT);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    return v;
  }

  fs::path db_;
  sqlite3* conn_ = nullptr;
  sqlite3_stmt* max_id_ = nullptr;
  sqlite3_stmt* count_ = nullptr;
};

// The value of one series ("name{labels}") in Prometheus text; 0 if absent.
double SeriesValue(const std::string& text, const std::string& series) {
  const std::string needle = series + " ";
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text.compare(pos, needle.size(), needle) == 0) {
      return std::strtod(text.c_str() + pos + needle.size(), nullptr);
    }
    pos = end + 1;
  }
  return 0;
}

}  // namespace

Result<OrdersBenchResult> RunOrdersBench(const OrdersBenchOptions& o) {
  const std::vector<simkit::SimulatorType> types = adapters::AllSimulatorTypes();
  const simkit::SimulatorType* type = simkit::FindSimulatorType(types, o.marketplace);
  if (type == nullptr) {
    std::string names;
    for (const auto& t : types) names += (names.empty() ? "" : ", ") + t.name;
    return Status::InvalidArgument("unknown marketplace \"" + o.marketplace + "\" (" + names + ")");
  }
  if (o.orders <= 0 || o.orders > 10'000'000) {
    return Status::InvalidArgument("bench orders: --orders must be 1..10000000");
  }
  fs::path rules = o.rules;
  if (rules.empty()) {
    auto found = FindRules(o.marketplace);
    if (!found.ok()) return found.status();
    rules = *found;
  }
  auto scratch = ScratchDir::Make(o.data_dir);
  if (!scratch.ok()) return scratch.status();
  const fs::path dir = fs::absolute(scratch->path());
  for (const char* f : {"queue.db", "crm.db"}) {
    if (fs::exists(dir / f)) {
      return Status::FailedPrecondition("bench orders: " + (dir / f).string() +
                                        " exists; the benchmark needs an empty data dir");
    }
  }

  // The metrics scrape's loop (the simulator runs its own).
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) io_threads.emplace_back([&io] { io.run(); });
  struct JoinIo {
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>& work;
    std::vector<std::thread>& threads;
    ~JoinIo() {
      work.reset();
      for (auto& t : threads) t.join();
    }
  } join_io{work, io_threads};

  SystemClock sim_clock;
  auto sim = MakeSim(*type, sim_clock, o.orders);
  if (!sim.ok()) return sim.status();
  simkit::Simulator& s = **sim;
  struct StopSim {
    simkit::Simulator& sim;
    ~StopSim() { sim.Stop(); }
  } stop_sim{s};

  // The adapter's section: where the simulator is, its secrets as files,
  // its pacing opened up, a first pull over the past two days, and one pass
  // an hour (the orders exist already).
  const simkit::AdapterWiring wiring = s.Wiring();
  const std::string adapter = o.marketplace + "-bench";
  std::string section =
      fmt::format("type = {}\n{}{}{} = \"48h\"\npoll_interval = \"1h\"\n", TomlString(wiring.type),
                  wiring.keys, wiring.unthrottled_keys, wiring.lookback_key);
  for (const auto& [key, value] : wiring.secrets) {
    const fs::path file = dir / ("secret-" + key);
    CRMHUB_RETURN_IF_ERROR(WriteFile(file, value));
    section += fmt::format("{} = {}\n", key, TomlString(file.string()));
  }
  const fs::path config_file = dir / "crmhub-bench.toml";
  CRMHUB_RETURN_IF_ERROR(WriteFile(
      config_file,
      fmt::format("# Written by `crmhub bench orders`.\n"
                  "[daemon]\ndata_dir = {}\n\n[log]\nlevel = \"warn\"\n\n"
                  "[http]\nlisten = [\"127.0.0.1:0\"]\n\n"
                  "[adapters.{}]\n{}mapping = {}\n",
                  TomlString(dir.string()), adapter, section, TomlString(rules.string()))));

  daemon::RuntimeOptions ro;
  ro.config_file = config_file;
  ro.adapter_types = BenchAdapterTypes(wiring);
  ro.handle_signals = false;
  StoreProbe probe(dir / "crm.db");
  OrdersBenchResult r;

  const Steady::time_point start = Steady::now();
  const double cpu_at_start = ProcessCpuSeconds();
  RuntimeThread runtime(std::move(ro));
  auto port = runtime.WaitReady(60s);
  if (!port.ok()) return port.status();

  // Wait for the N-th order. Polling every few ms costs a read of one
  // B-tree page (MAX(id)), and bounds the error of the end time.
  int64_t stored = 0;
  Steady::time_point last_progress = Steady::now();
  Steady::time_point end;
  while (true) {
    int64_t n = probe.Orders(adapter, o.orders);
    Steady::time_point now = Steady::now();
    if (n >= o.orders) {
      end = now;
      r.cpu_seconds = ProcessCpuSeconds() - cpu_at_start;
      break;
    }
    if (n > stored) {
      stored = n;
      last_progress = now;
    }
    if (runtime.exited()) return Status::Internal("the daemon exited during the run");
    if (now - last_progress > o.stall_timeout) {
      return Status::DeadlineExceeded(fmt::format(
          "crm.db holds {} of {} orders and gained none in {} s (data dir {})", stored, o.orders,
          std::chrono::duration_cast<std::chrono::seconds>(o.stall_timeout).count(), dir.string()));
    }
    std::this_thread::sleep_for(5ms);
  }

  r.adapter = adapter;
  r.seconds = std::chrono::duration<double>(end - start).count();
  {
    net::HttpClient http(io, net::HttpClientOptions{});
    net::OutboundRequest req;
    req.url = fmt::format("http://127.0.0.1:{}/metrics", *port);
    req.timeout = 10s;
    auto metrics = http.SendBlocking(std::move(req));
    if (metrics.ok() && metrics->status == 200) {
      const std::string label = fmt::format("{{adapter=\"{}\"}}", adapter);
      r.events_received =
          static_cast<int64_t>(SeriesValue(metrics->body, "crmhub_events_received_total" + label));
      r.duplicates =
          static_cast<int64_t>(SeriesValue(metrics->body, "crmhub_events_duplicate_total" + label));
      r.queue_commits =
          static_cast<int64_t>(SeriesValue(metrics->body, "crmhub_queue_commits_total"));
    }
  }
  if (int code = runtime.Stop(); code != 0) {
    return Status::Internal(fmt::format("the daemon exited with {} after draining", code));
  }

  // The check that the figure is real: exactly N orders of the adapter.
  r.orders = probe.Orders(adapter, 0);
  if (r.orders != o.orders) {
    return Status::Internal(fmt::format("crm.db holds {} orders of {}, expected exactly {}",
                                        r.orders, adapter, o.orders));
  }
  r.orders_per_s = static_cast<double>(r.orders) / r.seconds;
  r.cpu_us_per_order = r.cpu_seconds * 1e6 / static_cast<double>(r.orders);

  int64_t first_ms = -1, last_ms = -1;
  for (const simkit::LoggedRequest& q : s.log().Find(wiring.orders_method, wiring.orders_path)) {
    if (q.status != 200) continue;
    ++r.pull_pages;
    if (first_ms < 0) first_ms = q.at_ms;
    last_ms = q.at_ms;
  }
  r.pull_seconds = last_ms > first_ms ? static_cast<double>(last_ms - first_ms) / 1000.0 : 0;
  r.pulled_per_s = r.pull_seconds > 0 ? static_cast<double>(r.orders) / r.pull_seconds : 0;
  r.peak_rss_bytes = PeakRssBytes();
  return r;
}

std::string FormatOrdersBenchText(const OrdersBenchOptions& o, const OrdersBenchResult& r) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return fmt::format(
      "orders benchmark: {} ({} simulator in-process, {} orders, adapter {})\n"
      "  end to end:  {:.0f} orders/s ({} orders stored in {:.3f} s, runtime start to the last)\n"
      "  pull:        {} pages, {:.0f} orders/s pulled ({:.3f} s first to last page)\n"
      "  events:      {} received, {} duplicates absorbed\n"
      "  queue:       {} commits ({:.1f} orders per commit)\n"
      "  CPU:         {:.1f} us per order ({:.2f} s user+sys, every thread, simulator "
      "included; {:.0f} % of {} cores)\n"
      "  peak RSS:    {:.1f} MiB (simulator included)",
      o.marketplace, o.marketplace, r.orders, r.adapter, r.orders_per_s, r.orders, r.seconds,
      r.pull_pages, r.pulled_per_s, r.pull_seconds, r.events_received, r.duplicates,
      r.queue_commits,
      r.queue_commits > 0 ? static_cast<double>(r.orders) / static_cast<double>(r.queue_commits)
                          : 0.0,
      r.cpu_us_per_order, r.cpu_seconds,
      r.seconds > 0 ? 100.0 * r.cpu_seconds / r.seconds / cores : 0.0, cores,
      static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0));
}

std::string FormatOrdersBenchJson(const OrdersBenchOptions& o, const OrdersBenchResult& r) {
  return fmt::format(
      "{{\"bench\":\"orders\",\"marketplace\":\"{}\",\"adapter\":\"{}\",\"orders\":{},"
      "\"seconds\":{:.4f},\"orders_per_s\":{:.1f},\"pull_pages\":{},\"pull_seconds\":{:.4f},"
      "\"pulled_per_s\":{:.1f},\"events_received\":{},\"duplicates\":{},\"queue_commits\":{},"
      "\"peak_rss_bytes\":{},\"cpu_seconds\":{:.6f},\"cpu_us_per_order\":{:.2f}}}",
      o.marketplace, r.adapter, r.orders, r.seconds, r.orders_per_s, r.pull_pages, r.pull_seconds,
      r.pulled_per_s, r.events_received, r.duplicates, r.queue_commits, r.peak_rss_bytes,
      r.cpu_seconds, r.cpu_us_per_order);
}

}  // namespace crmhub::bench
