#pragma once
// WriterStore: every write the SQLite queue makes, as methods that run
// inside the writer thread's open transaction (group commit: the caller
// begins, runs many of these, then commits once).
//
// Each method returns a non-OK Status only when SQLite itself failed; the
// whole transaction is then rolled back. Per-request answers (a stale lease
// token, an unknown dead letter) travel in the out-parameter `outcome`.
//
// The layout (schema 4, sqlite_schema.h and segment.h): the messages a
// transaction enqueues on a lane are written at its commit as ONE segments
// row (their entries in one blob), and the dedup keys it accepted as one
// segment_keys row. The writer keeps an index of every undelivered message
// in memory (rebuilt from the segments at open): where its entry lies, when
// it is due, its ordering key, its lease. Settling a message changes no
// blob: the commit rewrites its segment's small segment_settled bitmap (one
// row per segment touched, not per message), and deletes the segment once
// all of its messages are settled. A retry writes the message again, with
// its new due time and history, as an entry of the commit's segment for its
// lane (same id). Dedup is a hash map of the accepted keys, rebuilt from
// segment_keys at open; a segment_keys row goes when it is older than
// dedup_retention (Maintain). So a delivered message costs its share of a
// few row writes per commit instead of its own rows and index entries.
//
// Leases live in memory only: a Lease writes ONE lease_batches row for the
// whole batch (the ids it handed out; the poison rule's record of what was in
// flight), and the row goes when the last message of the batch is settled or
// leased again. A restart forgets the leases: every leased message is due
// again at once (at least once), and the daemon's open counts the batch rows
// it finds (RecoverInFlight).
//
// Other processes (`crmhub dlq replay` beside the daemon) may write the same
// file: Begin sees their commits (PRAGMA data_version) and rebuilds the
// index, keeping this process's leases. A rollback rebuilds it too (its
// changes to memory are unknown), forgetting the leases.
//
// Thread-safety: owned and used by the writer thread only, except
// LaneCounts() and live(), which any thread may call.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "queue/backoff.h"
#include "queue/queue.h"
#include "queue/segment.h"
#include "queue/sqlite_util.h"

namespace crmhub::queue::internal {

struct WriterConfig {
  RetryPolicy default_policy;
  std::map<std::string, RetryPolicy> lane_policies;
  std::chrono::milliseconds dedup_retention{std::chrono::hours(24 * 7)};
  JitterFn jitter;
  int64_t first_token = 1;  // lease tokens count up from here
  // Decoded segment blobs kept in memory for leases (recent ones mostly:
  // a consumer leases what was just enqueued), bytes.
  int64_t segment_cache_bytes = 64 << 20;
};

class WriterStore {
 public:
  WriterStore(Db db, WriterConfig config);

  // Creates the schema if needed (migrating schema 1-3 files: their message
  // rows become segments, their dedup rows segment_keys, and schema 1-2
  // leases one lease batch due at `now`), prepares statements and builds the
  // index from the segments.
  Status Init(SystemTime now);

  Status Begin();
  // Writes the transaction's segments, bitmaps and counters, then commits.
  Status Commit();
  // Rebuilds the index at the next Begin and forgets every lease (their
  // messages are due again): what the rolled-back transaction did is unknown.
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
  // times in a row goes to the dead letters. Runs its own transaction.
  // `suspects` and `dead` are set to how many were counted / moved.
  Status RecoverInFlight(SystemTime now, int poison_after, int64_t* suspects, int64_t* dead);
  // One settlement (Queue::Settle): dispatches to Ack, Retry or Fail.
  Status Settle(const Settlement& settlement, SystemTime now, Status* outcome);
  Status Ack(const LeaseToken& lease, SystemTime now, Status* outcome);
  Status Retry(const LeaseToken& lease, const std::string& error,
               std::optional<SystemTime> not_before, bool throttled, SystemTime now,
               Status* outcome);
  Status Fail(const LeaseToken& lease, const std::string& error, SystemTime now, Status* outcome);

  Status Replay(int64_t id, SystemTime now, Status* outcome);
  Status ReplayAll(const std::optional<std::string>& lane, SystemTime now, int64_t* count);
  Status Drop(int64_t id, Status* outcome);
  Status Purge(SystemTime cutoff, int64_t* count);
  Status PutState(const std::string& key, const std::string& value, SystemTime now);

  // Forgets the dedup keys of up to `limit` segment_keys rows older than the
  // retention window (oldest first; from memory, and the rows) and gives up
  // to `vacuum_pages` free pages back to the file system. *pruned: the keys
  // forgotten.
  Status Maintain(SystemTime now, int limit, int vacuum_pages, int64_t* pruned);

  Db& db() { return db_; }

  // Undelivered messages by lane at `now_ms` (Stats): ready, delayed, leased
  // and the oldest created_at; dead stays 0.
  std::map<std::string, LaneStats> LaneCounts(int64_t now_ms) const;
  // Undelivered messages as of the last commit (or open).
  int64_t live() const;

