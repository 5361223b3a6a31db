#include "bench/queue_bench.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "bench/percentile.h"
#include "bench/scratch_dir.h"
#include "queue/kafka/kafka_queue.h"
#include "queue/kafka/mock_cluster.h"
#include "queue/paths.h"
#include "queue/sqlite_queue.h"

namespace crmhub::bench {
namespace {

using Steady = std::chrono::steady_clock;

constexpr const char* kLane = "bench";

// Counts outstanding async enqueues of one producer.
class Window {
 public:
  explicit Window(int size) : free_(size) {}
  void Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

// CPU seconds (user + system) of this process's threads named `name`, from
// /proc/self/task/*/{comm,stat}; 0 when there is none (or no /proc).
double ThreadCpuSeconds(std::string_view name) {
  std::error_code ec;
  double seconds = 0;
  const long ticks = sysconf(_SC_CLK_TCK);
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    if (!std::getline(comm, thread_name) || thread_name != name) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat;
    if (!std::getline(stat_file, stat)) continue;
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14) utime = std::atoll(field.c_str());
      if (i == 15) stime = std::atoll(field.c_str());
    }
    if (ticks > 0) seconds += static_cast<double>(utime + stime) / static_cast<double>(ticks);
  }
  return seconds;
}

}  // namespace

Result<QueueBenchResult> RunQueueBench(const QueueBenchOptions& o) {
  if (o.messages <= 0 || o.producers <= 0 || o.consumers < 0 || o.payload_bytes < 0 ||
      o.inflight_per_producer <= 0 || o.lease_batch <= 0) {
    return Status::InvalidArgument("bench queue: counts must be positive");
  }
  if (o.engine != "sqlite" && o.engine != "kafka") {
    return Status::InvalidArgument("bench queue: --engine is sqlite or kafka");
  }
  auto scratch = ScratchDir::Make(o.data_dir);
  if (!scratch.ok()) return scratch.status();
  const std::filesystem::path& dir = scratch->path();

  SystemClock clock;
  std::unique_ptr<queue::kafka::MockKafkaCluster> mock;
  std::unique_ptr<queue::Queue> q;
  queue::SqliteQueue* sqlite = nullptr;  // for its commit counters
  if (o.engine == "kafka") {
    queue::kafka::KafkaQueueOptions ko;
    ko.brokers = o.brokers;
    ko.topic_prefix = "crmhub-bench";
    ko.group_id = "crmhub-bench";
    if (ko.brokers.empty()) {
      mock = std::make_unique<queue::kafka::MockKafkaCluster>(3);
      if (mock->bootstraps().empty()) return Status::Internal("bench queue: no mock cluster");
      // The mock trims a partition past about 5 MB: enough partitions that
      // the whole run fits (a real cluster's retention is the operator's).
      const int64_t bytes = o.messages * (o.payload_bytes + 200);
      const int partitions = static_cast<int>(std::clamp<int64_t>(bytes / (2 << 20) + 1, 4, 256));
      if (!mock->CreateTopic("crmhub-bench." + std::string(kLane), partitions)) {
        return Status::Internal("bench queue: cannot create the mock cluster's topic");
      }
      ko.brokers = mock->bootstraps();
      ko.properties = queue::kafka::MockKafkaCluster::LowLatencyProperties();
    }
    auto opened = queue::kafka::KafkaQueue::Open(clock, std::move(ko));
    if (!opened.ok()) return opened.status();
    q = std::move(opened).value();
  } else {
    queue::SqliteQueueOptions qo;
    qo.data_dir = dir;
    qo.checkpoint_frames = o.checkpoint_frames;
    auto opened = queue::SqliteQueue::Open(clock, qo);
    if (!opened.ok()) return opened.status();
    sqlite = opened->get();
    q = std::move(opened).value();
  }

  const std::string payload(static_cast<size_t>(o.payload_bytes), 'x');
  std::vector<uint32_t> latencies_us(static_cast<size_t>(o.messages));
  std::atomic<int64_t> enqueued{0}, acked{0}, errors{0};
  std::atomic<bool> producers_done{false};
  std::mutex err_mu;
  Status first_error;
  auto note_error = [&](const Status& st) {
    errors.fetch_add(1);
    std::lock_guard lock(err_mu);
    if (first_error.ok()) first_error = st;
  };

  const Steady::time_point start = Steady::now();
  std::atomic<int64_t> last_enqueue_ns{0}, last_ack_ns{0};
  auto mark = [&](std::atomic<int64_t>& slot) {
    int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now() - start).count();
    int64_t prev = slot.load();
    while (ns > prev && !slot.compare_exchange_weak(prev, ns)) {
    }
  };

  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&, p] {
      Window window(o.inflight_per_producer);
      for (int64_t i = p; i < o.messages; i += o.producers) {
        window.Acquire();
        queue::NewMessage m;
        m.lane = kLane;
        m.source = "bench";
        m.idempotency_key = fmt::format("m-{}", i);
        m.payload = payload;
        const Steady::time_point t0 = Steady::now();
        std::vector<queue::NewMessage> batch;
        batch.push_back(std::move(m));
        q->EnqueueAsync(std::move(batch), [&, i, t0](Result<std::vector<queue::EnqueueOutcome>> r) {
          latencies_us[static_cast<size_t>(i)] = static_cast<uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t0).count());
          if (r.ok()) {
            enqueued.fetch_add(1);
          } else {
            note_error(r.status());
          }
          mark(last_enqueue_ns);
          window.Release();
        });
      }
      // Wait for this producer's window to drain before the Window dies.
      for (int k = 0; k < o.inflight_per_producer; ++k) window.Acquire();
    });
  }
  for (int c = 0; c < o.consumers; ++c) {
    threads.emplace_back([&] {
      // Each consumer leases its next batch while its last one settles
      // (SettleAsync), as the daemon's delivery does: one durable wait per
      // batch, not two. At most one settlement in flight per consumer.
      std::mutex settle_mu;
      std::condition_variable settle_cv;
      bool settling = false;
      auto wait_settled = [&] {
        std::unique_lock lock(settle_mu);
        settle_cv.wait(lock, [&] { return !settling; });
      };
      while (errors.load() == 0) {
        if (producers_done.load() && acked.load() >= enqueued.load()) break;
        auto leased = q->Lease(kLane, o.lease_batch, std::chrono::seconds(60));
        if (!leased.ok()) {
          note_error(leased.status());
          break;
        }
        if (leased->empty()) {
          wait_settled();  // what it settles may be all that was left
          // Not a test: a short nap keeps idle consumers off the writer.
          std::this_thread::sleep_for(std::chrono::microseconds(500));
          continue;
        }
        std::vector<queue::Settlement> acks;
        acks.reserve(leased->size());
        for (const auto& l : *leased) acks.push_back(queue::Settlement::Ack(l.lease));
        wait_settled();
        {
          std::lock_guard lock(settle_mu);
          settling = true;
        }
        const auto n = static_cast<int64_t>(acks.size());
        q->SettleAsync(std::move(acks), [&, n](std::vector<Status> outcomes) {
          for (const Status& st : outcomes) {
            if (!st.ok()) note_error(st);
          }
          acked.fetch_add(n);
          mark(last_ack_ns);
          // Notified under the lock: the consumer's locals outlive this.
          std::lock_guard lock(settle_mu);
          settling = false;
          settle_cv.notify_all();
        });
      }
      wait_settled();
    });
  }
  for (int p = 0; p < o.producers; ++p) threads[static_cast<size_t>(p)].join();
  producers_done.store(true);
  for (size_t i = static_cast<size_t>(o.producers); i < threads.size(); ++i) threads[i].join();
  if (!first_error.ok()) return first_error.WithContext("bench queue");

  QueueBenchResult r;
  r.messages = o.messages;
  r.enqueue_seconds = static_cast<double>(last_enqueue_ns.load()) / 1e9;
  r.enqueue_per_s = r.enqueue_seconds > 0 ? static_cast<double>(o.messages) / r.enqueue_seconds : 0;
  if (o.consumers > 0) {
    r.end_to_end_seconds = static_cast<double>(last_ack_ns.load()) / 1e9;
    r.end_to_end_per_s =
        r.end_to_end_seconds > 0 ? static_cast<double>(acked.load()) / r.end_to_end_seconds : 0;
  }
  r.enqueue_p50_us = Percentile(latencies_us, 0.50);
  r.enqueue_p99_us = Percentile(latencies_us, 0.99);
  if (sqlite) {
    const auto counters = sqlite->commit_counters();
    r.commits = counters.commits;
    r.syncs = counters.syncs;
    r.sync_seconds = static_cast<double>(counters.sync_nanos) / 1e9;
    r.background_checkpoints = counters.background_checkpoints;
    r.writer_checkpoints = counters.writer_checkpoints;
    r.requests_per_commit =
        counters.commits > 0 ? static_cast<double>(counters.requests) / counters.commits : 0;
  }
  r.writer_cpu_seconds = ThreadCpuSeconds("crmhub-qwrite");
  r.flusher_cpu_seconds = ThreadCpuSeconds("crmhub-qsync");
  r.checkpointer_cpu_seconds = ThreadCpuSeconds("crmhub-qckpt");
  q.reset();
  r.peak_rss_bytes = PeakRssBytes();
  if (sqlite) {
    std::error_code ec;
    const auto db = queue::QueueDbPath(dir);
    r.db_bytes = static_cast<int64_t>(std::filesystem::file_size(db, ec));
    auto wal = std::filesystem::file_size(db.string() + "-wal", ec);
    if (!ec) r.db_bytes += static_cast<int64_t>(wal);
  }
  return r;
}

