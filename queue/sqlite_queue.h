#pragma once
// SqliteQueue: the Queue engine on one SQLite file (WAL; every answered write
// fsync'd).
//
// Writes (enqueue, lease, settle, dead-letter operations, state) go to ONE
// writer thread that does group commit: it takes every request waiting (up
// to max_batch_size rows and max_batch_bytes bytes), runs them in one
// transaction and commits (LevelDB's DBImpl::Write and BuildBatchGroup). The commit is pipelined:
// COMMIT only writes the WAL frames (synchronous=NORMAL), and a flusher thread fsyncs the WAL and
// then answers each caller of the batch with the shared status, while the writer already runs the
// next transaction; one fsync covers every batch committed since the last one. While the flusher is
// busy, the writer keeps its transaction open and adds what arrives, committing when the flusher is
// free (RunBatch). Nobody is answered before the fsync of their
// batch returned. After a storage error (I/O, fsync, disk full, corruption)
// the engine refuses all further writes and Healthy() is false; it never
// answers Accepted for a write that did not commit or whose fsync failed.
// While unhealthy, the writer probes the storage every probe_interval (a
// small committed and fsync'd write); when a probe succeeds the engine is
// healthy again (the disk had filled, and has space again). A write answered
// with an error in between may or may not have reached the disk: its sender
// retries, and idempotency absorbs a repeat.
//
// Reads (Stats, dead-letter listing, GetState) use their own connections
// from a small pool, so they never wait for the writer (WAL snapshots).
//
// Several processes may open the same file (the daemon, and `crmhub queue` /
// `crmhub dlq` at the same time): SQLite's locks serialise their writers.
//
// Thread-safety: every method may be called from any thread. Callbacks of
// EnqueueAsync run on the flusher thread (or on the caller's, for a refusal):
// they must not call blocking methods of this queue (that would deadlock it).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "queue/backoff.h"
#include "queue/queue.h"

namespace crmhub::queue {

namespace internal {
class Checkpointer;
class Db;
class WalSyncer;
class WriterStore;
}  // namespace internal

struct SqliteQueueOptions {
  // The database is `path` if set, else data_dir/queue.db (paths.h). The
  // directory is created if missing.
  std::filesystem::path data_dir;
  std::filesystem::path path;

  RetryPolicy default_policy;
  std::map<std::string, RetryPolicy> lane_policies;  // by lane name

  // How long an accepted (source, key) stays a duplicate, also after delivery.
  std::chrono::milliseconds dedup_retention{std::chrono::hours(24 * 7)};

  // Enqueue answers kResourceExhausted once this many messages are undelivered
  // (so intake can answer 503 instead of filling the disk). 0: no limit.
  int64_t high_water_mark = 0;

  // One group commit grows (LevelDB's BuildBatchGroup) until it holds
  // max_batch_size rows (messages enqueued, leased, settled, ...) or
  // max_batch_bytes bytes (payloads, headers, keys, errors), whichever comes
  // first; it always takes at least one request. Bigger batches mean fewer
  // fsyncs; smaller ones shorter latency and less memory per commit.
  int max_batch_size = 4096;
  int64_t max_batch_bytes = 8 << 20;
  // Work waiting for the writer is bounded in rows AND bytes (so 8,192
  // pending 1 MiB bodies cannot mean 8 GiB). EnqueueAsync never blocks: at
  // either bound it answers kResourceExhausted at once (intake turns that
  // into 503 + Retry-After). A single batch larger than a bound is still
  // admitted when nothing else waits. The blocking calls (Lease, Settle, ...)
  // are not refused: each waits for its own answer, so their number is
  // bounded by the threads calling them.
  int max_pending = 8192;
  int64_t max_pending_bytes = 64 << 20;

  // How often the writer prunes expired dedup records and returns free pages
  // (PRAGMA incremental_vacuum), measured on the injected clock's steady
  // time. Zero: only when RunMaintenance() is called.
  std::chrono::milliseconds maintenance_interval{std::chrono::minutes(1)};
  int maintenance_prune_limit = 20000;  // segment_keys rows (commits) per maintenance step
  int maintenance_vacuum_pages = 2048;  // pages per maintenance step

  // Jitter of the retry backoff: `jitter` if set (tests), else a generator
  // seeded with `rng_seed` (random when unset).
  JitterFn jitter;
  std::optional<uint64_t> rng_seed;

  // WAL checkpoints run on a thread of their own once `checkpoint_frames`
  // frames wait to be copied; the writer checkpoints itself only when the
  // WAL reaches 4x that (sqlite_checkpointer.h). 4096 frames of 4 KiB: 16 MiB.
  // 0: no checkpointer thread; SQLite checkpoints inside the writer's
  // commits (wal_autocheckpoint), as before it existed (the benchmark's
  // `--checkpoint-frames 0`, for before/after pairs).
  int checkpoint_frames = 4096;

