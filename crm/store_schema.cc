#include "crm/store_schema.h"

#include <fmt/format.h>

#include <stdexcept>

namespace crmhub::crm {
namespace {

using model::EntityKind;

// Field names follow mapping/model/model.cc (docs/model.md).
constexpr TypedColumn kContactCols[] = {
    {"phone", "phone", false, true},
    {"email", "email", false, true},
};
constexpr TypedColumn kCompanyCols[] = {
    {"inn", "inn", false, true},
    {"phone", "phone", false, false},
    {"email", "email", false, false},
};
constexpr TypedColumn kLeadCols[] = {
    {"status", "status", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
};
constexpr TypedColumn kDealCols[] = {
    {"stage", "stage", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
};
constexpr TypedColumn kOrderCols[] = {
    {"status", "status", false, true},
    {"amount_minor", "total", true, false},
    {"currency", "currency", false, false},
    {"customer_phone", "customer_phone", false, true},
    {"customer_email", "customer_email", false, false},
};
constexpr TypedColumn kProductCols[] = {
    {"sku", "sku", false, true},
};
constexpr TypedColumn kStockCols[] = {
    {"sku", "sku", false, true},
    {"warehouse", "warehouse", false, false},
    {"quantity", "quantity", true, false},
};
constexpr TypedColumn kPriceCols[] = {
    {"sku", "sku", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
};
constexpr TypedColumn kPaymentCols[] = {
    {"status", "status", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
    {"order_external_id", "order_external_id", false, true},
};
constexpr TypedColumn kRefundCols[] = {
    {"status", "status", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
    {"payment_external_id", "payment_external_id", false, true},
};
constexpr TypedColumn kCallCols[] = {
    {"direction", "direction", false, false},
    {"from_phone", "from", false, true},
    {"to_phone", "to", false, true},
    {"start_ms", "start_ms", true, false},
};
constexpr TypedColumn kTaskCols[] = {
    {"status", "status", false, true},
};
constexpr TypedColumn kBankCols[] = {
    {"direction", "direction", false, false},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
    {"date_ms", "date_ms", true, true},
};
constexpr TypedColumn kReturnCols[] = {
    {"status", "status", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
    {"order_external_id", "order_external_id", false, true},
};
constexpr TypedColumn kReportCols[] = {
    {"report", "report", false, true},
    {"period", "period", false, true},
    {"order_external_id", "order_external_id", false, true},
    {"amount_minor", "amount", true, false},
    {"currency", "currency", false, false},
    {"date_ms", "date_ms", true, false},
};

constexpr KindTable kTables[] = {
    {EntityKind::kContact, "contacts", kContactCols},
    {EntityKind::kCompany, "companies", kCompanyCols},
    {EntityKind::kLead, "leads", kLeadCols},
    {EntityKind::kDeal, "deals", kDealCols},
    {EntityKind::kOrder, "orders", kOrderCols},
    {EntityKind::kProduct, "products", kProductCols},
    {EntityKind::kStockLevel, "stock_levels", kStockCols},
    {EntityKind::kPrice, "prices", kPriceCols},
    {EntityKind::kPayment, "payments", kPaymentCols},
    {EntityKind::kRefund, "refunds", kRefundCols},
    {EntityKind::kCall, "calls", kCallCols},
    {EntityKind::kTask, "tasks", kTaskCols},
    {EntityKind::kBankTransaction, "bank_transactions", kBankCols},
    {EntityKind::kReturn, "returns", kReturnCols},
    {EntityKind::kReport, "reports", kReportCols},
};

}  // namespace

std::span<const KindTable> AllKindTables() { return kTables; }

const KindTable& TableFor(model::EntityKind kind) {
  for (const KindTable& t : kTables) {
    if (t.kind == kind) return t;
  }
  throw std::logic_error("crm: no table for entity kind");  // unreachable: every kind listed
}

bool HasAmountColumn(const KindTable& table) {
  for (const TypedColumn& c : table.columns) {
    if (c.column == kAmountColumn) return true;
  }
  return false;
}

std::string SchemaSql() {
  std::string sql;
  for (const KindTable& t : kTables) {
    std::string typed;
    for (const TypedColumn& c : t.columns) {
      typed += fmt::format(",\n  {} {}", c.column, c.integer ? "INTEGER" : "TEXT");
    }
    // Times are Unix milliseconds (UTC); `fields` is the canonical JSON text
    // (keys sorted), so equal content is equal text.
    sql += fmt::format(
        "CREATE TABLE IF NOT EXISTS {0} (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  source TEXT NOT NULL,\n"
        "  external_id TEXT NOT NULL,\n"
        "  version INTEGER NOT NULL,\n"
        "  fields TEXT NOT NULL,\n"
        "  created_at INTEGER NOT NULL,\n"
        "  updated_at INTEGER NOT NULL{1},\n"
        "  UNIQUE (source, external_id)\n"
        ");\n",
        t.table, typed);
    for (const TypedColumn& c : t.columns) {
      if (!c.indexed) continue;
      sql += fmt::format("CREATE INDEX IF NOT EXISTS {0}_{1} ON {0}({1});\n", t.table, c.column);
    }
  }
  // A lead's contact, for merging leads across sources (lead_merge_window):
  // without it, each new lead read every lead of the contact's source, and
  // a thousand forms from one phone number took half a minute to store.
  // The expression is the one SqliteCrmStore's lead_by_phone joins on.
  sql +=
      "CREATE INDEX IF NOT EXISTS leads_contact ON leads(source, "
      "json_extract(fields, '$.contact_external_id'));\n";
  sql +=
      "CREATE TABLE IF NOT EXISTS external_refs (\n"
      "  source TEXT NOT NULL,\n"
      "  external_id TEXT NOT NULL,\n"
      "  kind TEXT NOT NULL,\n"
      "  entity_id INTEGER NOT NULL,\n"
      "  PRIMARY KEY (source, external_id, kind)\n"
      ") WITHOUT ROWID;\n"
      "CREATE TABLE IF NOT EXISTS journal (\n"
      "  id INTEGER PRIMARY KEY,\n"
      "  at INTEGER NOT NULL,\n"
      "  kind TEXT NOT NULL,\n"
      "  entity_id INTEGER NOT NULL,\n"
      "  source TEXT NOT NULL,\n"
      "  external_id TEXT NOT NULL,\n"
      "  before_version INTEGER,\n"
      "  before TEXT,\n"
      "  version INTEGER NOT NULL,\n"
      "  after TEXT NOT NULL,\n"
      "  message_id INTEGER NOT NULL,\n"
      "  idempotency_key TEXT NOT NULL,\n"
      "  received_at INTEGER NOT NULL\n"
      ");\n"
      "CREATE INDEX IF NOT EXISTS journal_entity ON journal(kind, entity_id);\n"
      "CREATE TABLE IF NOT EXISTS applied_events (\n"
      "  source TEXT NOT NULL,\n"
      "  idempotency_key TEXT NOT NULL,\n"
      "  message_id INTEGER NOT NULL,\n"
      "  received_at INTEGER NOT NULL,\n"
      "  applied_at INTEGER NOT NULL,\n"
      "  entities INTEGER NOT NULL,\n"
      "  changes INTEGER NOT NULL,\n"
      "  PRIMARY KEY (source, idempotency_key)\n"
      ") WITHOUT ROWID;\n"
      "CREATE INDEX IF NOT EXISTS applied_events_age ON applied_events(applied_at);\n"
      // Update-only records that came before their entity (model::Entity::
      // update_only): applied when it is created, forgotten with the
      // applied events' retention.
      "CREATE TABLE IF NOT EXISTS pending_updates (\n"
      "  kind TEXT NOT NULL,\n"
      "  source TEXT NOT NULL,\n"
      "  external_id TEXT NOT NULL,\n"
      "  version INTEGER NOT NULL,\n"
      "  fields TEXT NOT NULL,\n"
      "  created_at INTEGER NOT NULL\n"
      ");\n"
      "CREATE INDEX IF NOT EXISTS pending_updates_key ON pending_updates(kind, source, "
      "external_id);\n";
  return sql;
}

}  // namespace crmhub::crm
