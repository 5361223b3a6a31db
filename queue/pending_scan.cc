#include "queue/pending_scan.h"

#include <sqlite3.h>

#include <string>

#include "queue/segment.h"
#include "queue/sqlite_util.h"

namespace crmhub::queue {
namespace {

using internal::BitIsSet;
using internal::Db;
using internal::ReadEntry;
using internal::SegmentEntry;
using internal::SqliteStatus;

Result<bool> HasTable(Db& db, const char* name) {
  auto stmt = db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, std::string_view(name));
  const int rc = stmt->Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(db.raw(), rc, "pending scan: schema");
}

// Schema 4: the entries of every segment whose settled bit is clear.
Status ScanSegments(Db& db, const std::function<void(const PendingMessage&)>& visit) {
  auto stmt = db.Prepare(
      "SELECT s.id, s.lane, s.body, t.settled FROM segments s "
      "LEFT JOIN segment_settled t ON t.id = s.id ORDER BY s.id");
  if (!stmt.ok()) return stmt.status();
  int rc;
  SegmentEntry e;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    const std::string lane = stmt->Text(1);
    const std::string_view body = stmt->Blob(2);
    const std::string_view settled = stmt->IsNull(3) ? std::string_view() : stmt->Blob(3);
    size_t at = 0;
    for (uint32_t index = 0; at < body.size(); ++index) {
      if (!ReadEntry(body, &at, &e, /*skim=*/true)) {
        return Status::Internal("queue: segment " + std::to_string(stmt->Int(0)) + " is truncated");
      }
      if (BitIsSet(settled, index)) continue;
      visit({.lane = lane, .source = e.source, .created_ms = e.created_ms});
    }
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db.raw(), rc, "pending scan: segments");
  return Status::Ok();
}

// Schema 1-3 (a file no daemon of this version has opened yet): one row per
// message.
Status ScanRows(Db& db, const std::function<void(const PendingMessage&)>& visit) {
  auto stmt = db.Prepare("SELECT lane, source, created_at FROM messages");
  if (!stmt.ok()) return stmt.status();
  int rc;
  while ((rc = stmt->Step()) == SQLITE_ROW) {
    const std::string lane = stmt->Text(0);
    const std::string source = stmt->Text(1);
    visit({.lane = lane, .source = source, .created_ms = stmt->Int(2)});
  }
  if (rc != SQLITE_DONE) return SqliteStatus(db.raw(), rc, "pending scan: messages");
  return Status::Ok();
}

}  // namespace

Status ForEachPendingMessage(const std::filesystem::path& queue_db,
                             const std::function<void(const PendingMessage&)>& visit) {
  auto db = Db::Open(queue_db.string(), /*create=*/false, /*vfs=*/"", /*busy_timeout_ms=*/5000);
  if (!db.ok()) return db.status();
  // One snapshot for both tables (a migration moves rows between them).
  CRMHUB_RETURN_IF_ERROR(db->Exec("BEGIN"));
  Status status = Status::Ok();
  for (auto [table, scan] :
       {std::pair{"segments", &ScanSegments}, std::pair{"messages", &ScanRows}}) {
    auto has = HasTable(*db, table);
    if (!has.ok()) {
      status = has.status();
      break;
    }
    if (!*has) continue;
    status = scan(*db, visit);
    if (!status.ok()) break;
  }
  (void)db->Exec("COMMIT");
  return status;
}

}  // namespace crmhub::queue
