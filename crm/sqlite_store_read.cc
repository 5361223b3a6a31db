// SqliteCrmStore's read helpers (tests, reconcile, the demo). Not hot: the
// statements are prepared per call.

#include <fmt/format.h>

#include "crm/sqlite_store.h"
#include "crm/sqlite_store_impl.h"
#include "crm/store_schema.h"

namespace crmhub::crm {
namespace {

Result<nlohmann::json> ParseFields(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("stored fields are not valid JSON");
  return j;
}

// Reads a row of "id, source, external_id, version, fields, created_at,
// updated_at".
Result<StoredEntity> ReadEntityRow(const sql::Stmt& st, model::EntityKind kind) {
  StoredEntity out;
  out.id = st.Int(0);
  out.entity.kind = kind;
  out.entity.source = st.Text(1);
  out.entity.external_id = st.Text(2);
  out.entity.version = st.Int(3);
  auto fields = ParseFields(st.Text(4));
  if (!fields.ok()) return fields.status();
  out.entity.fields = std::move(fields).value();
  out.created_at = FromUnixMillis(st.Int(5));
  out.updated_at = FromUnixMillis(st.Int(6));
  return out;
}

constexpr std::string_view kEntityColumns =
    "id, source, external_id, version, fields, created_at, updated_at";

}  // namespace

Result<std::optional<StoredEntity>> SqliteCrmStore::Find(model::EntityKind kind,
                                                         const std::string& source,
                                                         const std::string& external_id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto st = impl_->db->Prepare(fmt::format("SELECT {} FROM {} WHERE source = ? AND external_id = ?",
                                           kEntityColumns, TableFor(kind).table));
  if (!st.ok()) return st.status();
  st->Bind(1, std::string_view(source)).Bind(2, std::string_view(external_id));
  auto row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<StoredEntity>();
  auto e = ReadEntityRow(*st, kind);
  if (!e.ok()) return e.status();
  return std::optional<StoredEntity>(std::move(e).value());
}

Result<std::vector<StoredEntity>> SqliteCrmStore::FindAnyKind(const std::string& source,
                                                              const std::string& external_id) {
  std::vector<std::pair<model::EntityKind, int64_t>> refs;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto st = impl_->db->Prepare(
        "SELECT kind, entity_id FROM external_refs WHERE source = ? AND external_id = ? "
        "ORDER BY kind");
    if (!st.ok()) return st.status();
    st->Bind(1, std::string_view(source)).Bind(2, std::string_view(external_id));
    for (;;) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      auto kind = model::ParseKind(st->Text(0));
      if (!kind) return Status::Corruption("external_refs: unknown kind " + st->Text(0));
      refs.emplace_back(*kind, st->Int(1));
    }
  }
  std::vector<StoredEntity> out;
  for (const auto& [kind, id] : refs) {
    auto e = Find(kind, source, external_id);
    if (!e.ok()) return e.status();
    if (*e) {
      out.push_back(std::move(**e));
      continue;
    }
    // A reference to an entity held under another identity (a lead merged
    // under lead_merge_window): that entity.
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto st = impl_->db->Prepare(
        fmt::format("SELECT {} FROM {} WHERE id = ?", kEntityColumns, TableFor(kind).table));
    if (!st.ok()) return st.status();
    st->Bind(1, id);
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) continue;
    auto held = ReadEntityRow(*st, kind);
    if (!held.ok()) return held.status();
    out.push_back(std::move(held).value());
  }
  return out;
}

Result<std::vector<KindSourceCount>> SqliteCrmStore::CountByKindAndSource() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<KindSourceCount> out;
  for (const KindTable& t : AllKindTables()) {
    auto st = impl_->db->Prepare(
        fmt::format("SELECT source, COUNT(*) FROM {} GROUP BY source ORDER BY source", t.table));
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      out.push_back({t.kind, st->Text(0), st->Int(1)});
    }
  }
  return out;
}

