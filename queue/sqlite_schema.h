#pragma once
// The on-disk schema of the SQLite queue (docs/queue.md describes it).

namespace crmhub::queue::internal {

// 1: the first schema. 2: messages.crashes (the poison-message rule).
// 3: lease_batches; leases no longer rewrite messages (lease_token unused).
// 4: segments: the messages of a group commit in one row per lane, their
// settled bitmap and dedup keys beside it (the messages and dedup tables are
// emptied and no longer written; their rows become segments at open).
inline constexpr int kSchemaVersion = 4;

// auto_vacuum must be chosen before the first table exists; the writer sets
// it, then WAL, then runs this inside one transaction.
inline constexpr const char* kSchemaSql = R"sql(
-- Schema 1-3 stored one row per message here; from 4 on it stays empty
-- (rows found at open become segments), kept for readers of older files.
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lane TEXT NOT NULL,
  source TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  ordering_key TEXT NOT NULL DEFAULT '',
  headers BLOB,
  payload BLOB NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  first_error TEXT,
  last_error TEXT,
  history BLOB,
  created_at INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  lease_token INTEGER NOT NULL DEFAULT 0,  -- schema 1-2 only; 0 since 3
  crashes INTEGER NOT NULL DEFAULT 0
);
-- Schema 4 and later: the messages of one group commit on one lane (or of
-- the retries and replays it re-scheduled there), as one blob of entries
-- (queue/segment.h). Written once; deleted when every message is settled.
CREATE TABLE IF NOT EXISTS segments (
  id INTEGER PRIMARY KEY,
  lane TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  count INTEGER NOT NULL,
  body BLOB NOT NULL
);
-- Which messages of a segment are settled (bit i: entry i); a small row
-- rewritten by the commit that settles some, so the segment's blob is never
-- rewritten. No row: none settled yet.
CREATE TABLE IF NOT EXISTS segment_settled (
  id INTEGER PRIMARY KEY,
  settled BLOB NOT NULL
);
-- The (source, idempotency key) pairs a commit accepted, with their time
-- (queue/segment.h); kept for dedup_retention after their messages went.
CREATE TABLE IF NOT EXISTS segment_keys (
  id INTEGER PRIMARY KEY,
  accepted_at INTEGER NOT NULL,
  keys BLOB NOT NULL
);
-- Deliveries of a message cut short by the process (the poison rule), by
-- message id; a row only while it is non-zero.
CREATE TABLE IF NOT EXISTS crashes (
  id INTEGER PRIMARY KEY,
  n INTEGER NOT NULL
);
-- The next message id and segment id to hand out (AUTOINCREMENT's promise:
-- an id is never handed out twice, also after its message went).
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY,
  lane TEXT NOT NULL,
  source TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  ordering_key TEXT NOT NULL DEFAULT '',
  headers BLOB,
  payload BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  reason TEXT NOT NULL,
  history BLOB,
  created_at INTEGER NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_failed ON dead_letters(failed_at);
CREATE INDEX IF NOT EXISTS dead_letters_lane ON dead_letters(lane, id);
CREATE TABLE IF NOT EXISTS lease_batches (
  id INTEGER PRIMARY KEY,
  ids BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// From schema version 1 to 2.
inline constexpr const char* kMigrateTo2Sql =
    "ALTER TABLE messages ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0";

// Schema 1-2 kept leases in the message rows (lease_token, with the expiry
// in next_attempt_at). At the move to 3 they become one lease_batches row
// (the writer builds it from these ids; the poison rule counts them at the
// next daemon start) and are due again, as after any restart. Those schemas
// counted a delivery in `attempts` when it was leased; from 3 on, a delivery
// cut short by the process is counted in `crashes` instead (and Lease adds
// both), so the old count gives that delivery back.
inline constexpr const char* kOldLeasesSql = "SELECT id FROM messages WHERE lease_token <> 0";
inline constexpr const char* kClearOldLeasesSql =
    "UPDATE messages SET lease_token = 0, next_attempt_at = MIN(next_attempt_at, ?1), "
    "attempts = MAX(attempts - 1, 0) WHERE lease_token <> 0";

inline constexpr const char* kDeadLetterColumns =
    "id, lane, source, idem_key, ordering_key, headers, payload, attempts, reason, history, "
    "created_at, failed_at";

}  // namespace crmhub::queue::internal
