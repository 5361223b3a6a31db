#include "queue/sqlite_writer.h"

#include <algorithm>
#include <limits>
#include <string>

#include "queue/give_up.h"
#include "queue/sqlite_schema.h"

namespace crmhub::queue::internal {
namespace {

// Messages per segment written by the migration (a group commit's segment
// holds what the commit took: at most max_batch_size, unless one enqueue
// call brought more).
constexpr size_t kMigrationSegment = 4096;

constexpr const char* kNextIdCounter = "next_message_id";
constexpr const char* kNextSegmentCounter = "next_segment_id";

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

std::string DedupKeyOf(std::string_view source, std::string_view key) {
  std::string k;
  k.reserve(source.size() + 1 + key.size());
  k.append(source);
  k.push_back('\0');
  k.append(key);
  return k;
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

// Schema 1-3 rows -> schema 4: every message row becomes an entry of a
// segment of its lane (in id order, so ordering keys keep their order), its
// crashes a crashes row, and the dedup rows segment_keys rows. The message
// ids stay; new ones start past every id the file ever handed out.
Status MigrateRows(Db& db, int64_t now_ms) {
  auto seq = db.QueryInt(
      "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0), "
      "COALESCE((SELECT MAX(id) FROM messages), 0), "
      "COALESCE((SELECT MAX(id) FROM dead_letters), 0))");
  if (!seq.ok()) return seq.status();
  int64_t next_segment = 1;
  auto rows = db.Prepare(
      "SELECT id, lane, source, idem_key, ordering_key, headers, payload, attempts, first_error, "
      "last_error, history, created_at, next_attempt_at, crashes FROM messages ORDER BY lane, id");
  if (!rows.ok()) return rows.status();
  auto insert = db.Prepare(
      "INSERT INTO segments(id, lane, created_at, count, body) VALUES(?1, ?2, ?3, ?4, ?5)");
  if (!insert.ok()) return insert.status();
  auto crashes = db.Prepare("INSERT INTO crashes(id, n) VALUES(?1, ?2)");
  if (!crashes.ok()) return crashes.status();
  std::string lane, body;
  int64_t count = 0;
  auto flush = [&]() -> Status {
    if (count == 0) return Status::Ok();
    insert->Bind(1, next_segment++).Bind(2, lane).Bind(3, now_ms).Bind(4, count);
    insert->BindBlob(5, body);
    CRMHUB_RETURN_IF_ERROR(insert->Run("migrate: segment"));
    body.clear();
    count = 0;
    return Status::Ok();
  };
  int rc;
  while ((rc = rows->Step()) == SQLITE_ROW) {
    if (rows->Text(1) != lane || count >= static_cast<int64_t>(kMigrationSegment)) {
      CRMHUB_RETURN_IF_ERROR(flush());
      lane = rows->Text(1);
    }
    SegmentEntry e;
    e.id = rows->Int(0);
    e.source = rows->Text(2);
    e.idempotency_key = rows->Text(3);
    e.ordering_key = rows->Text(4);
    e.headers = rows->Text(5);
    e.payload = rows->Text(6);
    e.attempts = static_cast<int32_t>(rows->Int(7));
    e.first_error = rows->Text(8);
    e.last_error = rows->Text(9);
    e.history = rows->Text(10);
    e.created_ms = rows->Int(11);
    e.due_ms = rows->Int(12);
    AppendEntry(&body, RefOf(e));
    ++count;
    if (rows->Int(13) > 0) {
      crashes->Bind(1, e.id).Bind(2, rows->Int(13));
      CRMHUB_RETURN_IF_ERROR(crashes->Run("migrate: crashes"));
    }
  }
  rows->Reset();
  if (rc != SQLITE_DONE) return SqliteStatus(db.raw(), rc, "migrate: messages");
  CRMHUB_RETURN_IF_ERROR(flush());
  CRMHUB_RETURN_IF_ERROR(db.Exec("DELETE FROM messages"));

  auto has_dedup =
      db.QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'dedup'");
  if (!has_dedup.ok()) return has_dedup.status();
  if (*has_dedup > 0) {
    auto keys = db.Prepare("SELECT source, idem_key, accepted_at FROM dedup");
    if (!keys.ok()) return keys.status();
    auto insert_keys =
        db.Prepare("INSERT INTO segment_keys(id, accepted_at, keys) VALUES(?1, ?2, ?3)");
    if (!insert_keys.ok()) return insert_keys.status();
    std::string blob;
    int64_t n = 0, newest = 0;
    auto flush_keys = [&]() -> Status {
      if (n == 0) return Status::Ok();
      insert_keys->Bind(1, next_segment++).Bind(2, newest).BindBlob(3, blob);
      CRMHUB_RETURN_IF_ERROR(insert_keys->Run("migrate: keys"));
      blob.clear();
      n = 0;
      newest = 0;
      return Status::Ok();
    };
    while ((rc = keys->Step()) == SQLITE_ROW) {
      AppendDedupKey(&blob, keys->Int(2), keys->Text(0), keys->Text(1));
      newest = std::max(newest, keys->Int(2));
      if (++n >= static_cast<int64_t>(kMigrationSegment)) CRMHUB_RETURN_IF_ERROR(flush_keys());
    }
    keys->Reset();
    if (rc != SQLITE_DONE) return SqliteStatus(db.raw(), rc, "migrate: dedup");
    CRMHUB_RETURN_IF_ERROR(flush_keys());
    CRMHUB_RETURN_IF_ERROR(db.Exec("DROP TABLE dedup"));
  }
  return db.Exec("INSERT INTO counters(name, value) VALUES('" + std::string(kNextIdCounter) +
                 "', " + std::to_string(*seq + 1) + "), ('" + kNextSegmentCounter + "', " +
                 std::to_string(next_segment) + ")");
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
  // SQLite's own checkpoints stay on for connections that use this store
  // alone; SqliteQueue replaces them with its Checkpointer's hook.
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
    if (st.ok() && (*version == 1 || *version == 2)) {
      st = MigrateOldLeases(db_, ToUnixMillis(now));
    }
    // Rows become segments (a new file has none, and gets its counters).
    if (st.ok()) st = MigrateRows(db_, ToUnixMillis(now));
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
      {&data_version_stmt_, "PRAGMA data_version"},
      {&insert_segment_,
       "INSERT INTO segments(id, lane, created_at, count, body) VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&insert_keys_, "INSERT INTO segment_keys(id, accepted_at, keys) VALUES(?1, ?2, ?3)"},
      {&upsert_settled_,
       "INSERT INTO segment_settled(id, settled) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET "
       "settled = excluded.settled"},
      {&delete_segment_, "DELETE FROM segments WHERE id = ?1"},
      {&delete_settled_, "DELETE FROM segment_settled WHERE id = ?1"},
      {&select_body_, "SELECT body FROM segments WHERE id = ?1"},
      {&upsert_counter_,
       "INSERT INTO counters(name, value) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET "
       "value = excluded.value"},
      {&upsert_crashes_,
       "INSERT INTO crashes(id, n) VALUES(?1, ?2) ON CONFLICT(id) DO UPDATE SET n = excluded.n"},
      {&delete_crashes_, "DELETE FROM crashes WHERE id = ?1"},
      {&lease_batch_insert_, "INSERT INTO lease_batches(ids) VALUES(?1)"},
      {&lease_batch_delete_, "DELETE FROM lease_batches WHERE id = ?1"},
      {&to_dead_,
       "INSERT INTO dead_letters(id, lane, source, idem_key, ordering_key, headers, payload, "
       "attempts, reason, history, created_at, failed_at) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"},
      // A replayed message keeps its id and its history; attempts start over
      // and max_age counts from the replay.
      {&replay_select_,
       "SELECT id, lane, source, idem_key, ordering_key, headers, payload, history "
       "FROM dead_letters WHERE id = ?1"},
      {&replay_all_select_,
       "SELECT id, lane, source, idem_key, ordering_key, headers, payload, history "
       "FROM dead_letters WHERE ?1 IS NULL OR lane = ?1 ORDER BY id"},
      {&delete_dead_, "DELETE FROM dead_letters WHERE id = ?1"},
      {&drop_dead_, "DELETE FROM dead_letters WHERE id = ?1"},
      {&purge_, "DELETE FROM dead_letters WHERE failed_at < ?1"},
      {&put_state_,
       "INSERT INTO state(key, value, updated_at) VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE "
       "SET value = excluded.value, updated_at = excluded.updated_at"},
      // Oldest first (ids grow with time): a step reads only what it prunes.
      {&expired_keys_,
       "SELECT id, keys FROM segment_keys WHERE accepted_at < ?1 ORDER BY id LIMIT ?2"},
      {&delete_keys_, "DELETE FROM segment_keys WHERE id = ?1"},
  };
  for (const Def& d : defs) {
    auto stmt = db_.Prepare(d.sql);
    if (!stmt.ok()) return stmt.status();
    *d.stmt = std::move(stmt).value();
  }
  // The index, from one snapshot.
  CRMHUB_RETURN_IF_ERROR(db_.Exec("BEGIN"));
  Status st;
  {
    std::lock_guard lock(mu_);
    st = LoadLocked(/*keep_leases=*/false);
  }
  if (!st.ok()) {
    (void)db_.Exec("ROLLBACK");
    return st;
  }
  return db_.Exec("COMMIT");
}

Status WriterStore::LoadLocked(bool keep_leases) {
  struct Held {
    int64_t token, expires_ms, batch;
    int attempts;
  };
  std::unordered_map<int64_t, Held> held;
  if (keep_leases) {
    for (const auto& [id, e] : entries_) {
      if (e.token != 0) held[id] = {e.token, e.expires_ms, e.batch, e.attempts};
    }
  }
  entries_.clear();
  lanes_.clear();
  segments_.clear();
  building_.clear();
  dirty_.clear();
  pending_keys_.clear();
  dedup_.clear();
  batch_open_.clear();
  cache_.clear();
  cache_order_.clear();
  cache_bytes_ = 0;

  int rc;
  auto counters = db_.Prepare("SELECT name, value FROM counters");
  if (!counters.ok()) return counters.status();
  next_id_ = 1;
  next_segment_ = 1;
  while ((rc = counters->Step()) == SQLITE_ROW) {
    if (counters->Text(0) == kNextIdCounter) next_id_ = counters->Int(1);
    if (counters->Text(0) == kNextSegmentCounter) next_segment_ = counters->Int(1);
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load: counters");
  persisted_next_id_ = next_id_;
  persisted_next_segment_ = next_segment_;

  std::unordered_map<int64_t, std::string> settled;
  auto bitmaps = db_.Prepare("SELECT id, settled FROM segment_settled");
  if (!bitmaps.ok()) return bitmaps.status();
  while ((rc = bitmaps->Step()) == SQLITE_ROW) settled[bitmaps->Int(0)] = bitmaps->Text(1);
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load: settled");

  std::unordered_map<int64_t, int> crashes;
  auto crash_rows = db_.Prepare("SELECT id, n FROM crashes");
  if (!crash_rows.ok()) return crash_rows.status();
  while ((rc = crash_rows->Step()) == SQLITE_ROW) {
    crashes[crash_rows->Int(0)] = static_cast<int>(crash_rows->Int(1));
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load: crashes");

  auto segs = db_.Prepare("SELECT id, lane, count, body FROM segments ORDER BY id");
  if (!segs.ok()) return segs.status();
  std::vector<int64_t> order;  // message ids, by segment then entry
  while ((rc = segs->Step()) == SQLITE_ROW) {
    const int64_t seg_id = segs->Int(0);
    Segment seg;
    seg.lane = segs->Text(1);
    seg.written = true;
    if (auto s = settled.find(seg_id); s != settled.end()) seg.settled = std::move(s->second);
    const std::string_view body = segs->Blob(3);
    size_t at = 0;
    SegmentEntry e;
    while (at < body.size()) {
      const size_t offset = at;
      if (!ReadEntry(body, &at, &e, /*skim=*/true)) {
        return Status::Internal("queue: segment " + std::to_string(seg_id) + " is truncated");
      }
      const uint32_t index = seg.count++;
      if (BitIsSet(seg.settled, index)) continue;
      ++seg.live;
      Entry& en = entries_[e.id];
      en = Entry{};
      en.segment = seg_id;
      en.index = index;
      en.offset = offset;
      en.lane = seg.lane;
      en.ordering_key = e.ordering_key;
      en.created_ms = e.created_ms;
      en.due_ms = e.due_ms;
      auto c = crashes.find(e.id);
      en.crashes = c == crashes.end() ? 0 : c->second;
      en.attempts = e.attempts + en.crashes;
      order.push_back(e.id);
    }
    if (seg.live == 0) {  // every message settled: deleted at the next commit
      seg.dirty = true;
      dirty_.push_back(seg_id);
    }
    next_segment_ = std::max(next_segment_, seg_id + 1);
    segments_[seg_id] = std::move(seg);
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load: segments");
  for (int64_t id : order) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    Entry& en = it->second;
    next_id_ = std::max(next_id_, id + 1);
    if (auto h = held.find(id); h != held.end()) {
      en.token = h->second.token;
      en.expires_ms = h->second.expires_ms;
      en.batch = h->second.batch;
      en.attempts = h->second.attempts;
      lanes_[en.lane].leased.insert({en.expires_ms, id});
      ++batch_open_[en.batch];
    }
    AddToKeyLocked(lanes_[en.lane], id, en);
  }

  auto keys = db_.Prepare("SELECT id, keys FROM segment_keys");
  if (!keys.ok()) return keys.status();
  std::vector<DedupKey> decoded;
  while ((rc = keys->Step()) == SQLITE_ROW) {
    next_segment_ = std::max(next_segment_, keys->Int(0) + 1);
    decoded.clear();
    (void)DecodeDedupKeys(keys->Blob(1), &decoded);  // a torn tail loses only itself
    for (const DedupKey& k : decoded) {
      int64_t& at = dedup_[DedupKeyOf(k.source, k.key)];
      at = std::max(at, k.accepted_ms);
    }
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "load: keys");

  data_version_stmt_.Reset();
  rc = data_version_stmt_.Step();
  if (rc != SQLITE_ROW) return SqliteStatus(db_.raw(), rc, "load: data_version");
  data_version_ = data_version_stmt_.Int(0);
  data_version_stmt_.Reset();
  committed_live_.store(static_cast<int64_t>(entries_.size()));
  return Status::Ok();
}

Status WriterStore::Begin() {
  depth_delta_ = 0;
  CRMHUB_RETURN_IF_ERROR(begin_.Run("begin"));
  // Another process's commit (a replay from the CLI), or our own rollback:
  // the index is rebuilt from what the file holds now.
  const int rc = data_version_stmt_.Step();
  const int64_t version = rc == SQLITE_ROW ? data_version_stmt_.Int(0) : 0;
  data_version_stmt_.Reset();
  if (rc != SQLITE_ROW) return SqliteStatus(db_.raw(), rc, "begin: data_version");
  if (reload_ || version != data_version_) {
    std::lock_guard lock(mu_);
    const auto before = static_cast<int64_t>(entries_.size());
    CRMHUB_RETURN_IF_ERROR(LoadLocked(/*keep_leases=*/!reload_));
    reload_ = false;
    depth_delta_ += static_cast<int64_t>(entries_.size()) - before;
  }
  return Status::Ok();
}

Status WriterStore::Commit() {
  {
    std::lock_guard lock(mu_);
    for (auto& [lane, b] : building_) {
      auto s = segments_.find(b.id);
      if (s == segments_.end()) continue;
      Segment& seg = s->second;
      if (seg.live == 0) {  // settled before it was ever written
        segments_.erase(s);
        continue;
      }
      insert_segment_.Bind(1, b.id).Bind(2, lane).Bind(3, b.created_ms);
      insert_segment_.Bind(4, int64_t{seg.count}).BindBlob(5, b.body);
      CRMHUB_RETURN_IF_ERROR(insert_segment_.Run("commit: segment"));
      seg.written = true;
      if (!seg.settled.empty()) {
        upsert_settled_.Bind(1, b.id).BindBlob(2, seg.settled);
        CRMHUB_RETURN_IF_ERROR(upsert_settled_.Run("commit: settled"));
      }
      seg.dirty = false;
      CacheBody(b.id, std::make_shared<const std::string>(std::move(b.body)));
    }
    building_.clear();
    for (int64_t id : dirty_) {
      auto s = segments_.find(id);
      if (s == segments_.end() || !s->second.dirty) continue;
      Segment& seg = s->second;
      seg.dirty = false;
      if (seg.live == 0) {
        delete_segment_.Bind(1, id);
        CRMHUB_RETURN_IF_ERROR(delete_segment_.Run("commit: delete segment"));
        delete_settled_.Bind(1, id);
        CRMHUB_RETURN_IF_ERROR(delete_settled_.Run("commit: delete settled"));
        segments_.erase(s);
        if (auto c = cache_.find(id); c != cache_.end()) {
          cache_bytes_ -= static_cast<int64_t>(c->second->size());
          cache_.erase(c);
        }
      } else {
        upsert_settled_.Bind(1, id).BindBlob(2, seg.settled);
        CRMHUB_RETURN_IF_ERROR(upsert_settled_.Run("commit: settled"));
      }
    }
    dirty_.clear();
    if (!pending_keys_.empty()) {
      insert_keys_.Bind(1, next_segment_++).Bind(2, keys_accepted_ms_).BindBlob(3, pending_keys_);
      CRMHUB_RETURN_IF_ERROR(insert_keys_.Run("commit: keys"));
      pending_keys_.clear();
    }
    if (next_id_ != persisted_next_id_) {
      upsert_counter_.Bind(1, kNextIdCounter).Bind(2, next_id_);
      CRMHUB_RETURN_IF_ERROR(upsert_counter_.Run("commit: id counter"));
      persisted_next_id_ = next_id_;
    }
    if (next_segment_ != persisted_next_segment_) {
      upsert_counter_.Bind(1, kNextSegmentCounter).Bind(2, next_segment_);
      CRMHUB_RETURN_IF_ERROR(upsert_counter_.Run("commit: segment counter"));
      persisted_next_segment_ = next_segment_;
    }
  }
  CRMHUB_RETURN_IF_ERROR(commit_.Run("commit"));
  std::lock_guard lock(mu_);
  committed_live_.store(static_cast<int64_t>(entries_.size()));
  return Status::Ok();
}

void WriterStore::Rollback() {
  // Fails harmlessly when SQLite already rolled back after an I/O error.
  (void)rollback_.Run("rollback");
  depth_delta_ = 0;
  std::lock_guard lock(mu_);
  // What the transaction did to the index is undone by rebuilding it at the
  // next Begin; the leases go (their messages are due again) now.
  reload_ = true;
  building_.clear();
  dirty_.clear();
  pending_keys_.clear();
  for (auto& [id, e] : entries_) e.token = 0;
  for (auto& [name, lane] : lanes_) lane.leased.clear();
  batch_open_.clear();
}

void WriterStore::CacheBody(int64_t segment, std::shared_ptr<const std::string> body) {
  cache_bytes_ += static_cast<int64_t>(body->size());
  cache_[segment] = std::move(body);
  cache_order_.push_back(segment);
  while (cache_bytes_ > config_.segment_cache_bytes && !cache_order_.empty()) {
    const int64_t oldest = cache_order_.front();
    cache_order_.pop_front();
    if (oldest == segment) continue;
    if (auto c = cache_.find(oldest); c != cache_.end()) {
      cache_bytes_ -= static_cast<int64_t>(c->second->size());
      cache_.erase(c);
    }
  }
  // Ids of segments deleted meanwhile linger in cache_order_: drop them
  // when the deque holds many more ids than the cache.
  if (cache_order_.size() > 4 * cache_.size() + 64) {
    std::deque<int64_t> kept;
    for (int64_t id : cache_order_) {
      if (cache_.count(id) > 0) kept.push_back(id);
    }
    cache_order_.swap(kept);
  }
}

Status WriterStore::BodyOf(int64_t segment, std::string_view* body) {
  for (const auto& [lane, b] : building_) {
    if (b.id == segment) {
      *body = b.body;
      return Status::Ok();
    }
  }
  if (auto c = cache_.find(segment); c != cache_.end()) {
    *body = *c->second;
    return Status::Ok();
  }
  select_body_.Bind(1, segment);
  const int rc = select_body_.Step();
  if (rc != SQLITE_ROW) {
    select_body_.Reset();
    if (rc == SQLITE_DONE) {
      return Status::Internal("queue: segment " + std::to_string(segment) + " is missing");
    }
    return SqliteStatus(db_.raw(), rc, "read segment");
  }
  auto loaded = std::make_shared<const std::string>(select_body_.Text(0));
  select_body_.Reset();
  *body = *loaded;
  CacheBody(segment, std::move(loaded));
  return Status::Ok();
}

Status WriterStore::ReadEntryOf(const Entry& entry, SegmentEntry* out) {
  std::string_view body;
  CRMHUB_RETURN_IF_ERROR(BodyOf(entry.segment, &body));
  size_t at = entry.offset;
  if (!ReadEntry(body, &at, out)) {
    return Status::Internal("queue: segment " + std::to_string(entry.segment) + " is truncated");
  }
  return Status::Ok();
}

int64_t WriterStore::live() const { return committed_live_.load(); }

std::map<std::string, LaneStats> WriterStore::LaneCounts(int64_t now_ms) const {
  std::map<std::string, LaneStats> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : entries_) {
    LaneStats& s = out[e.lane];
    if (e.token != 0 && e.expires_ms > now_ms) {
      ++s.leased;
    } else if (e.due_ms <= now_ms) {
      ++s.ready;
    } else {
      ++s.delayed;
    }
    const SystemTime created = FromUnixMillis(e.created_ms);
    if (!s.oldest_created_at || created < *s.oldest_created_at) s.oldest_created_at = created;
  }
  return out;
}

void WriterStore::AddToKeyLocked(Lane& lane, int64_t id, const Entry& entry) {
  if (entry.ordering_key.empty()) {
    if (entry.token == 0) lane.due.insert({entry.due_ms, id});
    return;
  }
  std::set<int64_t>& ids = lane.by_key[entry.ordering_key];
  const std::optional<int64_t> old_head =
      ids.empty() ? std::nullopt : std::optional<int64_t>(*ids.begin());
  ids.insert(id);
  if (*ids.begin() != id) return;  // waits behind an earlier message of its key
  if (old_head) {
    if (auto o = entries_.find(*old_head); o != entries_.end()) {
      lane.due.erase({o->second.due_ms, *old_head});
    }
  }
  if (entry.token == 0) lane.due.insert({entry.due_ms, id});
}

void WriterStore::RemoveFromKeyLocked(Lane& lane, int64_t id, const Entry& entry) {
  lane.due.erase({entry.due_ms, id});
  if (entry.ordering_key.empty()) return;
  auto k = lane.by_key.find(entry.ordering_key);
  if (k == lane.by_key.end()) return;
  const bool was_head = !k->second.empty() && *k->second.begin() == id;
  k->second.erase(id);
  if (k->second.empty()) {
    lane.by_key.erase(k);
    return;
  }
  if (!was_head) return;
  const int64_t next = *k->second.begin();
  auto n = entries_.find(next);
  if (n != entries_.end() && n->second.token == 0) lane.due.insert({n->second.due_ms, next});
}

Status WriterStore::ReleaseLocked(int64_t id, Entry& entry) {
  if (entry.token == 0) return Status::Ok();
  lanes_[entry.lane].leased.erase({entry.expires_ms, id});
  entry.token = 0;
  auto b = batch_open_.find(entry.batch);
  if (b != batch_open_.end() && --b->second <= 0) {
    batch_open_.erase(b);
    lease_batch_delete_.Bind(1, entry.batch);
    return lease_batch_delete_.Run("lease: delete batch");
  }
  return Status::Ok();
}

WriterStore::Entry* WriterStore::FindLiveLocked(const LeaseToken& lease, int64_t now_ms) {
  auto it = entries_.find(lease.message_id);
  if (it == entries_.end() || it->second.token == 0 || it->second.token != lease.token ||
      it->second.expires_ms <= now_ms) {
    return nullptr;
  }
  return &it->second;
}

void WriterStore::SettleEntryLocked(const Entry& entry) {
  auto s = segments_.find(entry.segment);
  if (s == segments_.end()) return;
  Segment& seg = s->second;
  if (BitIsSet(seg.settled, entry.index)) return;
  SetBit(&seg.settled, entry.index);
  if (seg.live > 0) --seg.live;
  if (!seg.dirty) {
    seg.dirty = true;
    dirty_.push_back(entry.segment);
  }
}

Status WriterStore::SetCrashes(int64_t id, int n) {
  if (n > 0) {
    upsert_crashes_.Bind(1, id).Bind(2, int64_t{n});
    return upsert_crashes_.Run("crashes");
  }
  delete_crashes_.Bind(1, id);
  return delete_crashes_.Run("crashes: delete");
}

Status WriterStore::RemoveLocked(int64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return Status::Ok();
  Entry& en = it->second;
  CRMHUB_RETURN_IF_ERROR(ReleaseLocked(id, en));
  RemoveFromKeyLocked(lanes_[en.lane], id, en);
  SettleEntryLocked(en);
  if (en.crashes > 0) CRMHUB_RETURN_IF_ERROR(SetCrashes(id, 0));
  entries_.erase(it);
  --depth_delta_;
  return Status::Ok();
}

void WriterStore::PlaceLocked(const std::string& lane, const EntryRef& e, int crashes, int attempts,
                              int64_t now_ms) {
  Building& b = building_[lane];
  if (b.id == 0) {
    b.id = next_segment_++;
    b.created_ms = now_ms;
    Segment seg;
    seg.lane = lane;
    segments_[b.id] = std::move(seg);
  }
  Segment& seg = segments_[b.id];
  const uint32_t index = seg.count++;
  ++seg.live;
  const size_t offset = b.body.size();
  AppendEntry(&b.body, e);
  auto [it, fresh] = entries_.try_emplace(e.id);
  Entry& en = it->second;
  Lane& l = lanes_[lane];
  if (!fresh) l.due.erase({en.due_ms, e.id});
  en.segment = b.id;
  en.index = index;
  en.offset = offset;
  en.due_ms = e.due_ms;
  en.crashes = crashes;
  en.attempts = attempts;
  if (fresh) {
    en.lane = lane;
    en.ordering_key = std::string(e.ordering_key);
    en.created_ms = e.created_ms;
    AddToKeyLocked(l, e.id, en);
    return;
  }
  // Back in its lane (a retry): leasable when due, unless an earlier message
  // of its key (a replay) waits.
  const bool head = en.ordering_key.empty() || *l.by_key[en.ordering_key].begin() == e.id;
  if (head && en.token == 0) l.due.insert({en.due_ms, e.id});
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
  std::lock_guard lock(mu_);
  for (const NewMessage& m : batch) {
    // A key is new when it was never accepted, or longer ago than the
    // retention window (not yet pruned).
    auto [d, fresh] = dedup_.try_emplace(DedupKeyOf(m.source, m.idempotency_key), now_ms);
    if (!fresh) {
      if (d->second >= cutoff_ms) {
        outcomes->push_back(EnqueueOutcome::kDuplicate);
        continue;
      }
      d->second = now_ms;
    }
    AppendDedupKey(&pending_keys_, now_ms, m.source, m.idempotency_key);
    keys_accepted_ms_ = now_ms;
    const std::string headers = EncodeHeaders(m.headers);
    EntryRef e;
    e.id = next_id_++;
    e.created_ms = now_ms;
    e.due_ms = m.not_before ? std::max(now_ms, ToUnixMillis(*m.not_before)) : now_ms;
    e.source = m.source;
    e.idempotency_key = m.idempotency_key;
    e.ordering_key = m.ordering_key;
    e.headers = headers;
    e.payload = m.payload;
    PlaceLocked(m.lane, e, 0, 0, now_ms);
    outcomes->push_back(EnqueueOutcome::kAccepted);
    ++depth_delta_;
  }
  return Status::Ok();
}

Status WriterStore::Lease(const std::string& lane_name, int max, std::chrono::milliseconds duration,
                          SystemTime now, std::vector<Leased>* out) {
  const int64_t now_ms = ToUnixMillis(now);
  const RetryPolicy& policy = PolicyFor(lane_name);
  out->clear();
  std::lock_guard lock(mu_);
  auto l = lanes_.find(lane_name);
  if (l == lanes_.end()) return Status::Ok();
  Lane& lane = l->second;
  // Leases that expired unsettled: that delivery counts; the message is
  // due again, or a dead letter past the lane's limits.
  while (!lane.leased.empty() && lane.leased.begin()->first <= now_ms) {
    const int64_t id = lane.leased.begin()->second;
    Entry& en = entries_.at(id);
    CRMHUB_RETURN_IF_ERROR(ReleaseLocked(id, en));
    if (auto verdict = ExpiredLeaseVerdict(policy, en.attempts, en.created_ms, now_ms)) {
      SegmentEntry full;
      CRMHUB_RETURN_IF_ERROR(ReadEntryOf(en, &full));
      AppendAttempt(&full.history, now, *verdict);
      CRMHUB_RETURN_IF_ERROR(
          ToDeadLetterLocked(id, *verdict, std::move(full), en.attempts, now_ms));
      continue;
    }
    const bool head = en.ordering_key.empty() || *lane.by_key[en.ordering_key].begin() == id;
    if (head) lane.due.insert({en.due_ms, id});
  }
  const int64_t expires_ms = now_ms + duration.count();
  std::vector<int64_t> ids;
  auto it = lane.due.begin();
  while (static_cast<int>(out->size()) < max && it != lane.due.end() && it->first <= now_ms) {
    const int64_t id = it->second;
    Entry& en = entries_.at(id);
    // A suspect (in flight when the process last died) is delivered alone,
    // so that if it kills the process again, it alone is blamed.
    const bool suspect = en.crashes > 0;
    if (suspect && !out->empty()) break;
    SegmentEntry full;
    CRMHUB_RETURN_IF_ERROR(ReadEntryOf(en, &full));
    Leased leased;
    Message& m = leased.message;
    m.id = id;
    m.lane = lane_name;
    m.source = std::move(full.source);
    m.idempotency_key = std::move(full.idempotency_key);
    m.ordering_key = std::move(full.ordering_key);
    m.headers = DecodeHeaders(full.headers);
    m.payload = std::move(full.payload);
    // Deliveries that ended with the process (the poison rule's crashes)
    // are deliveries too: a message redelivered after a crash must not look
    // like a first delivery to a target that reads before it writes again.
    m.attempts = ++en.attempts;
    m.first_error = std::move(full.first_error);
    m.last_error = std::move(full.last_error);
    m.created_at = FromUnixMillis(en.created_ms);
    m.next_attempt_at = FromUnixMillis(en.due_ms);
    leased.lease = {id, next_token_++};
    leased.lease_expires_at = now + duration;
    en.token = leased.lease.token;
    en.expires_ms = expires_ms;
    lane.leased.insert({expires_ms, id});
    it = lane.due.erase(it);
    ids.push_back(id);
    out->push_back(std::move(leased));
    if (suspect) break;
  }
  if (ids.empty()) return Status::Ok();
  // One durable record for the batch: what is in flight, for the poison rule.
  const std::string blob = EncodeIds(ids);  // bound SQLITE_STATIC: must outlive Run
  lease_batch_insert_.BindBlob(1, blob);
  CRMHUB_RETURN_IF_ERROR(lease_batch_insert_.Run("lease: batch"));
  const int64_t batch = sqlite3_last_insert_rowid(db_.raw());
  for (int64_t id : ids) entries_.at(id).batch = batch;
  batch_open_[batch] = static_cast<int64_t>(ids.size());
  return Status::Ok();
}

Status WriterStore::RecoverInFlight(SystemTime now, int poison_after, int64_t* suspects,
                                    int64_t* dead) {
  *suspects = 0;
  *dead = 0;
  CRMHUB_RETURN_IF_ERROR(Begin());
  auto rollback = [&](Status st) {
    Rollback();
    return st;
  };
  auto batches = db_.Prepare("SELECT ids FROM lease_batches");
  if (!batches.ok()) return rollback(batches.status());
  std::vector<int64_t> ids;
  int rc;
  while ((rc = batches->Step()) == SQLITE_ROW) {
    for (int64_t id : DecodeIds(batches->Blob(0))) ids.push_back(id);
  }
  batches->Reset();
  if (rc != SQLITE_DONE) return rollback(SqliteStatus(db_.raw(), rc, "recover: batches"));
  // A message in two batches (leased again after an expiry) counts once.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::unique_lock lock(mu_);
  for (int64_t id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    ++it->second.crashes;
    ++it->second.attempts;
    if (Status st = SetCrashes(id, it->second.crashes); !st.ok()) {
      lock.unlock();
      return rollback(st);
    }
    ++*suspects;
  }
  if (Status st = db_.Exec("DELETE FROM lease_batches"); !st.ok()) {
    lock.unlock();
    return rollback(st);
  }
  std::vector<int64_t> poisoned;
  for (const auto& [id, e] : entries_) {
    if (e.crashes >= poison_after) poisoned.push_back(id);
  }
  std::sort(poisoned.begin(), poisoned.end());
  const int64_t now_ms = ToUnixMillis(now);
  for (int64_t id : poisoned) {
    const Entry& en = entries_.at(id);
    std::string reason = "poison message: in flight when the process ended " +
                         std::to_string(en.crashes) +
                         " times in a row (its delivery may crash the daemon; see "
                         "docs/operations.md, \"Poison messages\")";
    SegmentEntry full;
    Status st = ReadEntryOf(en, &full);
    if (st.ok()) {
      AppendAttempt(&full.history, now, reason);
      // The deliveries that ended with the process count as attempts.
      st = ToDeadLetterLocked(id, reason, std::move(full), en.attempts, now_ms);
    }
    if (!st.ok()) {
      lock.unlock();
      return rollback(st);
    }
  }
  *dead = static_cast<int64_t>(poisoned.size());
  lock.unlock();
  if (Status st = Commit(); !st.ok()) return rollback(st);
  return Status::Ok();
}

Status WriterStore::Settle(const Settlement& settlement, SystemTime now, Status* outcome) {
  switch (settlement.kind) {
    case Settlement::Kind::kAck:
      return Ack(settlement.lease, now, outcome);
    case Settlement::Kind::kRetry:
      return Retry(settlement.lease, settlement.reason, settlement.not_before, settlement.throttled,
                   now, outcome);
    case Settlement::Kind::kFail:
      return Fail(settlement.lease, settlement.reason, now, outcome);
  }
  *outcome = Status::InvalidArgument("settle: unknown kind");
  return Status::Ok();
}

Status WriterStore::Ack(const LeaseToken& lease, SystemTime now, Status* outcome) {
  std::lock_guard lock(mu_);
  if (FindLiveLocked(lease, ToUnixMillis(now)) == nullptr) {
    *outcome =
        Status::FailedPrecondition("ack: lease of message " + std::to_string(lease.message_id) +
                                   " is stale (expired or already settled)");
    return Status::Ok();
  }
  *outcome = Status::Ok();
  return RemoveLocked(lease.message_id);
}

Status WriterStore::ToDeadLetterLocked(int64_t id, const std::string& reason, SegmentEntry full,
                                       int attempts, int64_t now_ms) {
  const Entry& en = entries_.at(id);
  to_dead_.Bind(1, id).Bind(2, en.lane).Bind(3, full.source).Bind(4, full.idempotency_key);
  to_dead_.Bind(5, full.ordering_key).BindBlob(6, full.headers).BindBlob(7, full.payload);
  to_dead_.Bind(8, int64_t{attempts}).Bind(9, reason).BindBlob(10, full.history);
  to_dead_.Bind(11, en.created_ms).Bind(12, now_ms);
  CRMHUB_RETURN_IF_ERROR(to_dead_.Run("dead letter: insert"));
  return RemoveLocked(id);
}

Status WriterStore::Retry(const LeaseToken& lease, const std::string& error,
                          std::optional<SystemTime> not_before, bool throttled, SystemTime now,
                          Status* outcome) {
  std::lock_guard lock(mu_);
  const int64_t now_ms = ToUnixMillis(now);
  Entry* en = FindLiveLocked(lease, now_ms);
  if (en == nullptr) {
    *outcome = Status::FailedPrecondition("retry: lease of message " +
                                          std::to_string(lease.message_id) + " is stale");
    return Status::Ok();
  }
  *outcome = Status::Ok();
  const int64_t id = lease.message_id;
  SegmentEntry full;
  CRMHUB_RETURN_IF_ERROR(ReadEntryOf(*en, &full));
  AppendAttempt(&full.history, now, error);
  const RetryPolicy& policy = PolicyFor(en->lane);
  const int attempts = AttemptsAfterRetry(en->attempts, throttled);
  const SystemTime created = FromUnixMillis(en->created_ms);
  if (RetryGivesUp(policy, attempts, created, now)) {
    return ToDeadLetterLocked(id, GaveUpReason(policy, attempts, created, now, error),
                              std::move(full), attempts, now_ms);
  }
  CRMHUB_RETURN_IF_ERROR(ReleaseLocked(id, *en));
  // The message is written again (new due time, error, history) into this
  // commit's segment of its lane; its old entry is settled.
  SettleEntryLocked(*en);
  if (en->crashes > 0) CRMHUB_RETURN_IF_ERROR(SetCrashes(id, 0));
  // A caller's not_before (Retry-After) replaces the computed backoff.
  full.due_ms = not_before ? std::max(now_ms, ToUnixMillis(*not_before))
                           : now_ms + ComputeBackoff(policy, attempts, config_.jitter).count();
  full.attempts = attempts;
  if (full.first_error.empty()) full.first_error = error;
  full.last_error = error;
  const std::string lane = en->lane;
  PlaceLocked(lane, RefOf(full), 0, attempts, now_ms);
  return Status::Ok();
}

Status WriterStore::Fail(const LeaseToken& lease, const std::string& error, SystemTime now,
                         Status* outcome) {
  std::lock_guard lock(mu_);
  const int64_t now_ms = ToUnixMillis(now);
  Entry* en = FindLiveLocked(lease, now_ms);
  if (en == nullptr) {
    *outcome = Status::FailedPrecondition("fail: lease of message " +
                                          std::to_string(lease.message_id) + " is stale");
    return Status::Ok();
  }
  *outcome = Status::Ok();
  SegmentEntry full;
  CRMHUB_RETURN_IF_ERROR(ReadEntryOf(*en, &full));
  AppendAttempt(&full.history, now, error);
  return ToDeadLetterLocked(lease.message_id, error, std::move(full), en->attempts, now_ms);
}

Status WriterStore::ReplayRow(const Stmt& row, SystemTime now) {
  const int64_t now_ms = ToUnixMillis(now);
  SegmentEntry e;
  e.id = row.Int(0);
  e.created_ms = now_ms;
  e.due_ms = now_ms;
  e.source = row.Text(2);
  e.idempotency_key = row.Text(3);
  e.ordering_key = row.Text(4);
  e.headers = row.Text(5);
  e.payload = row.Text(6);
  e.history = row.Text(7);
  const std::string lane = row.Text(1);
  std::lock_guard lock(mu_);
  if (entries_.count(e.id) > 0) return Status::Ok();  // already back (cannot happen)
  PlaceLocked(lane, RefOf(e), 0, 0, now_ms);
  ++depth_delta_;
  return Status::Ok();
}

Status WriterStore::Replay(int64_t id, SystemTime now, Status* outcome) {
  replay_select_.Bind(1, id);
  const int rc = replay_select_.Step();
  if (rc == SQLITE_ROW) {
    Status st = ReplayRow(replay_select_, now);
    replay_select_.Reset();
    CRMHUB_RETURN_IF_ERROR(st);
  } else {
    replay_select_.Reset();
    if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "replay: select");
    *outcome = Status::NotFound("dead letter " + std::to_string(id) + " not found");
    return Status::Ok();
  }
  delete_dead_.Bind(1, id);
  CRMHUB_RETURN_IF_ERROR(delete_dead_.Run("replay: delete"));
  *outcome = Status::Ok();
  return Status::Ok();
}

Status WriterStore::ReplayAll(const std::optional<std::string>& lane, SystemTime now,
                              int64_t* count) {
  *count = 0;
  if (lane) {
    replay_all_select_.Bind(1, *lane);
  } else {
    replay_all_select_.BindNull(1);
  }
  std::vector<int64_t> ids;
  int rc;
  while ((rc = replay_all_select_.Step()) == SQLITE_ROW) {
    Status st = ReplayRow(replay_all_select_, now);
    if (!st.ok()) {
      replay_all_select_.Reset();
      return st;
    }
    ids.push_back(replay_all_select_.Int(0));
  }
  replay_all_select_.Reset();
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "replay all: select");
  for (int64_t id : ids) {
    delete_dead_.Bind(1, id);
    CRMHUB_RETURN_IF_ERROR(delete_dead_.Run("replay all: delete"));
  }
  *count = static_cast<int64_t>(ids.size());
  return Status::Ok();
}

Status WriterStore::Drop(int64_t id, Status* outcome) {
  drop_dead_.Bind(1, id);
  CRMHUB_RETURN_IF_ERROR(drop_dead_.Run("drop"));
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
  const int64_t cutoff_ms = ToUnixMillis(now) - config_.dedup_retention.count();
  *pruned = 0;
  // Every key in the map came from a segment_keys row, so the rows past the
  // window name every key to forget: the step costs what it prunes, not a
  // walk of the whole map. A key accepted again since (a newer time in the
  // map, and a newer row) stays.
  std::vector<int64_t> rows;
  std::vector<DedupKey> keys;
  expired_keys_.Bind(1, cutoff_ms).Bind(2, int64_t{limit});
  int rc;
  {
    std::lock_guard lock(mu_);
    while ((rc = expired_keys_.Step()) == SQLITE_ROW) {
      rows.push_back(expired_keys_.Int(0));
      keys.clear();
      (void)DecodeDedupKeys(expired_keys_.Blob(1), &keys);  // a torn tail loses only itself
      for (const DedupKey& k : keys) {
        auto it = dedup_.find(DedupKeyOf(k.source, k.key));
        if (it != dedup_.end() && it->second < cutoff_ms) {
          dedup_.erase(it);
          ++*pruned;
        }
      }
    }
  }
  expired_keys_.Reset();
  if (rc != SQLITE_DONE) return SqliteStatus(db_.raw(), rc, "prune dedup keys");
  for (int64_t id : rows) {
    delete_keys_.Bind(1, id);
    CRMHUB_RETURN_IF_ERROR(delete_keys_.Run("prune dedup keys: delete"));
  }
  return db_.Exec("PRAGMA incremental_vacuum(" + std::to_string(vacuum_pages) + ")");
}

}  // namespace crmhub::queue::internal
