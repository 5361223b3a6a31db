#include "adapters/onec_exchange/catalogue_state.h"

#include <sqlite3.h>

#include <memory>

namespace crmhub::adapters::onec_exchange {
namespace {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

Status Error(sqlite3* db, std::string_view what) {
  return Status::Unavailable("onec-exchange: catalogue state: " + std::string(what) + ": " +
                             (db != nullptr ? sqlite3_errmsg(db) : "no database"));
}

Result<Stmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return Error(db, sql);
  return Stmt(s);
}

void Bind(sqlite3_stmt* s, int at, std::string_view text) {
  sqlite3_bind_text(s, at, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

// Runs `sql` with `params` bound in order; for statements without rows.
Status Run(sqlite3* db, const char* sql, std::initializer_list<std::string_view> params) {
  Result<Stmt> s = Prepare(db, sql);
  if (!s.ok()) return s.status();
  int at = 1;
  for (std::string_view p : params) Bind(s->get(), at++, p);
  if (sqlite3_step(s->get()) != SQLITE_DONE) return Error(db, sql);
  return Status::Ok();
}

Result<int64_t> Count(sqlite3* db, const char* sql, std::string_view catalog) {
  Result<Stmt> s = Prepare(db, sql);
  if (!s.ok()) return s.status();
  Bind(s->get(), 1, catalog);
  if (sqlite3_step(s->get()) != SQLITE_ROW) return Error(db, sql);
  return sqlite3_column_int64(s->get(), 0);
}

constexpr const char* kAbsentWhere =
    " FROM known k WHERE k.catalog = ?1 AND NOT EXISTS "
    "(SELECT 1 FROM next n WHERE n.catalog = k.catalog AND n.id = k.id)";

}  // namespace

CatalogueState::~CatalogueState() {
  if (open_transaction_) Rollback();
  sqlite3_finalize(add_);
  if (db_ != nullptr) sqlite3_close(db_);
}

Status CatalogueState::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return Error(db_, sql);
  return Status::Ok();
}

Status CatalogueState::Open() {
  if (db_ != nullptr) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(path_.parent_path(), ec);
  if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) {
    Status s = Error(db_, "open " + path_.string());
    sqlite3_close(db_);
    db_ = nullptr;
    return s;
  }
  sqlite3_busy_timeout(db_, 5000);
  Status s = Exec(
      "PRAGMA journal_mode = WAL;"
      "CREATE TABLE IF NOT EXISTS known (catalog TEXT NOT NULL, id TEXT NOT NULL, "
      "  record TEXT NOT NULL, PRIMARY KEY (catalog, id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS next (catalog TEXT NOT NULL, id TEXT NOT NULL, "
      "  record TEXT NOT NULL, PRIMARY KEY (catalog, id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS next_owner (catalog TEXT PRIMARY KEY, import_key TEXT NOT "
      "NULL);");
  if (!s.ok()) {
    sqlite3_close(db_);
    db_ = nullptr;
  }
  return s;
}

Status CatalogueState::Begin(const std::string& catalog, const std::string& import_key) {
  if (Status s = Open(); !s.ok()) return s;
  if (open_transaction_) Rollback();
  if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  open_transaction_ = true;
  catalog_ = catalog;
  Result<Stmt> owner = Prepare(db_, "SELECT import_key FROM next_owner WHERE catalog = ?1");
  if (!owner.ok()) return owner.status();
  Bind(owner->get(), 1, catalog);
  std::string previous;
  bool has_previous = false;
  if (sqlite3_step(owner->get()) == SQLITE_ROW) {
    has_previous = true;
    const unsigned char* text = sqlite3_column_text(owner->get(), 0);
    if (text != nullptr) previous = reinterpret_cast<const char*>(text);
  }
  owner->reset();
  if (has_previous && previous != import_key) {  // the previous import, settled
    for (const char* sql : {"DELETE FROM known WHERE catalog = ?1",
                            "INSERT INTO known SELECT catalog, id, record FROM next "
                            "WHERE catalog = ?1"}) {
      if (Status s = Run(db_, sql, {catalog}); !s.ok()) return s;
    }
  }
  if (Status s = Run(db_, "DELETE FROM next WHERE catalog = ?1", {catalog}); !s.ok()) return s;
  return Run(db_, "INSERT OR REPLACE INTO next_owner (catalog, import_key) VALUES (?1, ?2)",
             {catalog, import_key});
}

Status CatalogueState::Add(std::string_view id, std::string_view record) {
  if (add_ == nullptr) {
    const char* sql = "INSERT OR REPLACE INTO next (catalog, id, record) VALUES (?1, ?2, ?3)";
    if (sqlite3_prepare_v2(db_, sql, -1, &add_, nullptr) != SQLITE_OK) return Error(db_, sql);
  }
  sqlite3_reset(add_);
  Bind(add_, 1, catalog_);
  Bind(add_, 2, id);
  Bind(add_, 3, record);
  if (sqlite3_step(add_) != SQLITE_DONE) return Error(db_, "adding a good");
  return Status::Ok();
}

Result<CatalogueState::Counts> CatalogueState::Absent() {
  Counts out;
  const std::string absent = std::string("SELECT COUNT(*)") + kAbsentWhere;
  Result<int64_t> a = Count(db_, absent.c_str(), catalog_);
  if (!a.ok()) return a.status();
  Result<int64_t> k = Count(db_, "SELECT COUNT(*) FROM known WHERE catalog = ?1", catalog_);
  if (!k.ok()) return k.status();
  out.absent = *a;
  out.known = *k;
  return out;
}

Status CatalogueState::ForEachAbsent(const std::function<Status(std::string_view)>& each) {
  const std::string sql = std::string("SELECT k.record") + kAbsentWhere + " ORDER BY k.id";
  Result<Stmt> s = Prepare(db_, sql.c_str());
  if (!s.ok()) return s.status();
  Bind(s->get(), 1, catalog_);
  int rc = 0;
  while ((rc = sqlite3_step(s->get())) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s->get(), 0));
    const int size = sqlite3_column_bytes(s->get(), 0);
    if (Status st = each(std::string_view(text == nullptr ? "" : text, static_cast<size_t>(size)));
        !st.ok()) {
      return st;
    }
  }
  return rc == SQLITE_DONE ? Status::Ok() : Error(db_, "reading the absent goods");
}

Status CatalogueState::Commit() {
  open_transaction_ = false;
  return Exec("COMMIT");
}

void CatalogueState::Rollback() {
  open_transaction_ = false;
  if (db_ != nullptr) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

}  // namespace crmhub::adapters::onec_exchange