 private:
  // One undelivered message in the index.
  struct Entry {
    int64_t segment = 0;  // where its entry lies
    uint32_t index = 0;   // its bit in the segment's bitmap
    size_t offset = 0;    // into the segment's body
    std::string lane;
    std::string ordering_key;
    int64_t created_ms = 0;
    int64_t due_ms = 0;
    // Deliveries so far: persisted attempts + crashes + deliveries started
    // by this process (Lease adds one; the poison rule's crashes count too).
    int attempts = 0;
    int crashes = 0;  // the crashes row
    // The lease (token 0: none).
    int64_t token = 0;
    int64_t expires_ms = 0;
    int64_t batch = 0;  // its lease_batches row
  };
  struct Lane {
    std::set<std::pair<int64_t, int64_t>> due;     // (due_ms, id): leasable when due
    std::set<std::pair<int64_t, int64_t>> leased;  // (expires_ms, id)
    // Ordering key -> its messages' ids: only the lowest is leasable.
    std::unordered_map<std::string, std::set<int64_t>> by_key;
  };
  struct Segment {
    std::string lane;
    uint32_t count = 0;  // entries
    uint32_t live = 0;   // not settled
    std::string settled;
    bool written = false;  // its row exists (else it is being built)
    bool dirty = false;    // settled changed in this transaction
  };
  // The segment a transaction is building for a lane.
  struct Building {
    int64_t id = 0;
    int64_t created_ms = 0;
    std::string body;
  };

  const RetryPolicy& PolicyFor(const std::string& lane) const;
  // Rebuilds the index from the database; keeps the leases of messages
  // still there when `keep_leases`. Requires mu_.
  Status LoadLocked(bool keep_leases);
  // Appends `e` to the lane's segment of this transaction and indexes it
  // (a message already indexed moves there). Requires mu_.
  void PlaceLocked(const std::string& lane, const EntryRef& e, int crashes, int attempts,
                   int64_t now_ms);
  // The body of segment `id` (built, cached, or read from the database).
  Status BodyOf(int64_t segment, std::string_view* body);
  // The message's full entry.
  Status ReadEntryOf(const Entry& entry, SegmentEntry* out);
  // Marks the message's entry settled in its segment. Requires mu_.
  void SettleEntryLocked(const Entry& entry);
  // Takes the message out of the index (delivered or dead). Requires mu_.
  Status RemoveLocked(int64_t id);
  // Leasable-set upkeep for ordering keys. Requires mu_.
  void AddToKeyLocked(Lane& lane, int64_t id, const Entry& entry);
  void RemoveFromKeyLocked(Lane& lane, int64_t id, const Entry& entry);
  // Ends the lease of a message (if any); deletes its batch row once the
  // batch has no lease left. Requires mu_.
  Status ReleaseLocked(int64_t id, Entry& entry);
  // The live lease `lease` names, or nullptr when its token is stale.
  Entry* FindLiveLocked(const LeaseToken& lease, int64_t now_ms);
  Status SetCrashes(int64_t id, int n);
  // Moves the message to the dead letters (`full`: its entry, history
  // included) and out of the index. Requires mu_.
  Status ToDeadLetterLocked(int64_t id, const std::string& reason, SegmentEntry full, int attempts,
                            int64_t now_ms);
  Status ReplayRow(const Stmt& row, SystemTime now);
  void CacheBody(int64_t segment, std::shared_ptr<const std::string> body);

  Db db_;
  WriterConfig config_;
  int64_t next_token_;
  int64_t depth_delta_ = 0;
  int64_t next_id_ = 1;            // message ids
  int64_t next_segment_ = 1;       // segment ids
  int64_t persisted_next_id_ = 0;  // counters as written
  int64_t persisted_next_segment_ = 0;
  int64_t data_version_ = 0;  // PRAGMA data_version after our last transaction
  bool reload_ = false;       // rebuild the index at the next Begin (after a rollback)

  // Guards the index: written by the writer thread, read by LaneCounts().
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Entry> entries_;  // by message id
  std::unordered_map<std::string, Lane> lanes_;
  std::unordered_map<int64_t, Segment> segments_;
  std::unordered_map<std::string, Building> building_;  // by lane, this transaction
  std::vector<int64_t> dirty_;                          // segments to write at Commit
  std::string pending_keys_;                            // accepted in this transaction
  int64_t keys_accepted_ms_ = 0;                        // when (the newest)
  std::atomic<int64_t> committed_live_{0};              // entries_.size() at the last commit
  std::unordered_map<std::string, int64_t> dedup_;      // source '\0' key -> accepted ms
  std::unordered_map<int64_t, int64_t> batch_open_;     // lease batch row -> leases left

  std::unordered_map<int64_t, std::shared_ptr<const std::string>> cache_;
  std::deque<int64_t> cache_order_;
  int64_t cache_bytes_ = 0;

  Stmt begin_, commit_, rollback_, data_version_stmt_;
  Stmt insert_segment_, insert_keys_, upsert_settled_, delete_segment_, delete_settled_;
  Stmt select_body_, upsert_counter_, upsert_crashes_, delete_crashes_;
  Stmt lease_batch_insert_, lease_batch_delete_;
  Stmt to_dead_, replay_select_, replay_all_select_, delete_dead_;
  Stmt drop_dead_, purge_;
  Stmt put_state_, expired_keys_, delete_keys_;
};

}  // namespace crmhub::queue::internal
