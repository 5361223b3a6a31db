#pragma once
// Pipeline: the worker threads that move data once it is in the queue, and
// the pull loops that put it there.
//
// Per adapter (AdapterWorkers):
//  * source capability: one pull loop thread. It loads the cursor
//    (GetState("cursor/<id>")), Pull()s a page, enqueues the events durably
//    (lane in.<id>, source <id>) and only THEN saves the new cursor. `more`
//    pulls again at once from the new cursor, which is then saved at most
//    once a second (one fsync per page, not two; a crash repeats at most
//    that much of the pull, absorbed by dedup); otherwise it saves it and
//    waits poll_interval() (or until not_before). During a backlog the next
//    pages are pulled while earlier pages' enqueues are in flight (up to 8
//    pages and 2,048 events); cursors settle in page order, and if an
//    enqueue fails the pages pulled after it are dropped and the pull
//    resumes from the last durable cursor. Errors back off (capped, full
//    jitter) and are recorded.
//  * an inbound lane in.<id> (source or webhook capability):
//    `delivery_workers` threads lease batches, map each raw record with the
//    adapter's mapper, Apply() the mapped events to the CRM sink and settle
//    the whole batch in one Queue::Settle (per message ok -> ack,
//    retry -> retry(not_before), fail -> fail): one durable commit per batch,
//    however it ended. A record that does not map is a dead letter carrying
//    the rule's error (settled with the rest of its batch).
//    A hint (a webhook's event marked for the resolve step) is not mapped:
//    the adapter's Resolve() fetches the records it names, they are queued
//    durably in the same lane (keyed as the pull keys them), then the hint
//    is settled by Resolve's outcome.
//  * target capability: one thread leases up to max_batch() from out.<id>,
//    calls Deliver() and settles the batch by its outcomes in one Settle.
// Every call into an adapter, the mapping or the sink runs inside an
// exception boundary: what throws is logged, counted
// (crmhub_worker_exceptions_total{adapter,step}) and turned into a retryable
// failure (a record whose mapping throws is dead-lettered with its raw
// payload); the thread goes on.
// Every dead letter the workers make (a refused record or command, a mapping
// error, a Retry past the lane's limits) writes one warning with the fields
// adapter, lane, message_id, key, attempts and reason (base/log_fields.h),
// at most PipelineOptions::log_lines_per_minute per adapter.
// Empty lanes are waited on (5 ms doubling to 200 ms), woken early by
// LaneWakeup when something is enqueued.
//
// Stopping finishes the batch in hand (a leased batch is always settled or
// left to its lease's expiry, never dropped) and joins the threads.
//
// Metrics (every series of an adapter present at zero from its Start):
//   crmhub_deliveries_total{adapter,target,outcome}   outcome: ok | retry | fail
//   crmhub_delivery_duration_seconds{adapter,target}  one Apply/Deliver call
// target is the adapter id for out.<id> lanes, "crm" for inbound lanes and
// "<id>/resolve" for the resolve step of hints; adapter is the lane's adapter.
// Each capability's last success and error go to the AdapterHealthBook
// (pull: the source loop; deliver: inbound and outbound delivery).
//   crmhub_worker_exceptions_total{adapter,step}  see above
//
// Thread-safety: Pipeline's methods are called from the control thread;
// StatusOf() from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/adapter.h"
#include "base/clock.h"
#include "base/log_rate_limit.h"
#include "base/metrics.h"
#include "base/thread_annotations.h"
#include "crm/sink.h"
#include "daemon/adapter_health.h"
#include "daemon/lane_wakeup.h"
#include "mapping/model/entity.h"
#include "queue/backoff.h"
#include "queue/queue.h"

