#include "queue/sqlite_writer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "queue/give_up.h"
#include "queue/sqlite_schema.h"

namespace crmhub::queue::internal {
namespace {

// The subquery repeats `ordering_key <> ''` (implied by the OR) so that
// SQLite may use the partial index messages_order: without it every
// candidate scanned its whole lane (1 s per lease at 40,000 queued).
constexpr const char* kLeaseSelect =
    "SELECT id, lane, source, idem_key, ordering_key, headers, payload, attempts, first_error, "
    "last_error, created_at, next_attempt_at, lease_token, history, crashes FROM messages AS m "
    "WHERE m.lane = ?1 AND m.next_attempt_at <= ?2 AND (m.next_attempt_at, m.id) > (?4, ?5) "
    "AND (m.ordering_key = '' OR NOT EXISTS ("
    "  SELECT 1 FROM messages AS p WHERE p.lane = m.lane AND p.ordering_key = m.ordering_key"
    "  AND p.ordering_key <> '' AND p.id < m.id)) "
    "ORDER BY m.next_attempt_at, m.id LIMIT ?3";

// Whether a lane holds any message with an ordering key (the partial index
// messages_order answers it with one probe).
constexpr const char* kLaneOrderedSelect =
    "SELECT 1 FROM messages WHERE lane = ?1 AND ordering_key <> '' LIMIT 1";

// A lease batch's ids: i64 little endian each.
std::string EncodeIds(const std::vector<int64_t>& ids) {
  std::string out;
  out.reserve(ids.size() * 8);
  for (int64_t id : ids) {
    uint64_t v = static_cast<uint64_t>(id);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return out;
}

std::vector<int64_t> DecodeIds(std::string_view blob) {
  std::vector<int64_t> ids;
  for (size_t at = 0; at + 8 <= blob.size(); at += 8) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(blob[at + i])} << (8 * i);
    ids.push_back(static_cast<int64_t>(v));
  }
  return ids;
}

// Why a message whose lease expired is not delivered again (nullopt: it is).
std::optional<std::string> ExpiredLeaseVerdict(const RetryPolicy& policy, int attempts,
                                               int64_t created_ms, int64_t now_ms) {
  if (attempts >= policy.max_attempts) {
    return "lease expired on attempt " + std::to_string(attempts) + " of max_attempts " +
           std::to_string(policy.max_attempts);
  }
  if (now_ms - created_ms >= policy.max_age.count()) return "lease expired past max_age";
  return std::nullopt;
}

// Schema 1-2 leases (in the rows) -> one lease batch, due at `now_ms`.
Status MigrateOldLeases(Db& db, int64_t now_ms) {
  auto old = db.Prepare(kOldLeasesSql);
  if (!old.ok()) return old.status();
  std::vector<int64_t> ids;
  int rc;
  while ((rc = old->Step()) == SQLITE_ROW) ids.push_back(old->Int(0));
  old->Reset();
  if (rc != SQLITE_DONE) return SqliteStatus(db.raw(), rc, "migrate: leases");
  if (ids.empty()) return Status::Ok();
  auto insert = db.Prepare("INSERT INTO lease_batches(ids) VALUES(?1)");
  if (!insert.ok()) return insert.status();
  const std::string blob = EncodeIds(ids);  // bound SQLITE_STATIC: must outlive Run
  insert->BindBlob(1, blob);
  CRMHUB_RETURN_IF_ERROR(insert->Run("migrate: lease batch"));
  auto clear = db.Prepare(kClearOldLeasesSql);
  if (!clear.ok()) return clear.status();
  clear->Bind(1, now_ms);
  return clear->Run("migrate: clear leases");
}

}  // namespace

WriterStore::WriterStore(Db db, WriterConfig config)
    : db_(std::move(db)), config_(std::move(config)), next_token_(config_.first_token) {}

