#include "daemon/audit_journal.h"

#include <system_error>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "base/private_files.h"

namespace crmhub::daemon {
namespace {

using queue::internal::Db;
using queue::internal::Stmt;

constexpr auto kPurgeEvery = std::chrono::hours(1);

}  // namespace

Result<std::unique_ptr<AuditJournal>> AuditJournal::Open(const std::filesystem::path& file,
                                                         Clock& clock,
                                                         std::chrono::milliseconds retention,
                                                         bool create) {
  if (file.empty()) return Status::InvalidArgument("audit journal: no file given");
  if (create) {
    CRMHUB_RETURN_IF_ERROR(EnsurePrivateFile(file).WithContext("audit journal"));
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return Status::NotFound("audit journal: " + file.string() +
                              " does not exist (nothing "
                              "was recorded yet)");
    }
  }
  auto db = Db::Open(file.string(), create, "", /*busy_timeout_ms=*/5000);
  if (!db.ok()) return db.status().WithContext("audit journal");
  // synchronous=FULL: an entry is on disk before the caller's answer goes
  // out. A few entries a minute at most: no group commit needed.
  CRMHUB_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL;"
                                  "PRAGMA synchronous=FULL;"
                                  "CREATE TABLE IF NOT EXISTS audit ("
                                  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                                  "  at_ms INTEGER NOT NULL,"
                                  "  actor TEXT NOT NULL,"
                                  "  via TEXT NOT NULL,"
                                  "  remote TEXT NOT NULL,"
                                  "  action TEXT NOT NULL,"
                                  "  target TEXT NOT NULL,"
                                  "  result TEXT NOT NULL,"
                                  "  status INTEGER NOT NULL,"
                                  "  detail TEXT NOT NULL);"
                                  "CREATE INDEX IF NOT EXISTS audit_at ON audit(at_ms);")
                             .WithContext("audit journal: set up " + file.string()));
  std::unique_ptr<AuditJournal> journal(new AuditJournal(std::move(db).value(), clock, retention));
  {
    std::lock_guard lock(journal->mu_);
    CRMHUB_RETURN_IF_ERROR(journal->PurgeLocked());
  }
  return journal;
}

AuditJournal::AuditJournal(Db db, Clock& clock, std::chrono::milliseconds retention)
    : clock_(clock), retention_(retention), db_(std::move(db)) {}

AuditJournal::~AuditJournal() = default;

Status AuditJournal::PurgeLocked() {
  if (retention_.count() <= 0) return Status::Ok();
  auto del = db_.Prepare("DELETE FROM audit WHERE at_ms < ?1");
  if (!del.ok()) return del.status().WithContext("audit journal");
  del->Bind(1, ToUnixMillis(clock_.Now()) - retention_.count());
  CRMHUB_RETURN_IF_ERROR(del->Run("audit journal: purge"));
  last_purge_ = clock_.Now();
  return Status::Ok();
}

Result<int64_t> AuditJournal::Record(AuditEntry entry) {
  std::lock_guard lock(mu_);
  entry.at = clock_.Now();
  auto ins = db_.Prepare(
      "INSERT INTO audit (at_ms, actor, via, remote, action, target, result, status, detail) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!ins.ok()) return ins.status().WithContext("audit journal");
  if (entry.detail.empty()) entry.detail = "{}";
  ins->Bind(1, ToUnixMillis(entry.at))
      .Bind(2, entry.actor)
      .Bind(3, entry.via)
      .Bind(4, entry.remote)
      .Bind(5, entry.action)
      .Bind(6, entry.target)
      .Bind(7, entry.result)
      .Bind(8, int64_t{entry.status})
      .Bind(9, entry.detail);
  CRMHUB_RETURN_IF_ERROR(ins->Run("audit journal: insert"));
  const int64_t id = sqlite3_last_insert_rowid(db_.raw());
  if (entry.at - last_purge_ >= kPurgeEvery) {
    // A failed purge keeps old entries a little longer; the entry is in.
    (void)PurgeLocked();
  }
  return id;
}

Result<std::vector<AuditEntry>> AuditJournal::List(const AuditFilter& filter) {
  std::lock_guard lock(mu_);
  const int limit = filter.limit > 0 ? filter.limit : 100;
  auto stmt = filter.newest ? db_.Prepare(
                                  "SELECT * FROM (SELECT id, at_ms, actor, via, remote, action, "
                                  "target, result, status, detail FROM audit ORDER BY id DESC "
                                  "LIMIT ?1) ORDER BY id")
                            : db_.Prepare(
                                  "SELECT id, at_ms, actor, via, remote, action, target, result, "
                                  "status, detail FROM audit WHERE id > ?2 ORDER BY id LIMIT ?1");
  if (!stmt.ok()) return stmt.status().WithContext("audit journal");
  stmt->Bind(1, int64_t{limit});
  if (!filter.newest) stmt->Bind(2, filter.after_id);
  std::vector<AuditEntry> out;
  for (;;) {
    const int rc = stmt->Step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW)
      return queue::internal::SqliteStatus(db_.raw(), rc, "audit journal: list");
    AuditEntry e;
    e.id = stmt->Int(0);
    e.at = FromUnixMillis(stmt->Int(1));
    e.actor = stmt->Text(2);
    e.via = stmt->Text(3);
    e.remote = stmt->Text(4);
    e.action = stmt->Text(5);
    e.target = stmt->Text(6);
    e.result = stmt->Text(7);
    e.status = static_cast<int>(stmt->Int(8));
    e.detail = stmt->Text(9);
    out.push_back(std::move(e));
  }
  stmt->Reset();
  return out;
}

nlohmann::json AuditEntryToJson(const AuditEntry& e) {
  using nlohmann::json;
  Result<json> parsed = ParseJson(e.detail);
  json detail = parsed.ok() && parsed->is_object() ? std::move(parsed).value() : json::object();
  json j = {{"id", e.id},         {"at", FormatRfc3339(e.at)},
            {"actor", e.actor},   {"via", e.via},
            {"remote", e.remote}, {"action", e.action},
            {"target", e.target}, {"result", e.result},
            {"status", e.status}, {"detail", std::move(detail)}};
  return j;
}

}  // namespace crmhub::daemon
