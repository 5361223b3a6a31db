#pragma once
// The orders benchmark behind `crmhub bench orders` (issue 6, acceptance 5):
// orders pulled, mapped and stored per second, end to end, through the real
// daemon.
//
// It starts the marketplace's simulator (adapters/simulator_registry.cc) in
// this process on a loopback port, holding N orders that already exist
// (created over the past day, every one at its final status; no faults),
// writes a config for one adapter of that type pointing at it
// (Simulator::Wiring; the shipped rules config/mappings/<mp>-orders.toml,
// the embedded CRM store), and runs daemon::Runtime on it, exactly as
// `crmhub run` would: the adapter pulls page by page over HTTP and saves its
// cursor after each durable EnqueueBatch (queue.db, synchronous=FULL), the
// delivery workers lease, map and apply to crm.db, and ack. The clock runs
// from the start of the runtime to the moment crm.db holds N orders; then
// the daemon is drained and crm.db must hold exactly N orders of the
// adapter, or the run fails.
//
// What is not production: the simulator does not enforce the marketplace's
// request-rate limits, and the adapter's client-side pacing is opened up to
// match (the documented limits cap a real account far below this
// benchmark: it measures crmhub, not the marketplace). Page sizes are the
// documented maxima, as in the shipped defaults.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace crmhub::bench {

struct OrdersBenchOptions {
  // A simulator of adapters/simulator_registry.cc, named as the adapter type
  // it simulates ("wildberries", "ozon", "yandex-market").
  std::string marketplace;
  int64_t orders = 100000;
  // Empty: a fresh directory under /var/tmp (a real disk), removed afterwards.
  // Otherwise it must not hold a queue or CRM store yet.
  std::filesystem::path data_dir;
  // The mapping rules; empty: config/mappings/<marketplace>-orders.toml from
  // the working directory or from the source tree next to the binary.
  std::filesystem::path rules;
  // Give up when crm.db has not gained an order for this long.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
};

struct OrdersBenchResult {
  std::string adapter;          // the adapter id in the generated config
  int64_t orders = 0;           // orders of the adapter in crm.db at the end
  double seconds = 0;           // runtime start to the N-th order stored
  double orders_per_s = 0;      // end to end
  int64_t pull_pages = 0;       // orders list requests the simulator answered
  double pull_seconds = 0;      // first to last orders list request
  double pulled_per_s = 0;      // orders / pull_seconds
  int64_t events_received = 0;  // pulled events, new and repeated
  int64_t duplicates = 0;       // repeats absorbed by the queue's idempotency
  int64_t queue_commits = 0;    // group commits of queue.db during the run
  int64_t peak_rss_bytes = 0;   // the whole process: simulator included
  // User + system CPU of the whole process (every thread, the simulator
  // included) from runtime start to the N-th order stored: what the run
  // cost, whatever the machine's other load.
  double cpu_seconds = 0;
  double cpu_us_per_order = 0;
};

Result<OrdersBenchResult> RunOrdersBench(const OrdersBenchOptions& options);

// Human-readable lines, and the one-line JSON form (`--json`).
std::string FormatOrdersBenchText(const OrdersBenchOptions& options, const OrdersBenchResult& r);
std::string FormatOrdersBenchJson(const OrdersBenchOptions& options, const OrdersBenchResult& r);

}  // namespace crmhub::bench
