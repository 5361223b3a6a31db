#pragma once
// The on-disk schema of the SQLite queue (docs/queue.md describes it).

namespace crmhub::queue::internal {

// 1: the first schema. 2: messages.crashes (the poison-message rule).
// 3: lease_batches; leases no longer rewrite messages (lease_token unused).
inline constexpr int kSchemaVersion = 3;

// auto_vacuum must be chosen before the first table exists; the writer sets
// it, then WAL, then runs this inside one transaction.
inline constexpr const char* kSchemaSql = R"sql(
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
CREATE INDEX IF NOT EXISTS messages_due ON messages(lane, next_attempt_at);
CREATE INDEX IF NOT EXISTS messages_order ON messages(lane, ordering_key)
  WHERE ordering_key <> '';
CREATE TABLE IF NOT EXISTS dedup (
  source TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  accepted_at INTEGER NOT NULL,
  PRIMARY KEY (source, idem_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_age ON dedup(accepted_at);
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

// Columns read into a Message, in this order, by every SELECT that builds one.
inline constexpr const char* kMessageColumns =
    "id, lane, source, idem_key, ordering_key, headers, payload, attempts, first_error, "
    "last_error, created_at, next_attempt_at, lease_token, history";

inline constexpr const char* kDeadLetterColumns =
    "id, lane, source, idem_key, ordering_key, headers, payload, attempts, reason, history, "
    "created_at, failed_at";

}  // namespace crmhub::queue::internal
