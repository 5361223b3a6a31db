#pragma once
// WriterStore: every write the SQLite queue makes, as methods that run
// inside the writer thread's open transaction (group commit: the caller
// begins, runs many of these, then commits once).
//
// Each method returns a non-OK Status only when SQLite itself failed; the
// whole transaction is then rolled back. Per-request answers (a stale lease
// token, an unknown dead letter) travel in the out-parameter `outcome`.
//
// Leases live in the writer's memory, not in the message rows: a Lease
// writes ONE lease_batches row for the whole batch (the ids it handed out;
// the poison rule's record of what was in flight), and the row goes when the
// last message of the batch is settled or leased again. A delivered message
// so costs one row write to enqueue and one to settle, plus its share of the
// batch's row. A restart forgets the leases: every leased message is due
// again at once (at least once), and the daemon's open counts the batch rows
// it finds (RecoverInFlight).
//
// Thread-safety: owned and used by the writer thread only, except
// LiveLeases(), which any thread may call.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "queue/backoff.h"
#include "queue/queue.h"
#include "queue/sqlite_util.h"

namespace crmhub::queue::internal {

struct WriterConfig {
  RetryPolicy default_policy;
  std::map<std::string, RetryPolicy> lane_policies;
  std::chrono::milliseconds dedup_retention{std::chrono::hours(24 * 7)};
  JitterFn jitter;
  int64_t first_token = 1;  // lease tokens count up from here
};

class WriterStore {
 public:
  WriterStore(Db db, WriterConfig config);

  // Creates the schema if needed (migrating schema 1 and 2 files, whose
  // leases become one lease batch due at `now`) and prepares statements.
  Status Init(SystemTime now);

  Status Begin();
  Status Commit();
  // Also forgets every lease held in memory (their messages are due again):
  // what the rolled-back transaction did to them is unknown.
  void Rollback();
  // Net change of the number of undelivered messages by the current
  // transaction (enqueued + replayed - acked - dead-lettered).
  int64_t depth_delta() const { return depth_delta_; }

  Status Enqueue(std::span<const NewMessage> batch, SystemTime now,
                 std::vector<EnqueueOutcome>* outcomes);
  Status Lease(const std::string& lane, int max, std::chrono::milliseconds duration, SystemTime now,
               std::vector<Leased>* out);
  // The poison-message rule, at a daemon's start: every message named by a
  // lease_batches row was in flight when the last process ended; it is
  // counted (crashes) and delivered alone from now on (Lease), until an
  // outcome settles it; the rows are deleted. One counted `poison_after`
  // times in a row goes to the dead letters.
  // `suspects` and `dead` are set to how many were counted / moved.
  Status RecoverInFlight(SystemTime now, int poison_after, int64_t* suspects, int64_t* dead);
  // One settlement (Queue::Settle): dispatches to Ack, Retry or Fail.
  Status Settle(const Settlement& settlement, SystemTime now, Status* outcome);
  Status Ack(const LeaseToken& lease, SystemTime now, Status* outcome);
  Status Retry(const LeaseToken& lease, const std::string& error,
               std::optional<SystemTime> not_before, SystemTime now, Status* outcome);
  Status Fail(const LeaseToken& lease, const std::string& error, SystemTime now, Status* outcome);

  Status Replay(int64_t id, SystemTime now, Status* outcome);
  Status ReplayAll(const std::optional<std::string>& lane, SystemTime now, int64_t* count);
  Status Drop(int64_t id, Status* outcome);
  Status Purge(SystemTime cutoff, int64_t* count);
  Status PutState(const std::string& key, const std::string& value, SystemTime now);

  // Deletes up to `limit` dedup records older than the retention window and
  // gives up to `vacuum_pages` free pages back to the file system.
  Status Maintain(SystemTime now, int limit, int vacuum_pages, int64_t* pruned);

  Db& db() { return db_; }

  // Leases held now and not expired at `now_ms`, by lane (for Stats: the
  // rows of these messages are due in the database).
  std::map<std::string, int64_t> LiveLeases(int64_t now_ms) const;

 private:
  const RetryPolicy& PolicyFor(const std::string& lane) const;
  // Loads the leased row `lease` (live, matching token) into *history etc.
  // Returns OK with *found=false when the token is stale.
  struct LiveRow {
    std::string lane;
    int attempts = 0;
    int64_t created_at = 0;
    std::string first_error;
    std::string history;
  };
  Status LoadLive(const LeaseToken& lease, SystemTime now, std::optional<LiveRow>* row);
  Status ToDeadLetter(int64_t id, const std::string& reason, const std::string& history,
                      int attempts, SystemTime now);

  // A lease held in memory. `attempts` counts this delivery.
  struct InFlight {
    int64_t token = 0;
    int64_t expires_ms = 0;
    int attempts = 0;
    int64_t batch = 0;  // its lease_batches row
    std::string lane;
  };
  // The live lease `lease` names, or nullptr when its token is stale
  // (expired, settled, or never handed out).
  const InFlight* FindLive(const LeaseToken& lease, int64_t now_ms) const;
  // Forgets message `id`'s lease; deletes its batch row once the batch has
  // no lease left. Requires in_flight_mu_.
  Status ReleaseLocked(int64_t id);
  // Drops `lane`'s floor when a row due at `due_ms` with id `id` lies at or
  // below it (a retry due at once, a clock that went back).
  void ForgetFloorAbove(const std::string& lane, int64_t due_ms, int64_t id);

  // Where a lane's next lease scan starts, in the due order (next_attempt_at,
  // id). Every due row at or below it was accounted for by an earlier scan:
  // handed out (held by a live lease), or moved to the dead letters. Without
  // it each Lease re-read the rows its siblings hold (1.6 skipped rows per
  // leased message in `crmhub bench queue`, 4 consumers). A row can only come
  // back below the floor when its lease expires (valid_until_ms: the
  // earliest expiry of a lease below it), when a retry or an enqueue is due
  // at or before it (ForgetFloorAbove), on a replay (rows keep their ids) or
  // a rollback (every floor goes). A lane holding any message with an
  // ordering key uses no floor: the query filters out rows held back by an
  // earlier message of their key, unseen, and a floor could pass them.
  // Writer thread only.
  struct LeaseFloor {
    int64_t at_ms = std::numeric_limits<int64_t>::min();
    int64_t id = std::numeric_limits<int64_t>::min();
    int64_t valid_until_ms = std::numeric_limits<int64_t>::max();
  };
  std::unordered_map<std::string, LeaseFloor> floors_;

  Db db_;
  WriterConfig config_;
  int64_t next_token_;
  int64_t depth_delta_ = 0;

  // Guards the three maps below: written by the writer thread, read by
  // LiveLeases().
  mutable std::mutex in_flight_mu_;
  std::unordered_map<int64_t, InFlight> in_flight_;          // by message id
  std::unordered_map<int64_t, int64_t> batch_open_;          // batch row -> leases left
  std::unordered_map<std::string, int64_t> lane_in_flight_;  // lane -> in_flight_ entries

  Stmt begin_, commit_, rollback_;
  Stmt dedup_upsert_, insert_msg_;
  Stmt lease_select_, lane_ordered_, lease_batch_insert_, lease_batch_delete_;
  Stmt ack_, load_live_, retry_update_, to_dead_, delete_msg_;
  Stmt replay_, replay_all_, delete_dead_, delete_dead_lane_, purge_;
  Stmt put_state_, prune_dedup_;
};

}  // namespace crmhub::queue::internal
