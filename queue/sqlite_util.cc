#include "queue/sqlite_util.h"

#include <cstring>

#include "queue/segment.h"

namespace crmhub::queue::internal {

bool IsStorageFailure(int rc) {
  switch (rc & 0xff) {
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

Status SqliteStatus(sqlite3* db, int rc, std::string_view context) {
  std::string msg(context);
  msg += ": ";
  msg += sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_errcode(db) == rc) {
    msg += " (";
    msg += sqlite3_errmsg(db);
    msg += ")";
  }
  if (IsStorageFailure(rc)) return Status::IoError(std::move(msg));
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    return Status::Unavailable(std::move(msg));
  }
  return Status::Internal(std::move(msg));
}

Result<WalSyncer> WalSyncer::For(Db& db) {
  sqlite3_file* wal = nullptr;
  int rc = sqlite3_file_control(db.raw(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
  if (rc != SQLITE_OK) return SqliteStatus(db.raw(), rc, "queue: locating the WAL file");
  if (wal == nullptr || wal->pMethods == nullptr) {
    return Status::Internal("queue: the WAL file is not open");
  }
  WalSyncer syncer(wal);
  // The first sync of a newly created WAL also syncs its directory (and
  // clears a flag on the shared file object): do it here, on this thread.
  CRMHUB_RETURN_IF_ERROR(syncer.Sync());
  return syncer;
}

Status WalSyncer::Sync() const {
  int rc = wal_->pMethods->xSync(wal_, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK) {
    return Status::IoError(std::string("queue: fsync of the WAL failed: ") + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

Stmt::Stmt(Stmt&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_STATIC);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

int Stmt::Step() { return sqlite3_step(stmt_); }

Status Stmt::Run(std::string_view context) {
  int rc = sqlite3_step(stmt_);
  Status st =
      (rc == SQLITE_DONE || rc == SQLITE_ROW) ? Status::Ok() : SqliteStatus(db_, rc, context);
  Reset();
  return st;
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Stmt::Text(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

std::string_view Stmt::Blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

Db::~Db() { sqlite3_close_v2(db_); }

Result<Db> Db::Open(const std::string& path, bool create, const std::string& vfs,
                    int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, vfs.empty() ? nullptr : vfs.c_str());
  Db db(raw);
  if (rc != SQLITE_OK) return SqliteStatus(raw, rc, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  return db;
}

Status Db::Exec(std::string_view sql) {
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, s);
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "prepare " + std::string(sql));
  return Stmt(db_, stmt);
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int rc = stmt->Step();
  if (rc == SQLITE_ROW) return stmt->Int(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return SqliteStatus(db_, rc, sql);
}

Result<std::string> Db::QueryText(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int rc = stmt->Step();
  if (rc == SQLITE_ROW) return stmt->Text(0);
  if (rc == SQLITE_DONE) return std::string();
  return SqliteStatus(db_, rc, sql);
}

namespace {

// Readers return false on truncated input (a corrupt blob decodes partially).
bool GetU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<unsigned char>((*in)[i])} << (8 * i);
  in->remove_prefix(4);
  return true;
}

bool GetI64(std::string_view* in, int64_t* v) {
  if (in->size() < 8) return false;
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>((*in)[i])} << (8 * i);
  *v = static_cast<int64_t>(u);
  in->remove_prefix(8);
  return true;
}

bool GetBytes(std::string_view* in, std::string* out) {
  uint32_t n = 0;
  if (!GetU32(in, &n) || in->size() < n) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeHeaders(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    PutBytes(&out, name);
    PutBytes(&out, value);
  }
  return out;
}

Headers DecodeHeaders(std::string_view blob) {
  Headers headers;
  std::string name, value;
  while (!blob.empty() && GetBytes(&blob, &name) && GetBytes(&blob, &value)) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

void AppendAttempt(std::string* blob, SystemTime at, std::string_view error) {
  PutI64(blob, ToUnixMillis(at));
  PutBytes(blob, error);
}

std::vector<DeadLetterAttempt> DecodeHistory(std::string_view blob) {
  std::vector<DeadLetterAttempt> history;
  int64_t ms = 0;
  std::string error;
  while (!blob.empty() && GetI64(&blob, &ms) && GetBytes(&blob, &error)) {
    history.push_back({FromUnixMillis(ms), std::move(error)});
  }
  return history;
}

}  // namespace crmhub::queue::internal