Status WriterStore::Init(SystemTime now) {
  // auto_vacuum only takes effect before the first table is created.
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  auto mode = db_.QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") return Status::IoError("queue: cannot switch to WAL (got " + *mode + ")");
  // NORMAL: COMMIT writes the WAL frames without an fsync; SqliteQueue's
  // flusher syncs the WAL (WalSyncer) before it answers anyone, so every
  // answered write is still fsync'd, and the writer thread can run the next
  // transaction meanwhile. Checkpoints still sync the WAL before and the
  // database after copying (SQLite does that at NORMAL too).
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=NORMAL"));
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA journal_size_limit=67108864"));
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA wal_autocheckpoint=8192"));
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA cache_size=-8192"));
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA foreign_keys=OFF"));
  // Statement journals (for a statement's own rollback inside a batch) in
  // memory rather than temp files: they never carry durability.
  CRMHUB_RETURN_IF_ERROR(db_.Exec("PRAGMA temp_store=MEMORY"));

  auto version = db_.QueryInt("PRAGMA user_version");
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition("queue: database schema version " + std::to_string(*version) +
                                      " is newer than this binary's " +
                                      std::to_string(kSchemaVersion));
  }
  if (*version < kSchemaVersion) {
    CRMHUB_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    // A version-1 database gains the column; a new one is created whole
    // (CREATE ... IF NOT EXISTS leaves existing tables as they are).
    Status st = *version == 1 ? db_.Exec(kMigrateTo2Sql) : Status::Ok();
    if (st.ok()) st = db_.Exec(kSchemaSql);
    // Leases of schema 1-2 (in the rows) become one lease batch.
    if (st.ok() && *version >= 1) st = MigrateOldLeases(db_, ToUnixMillis(now));
    if (st.ok()) st = db_.Exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
    if (st.ok()) st = db_.Exec("COMMIT");
    if (!st.ok()) {
      (void)db_.Exec("ROLLBACK");
      return st;
    }
  }

  struct Def {
    Stmt* stmt;
    const char* sql;
  };
  const Def defs[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&dedup_upsert_,
       "INSERT INTO dedup(source, idem_key, accepted_at) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(source, idem_key) DO UPDATE SET accepted_at = excluded.accepted_at "
       "WHERE dedup.accepted_at < ?4"},
      {&insert_msg_,
       "INSERT INTO messages(lane, source, idem_key, ordering_key, headers, payload, "
       "created_at, next_attempt_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&lease_select_, kLeaseSelect},
      {&lane_ordered_, kLaneOrderedSelect},
      {&lease_batch_insert_, "INSERT INTO lease_batches(ids) VALUES(?1)"},
      {&lease_batch_delete_, "DELETE FROM lease_batches WHERE id = ?1"},
      {&ack_, "DELETE FROM messages WHERE id = ?1"},
      {&load_live_,
       "SELECT lane, attempts, created_at, first_error, history FROM messages WHERE id = ?1"},
      {&retry_update_,
       "UPDATE messages SET crashes = 0, next_attempt_at = ?2, attempts = ?5, "
       "first_error = COALESCE(first_error, ?3), last_error = ?3, history = ?4 WHERE id = ?1"},
      {&to_dead_,
       "INSERT INTO dead_letters(id, lane, source, idem_key, ordering_key, headers, payload, "
       "attempts, reason, history, created_at, failed_at) SELECT id, lane, source, idem_key, "
       "ordering_key, headers, payload, ?5, ?2, ?3, created_at, ?4 FROM messages "
       "WHERE id = ?1"},
      {&delete_msg_, "DELETE FROM messages WHERE id = ?1"},
      // A replayed message keeps its id (AUTOINCREMENT never hands a used
      // id out again, so it is free) and its history; attempts start over
      // and max_age counts from the replay.
      {&replay_,
       "INSERT INTO messages(id, lane, source, idem_key, ordering_key, headers, payload, "
       "history, created_at, next_attempt_at) SELECT id, lane, source, idem_key, ordering_key, "
       "headers, payload, history, ?2, ?2 FROM dead_letters WHERE id = ?1"},
      {&replay_all_,
       "INSERT INTO messages(id, lane, source, idem_key, ordering_key, headers, payload, "
       "history, created_at, next_attempt_at) SELECT id, lane, source, idem_key, ordering_key, "
       "headers, payload, history, ?2, ?2 FROM dead_letters WHERE ?1 IS NULL OR lane = ?1 "
       "ORDER BY id"},
      {&delete_dead_, "DELETE FROM dead_letters WHERE id = ?1"},
      {&delete_dead_lane_, "DELETE FROM dead_letters WHERE ?1 IS NULL OR lane = ?1"},
      {&purge_, "DELETE FROM dead_letters WHERE failed_at < ?1"},
      {&put_state_,
       "INSERT INTO state(key, value, updated_at) VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE "
       "SET value = excluded.value, updated_at = excluded.updated_at"},
      {&prune_dedup_,
       "DELETE FROM dedup WHERE (source, idem_key) IN (SELECT source, idem_key FROM dedup "
       "WHERE accepted_at < ?1 LIMIT ?2)"},
  };
  for (const Def& d : defs) {
    auto stmt = db_.Prepare(d.sql);
    if (!stmt.ok()) return stmt.status();
    *d.stmt = std::move(stmt).value();
  }
  return Status::Ok();
}

