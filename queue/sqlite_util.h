#pragma once
// Thin RAII wrappers over the sqlite3 C API for the queue engine, plus the
// compact binary encodings of headers and attempt history.
// Not thread-safe: a Db and its statements belong to one thread at a time.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "queue/queue.h"

namespace crmhub::queue::internal {

// True for result codes that mean the storage failed (I/O, full disk,
// corruption): after one of these the engine stops writing.
bool IsStorageFailure(int rc);

// Maps a sqlite result code to a Status: storage failures -> kIoError,
// SQLITE_BUSY/LOCKED -> kUnavailable, anything else -> kInternal.
Status SqliteStatus(sqlite3* db, int rc, std::string_view context);

class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view text);       // bound as TEXT, not copied:
                                                      // REQUIRES: alive until Reset()
  Stmt& BindBlob(int index, std::string_view bytes);  // same lifetime rule
  Stmt& BindNull(int index);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step();
  // Steps a statement that returns no rows; resets it afterwards.
  Status Run(std::string_view context);
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  // The column's bytes without a copy: valid until the next Step or Reset.
  std::string_view Blob(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  // Opens (creating if asked) with the given VFS ("" = default).
  static Result<Db> Open(const std::string& path, bool create, const std::string& vfs,
                         int busy_timeout_ms);

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  // Runs a single-value query ("PRAGMA user_version").
  Result<int64_t> QueryInt(std::string_view sql);
  Result<std::string> QueryText(std::string_view sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// Makes a connection's committed WAL frames durable: the "fsync of our own"
// behind the queue's pipelined group commit (sqlite_queue.h). The connection
// runs with synchronous=NORMAL, so COMMIT writes its frames to the WAL without
// syncing; Sync() then syncs the WAL file through the connection's own VFS
// (SQLITE_FCNTL_JOURNAL_POINTER), so a fault-injecting VFS sees it too.
//
// Thread-safety: Sync() may run on another thread than the one using the
// connection. The VFS file object is shared; the unix VFS's xSync only reads
// it (its one-time directory sync is done by For(), on the owning thread).
class WalSyncer {
 public:
  // REQUIRES: `db` is in WAL mode with the WAL open (after a first read);
  // `db` outlives the syncer.
  static Result<WalSyncer> For(Db& db);
  Status Sync() const;

 private:
  explicit WalSyncer(sqlite3_file* wal) : wal_(wal) {}
  sqlite3_file* wal_;
};

// Headers: repeated (u32 len, bytes) pairs, little endian.
std::string EncodeHeaders(const Headers& headers);
Headers DecodeHeaders(std::string_view blob);

// Attempt history: repeated (i64 unix ms, u32 len, error bytes).
void AppendAttempt(std::string* blob, SystemTime at, std::string_view error);
std::vector<DeadLetterAttempt> DecodeHistory(std::string_view blob);

}  // namespace crmhub::queue::internal
