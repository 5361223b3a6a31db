#pragma once
// Private to crm/sqlite_store*.cc: SqliteCrmStore's state.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crm/sqlite_store.h"
#include "crm/sqlite_util.h"

namespace crmhub::crm {

struct SqliteCrmStore::Impl {
  struct KindStmts {
    sql::Stmt select;  // id, version, fields by (source, external_id)
    sql::Stmt insert;
    sql::Stmt update;
  };

  Impl(Clock& c, SqliteStoreOptions o, std::unique_ptr<sql::Db> d)
      : clock(c), options(std::move(o)), db(std::move(d)) {}

  Status Init();
  Status PrepareAll();
  // How ApplyEvent isolates one event's writes from the rest of the batch.
  enum class Guard {
    // No savepoint. Input errors found before the first write (validation)
    // still fail only this event; one found by SQLite mid-event returns
    // kInputErrorUnguarded and the caller redoes the batch kSavepoint.
    kNone,
    // SAVEPOINT per event: any input error rolls back only this event.
    kSavepoint,
  };
  Status ApplyEvent(const SinkEvent& event, int64_t now_ms, Guard guard, EventApplyResult& out);
  // Runs the whole batch in one transaction; false when an unguarded pass
  // met a mid-event input error (the transaction is rolled back).
  Result<bool> ApplyBatch(const std::vector<SinkEvent>& events, int64_t now_ms, Guard guard,
                          std::vector<EventApplyResult>& results);
  Result<EntityApplyResult> Upsert(const SinkEvent& event, const model::Entity& e, int64_t now_ms);
  // The lead that `e` (a lead the store does not hold) joins under
  // lead_merge_window, merged and referenced; nullopt when there is none.
  Result<std::optional<EntityApplyResult>> MergeLead(const SinkEvent& event, const model::Entity& e,
                                                     int64_t now_ms);
  // Applies the pending update-only records of the entity just created as
  // `created` (row `id`, fields `text`), in version order, and forgets them.
  Result<EntityApplyResult> ApplyPending(const SinkEvent& event, model::Entity created, int64_t id,
                                         std::string text, int64_t now_ms);
  Status Journal(const SinkEvent& event, const model::Entity& e, int64_t id,
                 std::optional<int64_t> before_version, const std::optional<std::string>& before,
                 const std::string& after, int64_t now_ms);

  Clock& clock;
  const SqliteStoreOptions options;
  std::mutex mu;
  // Everything below is GUARDED_BY(mu).
  std::unique_ptr<sql::Db> db;
  std::vector<KindStmts> kinds;  // indexed by EntityKind
  sql::Stmt begin, commit, rollback, savepoint, release, rollback_to;
  sql::Stmt applied_select, applied_insert, ref_insert, journal_insert;
  // SqliteStoreOptions::lead_merge_window.
  sql::Stmt ref_select, contact_phone, lead_by_phone;
  // Update-only records that came before their entity.
  sql::Stmt pending_insert, pending_select, pending_delete, pending_prune;
};

}  // namespace crmhub::crm