Status WriterStore::Begin() {
  depth_delta_ = 0;
  return begin_.Run("begin");
}

Status WriterStore::Commit() { return commit_.Run("commit"); }

void WriterStore::Rollback() {
  // Fails harmlessly when SQLite already rolled back after an I/O error.
  (void)rollback_.Run("rollback");
  depth_delta_ = 0;
  floors_.clear();
  std::lock_guard lock(in_flight_mu_);
  in_flight_.clear();
  batch_open_.clear();
  lane_in_flight_.clear();
}

std::map<std::string, int64_t> WriterStore::LiveLeases(int64_t now_ms) const {
  std::map<std::string, int64_t> out;
  std::lock_guard lock(in_flight_mu_);
  for (const auto& [id, f] : in_flight_) {
    if (f.expires_ms > now_ms) ++out[f.lane];
  }
  return out;
}

const WriterStore::InFlight* WriterStore::FindLive(const LeaseToken& lease, int64_t now_ms) const {
  auto it = in_flight_.find(lease.message_id);
  if (it == in_flight_.end() || it->second.token != lease.token ||
      it->second.expires_ms <= now_ms) {
    return nullptr;
  }
  return &it->second;
}

Status WriterStore::ReleaseLocked(int64_t id) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return Status::Ok();
  const int64_t batch = it->second.batch;
  if (--lane_in_flight_[it->second.lane] <= 0) lane_in_flight_.erase(it->second.lane);
  in_flight_.erase(it);
  auto b = batch_open_.find(batch);
  if (b != batch_open_.end() && --b->second <= 0) {
    batch_open_.erase(b);
    lease_batch_delete_.Bind(1, batch);
    return lease_batch_delete_.Run("lease: delete batch");
  }
  return Status::Ok();
}

void WriterStore::ForgetFloorAbove(const std::string& lane, int64_t due_ms, int64_t id) {
  auto f = floors_.find(lane);
  if (f == floors_.end()) return;
  if (due_ms < f->second.at_ms || (due_ms == f->second.at_ms && id <= f->second.id)) {
    floors_.erase(f);
  }
}

const RetryPolicy& WriterStore::PolicyFor(const std::string& lane) const {
  auto it = config_.lane_policies.find(lane);
  return it == config_.lane_policies.end() ? config_.default_policy : it->second;
}

Status WriterStore::Enqueue(std::span<const NewMessage> batch, SystemTime now,
                            std::vector<EnqueueOutcome>* outcomes) {
  const int64_t now_ms = ToUnixMillis(now);
  const int64_t cutoff_ms = now_ms - config_.dedup_retention.count();
  outcomes->clear();
  outcomes->reserve(batch.size());
  for (const NewMessage& m : batch) {
    // A key is new when no record exists, or its record is older than the
    // retention window but not yet pruned (the upsert refreshes it then).
    dedup_upsert_.Bind(1, m.source).Bind(2, m.idempotency_key).Bind(3, now_ms).Bind(4, cutoff_ms);
    CRMHUB_RETURN_IF_ERROR(dedup_upsert_.Run("enqueue: dedup"));
    if (db_.Changes() == 0) {
      outcomes->push_back(EnqueueOutcome::kDuplicate);
      continue;
    }
    const std::string headers = EncodeHeaders(m.headers);
    const int64_t due_ms = m.not_before ? std::max(now_ms, ToUnixMillis(*m.not_before)) : now_ms;
    insert_msg_.Bind(1, m.lane).Bind(2, m.source).Bind(3, m.idempotency_key);
    insert_msg_.Bind(4, m.ordering_key).BindBlob(5, headers).BindBlob(6, m.payload);
    insert_msg_.Bind(7, now_ms).Bind(8, due_ms);
    CRMHUB_RETURN_IF_ERROR(insert_msg_.Run("enqueue: insert"));
    ForgetFloorAbove(m.lane, due_ms, sqlite3_last_insert_rowid(db_.raw()));
    outcomes->push_back(EnqueueOutcome::kAccepted);
    ++depth_delta_;
  }
  return Status::Ok();
}

