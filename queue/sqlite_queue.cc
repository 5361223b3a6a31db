#include "queue/sqlite_queue.h"

#include <spdlog/spdlog.h>

#include <future>
#include <random>
#include <system_error>

#include "base/private_files.h"
#include "base/thread_name.h"
#include "queue/paths.h"
#include "queue/sqlite_checkpointer.h"
#include "queue/sqlite_util.h"
#include "queue/sqlite_writer.h"
#include "queue/wal_write_buffer.h"

namespace crmhub::queue {

using internal::WriterStore;

namespace {

// A writer holding its transaction open for the flusher is woken to apply
// waiting ops once they reach this many rows or bytes; fewer wait for the
// flusher's turn to end (AbsorbWhileFlushing).
constexpr int64_t kAbsorbWakeRows = 64;
constexpr int64_t kAbsorbWakeBytes = 64 * 1024;

// How many committed batches may wait for the flusher before the writer
// waits for it. One keeps the writer busy during an fsync; more made the
// writer commit smaller batches (more commits, each with its fixed cost)
// without more throughput in `crmhub bench queue` on 2 cores.
constexpr size_t kMaxUnflushed = 1;

// Lease tokens start at a random point so a token from before a restart
// cannot match a lease handed out after it.
int64_t RandomFirstToken() {
  std::random_device rd;
  uint64_t r = (uint64_t{rd()} << 32) ^ rd();
  return static_cast<int64_t>((r >> 2) | 1);  // positive, far from overflow
}

// What one message weighs against max_batch_bytes and max_pending_bytes:
// the bytes it carries (the row's fixed part is in the row bounds).
int64_t MessageBytes(const NewMessage& m) {
  int64_t bytes = static_cast<int64_t>(m.payload.size() + m.lane.size() + m.source.size() +
                                       m.idempotency_key.size() + m.ordering_key.size());
  for (const auto& [name, value] : m.headers)
    bytes += static_cast<int64_t>(name.size() + value.size());
  return bytes;
}

// A settlement's own size, beyond its reason text.
constexpr int64_t kSettlementBytes = 32;

Status CheckMessage(const NewMessage& m) {
  if (m.lane.empty()) return Status::InvalidArgument("enqueue: lane is empty");
  if (m.source.empty()) return Status::InvalidArgument("enqueue: source is empty");
  if (m.idempotency_key.empty()) {
    return Status::InvalidArgument("enqueue: idempotency_key is empty (lane " + m.lane + ")");
  }
  return Status::Ok();
}

}  // namespace

SqliteQueue::SqliteQueue(Clock& clock, SqliteQueueOptions options, std::filesystem::path path)
    : clock_(clock), options_(std::move(options)), path_(std::move(path)) {}

Result<std::unique_ptr<SqliteQueue>> SqliteQueue::Open(Clock& clock, SqliteQueueOptions options) {
  std::filesystem::path path = options.path.empty() ? QueueDbPath(options.data_dir) : options.path;
  if (path.empty() || path.filename().empty()) {
    return Status::InvalidArgument("queue: no data_dir or path given");
  }
  // Personal data: the directory 0700 when created here, the file 0600.
  CRMHUB_RETURN_IF_ERROR(EnsurePrivateFile(path).WithContext("queue"));
  if (options.max_batch_size < 1) options.max_batch_size = 1;
  if (options.max_pending < 1) options.max_pending = 1;
  // Every connection of the queue writes its WAL through the gathering VFS
  // over the one asked for (queue/wal_write_buffer.h): a commit's frames in
  // a few writes instead of two per page.
  auto gathering = internal::WalWriteBufferVfs(options.vfs_name);
  if (!gathering.ok()) return gathering.status().WithContext("queue: open " + path.string());
  options.vfs_name = *std::move(gathering);

  auto db = internal::Db::Open(path.string(), /*create=*/true, options.vfs_name,
                               static_cast<int>(options.busy_timeout.count()));
  if (!db.ok()) return db.status();
  internal::WriterConfig config;
  config.default_policy = options.default_policy;
  config.lane_policies = options.lane_policies;
  config.dedup_retention = options.dedup_retention;
  config.jitter = options.jitter ? options.jitter
                                 : SeededJitter(options.rng_seed.value_or(std::random_device{}()));
  config.first_token = RandomFirstToken();
  auto store = std::make_unique<WriterStore>(std::move(db).value(), std::move(config));
  CRMHUB_RETURN_IF_ERROR(store->Init(clock.Now()).WithContext("queue: open " + path.string()));

  auto syncer = internal::WalSyncer::For(store->db());
  if (!syncer.ok()) return syncer.status().WithContext("queue: open " + path.string());
  if (options.poison_after > 0) {
    int64_t suspects = 0, dead = 0;
    CRMHUB_RETURN_IF_ERROR(
        store->RecoverInFlight(clock.Now(), options.poison_after, &suspects, &dead));
    CRMHUB_RETURN_IF_ERROR(syncer->Sync());  // counted durably before any is delivered again
    if (suspects > 0) {
      spdlog::warn(
          "queue: {} message(s) were in flight when the last process ended; each is delivered "
          "alone now, and {} counted {} times in a row went to the dead letters (poison rule)",
          suspects, dead, options.poison_after);
    }
  }

  std::unique_ptr<internal::Checkpointer> checkpointer;
  if (options.checkpoint_frames > 0) {
    auto started = internal::Checkpointer::Start(
        path.string(), options.vfs_name,
        {.trigger_frames = options.checkpoint_frames, .cap_frames = 4 * options.checkpoint_frames});
    if (!started.ok()) return started.status().WithContext("queue: open " + path.string());
    checkpointer = std::move(started).value();
    checkpointer->InstallHook(store->db().raw());
  }

  std::unique_ptr<SqliteQueue> q(new SqliteQueue(clock, std::move(options), path));
  q->store_ = std::move(store);
  q->checkpointer_ = std::move(checkpointer);
  q->wal_syncer_ = std::make_unique<internal::WalSyncer>(std::move(syncer).value());
  CRMHUB_RETURN_IF_ERROR(q->RefreshDepth());
  q->next_maintenance_ = clock.SteadyNow() + q->options_.maintenance_interval;
  q->flusher_ = std::thread([raw = q.get()] {
    SetCurrentThreadName("crmhub-qsync");
    raw->FlusherLoop();
  });
  q->writer_ = std::thread([raw = q.get()] {
    SetCurrentThreadName("crmhub-qwrite");
    raw->WriterLoop();
  });
  return q;
}

SqliteQueue::~SqliteQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  // The writer has handed over its last batch; the flusher answers it.
  {
    std::lock_guard lock(flush_mu_);
    flush_stop_ = true;
  }
  flush_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (checkpointer_ != nullptr) {
    internal::Checkpointer::RemoveHook(store_->db().raw());
    checkpointer_.reset();
  }
}