  // How long a write waits for another process's write lock.
  std::chrono::milliseconds busy_timeout{std::chrono::seconds(10)};

  // The poison-message rule (WriterStore::RecoverInFlight), for the daemon's
  // own open only (a CLI opening the queue beside a running daemon must not
  // count that daemon's leases): 0 off; else a message in flight when the
  // process ended this many times in a row is dead-lettered.
  int poison_after = 0;

  // While unhealthy, how often the writer probes whether the storage takes
  // writes again (on the injected clock's steady time).
  std::chrono::milliseconds probe_interval{std::chrono::seconds(1)};

  // Test seam: the sqlite3 VFS to open the file with ("" = the default).
  // The queue's WAL writes are gathered over it (queue/wal_write_buffer.h).
  std::string vfs_name;
};

class SqliteQueue final : public Queue {
 public:
  // Opens or creates the database and starts the writer thread.
  // `clock` must outlive the queue.
  static Result<std::unique_ptr<SqliteQueue>> Open(Clock& clock, SqliteQueueOptions options);

  // Answers every waiting request, then stops the writer thread.
  ~SqliteQueue() override;

  void EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) override;
  Result<std::vector<Leased>> Lease(const std::string& lane, int max,
                                    std::chrono::milliseconds lease_duration) override;
  std::vector<Status> Settle(std::span<const Settlement> settlements) override;
  void SettleAsync(std::vector<Settlement> settlements, SettleCallback done) override;

  Result<std::vector<LaneStats>> Stats() override;

  Result<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override;
  Result<DeadLetter> GetDeadLetter(int64_t id) override;
  Status ReplayDeadLetter(int64_t id) override;
  Result<int64_t> ReplayAllDeadLetters(std::optional<std::string> lane) override;
  Status DropDeadLetter(int64_t id) override;
  Result<int64_t> PurgeDeadLetters(SystemTime cutoff) override;

  Status PutState(const std::string& key, const std::string& value) override;
  Result<std::optional<std::string>> GetState(const std::string& key) override;

  bool Healthy() const override { return healthy_.load(); }
  int64_t Depth() const override { return depth_.load(); }

  // Additions beyond Queue:
  // How long the engine has refused writes (nullopt: healthy): the daemon
  // stops its watchdog pings past a limit, so that systemd restarts it.
  std::optional<std::chrono::steady_clock::duration> UnhealthyFor() const;
  // Forgets expired dedup keys and vacuums free pages now (one step of
  // each); returns how many dedup keys were forgotten.
  Result<int64_t> RunMaintenance();
  // Sets Depth() from the writer's index as of its last commit (which takes
  // in other processes' commits, sqlite_writer.h). Also done after every
  // periodic maintenance step.
  Status RefreshDepth();
  // PRAGMA integrity_check on a read connection: "ok" or the problems found.
  Result<std::string> IntegrityCheck();
  const std::filesystem::path& path() const { return path_; }

  // Work submitted and not yet taken by the writer (see max_pending).
  struct Backlog {
    int64_t rows = 0;
    int64_t bytes = 0;
  };
  Backlog backlog() const;

  // Group-commit counters since Open (for metrics and the benchmark).
  struct CommitCounters {
    int64_t commits = 0;     // transactions committed
    int64_t requests = 0;    // requests answered by those commits
    int64_t rows = 0;        // their weight (messages, leases, acks, ...)
    int64_t syncs = 0;       // WAL fsyncs (one covers every batch committed before it)
    int64_t sync_nanos = 0;  // time spent in those fsyncs (their mean latency: / syncs)
    // WAL checkpoints: on the checkpointer's thread, and by the writer itself
    // when the WAL reached its cap (sqlite_checkpointer.h).
    int64_t background_checkpoints = 0;
    int64_t writer_checkpoints = 0;
  };
  CommitCounters commit_counters() const;

 private:
  // One request for the writer thread. `apply` runs inside the group
  // transaction and returns non-OK only when SQLite failed (the batch is then
  // rolled back); `done` runs after the commit with its status.
  struct Op {
    int weight = 1;     // rows
    int64_t bytes = 0;  // what the op carries (its share of max_*_bytes)
    std::function<Status(internal::WriterStore&, SystemTime now)> apply;
    std::function<void(const Status&)> done;
  };

  SqliteQueue(Clock& clock, SqliteQueueOptions options, std::filesystem::path path);

