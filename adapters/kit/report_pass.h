#pragma once
// ReportPass: a marketplace's sales or finance report pulled once per
// interval (a day, by default) with a cursor of its own, beside the orders.
// A pass reads the report page by page from `position`, the report's own
// resume point (Wildberries sales: the last row's lastChangeDate; Ozon
// realization: the last month read, "YYYY-MM"), which is kept across passes:
// the next pass starts where this one ended, so nothing is pulled twice.
// Each page's events and the cursor holding its new position leave a Pull
// together (the daemon writes both in one transaction): a page is durable
// before the position moves past it, and a crash re-reads at most that page
// (its rows are keyed, so a re-read is a duplicate).
//
// The pass's schedule is kit::CatalogPass (due `interval` after the last
// pass ended); ReportPass adds the position. In an adapter's cursor:
//
//   {"position": "...", "next_ms": ms, "in_pass": bool, "page_token": ""}
//
// ReportRow / QueueReportRows: each row of a page as a kind=report event
// (docs/model.md, `report`), or an UnreadableRecord naming why not.
//
// Pure data; not thread-safe (one pull loop owns a cursor).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/product_cards.h"

namespace crmhub::adapters::kit {

struct ReportPass {
  CatalogPass schedule;  // page_token unused: the position is the report's page
  std::string position;  // where the report goes on ("": never read)

  // Whether a page is to be read now (a pass in progress, or one due;
  // starts it when due).
  bool Due(int64_t now_ms) { return schedule.Due(now_ms); }
  // After a page, durable with the cursor that holds it: `next_position`
  // is the report's position after the page ("": unchanged), `more`
  // whether the report has further pages now. Ends the pass when not (the
  // next one due `interval_ms` after `now_ms`). Returns whether it goes on.
  bool After(std::string next_position, bool more, int64_t now_ms, int64_t interval_ms);

  nlohmann::json ToObject() const;
  // Absent members are "" / 0 / false; nullopt for a non-object or a
  // negative time.
  static std::optional<ReportPass> FromObject(const nlohmann::json& j);
};

// A report row as an adapter read it.
struct ReportRow {
  std::string row_id;        // the report's own id of the row; required
  std::string version;       // changes when the row does ("": never changes)
  std::string period;        // the period the row belongs to; required
  std::string ordering_key;  // after its order's events: the order id ("": row_id)
  std::string type;          // "sale" | "return" ("": the report does not say)
  std::string problem;       // why the row cannot be queued ("": it can)
  nlohmann::json raw;        // the row as sent
};

// Queues each row read from `where` ("/api/v1/supplier/sales") of the
// report `report` ("wb.sales"): kind "report", key
// "report:<report>:<row_id>[:<version>]", payload the row as sent plus
// "reportName", "reportPeriod", "reportRowId" and, when known,
// "reportRowType" (for the rules). A row with a
// problem, no row id or no period becomes an UnreadableRecord whose error
// names the marketplace, `where`, the row's index and the problem.
void QueueReportRows(const std::vector<ReportRow>& rows, std::string_view marketplace,
                     std::string_view report, std::string_view where,
                     std::vector<InboundEvent>& out);

}  // namespace crmhub::adapters::kit