SqliteQueue::CommitCounters SqliteQueue::commit_counters() const {
  return {commits_.load(),
          committed_requests_.load(),
          committed_rows_.load(),
          syncs_.load(),
          sync_nanos_.load(),
          checkpointer_ ? checkpointer_->background_runs() : 0,
          checkpointer_ ? checkpointer_->writer_runs() : 0};
}

void SqliteQueue::MarkUnhealthy(const Status& error) {
  {
    std::lock_guard lock(error_mu_);
    if (error_.ok()) {  // keep the first cause
      error_ = error;
      const auto now = clock_.SteadyNow();
      unhealthy_since_ns_.store(now.time_since_epoch().count());
      next_probe_ns_.store((now + options_.probe_interval).time_since_epoch().count());
      spdlog::error("queue: storage failure, refusing writes until a probe succeeds: {}",
                    error.ToString());
    }
  }
  healthy_.store(false);
}

std::optional<std::chrono::steady_clock::duration> SqliteQueue::UnhealthyFor() const {
  if (healthy_.load()) return std::nullopt;
  const int64_t since = unhealthy_since_ns_.load();
  if (since == 0) return std::chrono::steady_clock::duration::zero();
  return clock_.SteadyNow() -
         std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(since));
}

void SqliteQueue::Probe() {
  const auto now = clock_.SteadyNow();
  if (now.time_since_epoch().count() < next_probe_ns_.load()) return;
  next_probe_ns_.store((now + options_.probe_interval).time_since_epoch().count());
  Status st = store_->Begin();
  if (st.ok()) st = store_->PutState("crmhub/probe", FormatRfc3339(clock_.Now()), clock_.Now());
  if (st.ok()) st = store_->Commit();
  if (!st.ok()) {
    store_->Rollback();
    return;
  }
  if (!wal_syncer_->Sync().ok()) return;
  const auto down = UnhealthyFor().value_or(std::chrono::steady_clock::duration::zero());
  {
    std::lock_guard lock(error_mu_);
    error_ = Status::Ok();
    unhealthy_since_ns_.store(0);
  }
  healthy_.store(true);
  (void)RefreshDepth();
  spdlog::info("queue: storage takes writes again after {} s; accepting writes",
               std::chrono::duration_cast<std::chrono::seconds>(down).count());
}

