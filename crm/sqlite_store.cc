// SqliteCrmStore: opening, the write path (Apply) and its per-entity rules.
// The read helpers are in sqlite_store_read.cc.

#include "crm/sqlite_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "base/private_files.h"
#include "crm/sqlite_store_impl.h"
#include "crm/store_schema.h"
#include "mapping/model/model.h"
#include "mapping/model/status_precedence.h"

namespace crmhub::crm {

std::string_view UpsertResultName(UpsertResult result) {
  switch (result) {
    case UpsertResult::kCreated:
      return "created";
    case UpsertResult::kUpdated:
      return "updated";
    case UpsertResult::kUnchanged:
      return "unchanged";
    case UpsertResult::kStale:
      return "stale";
  }
  return "unknown";
}

namespace {

// Binds the typed columns of `table`, starting at `first`; returns the next
// free index.
int BindTyped(sql::Stmt& stmt, int first, const KindTable& table, const nlohmann::json& fields) {
  int i = first;
  for (const TypedColumn& c : table.columns) {
    auto it = fields.find(c.field);
    if (it == fields.end()) {
      stmt.BindNull(i);
    } else if (c.integer && it->is_number_integer()) {
      stmt.Bind(i, it->get<int64_t>());
    } else if (!c.integer && it->is_string()) {
      stmt.Bind(i, std::string_view(it->get_ref<const std::string&>()));
    } else {
      stmt.BindNull(i);
    }
    ++i;
  }
  return i;
}

// The canonical text of the fields: nlohmann's object keys are sorted, so
// equal content is equal text. Invalid UTF-8 is an input error.
Result<std::string> CanonicalFields(const nlohmann::json& fields) {
  if (!fields.is_object()) return Status::InvalidArgument("fields must be a JSON object");
  try {
    return fields.dump();
  } catch (const nlohmann::json::exception&) {
    return Status::InvalidArgument("fields contain invalid UTF-8");
  }
}

// Names the entity an error is about: "entity 1 (order ozon/P-2)".
std::string EntityWhere(size_t index, const model::Entity& e) {
  return fmt::format("entity {} ({} {}/{})", index, model::KindName(e.kind), e.source,
                     e.external_id);
}

}  // namespace

Result<std::unique_ptr<SqliteCrmStore>> SqliteCrmStore::Open(const SqliteStoreOptions& options,
                                                             Clock& clock) {
  if (options.path.empty()) return Status::InvalidArgument("crm store: empty path");
  // Personal data: the directory 0700 when created here, the file 0600.
  CRMHUB_RETURN_IF_ERROR(EnsurePrivateFile(options.path).WithContext("crm store"));

  auto db = sql::Db::Open(options.path.string(), /*read_only=*/false, options.busy_timeout_ms);
  if (!db.ok()) return db.status().WithContext("crm store");
  auto impl = std::make_unique<Impl>(clock, options, std::move(db).value());
  CRMHUB_RETURN_IF_ERROR(impl->Init().WithContext("crm store " + options.path.string()));
  return std::unique_ptr<SqliteCrmStore>(new SqliteCrmStore(std::move(impl)));
}

SqliteCrmStore::SqliteCrmStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteCrmStore::~SqliteCrmStore() = default;

Status SqliteCrmStore::Impl::Init() {
  sql::Db& d = *db;
  {
    auto wal = d.Prepare("PRAGMA journal_mode=WAL");
    if (!wal.ok()) return wal.status();
    auto row = wal->Step();
    if (!row.ok()) return row.status();
    if (!*row || wal->Text(0) != "wal") return Status::IoError("cannot switch to WAL mode");
  }
  // temp_store=MEMORY: an upsert inside the batch transaction opens a
  // statement journal, and with the default (a file in /var/tmp) every
  // applied event paid ~30 pwrite calls to it (measured with strace). The
  // statement journal only guards a statement's own rollback, never
  // durability, so memory is the right place for it.
  CRMHUB_RETURN_IF_ERROR(
      d.Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA temp_store=MEMORY;"));
  // A page cache big enough for the hot index pages of the kind tables,
  // external_refs and the journal (default is 2 MiB), and fewer, larger
  // WAL checkpoints (each one costs the committing batch a db fsync).
  CRMHUB_RETURN_IF_ERROR(d.Exec(fmt::format("PRAGMA cache_size=-{}; PRAGMA wal_autocheckpoint={};",
                                            options.cache_kib, options.wal_autocheckpoint_pages)));

  auto uv = d.Prepare("PRAGMA user_version");
  if (!uv.ok()) return uv.status();
  auto row = uv->Step();
  if (!row.ok()) return row.status();
  int64_t version = *row ? uv->Int(0) : 0;
  uv->Reset();
  if (version > kCrmStoreSchemaVersion) {
    return Status::FailedPrecondition(
        fmt::format("schema version {} is newer than this crmhub understands ({})", version,
                    kCrmStoreSchemaVersion));
  }
  // The schema is all CREATE ... IF NOT EXISTS. Run first in a deferred
  // transaction: when every table and index exists it writes nothing and so
  // takes no write lock, and a second process (the CLI, a test) opens the
  // store beside a busy daemon instead of waiting out busy_timeout for a
  // lock the daemon's commits keep taking. Only when something is missing
  // does it write; if the daemon wrote meanwhile, that upgrade fails at once
  // (SQLITE_BUSY, no busy wait for a read-to-write upgrade in WAL) and the
  // creation is done again under BEGIN IMMEDIATE, which waits its turn.
  auto create = [&](const char* begin_sql) {
    Status s = d.Exec(begin_sql);
    if (!s.ok()) return s;
    s = d.Exec(SchemaSql());
    if (s.ok() && version != kCrmStoreSchemaVersion) {
      s = d.Exec(fmt::format("PRAGMA user_version={}", kCrmStoreSchemaVersion));
    }
    if (s.ok()) s = d.Exec("COMMIT");
    if (!s.ok()) (void)d.Exec("ROLLBACK");
    return s;
  };
  if (!create("BEGIN").ok()) CRMHUB_RETURN_IF_ERROR(create("BEGIN IMMEDIATE"));
  return PrepareAll();
}

Status SqliteCrmStore::Impl::PrepareAll() {
  sql::Db& d = *db;
  auto prep = [&](sql::Stmt& out, const std::string& text) -> Status {
    auto st = d.Prepare(text);
    if (!st.ok()) return st.status().WithContext(text);
    out = std::move(st).value();
    return Status::Ok();
  };
  const auto tables = AllKindTables();
  kinds.resize(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    const KindTable& t = tables[i];
    if (static_cast<size_t>(t.kind) != i) return Status::Internal("kind tables out of order");
    std::string cols, qs, sets;
    for (const TypedColumn& c : t.columns) {
      cols += fmt::format(", {}", c.column);
      qs += ", ?";
      sets += fmt::format(", {} = ?", c.column);
    }
    CRMHUB_RETURN_IF_ERROR(
        prep(kinds[i].select,
             fmt::format("SELECT id, version, fields FROM {} WHERE source = ? AND external_id = ?",
                         t.table)));
    CRMHUB_RETURN_IF_ERROR(
        prep(kinds[i].insert,
             fmt::format(
                 "INSERT INTO {} (source, external_id, version, fields, created_at, updated_at{}) "
                 "VALUES (?, ?, ?, ?, ?, ?{})",
                 t.table, cols, qs)));
    CRMHUB_RETURN_IF_ERROR(
        prep(kinds[i].update,
             fmt::format("UPDATE {} SET version = ?, fields = ?, updated_at = ?{} WHERE id = ?",
                         t.table, sets)));
  }
  CRMHUB_RETURN_IF_ERROR(prep(begin, "BEGIN IMMEDIATE"));
  CRMHUB_RETURN_IF_ERROR(prep(commit, "COMMIT"));
  CRMHUB_RETURN_IF_ERROR(prep(rollback, "ROLLBACK"));
  CRMHUB_RETURN_IF_ERROR(prep(savepoint, "SAVEPOINT crm_event"));
  CRMHUB_RETURN_IF_ERROR(prep(release, "RELEASE crm_event"));
  CRMHUB_RETURN_IF_ERROR(prep(rollback_to, "ROLLBACK TO crm_event"));
  CRMHUB_RETURN_IF_ERROR(prep(
      applied_select, "SELECT 1 FROM applied_events WHERE source = ? AND idempotency_key = ?"));
  CRMHUB_RETURN_IF_ERROR(
      prep(applied_insert,
           "INSERT INTO applied_events (source, idempotency_key, message_id, received_at, "
           "applied_at, entities, changes) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  CRMHUB_RETURN_IF_ERROR(
      prep(ref_insert,
           "INSERT INTO external_refs (source, external_id, kind, entity_id) VALUES (?, ?, ?, ?)"));
  CRMHUB_RETURN_IF_ERROR(prep(
      ref_select,
      "SELECT entity_id FROM external_refs WHERE source = ? AND external_id = ? AND kind = ?"));
  CRMHUB_RETURN_IF_ERROR(
      prep(contact_phone, "SELECT phone FROM contacts WHERE source = ? AND external_id = ?"));
  CRMHUB_RETURN_IF_ERROR(prep(lead_by_phone, std::string(kLeadByPhoneSql)));
  CRMHUB_RETURN_IF_ERROR(prep(pending_insert,
                              "INSERT INTO pending_updates (kind, source, external_id, version, "
                              "fields, created_at) VALUES (?, ?, ?, ?, ?, ?)"));
  CRMHUB_RETURN_IF_ERROR(prep(pending_select,
                              "SELECT version, fields FROM pending_updates WHERE kind = ? AND "
                              "source = ? AND external_id = ? ORDER BY version, rowid"));
  CRMHUB_RETURN_IF_ERROR(
      prep(pending_delete,
           "DELETE FROM pending_updates WHERE kind = ? AND source = ? AND external_id = ?"));
  CRMHUB_RETURN_IF_ERROR(prep(pending_prune, "DELETE FROM pending_updates WHERE created_at < ?"));
  CRMHUB_RETURN_IF_ERROR(
      prep(journal_insert,
           "INSERT INTO journal (at, kind, entity_id, source, external_id, before_version, before, "
           "version, after, message_id, idempotency_key, received_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  return Status::Ok();
}

Status SqliteCrmStore::Impl::Journal(const SinkEvent& event, const model::Entity& e, int64_t id,
                                     std::optional<int64_t> before_version,
                                     const std::optional<std::string>& before,
                                     const std::string& after, int64_t now_ms) {
  journal_insert.Bind(1, now_ms)
      .Bind(2, model::KindName(e.kind))
      .Bind(3, id)
      .Bind(4, std::string_view(e.source))
      .Bind(5, std::string_view(e.external_id))
      .Bind(6, before_version)
      .Bind(7, before)
      .Bind(8, e.version)
      .Bind(9, std::string_view(after))
      .Bind(10, event.message_id)
      .Bind(11, std::string_view(event.idempotency_key))
      .Bind(12, ToUnixMillis(event.received_at));
  return journal_insert.Run();
}

namespace {

// How `e`'s status relates to the stored record's (fields JSON text `stored`)
// under model::CompareStatus; kSame for kinds without precedence and for
// records without a status string.
model::StatusOrder CompareStoredStatus(const model::Entity& e, const std::string& stored,
                                       const model::DeclaredStatusPrecedence& orders) {
  const bool declared = e.kind == model::EntityKind::kOrder && !orders.empty();
  if (!model::HasStatusPrecedence(e.kind) && !declared) return model::StatusOrder::kSame;
  const std::optional<std::string_view> incoming = JsonString(e.fields, "status");
  Result<nlohmann::json> before = ParseJson(stored);
  const std::optional<std::string_view> held =
      before.ok() ? JsonString(*before, "status") : std::nullopt;
  if (!incoming || !held) return model::StatusOrder::kSame;
  if (declared) return orders.Compare(*held, *incoming);
  return model::CompareStatus(e.kind, *held, *incoming);
}

// The event's failure (InvalidArgument: its savepoint is rolled back and it
// is dead-lettered) when `e` contradicts the stored record, e.g. `canceled`
// after `succeeded`: both sides in the message, and an error line, since a
// provider or a rule is wrong and someone must look.
Status PrecedenceConflict(const model::Entity& e, int64_t stored_version, const std::string& stored,
                          const std::string& incoming) {
  std::string message = fmt::format(
      "status precedence conflict for {} {}/{}: stored (version {}) {}; incoming (version {}) {}",
      model::KindName(e.kind), e.source, e.external_id, stored_version, stored, e.version,
      incoming);
  spdlog::error("crm store: {} (kept the stored record; the event is dead-lettered)", message);
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<EntityApplyResult> SqliteCrmStore::Impl::Upsert(const SinkEvent& event,
                                                       const model::Entity& incoming,
                                                       int64_t now_ms) {
  const KindTable& table = AllKindTables()[static_cast<size_t>(incoming.kind)];
  KindStmts& ks = kinds[static_cast<size_t>(incoming.kind)];

  ks.select.Bind(1, std::string_view(incoming.source))
      .Bind(2, std::string_view(incoming.external_id));
  auto row = ks.select.Step();
  if (!row.ok()) {
    ks.select.Reset();
    return row.status();
  }
  if (!*row && incoming.update_only) {
    // Nothing to change yet: an update-only entity never creates one. Kept
    // for when its entity comes (a provider's notifications out of order),
    // so the outcome does not depend on the order of arrival.
    ks.select.Reset();
    auto fields = CanonicalFields(incoming.fields);
    if (!fields.ok()) return fields.status();
    pending_insert.Bind(1, model::KindName(incoming.kind))
        .Bind(2, std::string_view(incoming.source))
        .Bind(3, std::string_view(incoming.external_id))
        .Bind(4, incoming.version)
        .Bind(5, std::string_view(*fields))
        .Bind(6, now_ms);
    CRMHUB_RETURN_IF_ERROR(pending_insert.Run());
    return EntityApplyResult{UpsertResult::kUnchanged, 0};
  }
  // An update-only entity's fields merged over the stored ones; the result
  // is then ranked like a whole record.
  std::optional<model::Entity> merged;
  if (*row && incoming.update_only) {
    auto stored_fields = nlohmann::json::parse(ks.select.Text(2), nullptr, false);
    if (stored_fields.is_discarded() || !stored_fields.is_object()) {
      ks.select.Reset();
      return Status::Internal("stored fields of " + incoming.external_id + " are not an object");
    }
    merged = incoming;
    merged->fields = std::move(stored_fields);
    merged->fields.merge_patch(incoming.fields);
  }
  const model::Entity& e = merged ? *merged : incoming;
  auto text = CanonicalFields(e.fields);
  if (!text.ok()) {
    ks.select.Reset();
    return text.status();
  }
  if (*row) {
    const int64_t id = ks.select.Int(0);
    const int64_t stored_version = ks.select.Int(1);
    std::string stored = ks.select.Text(2);
    ks.select.Reset();
    // A status precedence (model/status_precedence.h) ranks before the
    // version; kSame leaves the version to decide.
    const model::StatusOrder order =
        CompareStoredStatus(e, stored, options.order_status_precedence);
    if (order == model::StatusOrder::kConflict) {
      return PrecedenceConflict(e, stored_version, stored, *text);
    }
    if (order == model::StatusOrder::kOlder) return EntityApplyResult{UpsertResult::kStale, id};
    if (order == model::StatusOrder::kSame && e.version < stored_version) {
      return EntityApplyResult{UpsertResult::kStale, id};
    }
    if (order == model::StatusOrder::kSame && e.version == stored_version) {
      if (*text == stored) return EntityApplyResult{UpsertResult::kUnchanged, id};
      if (*text < stored) return EntityApplyResult{UpsertResult::kStale, id};
    }
    ks.update.Bind(1, e.version).Bind(2, std::string_view(*text)).Bind(3, now_ms);
    int next = BindTyped(ks.update, 4, table, e.fields);
    ks.update.Bind(next, id);
    CRMHUB_RETURN_IF_ERROR(ks.update.Run());
    CRMHUB_RETURN_IF_ERROR(Journal(event, e, id, stored_version,
                                   std::optional<std::string>(std::move(stored)), *text, now_ms));
    return EntityApplyResult{UpsertResult::kUpdated, id};
  }
  ks.select.Reset();

  if (e.kind == model::EntityKind::kLead && options.lead_merge_window.count() > 0) {
    auto merged_into = MergeLead(event, e, now_ms);
    if (!merged_into.ok()) return merged_into.status();
    if (*merged_into) return **merged_into;
  }

  ks.insert.Bind(1, std::string_view(e.source))
      .Bind(2, std::string_view(e.external_id))
      .Bind(3, e.version)
      .Bind(4, std::string_view(*text))
      .Bind(5, now_ms)
      .Bind(6, now_ms);
  BindTyped(ks.insert, 7, table, e.fields);
  CRMHUB_RETURN_IF_ERROR(ks.insert.Run());
  const int64_t id = sqlite3_last_insert_rowid(db->raw());
  ref_insert.Bind(1, std::string_view(e.source))
      .Bind(2, std::string_view(e.external_id))
      .Bind(3, model::KindName(e.kind))
      .Bind(4, id);
  CRMHUB_RETURN_IF_ERROR(ref_insert.Run());
  CRMHUB_RETURN_IF_ERROR(Journal(event, e, id, std::nullopt, std::nullopt, *text, now_ms));
  return ApplyPending(event, e, id, *text, now_ms);
}

Result<EntityApplyResult> SqliteCrmStore::Impl::ApplyPending(const SinkEvent& event,
                                                             model::Entity created, int64_t id,
                                                             std::string text, int64_t now_ms) {
  pending_select.Bind(1, model::KindName(created.kind))
      .Bind(2, std::string_view(created.source))
      .Bind(3, std::string_view(created.external_id));
  std::vector<std::pair<int64_t, std::string>> pending;
  for (;;) {
    auto row = pending_select.Step();
    if (!row.ok()) {
      pending_select.Reset();
      return row.status();
    }
    if (!*row) break;
    pending.emplace_back(pending_select.Int(0), pending_select.Text(1));
  }
  pending_select.Reset();
  if (pending.empty()) return EntityApplyResult{UpsertResult::kCreated, id};
  const KindTable& table = AllKindTables()[static_cast<size_t>(created.kind)];
  KindStmts& ks = kinds[static_cast<size_t>(created.kind)];
  for (const auto& [version, fields] : pending) {
    // Older than what was created: stale, as it would have been after it.
    if (version <= created.version) continue;
    auto patch = nlohmann::json::parse(fields, nullptr, false);
    if (patch.is_discarded() || !patch.is_object()) continue;
    model::Entity next = created;
    next.version = version;
    next.fields.merge_patch(patch);
    if (CompareStoredStatus(next, text, options.order_status_precedence) ==
        model::StatusOrder::kOlder) {
      continue;
    }
    auto next_text = CanonicalFields(next.fields);
    if (!next_text.ok()) return next_text.status();
    ks.update.Bind(1, next.version).Bind(2, std::string_view(*next_text)).Bind(3, now_ms);
    int n = BindTyped(ks.update, 4, table, next.fields);
    ks.update.Bind(n, id);
    CRMHUB_RETURN_IF_ERROR(ks.update.Run());
    CRMHUB_RETURN_IF_ERROR(Journal(event, next, id, created.version,
                                   std::optional<std::string>(text), *next_text, now_ms));
    created = std::move(next);
    text = std::move(*next_text);
  }
  pending_delete.Bind(1, model::KindName(created.kind))
      .Bind(2, std::string_view(created.source))
      .Bind(3, std::string_view(created.external_id));
  CRMHUB_RETURN_IF_ERROR(pending_delete.Run());
  return EntityApplyResult{UpsertResult::kCreated, id};
}

Result<std::optional<EntityApplyResult>> SqliteCrmStore::Impl::MergeLead(const SinkEvent& event,
                                                                         const model::Entity& e,
                                                                         int64_t now_ms) {
  // A reference made by an earlier merge: that lead already has it.
  ref_select.Bind(1, std::string_view(e.source))
      .Bind(2, std::string_view(e.external_id))
      .Bind(3, model::KindName(e.kind));
  auto ref = ref_select.Step();
  if (!ref.ok()) {
    ref_select.Reset();
    return ref.status();
  }
  if (*ref) {
    const int64_t id = ref_select.Int(0);
    ref_select.Reset();
    return std::optional<EntityApplyResult>(EntityApplyResult{UpsertResult::kUnchanged, id});
  }
  ref_select.Reset();

  const std::string contact(JsonString(e.fields, "contact_external_id").value_or(""));
  if (contact.empty()) return std::optional<EntityApplyResult>();
  contact_phone.Bind(1, std::string_view(e.source)).Bind(2, std::string_view(contact));
  auto row = contact_phone.Step();
  if (!row.ok()) {
    contact_phone.Reset();
    return row.status();
  }
  std::string phone = *row && !contact_phone.IsNull(0) ? contact_phone.Text(0) : "";
  contact_phone.Reset();
  if (phone.empty()) return std::optional<EntityApplyResult>();

  lead_by_phone.Bind(1, std::string_view(phone))
      .Bind(2, std::string_view(e.source))
      .Bind(3, now_ms - options.lead_merge_window.count());
  row = lead_by_phone.Step();
  if (!row.ok()) {
    lead_by_phone.Reset();
    return row.status();
  }
  if (!*row) {
    lead_by_phone.Reset();
    return std::optional<EntityApplyResult>();
  }
  const int64_t id = lead_by_phone.Int(0);
  const int64_t version = lead_by_phone.Int(1);
  std::string stored = lead_by_phone.Text(2);
  lead_by_phone.Reset();
  auto held = nlohmann::json::parse(stored, nullptr, false);
  if (held.is_discarded() || !held.is_object()) {
    return Status::Internal("stored fields of lead " + std::to_string(id) + " are not an object");
  }
  // What the lead holds stays; what the newcomer adds fills the gaps.
  model::Entity merged = e;
  merged.fields.merge_patch(held);
  auto text = CanonicalFields(merged.fields);
  if (!text.ok()) return text.status();
  const KindTable& table = AllKindTables()[static_cast<size_t>(e.kind)];
  KindStmts& ks = kinds[static_cast<size_t>(e.kind)];
  if (*text != stored) {
    ks.update.Bind(1, version).Bind(2, std::string_view(*text)).Bind(3, now_ms);
    int next = BindTyped(ks.update, 4, table, merged.fields);
    ks.update.Bind(next, id);
    CRMHUB_RETURN_IF_ERROR(ks.update.Run());
    merged.version = version;
    CRMHUB_RETURN_IF_ERROR(
        Journal(event, merged, id, version, std::optional<std::string>(stored), *text, now_ms));
  }
  ref_insert.Bind(1, std::string_view(e.source))
      .Bind(2, std::string_view(e.external_id))
      .Bind(3, model::KindName(e.kind))
      .Bind(4, id);
  CRMHUB_RETURN_IF_ERROR(ref_insert.Run());
  return std::optional<EntityApplyResult>(
      EntityApplyResult{*text != stored ? UpsertResult::kUpdated : UpsertResult::kUnchanged, id});
}

// Applies one event inside the open transaction. Returns a non-OK Status
// for errors that doom the whole transaction: busy, I/O, and (unguarded
// only) an input error SQLite found after this event's first write. Other
// input errors become the event's Fail outcome.
Status SqliteCrmStore::Impl::ApplyEvent(const SinkEvent& event, int64_t now_ms, Guard guard,
                                        EventApplyResult& out) {
  const bool guarded = guard == Guard::kSavepoint;
  applied_select.Bind(1, std::string_view(event.source))
      .Bind(2, std::string_view(event.idempotency_key));
  auto seen = applied_select.Step();
  applied_select.Reset();
  if (!seen.ok()) return seen.status();
  if (*seen) {
    out.duplicate = true;
    out.outcome = DeliveryOutcome::Ok();
    return Status::Ok();
  }

  // Every entity is checked before the first write, so a record the rules
  // mapped badly fails alone without needing a savepoint to undo anything.
  for (size_t i = 0; i < event.entities.size(); ++i) {
    const model::Entity& e = event.entities[i];
    Status v = options.validate && !event.validated ? model::ValidateEntity(e)
               : (e.source.empty() || e.external_id.empty())
                   ? Status::InvalidArgument("empty source or external_id")
                   : Status::Ok();
    if (!v.ok()) {
      out.outcome = DeliveryOutcome::Fail(v.WithContext(EntityWhere(i, e)).message());
      return Status::Ok();
    }
  }

  // SQLite can still refuse a write as input (a constraint, a value too
  // big). With a savepoint that fails this event alone; without one the
  // batch's transaction holds this event's earlier writes, so the whole
  // batch is redone guarded.
  if (guarded) CRMHUB_RETURN_IF_ERROR(savepoint.Run());
  Status failure;
  int64_t changes = 0;
  for (size_t i = 0; i < event.entities.size(); ++i) {
    const model::Entity& e = event.entities[i];
    auto r = Upsert(event, e, now_ms);
    if (!r.ok()) {
      if (!sql::IsInputError(r.status())) return r.status();
      failure = r.status().WithContext(EntityWhere(i, e));
      break;
    }
    if (r->result == UpsertResult::kCreated || r->result == UpsertResult::kUpdated) ++changes;
    out.entities.push_back(*r);
  }
  if (failure.ok()) {
    applied_insert.Bind(1, std::string_view(event.source))
        .Bind(2, std::string_view(event.idempotency_key))
        .Bind(3, event.message_id)
        .Bind(4, ToUnixMillis(event.received_at))
        .Bind(5, now_ms)
        .Bind(6, static_cast<int64_t>(event.entities.size()))
        .Bind(7, changes);
    Status s = applied_insert.Run();
    if (!s.ok() && !sql::IsInputError(s)) return s;
    failure = s;
  }
  if (!failure.ok()) {
    if (!guarded) return failure;  // an input error: the caller redoes the batch guarded
    CRMHUB_RETURN_IF_ERROR(rollback_to.Run());
    CRMHUB_RETURN_IF_ERROR(release.Run());
    out.entities.clear();
    out.outcome = DeliveryOutcome::Fail(failure.message());
    return Status::Ok();
  }
  out.outcome = DeliveryOutcome::Ok();
  return guarded ? release.Run() : Status::Ok();
}

Result<bool> SqliteCrmStore::Impl::ApplyBatch(const std::vector<SinkEvent>& events, int64_t now_ms,
                                              Guard guard, std::vector<EventApplyResult>& results) {
  results.assign(events.size(), EventApplyResult{});
  CRMHUB_RETURN_IF_ERROR(begin.Run());
  for (size_t i = 0; i < events.size(); ++i) {
    if (Status s = ApplyEvent(events[i], now_ms, guard, results[i]); !s.ok()) {
      (void)rollback.Run();
      if (guard == Guard::kNone && sql::IsInputError(s)) return false;
      return s;
    }
  }
  if (Status s = commit.Run(); !s.ok()) {
    // A failed COMMIT may leave the transaction open (e.g. SQLITE_BUSY).
    if (!sqlite3_get_autocommit(db->raw())) (void)rollback.Run();
    return s;
  }
  return true;
}

std::vector<EventApplyResult> SqliteCrmStore::ApplyDetailed(const std::vector<SinkEvent>& events) {
  std::vector<EventApplyResult> results;  // sized by ApplyBatch
  if (events.empty()) return results;
  std::lock_guard<std::mutex> lock(impl_->mu);
  Impl& im = *impl_;
  const int64_t now_ms = ToUnixMillis(im.clock.Now());

  // Savepoints cost every event a copy of each page it touches (the
  // statement journal), about a third of the store's time per event, and
  // they are only needed when SQLite itself rejects an event mid-way, which
  // validation makes rare. So the batch first runs without them.
  Result<bool> done = im.ApplyBatch(events, now_ms, Impl::Guard::kNone, results);
  if (done.ok() && !*done) {
    done = im.ApplyBatch(events, now_ms, Impl::Guard::kSavepoint, results);
  }
  if (!done.ok()) {
    for (EventApplyResult& r : results) {
      r = EventApplyResult{};
      r.outcome = DeliveryOutcome::Retry("crm store: " + done.status().ToString());
    }
  }
  return results;
}

std::vector<DeliveryOutcome> SqliteCrmStore::Apply(const std::vector<SinkEvent>& events) {
  std::vector<EventApplyResult> detailed = ApplyDetailed(events);
  std::vector<DeliveryOutcome> out;
  out.reserve(detailed.size());
  for (EventApplyResult& r : detailed) out.push_back(std::move(r.outcome));
  return out;
}

}  // namespace crmhub::crm