Status WriterStore::Lease(const std::string& lane, int max, std::chrono::milliseconds duration,
                          SystemTime now, std::vector<Leased>* out) {
  const int64_t now_ms = ToUnixMillis(now);
  const RetryPolicy& policy = PolicyFor(lane);
  struct Expired {
    int64_t id;
    std::string reason;
    std::string history;
    int attempts;
  };
  std::vector<Expired> expired;
  std::vector<int> attempts_of;  // of each in *out
  out->clear();
  std::lock_guard lock(in_flight_mu_);
  // Where the scan may start (LeaseFloor in the header): past the rows every
  // earlier scan accounted for, unless that may miss a row.
  std::optional<LeaseFloor> floor;
  if (auto f = floors_.find(lane); f != floors_.end()) {
    floor = f->second;
    floors_.erase(f);  // rebuilt below from this scan
    if (now_ms >= floor->valid_until_ms || now_ms < floor->at_ms) floor.reset();
  }
  // A row held back by an earlier message of its ordering key is filtered
  // out by the query, unseen: a floor could pass it and it would wait.
  lane_ordered_.Bind(1, lane);
  const int ordered_rc = lane_ordered_.Step();
  lane_ordered_.Reset();
  if (ordered_rc != SQLITE_ROW && ordered_rc != SQLITE_DONE) {
    return SqliteStatus(db_.raw(), ordered_rc, "lease: ordering keys");
  }
  const bool ordered = ordered_rc == SQLITE_ROW;
  if (ordered) floor.reset();
  // Rows leased now are due in the database too: skip them, reading at most
  // that many rows more.
  auto held = lane_in_flight_.find(lane);
  const int64_t limit = int64_t{max} + (held == lane_in_flight_.end() ? 0 : held->second);
  lease_select_.Bind(1, lane).Bind(2, now_ms).Bind(3, limit);
  lease_select_.Bind(4, floor ? floor->at_ms : std::numeric_limits<int64_t>::min());
  lease_select_.Bind(5, floor ? floor->id : std::numeric_limits<int64_t>::min());
  // The new floor: the last row this scan accounted for (handed out, held by
  // a live lease, or expired into the dead letters), and the earliest expiry
  // of a lease below it.
  LeaseFloor next = floor.value_or(LeaseFloor{});
  bool advanced = false;
  auto account = [&](int64_t at_ms, int64_t id, int64_t expires_ms) {
    next.at_ms = at_ms;
    next.id = id;
    next.valid_until_ms = std::min(next.valid_until_ms, expires_ms);
    advanced = true;
  };
  int rc = SQLITE_DONE;
  while (static_cast<int>(out->size()) < max && (rc = lease_select_.Step()) == SQLITE_ROW) {
    const int64_t id = lease_select_.Int(0);
    const int64_t due_ms = lease_select_.Int(11);
    // Deliveries that ended with the process (counted at the daemon's open,
    // the poison rule's `crashes`) are deliveries too: a message redelivered
    // after a crash must not look like a first delivery to a target that
    // reads before it writes again (adapters::Command::attempt).
    int attempts = static_cast<int>(lease_select_.Int(7) + lease_select_.Int(14));
    auto live = in_flight_.find(id);
    if (live != in_flight_.end()) {
      if (live->second.expires_ms > now_ms) {  // leased to someone now
        account(due_ms, id, live->second.expires_ms);
        continue;
      }
      // A lease that expired unsettled: that delivery counts.
      attempts = live->second.attempts;
      if (auto verdict = ExpiredLeaseVerdict(policy, attempts, lease_select_.Int(10), now_ms)) {
        std::string history = lease_select_.Text(13);
        AppendAttempt(&history, now, *verdict);
        expired.push_back({id, std::move(*verdict), std::move(history), attempts});
        account(due_ms, id, std::numeric_limits<int64_t>::max());
        continue;
      }
    }
    // A suspect (in flight when the process last died) is delivered alone,
    // so that if it kills the process again, it alone is blamed.
    const bool suspect = lease_select_.Int(14) > 0;
    if (suspect && !out->empty()) break;
    Leased l;
    Message& m = l.message;
    m.id = id;
    m.lane = lease_select_.Text(1);
    m.source = lease_select_.Text(2);
    m.idempotency_key = lease_select_.Text(3);
    m.ordering_key = lease_select_.Text(4);
    m.headers = DecodeHeaders(lease_select_.Text(5));
    m.payload = lease_select_.Text(6);
    m.attempts = attempts + 1;
    m.first_error = lease_select_.Text(8);
    m.last_error = lease_select_.Text(9);
    m.created_at = FromUnixMillis(lease_select_.Int(10));
    m.next_attempt_at = FromUnixMillis(lease_select_.Int(11));
    l.lease = {m.id, next_token_++};
    l.lease_expires_at = now + duration;
    out->push_back(std::move(l));
    account(due_ms, id, now_ms + duration.count());
    if (suspect) break;
  }
  lease_select_.Reset();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteStatus(db_.raw(), rc, "lease: select");
  if (!ordered && (advanced || floor)) floors_[lane] = next;

  for (const Expired& e : expired) {
    CRMHUB_RETURN_IF_ERROR(ReleaseLocked(e.id));
    CRMHUB_RETURN_IF_ERROR(ToDeadLetter(e.id, e.reason, e.history, e.attempts, now));
  }
  if (out->empty()) return Status::Ok();
  // One durable record for the batch: what is in flight, for the poison rule.
  std::vector<int64_t> ids;
  ids.reserve(out->size());
  for (const Leased& l : *out) ids.push_back(l.message.id);
  const std::string blob = EncodeIds(ids);  // bound SQLITE_STATIC: must outlive Run
  lease_batch_insert_.BindBlob(1, blob);
  CRMHUB_RETURN_IF_ERROR(lease_batch_insert_.Run("lease: batch"));
  const int64_t batch = sqlite3_last_insert_rowid(db_.raw());
  const int64_t expires_ms = now_ms + duration.count();
  for (const Leased& l : *out) {
    CRMHUB_RETURN_IF_ERROR(ReleaseLocked(l.message.id));  // an expired lease of it
    in_flight_[l.message.id] =
        InFlight{l.lease.token, expires_ms, l.message.attempts, batch, l.message.lane};
    ++lane_in_flight_[l.message.lane];
  }
  batch_open_[batch] = static_cast<int64_t>(out->size());
  return Status::Ok();
}