  // Queues an op for the writer; never waits for room.
  void Submit(Op op);
  // Queues an op unless the backlog would pass max_pending or
  // max_pending_bytes (and something already waits); false: not queued.
  bool TrySubmit(Op& op);
  // Submits and waits for the op's commit status.
  Status SubmitAndWait(int weight, int64_t bytes,
                       std::function<Status(internal::WriterStore&, SystemTime)> apply);
  // A committed (or failed) batch waiting for the flusher to answer it.
  struct Committed {
    std::vector<Op> ops;
    Status status;       // the commit's status
    bool wrote = false;  // the transaction changed the database (needs the fsync)
  };

  void WriterLoop();
  // The size of a batch being built.
  struct BatchSize {
    int64_t rows = 0;
    int64_t bytes = 0;
  };
  // Moves waiting ops into `batch` while its rows and bytes (`size`, updated)
  // stay within max_batch_size and max_batch_bytes; at least one op when
  // `batch` is empty. Returns how many ops were taken. Requires mu_.
  size_t TakePendingLocked(std::vector<Op>& batch, BatchSize& size);
  // Runs `batch` in one transaction, taking in ops that arrive while the
  // flusher is busy, then commits and hands it to the flusher.
  void RunBatch(std::vector<Op>& batch);
  // Waits until the flusher has synced every batch, then moves what
  // arrived meanwhile into `batch` (returns true when it took any; false:
  // commit now). Ops are also taken while the flusher is still busy once
  // enough wait to be worth a wake-up (WorthWakingAbsorbingWriterLocked).
  // False at once when stopping, when the batch is full, or when the flusher
  // is idle.
  bool AbsorbWhileFlushing(std::vector<Op>& batch, BatchSize& size);
  // Whether the ops waiting now justify waking a writer that holds its
  // transaction open for the flusher. Requires mu_.
  bool WorthWakingAbsorbingWriterLocked() const;
  // Whether a submitter must wake the writer for the op it just queued.
  // Requires mu_.
  bool WriterNeedsWakeLocked() const;
  // Hands a batch to the flusher; waits while kMaxUnflushed batches wait.
  void HandToFlusher(Committed committed);
  void FlusherLoop();
  void MarkUnhealthy(const Status& error);
  Status UnhealthyStatus() const;
  // Writer thread, while unhealthy: one probe write; healthy again if it
  // commits and its fsync succeeds.
  void Probe();

  // Read connections: borrowed for one call, returned to the pool.
  class ReadLease;
  Result<std::unique_ptr<internal::Db>> AcquireReader();
  void ReleaseReader(std::unique_ptr<internal::Db> db);

  Clock& clock_;
  const SqliteQueueOptions options_;
  const std::filesystem::path path_;
  std::unique_ptr<internal::WriterStore> store_;  // writer thread only (after Open)
  // Hooked into store_'s connection; destroyed after the writer stopped.
  std::unique_ptr<internal::Checkpointer> checkpointer_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // writer waits for ops
  std::deque<Op> pending_;           // guarded by mu_
  int64_t pending_weight_ = 0;       // rows in pending_; guarded by mu_
  int64_t pending_bytes_ = 0;        // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  // The writer holds its transaction open until the flusher is free
  // (AbsorbWhileFlushing). Guarded by mu_.
  bool writer_absorbing_ = false;
  bool maintenance_requested_ = false;  // guarded by mu_

  std::atomic<bool> healthy_{true};
  // When the engine became unhealthy (steady ns since epoch); 0 while healthy.
  std::atomic<int64_t> unhealthy_since_ns_{0};
  // When the next probe may run (steady ns since epoch): one probe_interval
  // after the failure, then one after each failed probe.
  std::atomic<int64_t> next_probe_ns_{0};
  mutable std::mutex error_mu_;
  Status error_;  // the storage error that made the engine unhealthy; guarded by error_mu_
  std::atomic<int64_t> depth_{0};
  std::atomic<int64_t> commits_{0}, committed_requests_{0}, committed_rows_{0};
  std::chrono::steady_clock::time_point next_maintenance_;  // writer thread only

  std::unique_ptr<internal::WalSyncer> wal_syncer_;  // flusher thread only (after Open)
  std::mutex flush_mu_;
  std::condition_variable flush_cv_;        // the flusher waits for batches
  std::condition_variable flush_space_cv_;  // the writer waits for room
  std::deque<Committed> unflushed_;         // guarded by flush_mu_
  bool flush_stop_ = false;                 // guarded by flush_mu_
  std::atomic<int64_t> syncs_{0};
  std::atomic<int64_t> sync_nanos_{0};
  // Batches handed to the flusher and not yet synced (their answers may still
  // be running).
  std::atomic<int64_t> batches_in_flush_{0};

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<internal::Db>> readers_;  // idle; guarded by readers_mu_

  std::thread writer_;
  std::thread flusher_;
};

}  // namespace crmhub::queue
