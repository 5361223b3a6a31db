#pragma once
// AuditJournal: who changed what through the admin API or the CLI, and what
// came of it; <data_dir>/audit.db (SQLite, synchronous=FULL, 0600).
//
// One entry per mutating call: POST /api/v1/commands, replaying and dropping
// dead letters through /api/v1, a mutating call refused for a missing scope
// (result "denied"), and `crmhub dlq replay|drop|purge`. An entry names the
// caller by its token's name (or "cli:<user>"), never by the token, and is
// committed before the caller gets its answer, so what a client saw done is
// in the journal. Entries older than the retention are purged now and again.
//
// The daemon and the CLI may write at once (WAL; a writer waits up to 5 s
// for the other's lock).
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "queue/sqlite_util.h"

namespace crmhub::daemon {

struct AuditEntry {
  int64_t id = 0;      // set by Record()
  SystemTime at{};     // set by Record()
  std::string actor;   // the token's name, or "cli:<user>"
  std::string via;     // "api" or "cli"
  std::string remote;  // the peer's address for "api"; empty for "cli"
  std::string action;  // "replay_dead_letter", "submit_command", ...
  std::string target;  // what it acted on: "12", "lane in.shop", "out.ozon"
  std::string result;  // "ok", "denied", "not_found", "failed", ...
  int status = 0;      // the HTTP status, or the CLI's exit code
  std::string detail;  // a JSON object: counts, the answer's error, the key
};

struct AuditFilter {
  int64_t after_id = 0;  // entries with a greater id, oldest first
  int limit = 100;
  bool newest = false;  // the last `limit` entries (after_id ignored), oldest first
};

class AuditJournal {
 public:
  // Opens (creating it, 0600, when `create`) the journal. Entries older than
  // `retention` are purged at open and then about hourly.
  static Result<std::unique_ptr<AuditJournal>> Open(const std::filesystem::path& file, Clock& clock,
                                                    std::chrono::milliseconds retention,
                                                    bool create = true);
  ~AuditJournal();
  AuditJournal(const AuditJournal&) = delete;
  AuditJournal& operator=(const AuditJournal&) = delete;

  // Durably appends `entry` (id and time set here); returns its id.
  Result<int64_t> Record(AuditEntry entry);
  Result<std::vector<AuditEntry>> List(const AuditFilter& filter);

 private:
  AuditJournal(queue::internal::Db db, Clock& clock, std::chrono::milliseconds retention);
  Status PurgeLocked();

  Clock& clock_;
  const std::chrono::milliseconds retention_;
  std::mutex mu_;
  queue::internal::Db db_ GUARDED_BY(mu_);
  SystemTime last_purge_ GUARDED_BY(mu_) = {};
};

// The entry as a JSON object (GET /api/v1/audit, `crmhub audit --json`).
nlohmann::json AuditEntryToJson(const AuditEntry& entry);

}  // namespace crmhub::daemon