Status WriterStore::RecoverInFlight(SystemTime now, int poison_after, int64_t* suspects,
                                    int64_t* dead) {
  *suspects = 0;
  *dead = 0;
  CRMHUB_RETURN_IF_ERROR(begin_.Run("recover: begin"));
  auto rollback = [&](Status st) {
    Rollback();
    return st;
  };
  auto batches = db_.Prepare("SELECT ids FROM lease_batches");
  if (!batches.ok()) return rollback(batches.status());
  std::vector<int64_t> ids;
  int rc;
  while ((rc = batches->Step()) == SQLITE_ROW) {
    for (int64_t id : DecodeIds(batches->Text(0))) ids.push_back(id);
  }
  batches->Reset();
  if (rc != SQLITE_DONE) return rollback(SqliteStatus(db_.raw(), rc, "recover: batches"));
  // A message in two batches (leased again after an expiry) counts once.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto count = db_.Prepare("UPDATE messages SET crashes = crashes + 1 WHERE id = ?1");
  if (!count.ok()) return rollback(count.status());
  for (int64_t id : ids) {
    count->Bind(1, id);
    if (Status st = count->Run("recover: count"); !st.ok()) return rollback(st);
    *suspects += db_.Changes();
  }
  if (Status st = db_.Exec("DELETE FROM lease_batches"); !st.ok()) return rollback(st);
  auto poisoned =
      db_.Prepare("SELECT id, crashes, history, attempts FROM messages WHERE crashes >= ?1");
  if (!poisoned.ok()) return rollback(poisoned.status());
  poisoned->Bind(1, int64_t{poison_after});
  struct Poisoned {
    int64_t id;
    std::string reason;
    std::string history;
    int attempts;
  };
  std::vector<Poisoned> found;
  while ((rc = poisoned->Step()) == SQLITE_ROW) {
    std::string reason = "poison message: in flight when the process ended " +
                         std::to_string(poisoned->Int(1)) +
                         " times in a row (its delivery may crash the daemon; see "
                         "docs/operations.md, \"Poison messages\")";
    std::string history = poisoned->Text(2);
    AppendAttempt(&history, now, reason);
    // The deliveries that ended with the process count as attempts.
    const int attempts = static_cast<int>(poisoned->Int(3) + poisoned->Int(1));
    found.push_back({poisoned->Int(0), std::move(reason), std::move(history), attempts});
  }
  poisoned->Reset();
  if (rc != SQLITE_DONE) return rollback(SqliteStatus(db_.raw(), rc, "recover: select"));
  for (const Poisoned& p : found) {
    if (Status st = ToDeadLetter(p.id, p.reason, p.history, p.attempts, now); !st.ok()) {
      return rollback(st);
    }
  }
  *dead = static_cast<int64_t>(found.size());
  return commit_.Run("recover: commit");
}

