#pragma once
// What the last full CommerceML catalogue held, per Каталог/Ид, on disk
// (SQLite, staging_dir/catalogues.db), so that a full import*.xml can tell
// which goods it no longer mentions (to deactivate them, never delete)
// with memory bounded whatever the catalogue's size: the goods of a full
// import are written to `next` as the stream reads them, and the absent
// ones are a query, read back one by one.
//
// One full import is one transaction: Begin, Add per Товар, Absent /
// ForEachAbsent, then Commit (or Rollback when it is refused). An import's
// own goods become the known state when the next full import of the same
// catalogue begins under another key: a retry of the same import (same
// key) compares with the same known state again, and one refused leaves the
// known state as it was.
//
// Not thread-safe: the exchange's hints are resolved one at a time (one
// ordering key); the adapter still holds a mutex around it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace crmhub::adapters::onec_exchange {

class CatalogueState {
 public:
  explicit CatalogueState(std::filesystem::path db_path) : path_(std::move(db_path)) {}
  ~CatalogueState();
  CatalogueState(const CatalogueState&) = delete;
  CatalogueState& operator=(const CatalogueState&) = delete;

  // Starts the full import `import_key` of `catalog` (opening the database
  // on first use).
  Status Begin(const std::string& catalog, const std::string& import_key);
  Status Add(std::string_view id, std::string_view record);
  struct Counts {
    int64_t absent = 0;  // known goods this import does not have
    int64_t known = 0;   // goods of the last full import
  };
  Result<Counts> Absent();
  // The absent goods' last records, by Ид.
  Status ForEachAbsent(const std::function<Status(std::string_view record)>& each);
  Status Commit();
  void Rollback();

 private:
  Status Open();
  Status Exec(const char* sql);

  const std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* add_ = nullptr;  // prepared once: Add runs per Товар
  std::string catalog_;
  bool open_transaction_ = false;
};

}  // namespace crmhub::adapters::onec_exchange
