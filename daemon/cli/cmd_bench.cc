// crmhub bench <kind>: benchmarks built into the binary, so they run on the
// production code paths and the target machine (docs/performance.md).
// Adding a kind is one line in kBenchKinds.

#include <algorithm>
#include <cstdio>

#include "base/logging.h"
#include "bench/fsync_bench.h"
#include "bench/onec_exchange_bench.h"
#include "bench/orders_bench.h"
#include "bench/queue_bench.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"

namespace crmhub::cli {
namespace {

int QueueBench(const Args& args) {
  bench::QueueBenchOptions o;
  int64_t messages = o.messages, producers = o.producers, consumers = o.consumers,
          payload = o.payload_bytes, inflight = o.inflight_per_producer, batch = o.lease_batch,
          checkpoint_frames = o.checkpoint_frames;
  std::string data_dir;
  std::string engine = o.engine, brokers;
  bool json = false;
  FlagParser flags(
      "crmhub bench queue [--engine sqlite|kafka] [--brokers LIST] [--messages N] [--producers P] "
      "[--consumers C] [--payload-bytes B] [--checkpoint-frames F] [--data-dir DIR] [--json]",
      "Durable queue throughput: P producers enqueue N messages (each call waits for its "
      "fsync'd group commit) while C consumers lease and ack in batches. Prints enqueue/s, "
      "end-to-end/s (enqueue -> lease -> ack), p50/p99 enqueue latency and peak RSS.");
  flags.AddInt("--messages", &messages, "N", "messages to enqueue (default 100000)");
  flags.AddInt("--producers", &producers, "P", "producer threads (default 4)");
  flags.AddInt("--consumers", &consumers, "C", "consumer threads; 0 = enqueue only (default 4)");
  flags.AddInt("--payload-bytes", &payload, "B", "payload size (default 512)");
  flags.AddInt("--inflight", &inflight, "K",
               "outstanding enqueues per producer, like concurrent requests (default 256)");
  flags.AddInt("--lease-batch", &batch, "K", "messages per Lease and AckBatch (default 256)");
  flags.AddInt("--checkpoint-frames", &checkpoint_frames, "F",
               "sqlite: WAL frames before the background checkpoint (default 4096); 0 = SQLite "
               "checkpoints inside the writer's commits, as before the checkpointer");
  flags.AddString("--data-dir", &data_dir, "DIR",
                  "where queue.db goes (default: a fresh directory in /var/tmp, removed after)");
  flags.AddBool("--json", &json, "print one JSON line");
  flags.AddString("--engine", &engine, "ENGINE",
                  "sqlite (default) or kafka (the same JSON keys; commits, syncs and db_bytes "
                  "are 0 on kafka)");
  flags.AddString("--brokers", &brokers, "LIST",
                  "kafka: bootstrap brokers; unset: a librdkafka mock cluster (3 brokers) in "
                  "this process");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (engine != "sqlite" && engine != "kafka") {
    std::fprintf(stderr, "error: --engine is sqlite or kafka\n");
    return 2;
  }
  o.engine = engine;
  o.brokers = brokers;
  if (messages <= 0 || producers <= 0 || consumers < 0 || payload < 0 || inflight <= 0 ||
      batch <= 0 || checkpoint_frames < 0 || producers > 1024 || consumers > 1024) {
    std::fprintf(stderr, "error: counts must be positive (consumers may be 0)\n");
    return 2;
  }
  o.messages = messages;
  o.producers = static_cast<int>(producers);
  o.consumers = static_cast<int>(consumers);
  o.payload_bytes = static_cast<int>(payload);
  o.inflight_per_producer = static_cast<int>(inflight);
  o.lease_batch = static_cast<int>(batch);
  o.checkpoint_frames = static_cast<int>(std::min<int64_t>(checkpoint_frames, 1 << 24));
  o.data_dir = data_dir;
  auto r = bench::RunQueueBench(o);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", json ? bench::FormatQueueBenchJson(o, *r).c_str()
                           : bench::FormatQueueBenchText(o, *r).c_str());
  return 0;
}

int OrdersBench(const Args& args) {
  bench::OrdersBenchOptions o;
  int64_t orders = o.orders;
  std::string data_dir, rules;
  bool json = false;
  FlagParser flags(
      "crmhub bench orders --marketplace wildberries|ozon|yandex-market [--orders N] "
      "[--data-dir DIR] [--rules FILE] [--json]",
      "Orders pulled, mapped and stored per second, end to end: starts the marketplace's "
      "simulator in-process with N existing orders and runs the daemon on it (pull over HTTP, "
      "durable queue, mapping rules, crm.db). Exits 1 unless crm.db ends with exactly N orders.");
  flags.AddString("--marketplace", &o.marketplace, "MP", "wildberries, ozon or yandex-market");
  flags.AddInt("--orders", &orders, "N", "orders in the simulator (default 100000)");
  flags.AddString("--data-dir", &data_dir, "DIR",
                  "where queue.db and crm.db go; must be empty (default: a fresh directory in "
                  "/var/tmp, removed after)");
  flags.AddString("--rules", &rules, "FILE",
                  "mapping rules (default config/mappings/<marketplace>-orders.toml)");
  flags.AddBool("--json", &json, "print one JSON line");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (o.marketplace.empty() || orders <= 0) {
    std::fprintf(stderr, "error: --marketplace is required and --orders must be positive\n");
    return 2;
  }
  o.orders = orders;
  o.data_dir = data_dir;
  o.rules = rules;
  // The daemon's own log lines go to stderr, above warnings only: stdout is
  // the result.
  if (Status st = SetupLogging(LogOptions{.level = "warn"}); !st.ok()) {
    std::fprintf(stderr, "warning: %s\n", st.ToString().c_str());
  }
  auto r = bench::RunOrdersBench(o);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().ToString().c_str());
    return r.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("%s\n", json ? bench::FormatOrdersBenchJson(o, *r).c_str()
                           : bench::FormatOrdersBenchText(o, *r).c_str());
  return 0;
}