std::string FormatQueueBenchText(const QueueBenchOptions& o, const QueueBenchResult& r) {
  return fmt::format(
      "queue bench: {} messages, {} producers, {} consumers, {}-byte payloads ({})\n"
      "  enqueue:     {:.0f} msg/s ({:.2f} s)\n"
      "  end-to-end:  {:.0f} msg/s ({:.2f} s, enqueue -> lease -> ack)\n"
      "  enqueue latency: p50 {:.0f} us, p99 {:.0f} us\n"
      "  peak RSS:    {:.1f} MiB\n"
      "  database:    {:.1f} MiB\n"
      "  commits:     {} ({:.1f} requests per commit), {} WAL fsyncs ({:.2f} s in them)\n"
      "  checkpoints: {} in the background, {} by the writer\n"
      "  queue CPU:   writer {:.2f} s ({:.2f} us/msg), flusher {:.2f} s, checkpointer {:.2f} s\n",
      r.messages, o.producers, o.consumers, o.payload_bytes,
      o.engine == "kafka"
          ? (o.brokers.empty() ? "Kafka engine, librdkafka mock cluster in process, acks=all"
                               : "Kafka engine, acks=all")
          : "SQLite WAL, fsync before every answer",
      r.enqueue_per_s, r.enqueue_seconds, r.end_to_end_per_s, r.end_to_end_seconds,
      r.enqueue_p50_us, r.enqueue_p99_us, static_cast<double>(r.peak_rss_bytes) / (1 << 20),
      static_cast<double>(r.db_bytes) / (1 << 20), r.commits, r.requests_per_commit, r.syncs,
      r.sync_seconds, r.background_checkpoints, r.writer_checkpoints, r.writer_cpu_seconds,
      r.messages > 0 ? r.writer_cpu_seconds * 1e6 / static_cast<double>(r.messages) : 0,
      r.flusher_cpu_seconds, r.checkpointer_cpu_seconds);
}

