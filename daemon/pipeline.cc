#include "daemon/pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <random>

#include "base/log_fields.h"
#include "base/thread_annotations.h"
#include "base/thread_name.h"
#include "daemon/event_counters.h"
#include "daemon/pull_ahead.h"
#include "daemon/queued_events.h"
#include "queue/give_up.h"

namespace crmhub::daemon {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

std::string PullWakeLane(const std::string& id) { return "pull." + id; }

// How often a source loop reading a backlog saves its cursor (see SourceLoop).
constexpr std::chrono::seconds kCursorSaveInterval{1};

// Pages a source loop may have pulled whose enqueue is not durable yet, and
// their events (PullAhead::Limits). An enqueue can wait behind the delivery workers' leases and
// acks (a few ms); with small pages (Yandex Market: 50 orders) one page in
// flight left the pull waiting ~1 ms a page for it, and 8 pulled 3-5 % more
// than 4. The event bound keeps memory in check with large pages
// (Wildberries, Ozon: 1,000 orders), where two pages already keep the pull
// ahead of delivery.
constexpr size_t kPagesInFlight = 8;
constexpr size_t kEventsInFlight = 2048;

}  // namespace

// The threads of one adapter. Owned by the Pipeline.
class AdapterWorkers {
 public:
  AdapterWorkers(std::shared_ptr<adapters::Adapter> adapter, RecordMapper mapper,
                 queue::Queue& queue, crm::CrmSink& sink, Clock& clock, MetricsRegistry& metrics,
                 LaneWakeup& wakeup, const PipelineOptions& options, LogRateLimit& log_limit,
                 std::shared_ptr<AdapterHealth> health)
      : adapter_(std::move(adapter)),
        id_(adapter_->id()),
        mapper_(std::move(mapper)),
        queue_(queue),
        sink_(sink),
        clock_(clock),
        metrics_(metrics),
        wakeup_(wakeup),
        options_(options),
        log_limit_(log_limit),
        health_(std::move(health)) {}

