#pragma once
// Reconciliation (`crmhub reconcile`): per source (adapter) and UTC day,
// what the hub received against what the CRM store holds. Read-only on
// crm.db and queue.db; safe while the daemon runs (WAL snapshots).
//
// Per (source, day):
//   events                 applied_events rows (by the event's received_at day)
//   received               entities the hub created in the store that day,
//                          from the journal (its creation entries)
//   in_crm                 entities of that source in the store whose
//                          created_at is that day
//   amount_received_minor  sum of the amounts (orders' `total`, the others'
//                          `amount`) in the latest journalled state of those
//                          received entities: a checksum, not a balance
//   amount_in_crm_minor    the same sum over the store's amount_minor columns
//   pending                queue.db: inbound (lane "in.*") messages of that
//                          source not yet delivered, by their created_at day
//   dead                   queue.db: inbound dead letters of that source
//   difference             |received - in_crm| + pending + dead
// A row "differs" when difference != 0 or the two amounts differ. A store
// only this hub writes never differs on its own; differences come from rows
// deleted or edited behind the hub's back, and from messages stuck in the
// queue (pending, dead).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::crm {

struct ReconcileOptions {
  std::filesystem::path crm_db;  // required, must exist
  // Read when set and the file exists; otherwise pending/dead are null.
  std::optional<std::filesystem::path> queue_db;
  // "YYYY-MM-DD" (UTC): only days on or after it.
  std::optional<std::string> since;
};

struct ReconcileRow {
  std::string source;
  std::string day;  // "YYYY-MM-DD" (UTC)
  int64_t events = 0;
  int64_t received = 0;
  int64_t in_crm = 0;
  int64_t amount_received_minor = 0;
  int64_t amount_in_crm_minor = 0;
  std::optional<int64_t> pending;  // null without queue.db
  std::optional<int64_t> dead;
  int64_t difference = 0;

  bool differs() const { return difference != 0 || amount_received_minor != amount_in_crm_minor; }
};

struct ReconcileReport {
  std::vector<ReconcileRow> rows;  // ordered by (source, day)
  bool queue_checked = false;
  bool has_differences() const;
};

// Validates "YYYY-MM-DD".
Status ValidateDay(const std::string& day);

// kNotFound when crm_db does not exist; kInvalidArgument for a bad `since`.
Result<ReconcileReport> Reconcile(const ReconcileOptions& options);

// An array of row objects with the keys source, day, events, received,
// in_crm, amount_received_minor, amount_in_crm_minor, pending, dead,
// difference (pending/dead null when the queue was not read).
nlohmann::json ReconcileJson(const ReconcileReport& report);
// A fixed-width table with a header, one line per row, a '*' marking rows
// that differ, and a summary line.
std::string ReconcileTable(const ReconcileReport& report);

}  // namespace crmhub::crm
