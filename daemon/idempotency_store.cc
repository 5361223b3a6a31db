#include "daemon/idempotency_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <system_error>

#include "base/private_files.h"
#include "net/hmac.h"

namespace crmhub::daemon {
namespace {

constexpr int kPurgeEvery = 256;  // Complete() calls between purges

Status SqliteError(sqlite3* db, std::string_view what) {
  return Status::IoError(
      fmt::format("idempotency store: {}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    ok_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) == SQLITE_OK;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return ok_; }
  sqlite3_stmt* get() { return s_; }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  std::string Text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool ok_ = false;
};

}  // namespace

std::string IdempotencyStore::Fingerprint(std::string_view body) { return net::Sha256Hex(body); }

Result<std::unique_ptr<IdempotencyStore>> IdempotencyStore::Open(
    const std::filesystem::path& file, Clock& clock, std::chrono::milliseconds retention) {
  if (file.empty()) return Status::InvalidArgument("idempotency store: no file given");
  // Personal data (command bodies): the directory 0700 when created here,
  // the file 0600.
  CRMHUB_RETURN_IF_ERROR(EnsurePrivateFile(file).WithContext("idempotency store"));
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status s = SqliteError(db, "open " + file.string());
    sqlite3_close(db);
    return s;
  }
  // WAL + synchronous=FULL: a committed record is on disk when Complete()
  // returns. busy_timeout only matters if an operator opens the file.
  const char* kSetup =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "PRAGMA busy_timeout=5000;"
      "CREATE TABLE IF NOT EXISTS idempotency ("
      "  key TEXT PRIMARY KEY,"
      "  fingerprint TEXT NOT NULL,"
      "  status INTEGER NOT NULL,"
      "  body TEXT NOT NULL,"
      "  created_at_ms INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at_ms);";
  if (sqlite3_exec(db, kSetup, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status s = SqliteError(db, "set up " + file.string());
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<IdempotencyStore> store(new IdempotencyStore(db, clock, retention));
  {
    std::lock_guard lock(store->mu_);
    CRMHUB_RETURN_IF_ERROR(store->PurgeLocked());
  }
  return store;
}

IdempotencyStore::IdempotencyStore(sqlite3* db, Clock& clock, std::chrono::milliseconds retention)
    : clock_(clock), retention_(retention), db_(db) {}

IdempotencyStore::~IdempotencyStore() { sqlite3_close(db_); }

Status IdempotencyStore::PurgeLocked() {
  Stmt del(db_, "DELETE FROM idempotency WHERE created_at_ms < ?1");
  if (!del.ok()) return SqliteError(db_, "prepare purge");
  del.Bind(1, ToUnixMillis(clock_.Now()) - retention_.count());
  if (sqlite3_step(del.get()) != SQLITE_DONE) return SqliteError(db_, "purge");
  completes_since_purge_ = 0;
  return Status::Ok();
}

Result<IdempotencyStore::BeginResult> IdempotencyStore::Begin(const std::string& key,
                                                              const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  Stmt get(db_,
           "SELECT fingerprint, status, body FROM idempotency "
           "WHERE key = ?1 AND created_at_ms >= ?2");
  if (!get.ok()) return SqliteError(db_, "prepare lookup");
  get.Bind(1, key);
  get.Bind(2, ToUnixMillis(clock_.Now()) - retention_.count());
  const int rc = sqlite3_step(get.get());
  if (rc == SQLITE_ROW) {
    BeginResult r;
    if (get.Text(0) != fingerprint) {
      r.decision = Decision::kMismatch;
      return r;
    }
    r.decision = Decision::kReplay;
    r.response.status = sqlite3_column_int(get.get(), 1);
    r.response.body = get.Text(2);
    return r;
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, "lookup");
  // Not answered yet. A concurrent repeat is 409 (the draft's "request
  // outstanding"); a different body is a misuse of the key (422) either way.
  auto [it, inserted] = in_flight_.emplace(key, fingerprint);
  if (!inserted) {
    return BeginResult{it->second == fingerprint ? Decision::kInFlight : Decision::kMismatch, {}};
  }
  return BeginResult{Decision::kProceed, {}};
}

void IdempotencyStore::Abandon(const std::string& key) {
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
}

Status IdempotencyStore::Complete(const std::string& key, const std::string& fingerprint,
                                  const StoredResponse& response) {
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
  Stmt put(db_,
           "INSERT OR REPLACE INTO idempotency(key, fingerprint, status, body, created_at_ms) "
           "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!put.ok()) return SqliteError(db_, "prepare insert");
  put.Bind(1, key);
  put.Bind(2, fingerprint);
  put.Bind(3, static_cast<int64_t>(response.status));
  put.Bind(4, response.body);
  put.Bind(5, ToUnixMillis(clock_.Now()));
  if (sqlite3_step(put.get()) != SQLITE_DONE) return SqliteError(db_, "insert");
  if (++completes_since_purge_ >= kPurgeEvery) return PurgeLocked();
  return Status::Ok();
}

}  // namespace crmhub::daemon