  ~AdapterWorkers() {
    RequestStop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  void Start() {
    // Every series this adapter will count, at zero from the start.
    if (Inbound()) MetricsFor("crm");
    if (adapter_->webhook() != nullptr) MetricsFor(id_ + "/resolve");
    if (adapter_->target() != nullptr) MetricsFor(id_);
    if (adapter_->source() != nullptr) {
      if (auto cursor = queue_.GetState(CursorKey(id_)); cursor.ok()) {
        std::lock_guard lock(status_mu_);
        status_.cursor = *cursor;
      }
      Spawn("pull:" + id_, [this] { SourceLoop(); });
    }
    if (Inbound()) {
      for (int i = 0; i < std::max(1, options_.delivery_workers); ++i) {
        Spawn("in:" + id_, [this] { InboundLoop(); });
      }
    }
    if (adapter_->target() != nullptr) Spawn("out:" + id_, [this] { TargetLoop(); });
  }

  void RequestStop() {
    stopping_.store(true);
    wakeup_.NotifyAll();
  }

  // True when every thread finished by `deadline`; then they are joined.
  bool WaitStopped(SteadyTime deadline) {
    std::unique_lock lock(done_mu_);
    bool done = done_cv_.wait_until(lock, deadline, [&] { return running_ == 0; });
    lock.unlock();
    if (!done) return false;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return true;
  }

  WorkerStatus status() const {
    std::lock_guard lock(status_mu_);
    return status_;
  }

 private:
  void Spawn(std::string name, std::function<void()> body) {
    {
      std::lock_guard lock(done_mu_);
      ++running_;
    }
    threads_.emplace_back([this, name = std::move(name), body = std::move(body)] {
      SetCurrentThreadName(name);
      body();
      std::lock_guard lock(done_mu_);
      --running_;
      done_cv_.notify_all();
    });
  }

  bool stopping() const { return stopping_.load(); }

  // The overall status (WorkerStatus) and the capability's own
  // (AdapterHealth, which outlives these workers across reloads).
  void RecordError(Capability c, const std::string& error) {
    {
      std::lock_guard lock(status_mu_);
      status_.last_error = error;
      status_.last_error_at = clock_.Now();
    }
    health_->Error(c, error);
  }
  void RecordSuccess(Capability c) {
    {
      std::lock_guard lock(status_mu_);
      status_.last_success = clock_.Now();
    }
    health_->Success(c);
  }

  // Interruptible wait on `lane` from `ticket` (taken before the stop check).
  void WaitFor(const std::string& lane, LaneWakeup::Ticket ticket, std::chrono::milliseconds d) {
    if (d.count() > 0) wakeup_.Wait(lane, ticket, d);
  }

  // Full jitter on the queue's schedule (queue::ComputeBackoff), at least
  // 1 ms so that a zero draw still yields to a stop request.
  std::chrono::milliseconds Backoff(int failures) {
    const queue::RetryPolicy schedule{.initial_backoff = options_.source_backoff_initial,
                                      .max_backoff = options_.source_backoff_max};
    return std::max(std::chrono::milliseconds(1),
                    queue::ComputeBackoff(schedule, failures, jitter_));
  }

  // Whether records reach the adapter's inbound lane: pulled, pushed, or
  // learned by a target's commands (DeliveryOutcome::learned; mapped by the
  // adapter's rules, so only with rules).
  bool Inbound() const {
    return adapter_->source() != nullptr || adapter_->webhook() != nullptr ||
           (adapter_->target() != nullptr && mapper_);
  }
  void SourceLoop();
  void InboundLoop();
  void TargetLoop();
  // The settlements of one leased batch, committed together (by
  // CommitSettlements, or StartSettling on the inbound lane): one
  // Queue::Settle, so one durable commit however the batch ended (mapped or
  // not, delivered, throttled or refused).
  struct Settlements {
    std::vector<queue::Settlement> items;
    std::vector<int64_t> message_ids;  // of each item, for the log
    // Of each item: its message, and the reason when the item makes a dead
    // letter (logged once the settlement is durable), else empty.
    std::vector<const queue::Message*> messages;
    std::vector<std::string> dead_reasons;
    bool any_ok = false;
  };
  // Maps and applies one leased batch; its settlements go to `out`.
  void ProcessInbound(std::vector<queue::Leased>& batch, Settlements& out);
  // A batch whose settlements commit (Queue::SettleAsync) while the inbound
  // loop leases the next batch: one durable wait per batch instead of two.
  // The batch stays here (the settlements point into it) until the commit
  // answers; FinishSettling then logs and counts on the worker's thread.
  struct SettlingBatch {
    std::vector<queue::Leased> batch;
    Settlements settlements;
    std::mutex mu;
    std::condition_variable answered_cv;
    bool answered GUARDED_BY(mu) = false;
    std::vector<Status> statuses GUARDED_BY(mu);
  };
  std::shared_ptr<SettlingBatch> StartSettling(std::vector<queue::Leased> batch,
                                               Settlements settlements);
  // Waits for the commit's answer, then reports it (ReportSettlements).
  void FinishSettling(SettlingBatch& settling);
  // The resolve step of one hint (see WebhookCapability::Resolve); its
  // settlement joins `out`, after the records it resolved are durable.
  void ResolveHint(const queue::Leased& hint, Settlements& out);
  // Queues `events` to the adapter's inbound lane, durably (EnqueueBatch),
  // and counts them as received.
  Status QueueInbound(std::vector<adapters::InboundEvent> events);
  // Queues what a target's commands learned (DeliveryOutcome::learned) to
  // the adapter's inbound lane, durably, before the commands are settled;
  // when that fails, each command that learned something is retried.
  void QueueLearned(std::vector<DeliveryOutcome>& outcomes);

  // The exception boundary of every worker loop iteration. Adapters read
  // outside data through checked getters and mean never to throw; whatever
  // throws anyway (a bug, or nlohmann on a path nobody checked) is logged
  // and counted here, and the caller turns it into a retryable failure of
  // this step: the loop goes on, the process stays up.
  template <typename Fn>
  auto Guarded(std::string_view step, Fn&& fn) -> std::optional<decltype(fn())> {
    try {
      return fn();
    } catch (const std::exception& e) {
      CountException(step, e.what());
    } catch (...) {
      CountException(step, "an exception not derived from std::exception");
    }
    return std::nullopt;
  }
  void CountException(std::string_view step, std::string_view what) {
    spdlog::error(
        "adapter {}: {} threw: {} (counted in crmhub_worker_exceptions_total; the "
        "worker goes on)",
        id_, step, what);
    metrics_
        .GetCounter("crmhub_worker_exceptions_total",
                    "Exceptions caught at a worker loop's boundary, by adapter and step (pull, "
                    "map, resolve, deliver, sink).",
                    {{"adapter", id_}, {"step", std::string(step)}})
        .Inc();
    RecordError(step == "pull" ? Capability::kPull : Capability::kDeliver,
                std::string(step) + " threw: " + std::string(what));
  }
  // The counters webhook intake keeps too: received counts new and repeated
  // events; duplicates are the repeats idempotency absorbed.
  void CountReceived(const std::vector<queue::EnqueueOutcome>& outcomes) {
    int64_t duplicates = 0;
    for (queue::EnqueueOutcome o : outcomes) duplicates += o == queue::EnqueueOutcome::kDuplicate;
    const EventCounters counters = EventCountersFor(metrics_, id_);
    counters.received->Inc(static_cast<double>(outcomes.size()));
    counters.duplicate->Inc(static_cast<double>(duplicates));
  }
  struct TargetMetrics;
  // Counts `outcome` in `m` and adds its settlement to `out`.
  void Decide(const TargetMetrics& m, const queue::Leased& leased, const DeliveryOutcome& outcome,
              Settlements& out);
  // Settles `s` in one Queue::Settle call and logs what did not settle.
  void CommitSettlements(const Settlements& s);
  // Logs the items that failed to settle and the dead letters made, and
  // records a delivery success when any item was delivered.
  void ReportSettlements(const Settlements& s, const std::vector<Status>& statuses);
  // One rate-limited warning for a message that became a dead letter.
  void LogDeadLetter(const queue::Message& message, const std::string& reason) {
    int64_t suppressed = 0;
    if (!log_limit_.Allow("dead_letter/" + id_, &suppressed)) return;
    LogWithFields(spdlog::level::warn, "dead letter",
                  {{"adapter", id_},
                   {"lane", message.lane},
                   {"message_id", std::to_string(message.id)},
                   {"key", message.idempotency_key},
                   {"attempts", std::to_string(message.attempts)},
                   {"reason", reason},
                   {"suppressed_before", std::to_string(suppressed)}});
  }

  struct TargetMetrics {
    Counter* ok;
    Counter* retry;
    Counter* fail;
    Histogram* duration;
  };
  // Labelled by the adapter too: an inbound lane's target is "crm" for
  // every adapter, and a dashboard must tell which one fails.
  TargetMetrics MetricsFor(const std::string& target) {
    auto counter = [&](const char* outcome) {
      return &metrics_.GetCounter(
          "crmhub_deliveries_total",
          "Delivery attempts by adapter, target and outcome (ok, retry, fail).",
          {{"adapter", id_}, {"target", target}, {"outcome", outcome}});
    };
    return TargetMetrics{
        counter("ok"), counter("retry"), counter("fail"),
        &metrics_.GetHistogram("crmhub_delivery_duration_seconds",
                               "Duration of one sink Apply or target Deliver "
                               "call.",
                               DefaultLatencyBuckets(), {{"adapter", id_}, {"target", target}})};
  }

  std::shared_ptr<adapters::Adapter> adapter_;
  const std::string id_;
  RecordMapper mapper_;
  queue::Queue& queue_;
  crm::CrmSink& sink_;
  Clock& clock_;
  MetricsRegistry& metrics_;
  LaneWakeup& wakeup_;
  const PipelineOptions options_;
  LogRateLimit& log_limit_;
  const std::shared_ptr<AdapterHealth> health_;
  // Source loop only (SeededJitter is not thread-safe).
  const queue::JitterFn jitter_ =
      options_.source_jitter ? options_.source_jitter : queue::SeededJitter(std::random_device{}());

  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;  // written only before/after the threads run
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  int running_ GUARDED_BY(done_mu_) = 0;
  mutable std::mutex status_mu_;
  WorkerStatus status_ GUARDED_BY(status_mu_);
};

// The pull loop of a source adapter: pull, hand the page to PullAhead (which
// keeps the cursor behind durable events), save the cursor, wait. Errors
// back off on the clock; a Retry-After from the source pauses the loop.
void AdapterWorkers::SourceLoop() {
  adapters::SourceCapability* source = adapter_->source();
  const std::string wake = PullWakeLane(id_);
  QueuePages pages(queue_, CursorKey(id_));
  PullAhead ahead(pages, {.pages = kPagesInFlight, .events = kEventsInFlight},
                  [this](const std::vector<queue::EnqueueOutcome>& o) { CountReceived(o); });
  int failures = 0;
  // When the source asked for a pause (Retry-After); epoch = no pause. A plain
  // time point rather than an optional: GCC 12 at -O3 misreports the optional
  // as maybe-uninitialized (GCC bug 80635).
  SystemTime not_before{};
  const auto paused = [&] { return not_before != SystemTime{}; };
  auto fail = [&](const std::string& what, const Status& st, LaneWakeup::Ticket ticket) {
    ++failures;
    std::string error = what + ": " + st.ToString();
    RecordError(Capability::kPull, error);
    auto delay = Backoff(failures);
    LogWithFields(spdlog::level::warn, "pull failed; retrying",
                  {{"adapter", id_},
                   {"step", what},
                   {"error", st.ToString()},
                   {"retry_in_ms", std::to_string(delay.count())}});
    WaitFor(wake, ticket, delay);
  };
  // During a backlog (`more`) the cursor is saved at most every
  // kCursorSaveInterval rather than after each page, so a page waits for one
  // fsync (its events) instead of two (events, then cursor). Saving later is
  // safe: after a crash the pull repeats from the older saved cursor and the
  // queue's idempotency absorbs the repeats.
  auto last_saved = clock_.SteadyNow();
  bool owned = !options_.owns_source;  // as last seen, for the log lines
  auto save_cursor = [&]() -> Status {
    Result<std::optional<std::string>> saved = ahead.SaveCursor();
    if (!saved.ok()) return saved.status();
    last_saved = clock_.SteadyNow();
    if (*saved) {
      std::lock_guard lock(status_mu_);
      status_.cursor = std::move(*saved);
    }
    return Status::Ok();
  };
  while (true) {
    LaneWakeup::Ticket ticket = wakeup_.Current(wake);
    if (stopping()) break;
    if (paused()) {
      auto now = clock_.Now();
      if (now < not_before) {
        WaitFor(wake, ticket,
                std::chrono::duration_cast<std::chrono::milliseconds>(not_before - now) +
                    std::chrono::milliseconds(1));
        continue;
      }
      not_before = SystemTime{};
    }
    if (options_.owns_source && !options_.owns_source(id_)) {
      if (owned) {
        owned = false;
        // What is in flight becomes durable and its cursor saved; the next
        // owner starts from the durable cursor, and so do we if we own the
        // source again (nothing is left in PullAhead to start from).
        if (Status st = ahead.Settle(/*all=*/true); !st.ok()) {
          spdlog::warn("adapter {}: the last pages' events at hand-over: {}", id_, st.ToString());
        }
        if (Status st = save_cursor(); !st.ok()) {
          spdlog::warn("adapter {}: saving cursor at hand-over: {}", id_, st.ToString());
        }
        spdlog::info("adapter {}: the source is pulled by another daemon now", id_);
      }
      WaitFor(wake, ticket, options_.owns_source_recheck);
      continue;
    }
    if (!owned) {
      owned = true;
      spdlog::info("adapter {}: this daemon pulls the source now", id_);
    }
    Result<std::optional<std::string>> from = ahead.NextFrom();
    if (!from.ok()) {
      fail("loading cursor", from.status(), ticket);
      continue;
    }
    Result<adapters::PullResult> page =
        Guarded("pull", [&] {
          return source->Pull(*from);
        }).value_or(Status::Internal("the adapter's Pull threw (see the log)"));
    // The pages before this one first: their cursors come before this one's.
    if (Status st = ahead.Settle(/*all=*/!page.ok()); !st.ok()) {  // pulled again
      fail("enqueue", st, ticket);
      continue;
    }
    if (!page.ok()) {
      fail("pull", page.status(), ticket);
      continue;
    }
    if (page->not_before) not_before = *page->not_before;
    const bool again = page->more && !paused();
    std::vector<queue::NewMessage> messages;
    messages.reserve(page->events.size());
    const std::string lane = InboundLane(id_);
    for (auto& e : page->events) messages.push_back(ToNewMessage(std::move(e), lane, id_));
    Status st = ahead.Submit(*from, std::move(messages), std::move(page->next_cursor));
    if (st.ok() && !again) st = ahead.Settle(/*all=*/true);
    if (!st.ok()) {
      fail("enqueue", st, ticket);
      continue;
    }
    // PullAhead lets through only a cursor past durable events.
    if (!again || clock_.SteadyNow() - last_saved >= kCursorSaveInterval) {
      if (Status saved = save_cursor(); !saved.ok()) {
        fail("saving cursor", saved, ticket);
        continue;
      }
    }
    failures = 0;
    RecordSuccess(Capability::kPull);
    if (again) continue;
    if (!paused()) WaitFor(wake, ticket, source->poll_interval());
  }
  if (Status st = ahead.Settle(/*all=*/true); !st.ok()) {
    spdlog::warn("adapter {}: the last pages' events at stop: {} (the pull repeats them)", id_,
                 st.ToString());
  }
  if (Status st = save_cursor(); !st.ok()) {
    spdlog::warn("adapter {}: saving cursor at stop: {} (the pull repeats from the saved one)", id_,
                 st.ToString());
  }
}

void AdapterWorkers::InboundLoop() {
  const std::string lane = InboundLane(id_);
  auto idle = options_.idle_wait_min;
  std::shared_ptr<SettlingBatch> settling;  // the last batch, while it settles
  while (true) {
    LaneWakeup::Ticket ticket = wakeup_.Current(lane);
    if (stopping()) break;
    // Leased after the last batch's settlements were submitted, so applied
    // after them (queue.h): an acked message's successor under its ordering
    // key is already due.
    auto leased = queue_.Lease(lane, options_.inbound_batch, options_.lease_duration);
    if (settling) {
      FinishSettling(*settling);
      settling.reset();
    }
    if (!leased.ok()) {
      RecordError(Capability::kDeliver, "lease " + lane + ": " + leased.status().ToString());
      WaitFor(lane, ticket, options_.idle_wait_max);
      continue;
    }
    if (leased->empty()) {
      WaitFor(lane, ticket, idle);
      idle = std::min(idle * 2, options_.idle_wait_max);
      continue;
    }
    idle = options_.idle_wait_min;
    Settlements settlements;
    ProcessInbound(*leased, settlements);
    settling = StartSettling(std::move(*leased), std::move(settlements));
  }
  if (settling) FinishSettling(*settling);
}

std::shared_ptr<AdapterWorkers::SettlingBatch> AdapterWorkers::StartSettling(
    std::vector<queue::Leased> batch, Settlements settlements) {
  auto settling = std::make_shared<SettlingBatch>();
  settling->batch = std::move(batch);  // moved: the settlements' pointers stay valid
  settling->settlements = std::move(settlements);
  if (settling->settlements.items.empty()) {
    std::lock_guard lock(settling->mu);
    settling->answered = true;
    return settling;
  }
  // ReportSettlements reads the ids, messages and reasons, not the items.
  std::vector<queue::Settlement> items = std::move(settling->settlements.items);
  queue_.SettleAsync(std::move(items), [settling](std::vector<Status> statuses) {
    std::lock_guard lock(settling->mu);
    settling->statuses = std::move(statuses);
    settling->answered = true;
    settling->answered_cv.notify_all();
  });
  return settling;
}

void AdapterWorkers::FinishSettling(SettlingBatch& settling) {
  std::vector<Status> statuses;
  {
    std::unique_lock lock(settling.mu);
    settling.answered_cv.wait(lock, [&] { return settling.answered; });
    statuses = std::move(settling.statuses);
  }
  ReportSettlements(settling.settlements, statuses);
}

void AdapterWorkers::ProcessInbound(std::vector<queue::Leased>& batch, Settlements& settlements) {
  static const std::string kTarget = "crm";
  TargetMetrics m = MetricsFor(kTarget);
  std::vector<crm::SinkEvent> events;
  std::vector<const queue::Leased*> applied;
  for (queue::Leased& l : batch) {
    if (IsHint(l.message)) {
      ResolveHint(l, settlements);
      continue;
    }
    Result<std::vector<model::Entity>> entities =
        mapper_ ? Guarded("map", [&] { return mapper_(l.message); })
                      .value_or(Status::InvalidArgument("the mapping threw (see the log)"))
                : Result<std::vector<model::Entity>>(
                      Status::FailedPrecondition("no mapping configured"));
    if (!entities.ok()) {
      // The raw record stays in the dead letters with the rule's error; after
      // the rules are fixed, `crmhub dlq replay` maps it again.
      Decide(m, l, DeliveryOutcome::Fail("mapping: " + entities.status().message()), settlements);
      continue;
    }
    if (entities->empty()) {  // the rules chose to skip this record
      Decide(m, l, DeliveryOutcome::Ok(), settlements);
      continue;
    }
    events.push_back(crm::SinkEvent{.source = l.message.source,
                                    .idempotency_key = l.message.idempotency_key,
                                    .message_id = l.message.id,
                                    .received_at = l.message.created_at,
                                    .entities = std::move(*entities),
                                    .validated = true});
    applied.push_back(&l);
  }
  if (events.empty()) return;
  auto started = std::chrono::steady_clock::now();
  std::vector<DeliveryOutcome> outcomes =
      Guarded("sink", [&] { return sink_.Apply(events); })
          .value_or(std::vector<DeliveryOutcome>(
              events.size(), DeliveryOutcome::Retry("the CRM sink threw (see the log)")));
  m.duration->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (outcomes.size() != events.size()) {
    outcomes.assign(
        events.size(),
        DeliveryOutcome::Retry("sink returned " + std::to_string(outcomes.size()) +
                               " outcomes for " + std::to_string(events.size()) + " events"));
  }
  for (size_t i = 0; i < applied.size(); ++i) Decide(m, *applied[i], outcomes[i], settlements);
}

void AdapterWorkers::ResolveHint(const queue::Leased& hint, Settlements& out) {
  const std::string target = id_ + "/resolve";
  adapters::WebhookCapability* webhook = adapter_->webhook();
  adapters::ResolveResult resolved;
  if (webhook == nullptr) {
    resolved.outcome = DeliveryOutcome::Fail("a hint for an adapter without a webhook capability");
  } else {
    auto started = std::chrono::steady_clock::now();
    resolved = Guarded("resolve", [&] { return webhook->Resolve(ToHint(hint.message)); })
                   .value_or(adapters::ResolveResult{
                       DeliveryOutcome::Retry("the adapter's Resolve threw (see the log)"), {}});
    MetricsFor(target).duration->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (resolved.outcome.ok() && !resolved.events.empty()) {
    // The records become durable before the hint is settled: a crash in
    // between resolves the hint again, and idempotency absorbs the repeat.
    if (Status st = QueueInbound(std::move(resolved.events)); !st.ok()) {
      resolved.outcome = DeliveryOutcome::Retry("queueing the resolved records: " + st.ToString());
    }
  }
  Decide(MetricsFor(target), hint, resolved.outcome, out);
}

void AdapterWorkers::TargetLoop() {
  adapters::TargetCapability* target = adapter_->target();
  const std::string lane = OutboundLane(id_);
  TargetMetrics m = MetricsFor(id_);
  auto idle = options_.idle_wait_min;
  while (true) {
    LaneWakeup::Ticket ticket = wakeup_.Current(lane);
    if (stopping()) break;
    auto leased = queue_.Lease(lane, std::max(1, target->max_batch()), options_.lease_duration);
    if (!leased.ok()) {
      RecordError(Capability::kDeliver, "lease " + lane + ": " + leased.status().ToString());
      WaitFor(lane, ticket, options_.idle_wait_max);
      continue;
    }
    if (leased->empty()) {
      WaitFor(lane, ticket, idle);
      idle = std::min(idle * 2, options_.idle_wait_max);
      continue;
    }
    idle = options_.idle_wait_min;
    std::vector<adapters::Command> messages;
    for (const auto& l : *leased) messages.push_back(ToCommand(l.message));
    auto started = std::chrono::steady_clock::now();
    std::vector<DeliveryOutcome> outcomes =
        Guarded("deliver", [&] { return target->Deliver(messages); })
            .value_or(std::vector<DeliveryOutcome>(
                messages.size(),
                DeliveryOutcome::Retry("the adapter's Deliver threw (see the log)")));
    m.duration->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (outcomes.size() != messages.size()) {
      outcomes.assign(
          messages.size(),
          DeliveryOutcome::Retry("adapter returned " + std::to_string(outcomes.size()) +
                                 " outcomes for " + std::to_string(messages.size()) + " messages"));
    }
    QueueLearned(outcomes);
    Settlements settlements;
    for (size_t i = 0; i < leased->size(); ++i) Decide(m, (*leased)[i], outcomes[i], settlements);
    CommitSettlements(settlements);
  }
}

Status AdapterWorkers::QueueInbound(std::vector<adapters::InboundEvent> events) {
  std::vector<queue::NewMessage> messages;
  const std::string lane = InboundLane(id_);
  for (auto& e : events) messages.push_back(ToNewMessage(std::move(e), lane, id_));
  Result<std::vector<queue::EnqueueOutcome>> enqueued = queue_.EnqueueBatch(std::move(messages));
  if (!enqueued.ok()) return enqueued.status();
  CountReceived(*enqueued);
  return Status::Ok();
}

void AdapterWorkers::QueueLearned(std::vector<DeliveryOutcome>& outcomes) {
  std::vector<adapters::InboundEvent> learned;
  for (DeliveryOutcome& o : outcomes) {
    for (adapters::InboundEvent& e : o.learned) learned.push_back(std::move(e));
  }
  if (learned.empty()) return;
  if (!Inbound()) {
    // No rules could map them (a target-only adapter without mapping):
    // queued, they would wait for ever.
    spdlog::warn(
        "adapter {}: its commands learned {} records, but it has no mapping rules "
        "(mapping = ...): not queued",
        id_, learned.size());
    return;
  }
  // Durable before the commands are settled: a crash in between delivers
  // them again, and idempotency absorbs the repeat (as for a hint's records).
  if (Status st = QueueInbound(std::move(learned)); !st.ok()) {
    for (DeliveryOutcome& o : outcomes) {
      if (!o.learned.empty())
        o = DeliveryOutcome::Retry("queueing what the command learned: " + st.ToString());
    }
  }
}

void AdapterWorkers::Decide(const TargetMetrics& m, const queue::Leased& leased,
                            const DeliveryOutcome& outcome, Settlements& out) {
  std::string dead_reason;
  switch (outcome.kind) {
    case DeliveryOutcome::Kind::kOk:
      m.ok->Inc();
      out.any_ok = true;
      out.items.push_back(queue::Settlement::Ack(leased.lease));
      break;
    case DeliveryOutcome::Kind::kRetry: {
      // The queue decides the give-up; the same rule here (queue/give_up.h)
      // counts it as the failure it is.
      const queue::RetryPolicy policy =
          options_.retry_policy ? options_.retry_policy(leased.message.lane) : queue::RetryPolicy{};
      const SystemTime now = clock_.Now();
      const int attempts = queue::AttemptsAfterRetry(leased.message.attempts, outcome.throttled);
      if (queue::RetryGivesUp(policy, attempts, leased.message.created_at, now)) {
        m.fail->Inc();
        dead_reason =
            queue::GaveUpReason(policy, attempts, leased.message.created_at, now, outcome.error);
        RecordError(Capability::kDeliver, dead_reason);
      } else {
        m.retry->Inc();
        RecordError(Capability::kDeliver, outcome.error);
      }
      out.items.push_back(
          outcome.throttled
              ? queue::Settlement::Throttled(leased.lease, outcome.error, outcome.not_before)
              : queue::Settlement::Retry(leased.lease, outcome.error, outcome.not_before));
      break;
    }
    case DeliveryOutcome::Kind::kFail:
      m.fail->Inc();
      RecordError(Capability::kDeliver, outcome.error);
      dead_reason = outcome.error;
      out.items.push_back(queue::Settlement::Fail(leased.lease, outcome.error));
      break;
  }
  out.message_ids.push_back(leased.message.id);
  out.messages.push_back(&leased.message);
  out.dead_reasons.push_back(std::move(dead_reason));
}

void AdapterWorkers::CommitSettlements(const Settlements& s) {
  if (s.items.empty()) return;
  ReportSettlements(s, queue_.Settle(s.items));
}

void AdapterWorkers::ReportSettlements(const Settlements& s, const std::vector<Status>& statuses) {
  for (size_t i = 0; i < statuses.size() && i < s.message_ids.size(); ++i) {
    if (!statuses[i].ok()) {
      // Typically an expired lease: the message is delivered again later and
      // the sink's/target's idempotency absorbs the repeat.
      LogWithFields(spdlog::level::warn, "settling a message failed",
                    {{"adapter", id_},
                     {"message_id", std::to_string(s.message_ids[i])},
                     {"error", statuses[i].ToString()}});
    } else if (i < s.dead_reasons.size() && !s.dead_reasons[i].empty()) {
      LogDeadLetter(*s.messages[i], s.dead_reasons[i]);
    }
  }
  if (s.any_ok) RecordSuccess(Capability::kDeliver);
}

Pipeline::Pipeline(queue::Queue& queue, crm::CrmSink& sink, Clock& clock, MetricsRegistry& metrics,
                   LaneWakeup& wakeup, PipelineOptions options)
    : queue_(queue),
      sink_(sink),
      clock_(clock),
      metrics_(metrics),
      wakeup_(wakeup),
      options_(options),
      log_limit_(clock, std::max(1, options_.log_lines_per_minute), std::chrono::minutes(1)) {
  if (options_.health == nullptr) {
    own_health_ = std::make_unique<AdapterHealthBook>(clock, metrics);
    options_.health = own_health_.get();
  }
}

Pipeline::~Pipeline() {
  StopAll(std::chrono::steady_clock::time_point::max());
  std::lock_guard lock(mu_);
  stragglers_.clear();  // joins
}

Status Pipeline::Start(std::shared_ptr<adapters::Adapter> adapter, RecordMapper mapper) {
  const std::string id = adapter->id();
  bool inbound = adapter->source() != nullptr || adapter->webhook() != nullptr;
  if (inbound && !mapper) {
    return Status::InvalidArgument("adapter " + id +
                                   " receives records but has no mapping rules (mapping = ...)");
  }
  std::lock_guard lock(mu_);
  if (workers_.count(id) != 0) return Status::AlreadyExists("adapter " + id + " is running");
  std::vector<Capability> caps;
  if (adapter->source() != nullptr) caps.push_back(Capability::kPull);
  caps.push_back(Capability::kDeliver);
  if (adapter->webhook() != nullptr) caps.push_back(Capability::kPush);
  std::shared_ptr<AdapterHealth> health = options_.health->Register(id, std::move(caps));
  auto workers =
      std::make_unique<AdapterWorkers>(std::move(adapter), std::move(mapper), queue_, sink_, clock_,
                                       metrics_, wakeup_, options_, log_limit_, std::move(health));
  workers->Start();
  workers_.emplace(id, std::move(workers));
  return Status::Ok();
}

bool Pipeline::Stop(const std::string& adapter_id, std::chrono::steady_clock::time_point deadline) {
  std::unique_ptr<AdapterWorkers> w;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(adapter_id);
    if (it == workers_.end()) return true;
    w = std::move(it->second);
    workers_.erase(it);
  }
  w->RequestStop();
  if (w->WaitStopped(deadline)) return true;
  std::lock_guard lock(mu_);
  stragglers_.push_back(std::move(w));
  return false;
}

bool Pipeline::StopAll(std::chrono::steady_clock::time_point deadline) {
  std::map<std::string, std::unique_ptr<AdapterWorkers>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(workers_);
  }
  for (auto& [id, w] : all) w->RequestStop();  // all at once, then wait
  bool ok = true;
  for (auto& [id, w] : all) {
    if (!w->WaitStopped(deadline)) {
      spdlog::warn(
          "adapter {}: workers still busy at the drain deadline; their leases expire "
          "and the messages are delivered again after restart",
          id);
      ok = false;
      std::lock_guard lock(mu_);
      stragglers_.push_back(std::move(w));
    }
  }
  return ok;
}

bool Pipeline::Running(const std::string& adapter_id) const {
  std::lock_guard lock(mu_);
  return workers_.count(adapter_id) != 0;
}

std::optional<WorkerStatus> Pipeline::StatusOf(const std::string& adapter_id) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(adapter_id);
  if (it == workers_.end()) return std::nullopt;
  return it->second->status();
}

}  // namespace crmhub::daemon