Status SqliteQueue::UnhealthyStatus() const {
  std::lock_guard lock(error_mu_);
  return Status::IoError("queue: refusing writes after a storage failure: " + error_.message());
}

bool SqliteQueue::WorthWakingAbsorbingWriterLocked() const {
  return pending_weight_ >= kAbsorbWakeRows || pending_bytes_ >= kAbsorbWakeBytes;
}

bool SqliteQueue::WriterNeedsWakeLocked() const {
  return !writer_absorbing_ || WorthWakingAbsorbingWriterLocked();
}

void SqliteQueue::Submit(Op op) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    pending_weight_ += op.weight;
    pending_bytes_ += op.bytes;
    pending_.push_back(std::move(op));
    wake = WriterNeedsWakeLocked();
  }
  if (wake) work_cv_.notify_one();
}

bool SqliteQueue::TrySubmit(Op& op) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    const bool fits = pending_.empty() || (pending_weight_ + op.weight <= options_.max_pending &&
                                           pending_bytes_ + op.bytes <= options_.max_pending_bytes);
    if (!fits && !stop_) return false;
    pending_weight_ += op.weight;
    pending_bytes_ += op.bytes;
    pending_.push_back(std::move(op));
    wake = WriterNeedsWakeLocked();
  }
  if (wake) work_cv_.notify_one();
  return true;
}

SqliteQueue::Backlog SqliteQueue::backlog() const {
  std::lock_guard lock(mu_);
  return {pending_weight_, pending_bytes_};
}

Status SqliteQueue::SubmitAndWait(int weight, int64_t bytes,
                                  std::function<Status(WriterStore&, SystemTime)> apply) {
  std::promise<Status> promise;
  auto future = promise.get_future();
  Op op;
  op.weight = weight;
  op.bytes = bytes;
  op.apply = std::move(apply);
  op.done = [&promise](const Status& st) { promise.set_value(st); };
  Submit(std::move(op));
  return future.get();
}

void SqliteQueue::WriterLoop() {
  std::vector<Op> batch;
  for (;;) {
    bool maintain = false;
    {
      std::unique_lock lock(mu_);
      // The timed wait only polls the (injected) clock for maintenance.
      work_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !pending_.empty(); });
      if (pending_.empty() && stop_) return;
      BatchSize size;
      TakePendingLocked(batch, size);
      maintain = options_.maintenance_interval.count() > 0 &&
                 clock_.SteadyNow() >= next_maintenance_ && healthy_.load();
    }
    if (!healthy_.load()) Probe();
    if (!batch.empty()) RunBatch(batch);
    batch.clear();
    if (maintain) {
      next_maintenance_ = clock_.SteadyNow() + options_.maintenance_interval;
      Op op;
      op.apply = [this](WriterStore& store, SystemTime now) {
        int64_t pruned = 0;
        return store.Maintain(now, options_.maintenance_prune_limit,
                              options_.maintenance_vacuum_pages, &pruned);
      };
      op.done = [](const Status&) {};
      batch.push_back(std::move(op));
      RunBatch(batch);
      batch.clear();
      // `crmhub dlq replay` in another process changes the depth too.
      (void)RefreshDepth();
    }
  }
}