int FsyncBench(const Args& args) {
  bench::FsyncBenchOptions o;
  int64_t writes = o.writes, bytes = o.bytes, connections = o.connections;
  std::string dir;
  bool json = false;
  FlagParser flags(
      "crmhub bench fsync [--dir DIR] [--writes N] [--bytes B] [--connections C] [--json]",
      "How long this disk takes to make a small append durable (write + fdatasync), and what "
      "that allows: answers/s with one fsync per answer, and the most any group-committing "
      "server can answer with C connections each waiting for its durable answer. Run it with "
      "--dir on the disk that holds the data directory.");
  flags.AddString("--dir", &dir, "DIR",
                  "directory to test (default: a fresh directory in /var/tmp, removed after)");
  flags.AddInt("--writes", &writes, "N", "appends, each followed by fdatasync (default 500)");
  flags.AddInt("--bytes", &bytes, "B", "bytes per append (default 4096)");
  flags.AddInt("--connections", &connections, "C",
               "concurrent clients for the group-commit ceiling (default 32)");
  flags.AddBool("--json", &json, "print one JSON line");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (writes <= 0 || bytes <= 0 || connections <= 0 || writes > 1000000 || bytes > (64 << 20) ||
      connections > 1000000) {
    std::fprintf(stderr,
                 "error: --writes, --bytes and --connections must be positive (and sane)\n");
    return 2;
  }
  o.writes = static_cast<int>(writes);
  o.bytes = static_cast<int>(bytes);
  o.connections = static_cast<int>(connections);
  o.dir = dir;
  auto r = bench::RunFsyncBench(o);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", json ? bench::FormatFsyncBenchJson(o, *r).c_str()
                           : bench::FormatFsyncBenchText(o, *r).c_str());
  return 0;
}

int OnecExchangeBench(const Args& args) {
  bench::OnecExchangeBenchOptions o;
  int64_t goods = o.goods, per = o.offers_per_good;
  std::string data_dir, rules;
  bool json = false;
  FlagParser flags(
      "crmhub bench onec-exchange [--goods N] [--offers-per-good K] [--data-dir DIR] "
      "[--rules FILE] [--json]",
      "A generated full CommerceML catalogue (N goods, N*K offers) through one 1C exchange with "
      "the daemon (chunks, import answered progress until applied, mapping rules, crm.db): the "
      "upload, the exchange as 1C sees it, end to end, peak RSS. Exits 1 unless crm.db ends with "
      "every record.");
  flags.AddInt("--goods", &goods, "N", "goods in import0_1.xml (default 100000)");
  flags.AddInt("--offers-per-good", &per, "K", "offers per good in offers0_1.xml (default 3)");
  flags.AddString("--data-dir", &data_dir, "DIR",
                  "where the files, queue.db and crm.db go; must be empty (default: a fresh "
                  "directory in /var/tmp, removed after)");
  flags.AddString("--rules", &rules, "FILE",
                  "mapping rules (default config/mappings/onec-commerceml.toml)");
  flags.AddBool("--json", &json, "print one JSON line");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  o.goods = goods;
  o.offers_per_good = per;
  o.data_dir = data_dir;
  o.rules = rules;
  if (Status st = SetupLogging(LogOptions{.level = "warn"}); !st.ok()) {
    std::fprintf(stderr, "warning: %s\n", st.ToString().c_str());
  }
  auto r = bench::RunOnecExchangeBench(o);
  if (!r.ok()) {
    std::fprintf(stderr, "error: %s\n", r.status().ToString().c_str());
    return r.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("%s\n", json ? bench::FormatOnecExchangeBenchJson(o, *r).c_str()
                           : bench::FormatOnecExchangeBenchText(o, *r).c_str());
  return 0;
}

struct BenchKind {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

// The benchmark kinds: adding one is adding a line here.
constexpr BenchKind kBenchKinds[] = {
    {"queue", "durable queue: enqueue/s, end-to-end/s, enqueue latency, peak RSS", QueueBench},
    {"mapping", "mapping rules: raw JSON records/s to canonical entities", MapBenchCommand},
    {"fsync", "this disk's durable-append latency and the intake ceiling it sets", FsyncBench},
    {"orders", "orders pulled from a simulator, mapped and stored in crm.db: orders/s end to end",
     OrdersBench},
    {"onec-exchange", "a 1C CommerceML catalogue through one exchange: time and peak RSS",
     OnecExchangeBench},
};

void PrintHelp() {
  std::printf("usage: crmhub bench <kind> [options]   (crmhub bench <kind> --help)\n\nkinds:\n");
  for (const BenchKind& k : kBenchKinds) std::printf("  %-12s %s\n", k.name, k.summary);
}

}  // namespace

int BenchCommand(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    PrintHelp();
    return args.empty() ? 2 : 0;
  }
  for (const BenchKind& k : kBenchKinds) {
    if (args[0] == k.name) return k.run(Args(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "error: unknown bench kind \"%s\"\n\n", args[0].c_str());
  PrintHelp();
  return 2;
}

}  // namespace crmhub::cli
