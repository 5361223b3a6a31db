#pragma once
// The CRM store's on-disk layout (crm.db): one table per entity kind, plus
// external_refs, journal and applied_events. docs/crm-store.md describes it
// for people querying with sqlite3; this file is the single source of truth
// for table names, typed columns and the DDL.

#include <span>
#include <string>
#include <string_view>

#include "mapping/model/entity.h"

namespace crmhub::crm {

// The CRM store's file name inside the data directory.
inline constexpr std::string_view kCrmDbFileName = "crm.db";

// Schema version written to `PRAGMA user_version`; bump with a migration.
inline constexpr int kCrmStoreSchemaVersion = 1;

// A column copied out of `fields` on every write so it can be indexed and
// queried without json_extract. Values of the wrong JSON type become NULL.
struct TypedColumn {
  std::string_view column;  // SQL column name
  std::string_view field;   // top-level key in Entity::fields
  bool integer;             // INTEGER (JSON integer) or TEXT (JSON string)
  bool indexed;
};

struct KindTable {
  model::EntityKind kind;
  std::string_view table;  // "orders", "stock_levels", ...
  std::span<const TypedColumn> columns;
};

// Every kind's table, in EntityKind order.
std::span<const KindTable> AllKindTables();
const KindTable& TableFor(model::EntityKind kind);

// The column holding the entity's money amount in minor units, named
// `amount_minor` in every table that has one (order: fields.total; payment,
// refund, deal, lead, price, bank_transaction, return, report: fields.amount). Reconciliation
// sums it as a checksum.
inline constexpr std::string_view kAmountColumn = "amount_minor";
bool HasAmountColumn(const KindTable& table);

// The full DDL (idempotent: CREATE ... IF NOT EXISTS).
std::string SchemaSql();

// The newest lead of another source whose contact has phone ?1 (?2: the
// new lead's source; ?3: the window's start, unix ms), for lead_merge_window.
// c.source equals l.source by the join; naming it on the contact lets the
// plan drop the same source's contacts before it reads any lead, and the
// join goes through SchemaSql()'s leads_contact index (a test checks the
// plan). Here, beside the index, so that the two change together.
inline constexpr std::string_view kLeadByPhoneSql =
    "SELECT l.id, l.version, l.fields FROM contacts c JOIN leads l ON l.source = c.source "
    "AND json_extract(l.fields, '$.contact_external_id') = c.external_id "
    "WHERE c.phone = ?1 AND c.source <> ?2 AND l.created_at >= ?3 "
    "ORDER BY l.created_at DESC, l.id DESC LIMIT 1";

}  // namespace crmhub::crm