size_t SqliteQueue::TakePendingLocked(std::vector<Op>& batch, BatchSize& size) {
  size_t taken = 0;
  BatchSize moved;
  while (!pending_.empty()) {
    const Op& next = pending_.front();
    const bool fits = size.rows + next.weight <= options_.max_batch_size &&
                      size.bytes + next.bytes <= options_.max_batch_bytes;
    if (!fits && !batch.empty()) break;  // the group stops growing here
    size.rows += next.weight;
    size.bytes += next.bytes;
    moved.rows += next.weight;
    moved.bytes += next.bytes;
    batch.push_back(std::move(pending_.front()));
    pending_.pop_front();
    ++taken;
  }
  pending_weight_ -= moved.rows;
  pending_bytes_ -= moved.bytes;
  return taken;
}

bool SqliteQueue::AbsorbWhileFlushing(std::vector<Op>& batch, BatchSize& size) {
  std::unique_lock lock(mu_);
  if (stop_ || size.rows >= options_.max_batch_size || size.bytes >= options_.max_batch_bytes ||
      batches_in_flush_.load() == 0) {
    return false;
  }
  // Submitters do not wake the writer for each op while it waits here: a
  // wake-up and a context switch per webhook cost more than applying the op
  // after the fsync. Ops that add up to a worthwhile amount are applied while
  // the flusher syncs (docs/performance.md, "The writer woken for a group,
  // and freed before the answers").
  writer_absorbing_ = true;
  work_cv_.wait(lock, [&] {
    return stop_ || batches_in_flush_.load() == 0 || WorthWakingAbsorbingWriterLocked();
  });
  writer_absorbing_ = false;
  // Whatever the flusher's turn left waiting joins this commit (a next op
  // that does not fit leaves it as it is: commit what there is).
  return TakePendingLocked(batch, size) > 0;
}

void SqliteQueue::RunBatch(std::vector<Op>& batch) {
  Committed committed;
  if (!healthy_.load()) {
    committed.status = UnhealthyStatus();
  } else {
    sqlite3* db = store_->db().raw();
    const int64_t changes_before = sqlite3_total_changes64(db);
    Status st = store_->Begin();
    size_t applied = 0;
    BatchSize size;  // of `batch`
    for (const Op& op : batch) {
      size.rows += op.weight;
      size.bytes += op.bytes;
    }
    auto apply_new = [&] {
      const SystemTime now = clock_.Now();
      for (; st.ok() && applied < batch.size(); ++applied) st = batch[applied].apply(*store_, now);
    };
    apply_new();
    // While the flusher still works on earlier batches, committing now would
    // only make this batch wait for their fsync in the flusher's queue. So
    // the transaction stays open and takes in what arrives meanwhile, and is
    // committed when the flusher is free: one set of WAL frames and one fsync
    // for all of it, and nobody waits longer than with an earlier commit.
    while (st.ok() && AbsorbWhileFlushing(batch, size)) apply_new();
    if (st.ok()) st = store_->Commit();
    if (st.ok()) {
      committed.wrote = sqlite3_total_changes64(db) != changes_before;
      depth_ += store_->depth_delta();
      commits_.fetch_add(1);
      committed_requests_.fetch_add(static_cast<int64_t>(batch.size()));
      committed_rows_.fetch_add(size.rows);
    } else {
      store_->Rollback();
      if (st.code() == StatusCode::kIoError) {
        MarkUnhealthy(st);
        st = UnhealthyStatus();
      }
    }
    committed.status = std::move(st);
  }
  committed.ops = std::move(batch);
  batch.clear();
  HandToFlusher(std::move(committed));
}

