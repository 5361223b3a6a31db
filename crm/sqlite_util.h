#pragma once
// Thin RAII helpers over the SQLite C API for crm/ (the CRM store and the
// read-only reconciliation queries). Not a general ORM: a connection, a
// prepared statement with typed binds/reads, and the mapping of SQLite result
// codes to Status.
//
// Thread-safety: none; a Db and its statements belong to one thread at a time
// (the owner serialises, e.g. SqliteCrmStore's mutex).

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub::crm::sql {

// Maps an SQLite (extended) result code to a Status code: BUSY/LOCKED ->
// kUnavailable (retry later), CONSTRAINT/MISMATCH/TOOBIG/RANGE ->
// kInvalidArgument (this input will never fit), IOERR/FULL/CANTOPEN ->
// kIoError, CORRUPT/NOTADB -> kCorruption, everything else kInternal.
Status FromSqlite(int rc, std::string_view what, sqlite3* db);

// True for codes that say "this statement's input is bad" rather than "the
// database is in trouble".
bool IsInputError(const Status& status);

class Db;

class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds by 1-based index. Text is copied (SQLITE_TRANSIENT).
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view value);
  Stmt& BindNull(int index);
  Stmt& Bind(int index, const std::optional<std::string>& value);
  Stmt& Bind(int index, const std::optional<int64_t>& value);

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, for statements without result rows.
  Status Run();
  // Resets for the next use and clears bindings.
  void Reset();

  int64_t Int(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;
  std::optional<int64_t> OptInt(int column) const;

  sqlite3_stmt* raw() const { return stmt_; }

 private:
  friend class Db;
  Stmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

class Db {
 public:
  // Opens (creating if `create`) the file. `read_only` opens with
  // SQLITE_OPEN_READONLY. Sets a busy timeout.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool read_only,
                                          int busy_timeout_ms = 5000);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters.
  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);
  // True if a table (or view) of that name exists.
  Result<bool> HasTable(std::string_view name);

  sqlite3* raw() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace crmhub::crm::sql