Status WriterStore::Settle(const Settlement& settlement, SystemTime now, Status* outcome) {
  switch (settlement.kind) {
    case Settlement::Kind::kAck:
      return Ack(settlement.lease, now, outcome);
    case Settlement::Kind::kRetry:
      return Retry(settlement.lease, settlement.reason, settlement.not_before, now, outcome);
    case Settlement::Kind::kFail:
      return Fail(settlement.lease, settlement.reason, now, outcome);
  }
  *outcome = Status::InvalidArgument("settle: unknown kind");
  return Status::Ok();
}

Status WriterStore::Ack(const LeaseToken& lease, SystemTime now, Status* outcome) {
  std::lock_guard lock(in_flight_mu_);
  const bool live = FindLive(lease, ToUnixMillis(now)) != nullptr;
  if (live) {
    CRMHUB_RETURN_IF_ERROR(ReleaseLocked(lease.message_id));
    ack_.Bind(1, lease.message_id);
    CRMHUB_RETURN_IF_ERROR(ack_.Run("ack"));
  }
  if (!live || db_.Changes() == 0) {
    *outcome =
        Status::FailedPrecondition("ack: lease of message " + std::to_string(lease.message_id) +
                                   " is stale (expired or already settled)");
  } else {
    *outcome = Status::Ok();
    --depth_delta_;
  }
  return Status::Ok();
}

Status WriterStore::LoadLive(const LeaseToken& lease, SystemTime now, std::optional<LiveRow>* row) {
  row->reset();
  const InFlight* live = FindLive(lease, ToUnixMillis(now));
  if (live == nullptr) return Status::Ok();
  const int attempts = live->attempts;
  CRMHUB_RETURN_IF_ERROR(ReleaseLocked(lease.message_id));
  load_live_.Bind(1, lease.message_id);
  int rc = load_live_.Step();
  if (rc == SQLITE_ROW) {
    LiveRow r;
    r.lane = load_live_.Text(0);
    r.attempts = attempts;
    r.created_at = load_live_.Int(2);
    r.first_error = load_live_.Text(3);
    r.history = load_live_.Text(4);
    *row = std::move(r);
  }
  load_live_.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load lease");
  return Status::Ok();
}

Status WriterStore::ToDeadLetter(int64_t id, const std::string& reason, const std::string& history,
                                 int attempts, SystemTime now) {
  to_dead_.Bind(1, id).Bind(2, reason).BindBlob(3, history).Bind(4, ToUnixMillis(now));
  to_dead_.Bind(5, int64_t{attempts});
  CRMHUB_RETURN_IF_ERROR(to_dead_.Run("dead letter: insert"));
  delete_msg_.Bind(1, id);
  CRMHUB_RETURN_IF_ERROR(delete_msg_.Run("dead letter: delete"));
  --depth_delta_;
  return Status::Ok();
}

Status WriterStore::Retry(const LeaseToken& lease, const std::string& error,
                          std::optional<SystemTime> not_before, SystemTime now, Status* outcome) {
  std::lock_guard lock(in_flight_mu_);
  std::optional<LiveRow> row;
  CRMHUB_RETURN_IF_ERROR(LoadLive(lease, now, &row));
  if (!row) {
    *outcome = Status::FailedPrecondition("retry: lease of message " +
                                          std::to_string(lease.message_id) + " is stale");
    return Status::Ok();
  }
  *outcome = Status::Ok();
  AppendAttempt(&row->history, now, error);
  const RetryPolicy& policy = PolicyFor(row->lane);
  const int64_t now_ms = ToUnixMillis(now);
  if (RetryGivesUp(policy, row->attempts, FromUnixMillis(row->created_at), now)) {
    return ToDeadLetter(
        lease.message_id,
        GaveUpReason(policy, row->attempts, FromUnixMillis(row->created_at), now, error),
        row->history, row->attempts, now);
  }
  // A caller's not_before (Retry-After) replaces the computed backoff.
  const int64_t due_ms =
      not_before ? std::max(now_ms, ToUnixMillis(*not_before))
                 : now_ms + ComputeBackoff(policy, row->attempts, config_.jitter).count();
  ForgetFloorAbove(row->lane, due_ms, lease.message_id);
  retry_update_.Bind(1, lease.message_id).Bind(2, due_ms).Bind(3, error).BindBlob(4, row->history);
  retry_update_.Bind(5, int64_t{row->attempts});
  return retry_update_.Run("retry: update");
}