void SqliteQueue::HandToFlusher(Committed committed) {
  std::unique_lock lock(flush_mu_);
  flush_space_cv_.wait(lock, [&] { return unflushed_.size() < kMaxUnflushed; });
  unflushed_.push_back(std::move(committed));
  batches_in_flush_.fetch_add(1);
  lock.unlock();
  flush_cv_.notify_one();
}

void SqliteQueue::FlusherLoop() {
  std::deque<Committed> work;
  for (;;) {
    {
      std::unique_lock lock(flush_mu_);
      flush_cv_.wait(lock, [&] { return flush_stop_ || !unflushed_.empty(); });
      if (unflushed_.empty()) return;  // stopping, and everything answered
      work.swap(unflushed_);
    }
    flush_space_cv_.notify_all();
    // One fsync covers every batch committed before it started.
    bool needs_sync = false;
    for (const Committed& c : work) needs_sync = needs_sync || (c.status.ok() && c.wrote);
    // After a failed fsync (this round's or an earlier one's) a committed
    // write may not survive a power loss: it is never answered OK.
    bool durable = true;
    if (needs_sync) {
      durable = healthy_.load();
      if (durable) {
        const auto sync_started = std::chrono::steady_clock::now();
        Status synced = wal_syncer_->Sync();
        durable = synced.ok();
        if (durable) {
          syncs_.fetch_add(1);
          sync_nanos_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::steady_clock::now() - sync_started)
                                    .count());
        } else {
          MarkUnhealthy(synced);
        }
      }
    }
    // The writer may be holding its transaction open until the flusher is
    // free (RunBatch): tell it before answering, so that its commit overlaps
    // the answers rather than waiting for them. Taking mu_ orders this with
    // its check.
    batches_in_flush_.fetch_sub(static_cast<int64_t>(work.size()));
    { std::lock_guard wake(mu_); }
    work_cv_.notify_all();
    for (Committed& c : work) {
      Status st = c.status;
      if (st.ok() && c.wrote && !durable) st = UnhealthyStatus();
      for (Op& op : c.ops) op.done(st);
    }
    work.clear();
  }
}

void SqliteQueue::EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) {
  if (messages.empty()) {
    done(std::vector<EnqueueOutcome>{});
    return;
  }
  // Refusals are answered at once on the calling thread: the writer may be
  // behind, and a caller must never wait for it here.
  int64_t bytes = 0;
  for (const NewMessage& m : messages) {
    if (Status invalid = CheckMessage(m); !invalid.ok()) {
      done(invalid);
      return;
    }
    bytes += MessageBytes(m);
  }
  if (options_.high_water_mark > 0 && depth_.load() >= options_.high_water_mark) {
    done(Status::ResourceExhausted("queue: " + std::to_string(depth_.load()) +
                                   " undelivered messages, at high_water_mark " +
                                   std::to_string(options_.high_water_mark)));
    return;
  }
  struct State {
    std::vector<NewMessage> messages;
    std::vector<EnqueueOutcome> outcomes;
    EnqueueCallback done;
  };
  auto state = std::make_shared<State>(State{std::move(messages), {}, std::move(done)});
  Op op;
  op.weight = static_cast<int>(state->messages.size());
  op.bytes = bytes;
  op.apply = [state](WriterStore& store, SystemTime now) {
    return store.Enqueue(state->messages, now, &state->outcomes);
  };
  op.done = [state](const Status& st) {
    if (st.ok()) {
      state->done(std::move(state->outcomes));
    } else {
      state->done(st);
    }
  };
  if (!TrySubmit(op)) {
    const Backlog b = backlog();
    state->done(Status::ResourceExhausted("queue: the writer is behind (" + std::to_string(b.rows) +
                                          " rows, " + std::to_string(b.bytes) +
                                          " bytes waiting; max_pending " +
                                          std::to_string(options_.max_pending) + " rows, " +
                                          std::to_string(options_.max_pending_bytes) + " bytes)"));
  }
}