namespace crmhub::daemon {

// Maps one queued raw record to canonical entities, or fails with an error
// naming the rule, field and path. Every entity it returns has passed
// model::ValidateEntity (as RuleSet::Apply's do), so the sink does not check
// them again. Called from worker threads concurrently.
using RecordMapper =
    std::function<Result<std::vector<model::Entity>>(const queue::Message& message)>;

struct PipelineOptions {
  int delivery_workers = 2;  // per inbound lane
  int inbound_batch = 1024;  // messages per lease on in.<id> ([daemon] delivery_batch)
  std::chrono::milliseconds lease_duration{std::chrono::seconds(60)};
  std::chrono::milliseconds idle_wait_min{5};
  std::chrono::milliseconds idle_wait_max{200};
  // Source errors: full-jitter exponential backoff between these. The pull
  // is the safety net behind webhooks: after an outage it should be back
  // within a minute (most poll intervals), not after several.
  // queue::ComputeBackoff's schedule, the one the queue uses for retries.
  std::chrono::milliseconds source_backoff_initial{std::chrono::seconds(1)};
  std::chrono::milliseconds source_backoff_max{std::chrono::minutes(1)};
  // Picks each source backoff in [0, cap] (the test seam; at least 1 ms is
  // waited). Empty: each adapter's source loop seeds its own generator from
  // std::random_device. An injected one is called from every adapter's
  // source thread, so it must be thread-safe when several adapters pull.
  queue::JitterFn source_jitter;
  // The retry policy of a lane, as the queue applies it (runtime: the same
  // [queue] and [queue.lanes.*] settings). Lets the workers tell a Retry
  // that the queue turns into a dead letter (queue::RetryGivesUp): it is
  // counted as outcome="fail" and logged. Empty: the default RetryPolicy.
  std::function<queue::RetryPolicy(const std::string& lane)> retry_policy;
  // Dead-letter and give-up log lines: at most this many a minute per
  // adapter (the rest are counted and the next line says how many).
  int log_lines_per_minute = 10;
  // Whether this daemon pulls the source of adapter `id` now (several
  // daemons on one Kafka cluster: queue/kafka/source_owner.h). Empty: every
  // source is pulled. A source loop whose source is not its own settles the
  // pages in flight, saves its cursor, pulls nothing and asks again every
  // owns_source_recheck; when the answer turns true it starts from the
  // cursor in the queue's state (GetState), which the owner refreshed.
  std::function<bool(const std::string& id)> owns_source;
  std::chrono::milliseconds owns_source_recheck{250};
  // Where each capability's status goes (kept across reloads by its
  // owner, the daemon). Null: the pipeline keeps its own book.
  AdapterHealthBook* health = nullptr;
};

// What the admin API shows about an adapter's workers.
struct WorkerStatus {
  std::optional<SystemTime> last_success;
  std::optional<std::string> cursor;
  std::optional<std::string> last_error;
  std::optional<SystemTime> last_error_at;
};

inline std::string InboundLane(const std::string& adapter_id) { return "in." + adapter_id; }
inline std::string OutboundLane(const std::string& adapter_id) { return "out." + adapter_id; }
inline std::string CursorKey(const std::string& adapter_id) { return "cursor/" + adapter_id; }

class AdapterWorkers;

class Pipeline {
 public:
  // Everything referenced must outlive the pipeline. `queue` should be the
  // NotifyingQueue so source loops wake delivery workers.
  Pipeline(queue::Queue& queue, crm::CrmSink& sink, Clock& clock, MetricsRegistry& metrics,
           LaneWakeup& wakeup, PipelineOptions options);
  ~Pipeline();  // stops everything (no deadline)
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Starts the workers of `adapter`. `mapper` is required when the adapter
  // has a source or webhook capability (its records need mapping).
  // REQUIRES: no adapter with the same id is running.
  Status Start(std::shared_ptr<adapters::Adapter> adapter, RecordMapper mapper);
  // Signals the adapter's workers to stop, then joins them. Queued messages
  // stay in their lanes. Returns false if they did not finish by `deadline`
  // (they are then detached-in-place and joined by the destructor).
  bool Stop(const std::string& adapter_id, std::chrono::steady_clock::time_point deadline);
  // Signals every worker, then joins them all; false if some did not finish
  // by `deadline`.
  bool StopAll(std::chrono::steady_clock::time_point deadline);

  bool Running(const std::string& adapter_id) const;
  std::optional<WorkerStatus> StatusOf(const std::string& adapter_id) const;

 private:
  queue::Queue& queue_;
  crm::CrmSink& sink_;
  Clock& clock_;
  MetricsRegistry& metrics_;
  LaneWakeup& wakeup_;
  PipelineOptions options_;
  LogRateLimit log_limit_;
  std::unique_ptr<AdapterHealthBook> own_health_;  // when options.health is null
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<AdapterWorkers>> workers_ GUARDED_BY(mu_);
  // Workers that missed their stop deadline; joined in the destructor.
  std::vector<std::unique_ptr<AdapterWorkers>> stragglers_ GUARDED_BY(mu_);
};

}  // namespace crmhub::daemon