std::string FormatQueueBenchJson(const QueueBenchOptions& o, const QueueBenchResult& r) {
  return fmt::format(
      "{{\"bench\":\"queue\",\"messages\":{},\"producers\":{},\"consumers\":{},"
      "\"payload_bytes\":{},\"enqueue_per_s\":{:.0f},\"end_to_end_per_s\":{:.0f},"
      "\"enqueue_p50_us\":{:.0f},\"enqueue_p99_us\":{:.0f},\"peak_rss_bytes\":{},"
      "\"db_bytes\":{},\"commits\":{},\"syncs\":{},\"sync_seconds\":{:.3f},"
      "\"background_checkpoints\":{},\"writer_checkpoints\":{},\"writer_cpu_seconds\":{:.3f},"
      "\"flusher_cpu_seconds\":{:.3f},\"checkpointer_cpu_seconds\":{:.3f}}}",
      r.messages, o.producers, o.consumers, o.payload_bytes, r.enqueue_per_s, r.end_to_end_per_s,
      r.enqueue_p50_us, r.enqueue_p99_us, r.peak_rss_bytes, r.db_bytes, r.commits, r.syncs,
      r.sync_seconds, r.background_checkpoints, r.writer_checkpoints, r.writer_cpu_seconds,
      r.flusher_cpu_seconds, r.checkpointer_cpu_seconds);
}

}  // namespace crmhub::bench
