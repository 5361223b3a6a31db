#pragma once
// SqliteCrmStore: the embedded CRM store (crm.db), the default CrmSink.
//
// Layout (crm/store_schema.h, docs/crm-store.md): a table per entity kind,
// external_refs (source, external_id, kind) -> entity id, a journal of every
// change (before/after), and applied_events (source, idempotency_key).
//
// Rules, per entity (same as the REST API contract, docs/crm-core-api.yaml):
//  * unknown (kind, source, external_id)        -> created
//  * incoming version <  stored                 -> stale: ignored
//  * incoming version >  stored                 -> updated (also when only the
//                                                  version moved: the version
//                                                  is part of the state)
//  * equal version, identical fields            -> unchanged
//  * equal version, different fields            -> deterministic tie-break: the
//    canonical fields text (sorted keys) that compares greater bytewise wins,
//    the other is stale. So any order of one set of events converges to the
//    same state, which first-writer-wins or last-writer-wins would not.
// Payments and refunds rank their status before the version
// (mapping/model/status_precedence.h): a lower status is stale whatever its
// version, a higher one updates, equal ranks go by the rules above; a
// contradiction (`canceled` after `succeeded`) fails the event (dead letter,
// both sides in the reason, an error line) and keeps the stored record.
// Created and updated are journalled (one entry each); the others are not.
//
// Per event: an event whose (source, idempotency_key) is in applied_events is
// a duplicate: nothing changes, nothing is journalled, outcome Ok.
//
// Durability: WAL, synchronous=FULL. A whole Apply() batch is one transaction
// (one fsync); each event runs in its own savepoint, so an invalid entity
// (model::ValidateEntity) or a constraint failure rolls back only its event
// (outcome Fail with the reason) while the others commit. A busy/IO error
// rolls back the whole batch and every event's outcome is Retry.
//
// Thread-safety: every public method may be called from any thread; calls
// are serialised on one connection (Apply batches are the unit of work).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "crm/sink.h"
#include "mapping/model/status_precedence.h"

namespace crmhub::crm {

struct SqliteStoreOptions {
  // The database file; usually data_dir / kCrmDbFileName.
  std::filesystem::path path;
  // How long a write waits for another connection's lock (e.g. a sqlite3
  // shell) before the batch is answered Retry.
  int busy_timeout_ms = 5000;
  // Check every entity with model::ValidateEntity before writing it. The
  // mapping already validates; this is the sink's own guard.
  bool validate = true;
  // SQLite page cache for this connection, KiB.
  int cache_kib = 16 * 1024;
  // WAL pages before an automatic checkpoint (SQLite's default is 1000).
  int wal_autocheckpoint_pages = 1000;
  // How long an applied event's idempotency record is kept (Maintain()
  // forgets older ones, at most maintain_prune_limit per call). Far longer
  // than any redelivery: the queue's dedup window (7 days) bounds repeats.
  std::chrono::milliseconds applied_events_retention{std::chrono::hours(24 * 30)};
  int maintain_prune_limit = 10000;
  // One person, one lead: a lead about to be created whose contact
  // (fields.contact_external_id, of the lead's source) has a phone that the
  // contact of a lead from ANOTHER source created within this window also
  // has is not created: the fields it adds fill what that lead lacks (what
  // the lead holds is kept) and its (source, external_id) becomes another
  // reference to it (external_refs), so FindAnyKind finds it; later records
  // of that reference change nothing. So a website form and a call from one
  // number make one lead, whichever came first. Phones compare as stored:
  // the rules' `phone` transform (E.164) is the one normalisation. 0: off.
  std::chrono::milliseconds lead_merge_window{0};
  // Orders' statuses are the business's own: their precedence is declared
  // ([crm] order_status_precedence) and ranks before the version, as the
  // payments' table does (mapping/model/status_precedence.h), so a late or
  // echoed change from one side (1C, the CRM core, a marketplace) cannot
  // walk an order's status back; equal ranks and undeclared statuses go by
  // the version, the time of the change. Empty: the version alone.
  model::DeclaredStatusPrecedence order_status_precedence;
};

enum class UpsertResult { kCreated, kUpdated, kUnchanged, kStale };
std::string_view UpsertResultName(UpsertResult result);  // "created", ...

struct EntityApplyResult {
  UpsertResult result = UpsertResult::kUnchanged;
  int64_t entity_id = 0;
};

struct EventApplyResult {
  DeliveryOutcome outcome;
  bool duplicate = false;  // (source, idempotency_key) was applied before
  // One per entity when applied (not duplicate, not failed).
  std::vector<EntityApplyResult> entities;
};

struct StoredEntity {
  int64_t id = 0;
  model::Entity entity;
  SystemTime created_at;
  SystemTime updated_at;
};

struct JournalEntry {
  int64_t id = 0;
  SystemTime at;
  model::EntityKind kind = model::EntityKind::kContact;
  int64_t entity_id = 0;
  std::string source;
  std::string external_id;
  std::optional<int64_t> before_version;  // empty on creation
  std::optional<std::string> before;      // fields JSON text
  int64_t version = 0;
  std::string after;  // fields JSON text
  int64_t message_id = 0;
  std::string idempotency_key;
  SystemTime received_at;
};

struct KindSourceCount {
  model::EntityKind kind;
  std::string source;
  int64_t count = 0;
};

class SqliteCrmStore final : public CrmSink {
 public:
  // Opens or creates the store (and its schema). The clock stamps
  // created_at/updated_at/journal times; it must outlive the store.
  static Result<std::unique_ptr<SqliteCrmStore>> Open(const SqliteStoreOptions& options,
                                                      Clock& clock);
  ~SqliteCrmStore() override;

  std::vector<DeliveryOutcome> Apply(const std::vector<SinkEvent>& events) override;
  // Forgets applied_events older than applied_events_retention (bounded).
  Status Maintain() override;
  std::string_view name() const override { return "sqlite"; }

  // Apply with per-entity detail (the reference CRM server answers with it).
  std::vector<EventApplyResult> ApplyDetailed(const std::vector<SinkEvent>& events);

  // --- reads (tests, reconcile, the demo) ---
  Result<std::optional<StoredEntity>> Find(model::EntityKind kind, const std::string& source,
                                           const std::string& external_id);
  // Every kind holding (source, external_id), via external_refs (a merged
  // lead's reference finds the lead it joined).
  Result<std::vector<StoredEntity>> FindAnyKind(const std::string& source,
                                                const std::string& external_id);
  // Entities per kind and source (only non-zero counts).
  Result<std::vector<KindSourceCount>> CountByKindAndSource();
  // Entities of a kind, optionally of one source.
  Result<int64_t> Count(model::EntityKind kind, const std::optional<std::string>& source = {});
  // Every entity of every kind, ordered by (kind, source, external_id).
  Result<std::vector<StoredEntity>> AllEntities();
  // Journal entries with id > after_id, oldest first.
  Result<std::vector<JournalEntry>> ReadJournal(int64_t after_id = 0, int limit = 1000);
  Result<int64_t> JournalSize();
  Result<int64_t> AppliedEventCount();
  // Forgets applied_events older than `cutoff` (by applied_at); returns how
  // many. A re-delivery of a forgotten event is still harmless: its entities
  // compare equal or stale.
  Result<int64_t> PruneAppliedEvents(SystemTime cutoff, int64_t limit = -1);

 private:
  struct Impl;
  explicit SqliteCrmStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crmhub::crm