Result<int64_t> SqliteCrmStore::Count(model::EntityKind kind,
                                      const std::optional<std::string>& source) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto st = impl_->db->Prepare(fmt::format("SELECT COUNT(*) FROM {}{}", TableFor(kind).table,
                                           source ? " WHERE source = ?" : ""));
  if (!st.ok()) return st.status();
  if (source) st->Bind(1, std::string_view(*source));
  auto row = st->Step();
  if (!row.ok()) return row.status();
  return st->Int(0);
}

Result<std::vector<StoredEntity>> SqliteCrmStore::AllEntities() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<StoredEntity> out;
  for (const KindTable& t : AllKindTables()) {
    auto st = impl_->db->Prepare(
        fmt::format("SELECT {} FROM {} ORDER BY source, external_id", kEntityColumns, t.table));
    if (!st.ok()) return st.status();
    for (;;) {
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      auto e = ReadEntityRow(*st, t.kind);
      if (!e.ok()) return e.status();
      out.push_back(std::move(e).value());
    }
  }
  return out;
}

Result<std::vector<JournalEntry>> SqliteCrmStore::ReadJournal(int64_t after_id, int limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto st = impl_->db->Prepare(
      "SELECT id, at, kind, entity_id, source, external_id, before_version, before, version, "
      "after, message_id, idempotency_key, received_at FROM journal WHERE id > ? "
      "ORDER BY id LIMIT ?");
  if (!st.ok()) return st.status();
  st->Bind(1, after_id).Bind(2, static_cast<int64_t>(limit));
  std::vector<JournalEntry> out;
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    JournalEntry j;
    j.id = st->Int(0);
    j.at = FromUnixMillis(st->Int(1));
    auto kind = model::ParseKind(st->Text(2));
    if (!kind) return Status::Corruption("journal: unknown kind " + st->Text(2));
    j.kind = *kind;
    j.entity_id = st->Int(3);
    j.source = st->Text(4);
    j.external_id = st->Text(5);
    j.before_version = st->OptInt(6);
    if (!st->IsNull(7)) j.before = st->Text(7);
    j.version = st->Int(8);
    j.after = st->Text(9);
    j.message_id = st->Int(10);
    j.idempotency_key = st->Text(11);
    j.received_at = FromUnixMillis(st->Int(12));
    out.push_back(std::move(j));
  }
  return out;
}

namespace {
Result<int64_t> ScalarLocked(sql::Db& db, std::string_view sql) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  auto row = st->Step();
  if (!row.ok()) return row.status();
  return st->Int(0);
}
}  // namespace

Result<int64_t> SqliteCrmStore::JournalSize() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ScalarLocked(*impl_->db, "SELECT COUNT(*) FROM journal");
}

Result<int64_t> SqliteCrmStore::AppliedEventCount() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return ScalarLocked(*impl_->db, "SELECT COUNT(*) FROM applied_events");
}

Result<int64_t> SqliteCrmStore::PruneAppliedEvents(SystemTime cutoff, int64_t limit) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  // By the applied_at index, at most `limit` rows (-1: all) per call, so
  // one call never holds the write lock for long.
  auto st = impl_->db->Prepare(
      "DELETE FROM applied_events WHERE (source, idempotency_key) IN ("
      "SELECT source, idempotency_key FROM applied_events WHERE applied_at < ? LIMIT ?)");
  if (!st.ok()) return st.status();
  st->Bind(1, ToUnixMillis(cutoff));
  st->Bind(2, limit);
  CRMHUB_RETURN_IF_ERROR(st->Run());
  return static_cast<int64_t>(sqlite3_changes(impl_->db->raw()));
}

Status SqliteCrmStore::Maintain() {
  const SystemTime cutoff = impl_->clock.Now() - impl_->options.applied_events_retention;
  auto pruned = PruneAppliedEvents(cutoff, impl_->options.maintain_prune_limit);
  if (!pruned.ok()) return pruned.status();
  // Update-only records whose entity never came.
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->pending_prune.Bind(1, ToUnixMillis(cutoff));
  return impl_->pending_prune.Run();
}

}  // namespace crmhub::crm