Result<std::vector<Leased>> SqliteQueue::Lease(const std::string& lane, int max,
                                               std::chrono::milliseconds lease_duration) {
  if (max <= 0) return std::vector<Leased>{};
  if (lease_duration.count() <= 0) {
    return Status::InvalidArgument("lease: lease_duration must be positive");
  }
  std::vector<Leased> out;
  Status st = SubmitAndWait(max, 0, [&](WriterStore& store, SystemTime now) {
    return store.Lease(lane, max, lease_duration, now, &out);
  });
  if (!st.ok()) return st;
  return out;
}

std::vector<Status> SqliteQueue::Settle(std::span<const Settlement> settlements) {
  std::promise<std::vector<Status>> promise;
  auto future = promise.get_future();
  SettleAsync({settlements.begin(), settlements.end()},
              [&promise](std::vector<Status> outcomes) { promise.set_value(std::move(outcomes)); });
  return future.get();
}

void SqliteQueue::SettleAsync(std::vector<Settlement> settlements, SettleCallback done) {
  if (settlements.empty()) {
    done({});
    return;
  }
  // One op, so one transaction and one fsync for the whole batch, whatever
  // its mix of acks, retries and failures. Submit, not TrySubmit: a
  // settlement is never refused for the backlog (it shrinks what is held).
  struct State {
    std::vector<Settlement> settlements;
    std::vector<Status> outcomes;
    SettleCallback done;
  };
  int64_t bytes = 0;
  for (const Settlement& s : settlements) bytes += kSettlementBytes + s.reason.size();
  const size_t n = settlements.size();
  auto state = std::make_shared<State>(State{std::move(settlements), {}, std::move(done)});
  state->outcomes.resize(n);
  Op op;
  op.weight = static_cast<int>(n);
  op.bytes = bytes;
  op.apply = [state](WriterStore& store, SystemTime now) {
    for (size_t i = 0; i < state->settlements.size(); ++i) {
      CRMHUB_RETURN_IF_ERROR(store.Settle(state->settlements[i], now, &state->outcomes[i]));
    }
    return Status::Ok();
  };
  op.done = [state](const Status& st) {
    if (!st.ok()) state->outcomes.assign(state->settlements.size(), st);
    state->done(std::move(state->outcomes));
  };
  Submit(std::move(op));
}

Status SqliteQueue::ReplayDeadLetter(int64_t id) {
  Status outcome;
  Status st = SubmitAndWait(
      1, 0, [&](WriterStore& store, SystemTime now) { return store.Replay(id, now, &outcome); });
  return st.ok() ? outcome : st;
}

Result<int64_t> SqliteQueue::ReplayAllDeadLetters(std::optional<std::string> lane) {
  int64_t count = 0;
  Status st = SubmitAndWait(
      1, 0, [&](WriterStore& store, SystemTime now) { return store.ReplayAll(lane, now, &count); });
  if (!st.ok()) return st;
  return count;
}

Status SqliteQueue::DropDeadLetter(int64_t id) {
  Status outcome;
  Status st =
      SubmitAndWait(1, 0, [&](WriterStore& store, SystemTime) { return store.Drop(id, &outcome); });
  return st.ok() ? outcome : st;
}

Result<int64_t> SqliteQueue::PurgeDeadLetters(SystemTime cutoff) {
  int64_t count = 0;
  Status st = SubmitAndWait(
      1, 0, [&](WriterStore& store, SystemTime) { return store.Purge(cutoff, &count); });
  if (!st.ok()) return st;
  return count;
}

Status SqliteQueue::PutState(const std::string& key, const std::string& value) {
  return SubmitAndWait(
      1, 0, [&](WriterStore& store, SystemTime now) { return store.PutState(key, value, now); });
}

Result<int64_t> SqliteQueue::RunMaintenance() {
  int64_t pruned = 0;
  Status st = SubmitAndWait(1, 0, [&](WriterStore& store, SystemTime now) {
    return store.Maintain(now, options_.maintenance_prune_limit, options_.maintenance_vacuum_pages,
                          &pruned);
  });
  if (!st.ok()) return st;
  return pruned;
}

}  // namespace crmhub::queue
