// The read side of SqliteQueue: pooled read connections (WAL snapshots), so
// stats and dead-letter listings never wait for the writer.

#include <algorithm>
#include <map>

#include "queue/sqlite_queue.h"
#include "queue/sqlite_schema.h"
#include "queue/sqlite_util.h"
#include "queue/sqlite_writer.h"

namespace crmhub::queue {

using internal::Db;
using internal::Stmt;

// Returns its connection to the pool when it goes out of scope.
class SqliteQueue::ReadLease {
 public:
  ReadLease(SqliteQueue* q, std::unique_ptr<Db> db) : q_(q), db_(std::move(db)) {}
  ~ReadLease() {
    if (db_) q_->ReleaseReader(std::move(db_));
  }
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  Db& operator*() { return *db_; }
  Db* operator->() { return db_.get(); }

 private:
  SqliteQueue* q_;
  std::unique_ptr<Db> db_;
};

Result<std::unique_ptr<Db>> SqliteQueue::AcquireReader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      auto db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  auto db = Db::Open(path_.string(), /*create=*/false, options_.vfs_name,
                     static_cast<int>(options_.busy_timeout.count()));
  if (!db.ok()) return db.status();
  CRMHUB_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
  CRMHUB_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-2048"));
  return std::make_unique<Db>(std::move(db).value());
}

void SqliteQueue::ReleaseReader(std::unique_ptr<Db> db) {
  std::lock_guard lock(readers_mu_);
  if (readers_.size() < 4) readers_.push_back(std::move(db));
}

namespace {

DeadLetter ReadDeadLetter(const Stmt& s) {
  DeadLetter d;
  d.id = s.Int(0);
  d.lane = s.Text(1);
  d.source = s.Text(2);
  d.idempotency_key = s.Text(3);
  d.ordering_key = s.Text(4);
  d.headers = internal::DecodeHeaders(s.Text(5));
  d.payload = s.Text(6);
  d.attempts = static_cast<int>(s.Int(7));
  d.reason = s.Text(8);
  d.history = internal::DecodeHistory(s.Text(9));
  d.created_at = FromUnixMillis(s.Int(10));
  d.failed_at = FromUnixMillis(s.Int(11));
  return d;
}

}  // namespace

Result<std::vector<LaneStats>> SqliteQueue::Stats() {
  // Undelivered messages from the writer's index (sqlite_writer.h), which
  // holds the leases too; in another process (the CLI beside a running
  // daemon) the index is the file as of its open, and leased ones read as
  // ready. The dead letters from a read connection.
  std::map<std::string, LaneStats> lanes = store_->LaneCounts(ToUnixMillis(clock_.Now()));
  auto reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  ReadLease db(this, std::move(reader).value());
  auto q = db->Prepare("SELECT lane, COUNT(*) FROM dead_letters GROUP BY lane");
  if (!q.ok()) return q.status();
  int rc;
  while ((rc = q->Step()) == SQLITE_ROW) lanes[q->Text(0)].dead = q->Int(1);
  if (rc != SQLITE_DONE) return internal::SqliteStatus(db->raw(), rc, "stats: dead letters");
  std::vector<LaneStats> out;
  out.reserve(lanes.size());
  for (auto& [lane, s] : lanes) {
    s.lane = lane;
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<DeadLetter>> SqliteQueue::ListDeadLetters(const DeadLetterFilter& filter) {
  auto reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  ReadLease db(this, std::move(reader).value());
  auto q = db->Prepare(std::string("SELECT ") + internal::kDeadLetterColumns +
                       " FROM dead_letters WHERE (?1 IS NULL OR lane = ?1) AND id > ?2 "
                       "ORDER BY id LIMIT ?3");
  if (!q.ok()) return q.status();
  if (filter.lane) {
    q->Bind(1, *filter.lane);
  } else {
    q->BindNull(1);
  }
  q->Bind(2, filter.after_id).Bind(3, int64_t{filter.limit});
  std::vector<DeadLetter> out;
  int rc;
  while ((rc = q->Step()) == SQLITE_ROW) out.push_back(ReadDeadLetter(*q));
  if (rc != SQLITE_DONE) return internal::SqliteStatus(db->raw(), rc, "list dead letters");
  return out;
}

Result<DeadLetter> SqliteQueue::GetDeadLetter(int64_t id) {
  auto reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  ReadLease db(this, std::move(reader).value());
  auto q = db->Prepare(std::string("SELECT ") + internal::kDeadLetterColumns +
                       " FROM dead_letters WHERE id = ?1");
  if (!q.ok()) return q.status();
  q->Bind(1, id);
  int rc = q->Step();
  if (rc == SQLITE_ROW) return ReadDeadLetter(*q);
  if (rc == SQLITE_DONE)
    return Status::NotFound("dead letter " + std::to_string(id) + " not found");
  return internal::SqliteStatus(db->raw(), rc, "get dead letter");
}

Result<std::optional<std::string>> SqliteQueue::GetState(const std::string& key) {
  auto reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  ReadLease db(this, std::move(reader).value());
  auto q = db->Prepare("SELECT value FROM state WHERE key = ?1");
  if (!q.ok()) return q.status();
  q->Bind(1, key);
  int rc = q->Step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(q->Text(0));
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return internal::SqliteStatus(db->raw(), rc, "get state");
}

Status SqliteQueue::RefreshDepth() {
  // The writer's index as of its last commit; it takes in other processes'
  // commits (a replay from the CLI) at its next transaction.
  depth_.store(store_->live());
  return Status::Ok();
}

Result<std::string> SqliteQueue::IntegrityCheck() {
  auto reader = AcquireReader();
  if (!reader.ok()) return reader.status();
  ReadLease db(this, std::move(reader).value());
  auto q = db->Prepare("PRAGMA integrity_check");
  if (!q.ok()) return q.status();
  std::string out;
  int rc;
  while ((rc = q->Step()) == SQLITE_ROW) {
    if (!out.empty()) out += "\n";
    out += q->Text(0);
  }
  if (rc != SQLITE_DONE) return internal::SqliteStatus(db->raw(), rc, "integrity_check");
  return out;
}

}  // namespace crmhub::queue