Status WriterStore::Fail(const LeaseToken& lease, const std::string& error, SystemTime now,
                         Status* outcome) {
  std::lock_guard lock(in_flight_mu_);
  std::optional<LiveRow> row;
  CRMHUB_RETURN_IF_ERROR(LoadLive(lease, now, &row));
  if (!row) {
    *outcome = Status::FailedPrecondition("fail: lease of message " +
                                          std::to_string(lease.message_id) + " is stale");
    return Status::Ok();
  }
  *outcome = Status::Ok();
  AppendAttempt(&row->history, now, error);
  return ToDeadLetter(lease.message_id, error, row->history, row->attempts, now);
}

Status WriterStore::Replay(int64_t id, SystemTime now, Status* outcome) {
  floors_.clear();  // the row comes back with its old id, maybe below a floor
  replay_.Bind(1, id).Bind(2, ToUnixMillis(now));
  CRMHUB_RETURN_IF_ERROR(replay_.Run("replay: insert"));
  if (db_.Changes() == 0) {
    *outcome = Status::NotFound("dead letter " + std::to_string(id) + " not found");
    return Status::Ok();
  }
  delete_dead_.Bind(1, id);
  CRMHUB_RETURN_IF_ERROR(delete_dead_.Run("replay: delete"));
  ++depth_delta_;
  *outcome = Status::Ok();
  return Status::Ok();
}

Status WriterStore::ReplayAll(const std::optional<std::string>& lane, SystemTime now,
                              int64_t* count) {
  floors_.clear();
  if (lane) {
    replay_all_.Bind(1, *lane);
  } else {
    replay_all_.BindNull(1);
  }
  replay_all_.Bind(2, ToUnixMillis(now));
  CRMHUB_RETURN_IF_ERROR(replay_all_.Run("replay all: insert"));
  *count = db_.Changes();
  if (lane) {
    delete_dead_lane_.Bind(1, *lane);
  } else {
    delete_dead_lane_.BindNull(1);
  }
  CRMHUB_RETURN_IF_ERROR(delete_dead_lane_.Run("replay all: delete"));
  depth_delta_ += *count;
  return Status::Ok();
}

Status WriterStore::Drop(int64_t id, Status* outcome) {
  delete_dead_.Bind(1, id);
  CRMHUB_RETURN_IF_ERROR(delete_dead_.Run("drop"));
  *outcome = db_.Changes() == 0
                 ? Status::NotFound("dead letter " + std::to_string(id) + " not found")
                 : Status::Ok();
  return Status::Ok();
}

Status WriterStore::Purge(SystemTime cutoff, int64_t* count) {
  purge_.Bind(1, ToUnixMillis(cutoff));
  CRMHUB_RETURN_IF_ERROR(purge_.Run("purge"));
  *count = db_.Changes();
  return Status::Ok();
}

Status WriterStore::PutState(const std::string& key, const std::string& value, SystemTime now) {
  put_state_.Bind(1, key).BindBlob(2, value).Bind(3, ToUnixMillis(now));
  return put_state_.Run("put state");
}

Status WriterStore::Maintain(SystemTime now, int limit, int vacuum_pages, int64_t* pruned) {
  prune_dedup_.Bind(1, ToUnixMillis(now) - config_.dedup_retention.count()).Bind(2, int64_t{limit});
  CRMHUB_RETURN_IF_ERROR(prune_dedup_.Run("prune dedup"));
  *pruned = db_.Changes();
  return db_.Exec("PRAGMA incremental_vacuum(" + std::to_string(vacuum_pages) + ")");
}

}  // namespace crmhub::queue::internal
