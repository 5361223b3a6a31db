#include "adapters/kit/report_pass.h"

#include <fmt/format.h>

#include <utility>

#include "adapters/kit/unreadable_record.h"
#include "base/json_get.h"

namespace crmhub::adapters::kit {

using nlohmann::json;

bool ReportPass::After(std::string next_position, bool more, int64_t now_ms, int64_t interval_ms) {
  if (!next_position.empty()) position = std::move(next_position);
  // The schedule's page token is not used: a pass goes on while `more`.
  return schedule.After(more ? "more" : "", !more, now_ms, interval_ms);
}

json ReportPass::ToObject() const {
  json j = schedule.ToObject();
  j["page_token"] = "";
  j["position"] = position;
  return j;
}

std::optional<ReportPass> ReportPass::FromObject(const json& j) {
  std::optional<CatalogPass> schedule = CatalogPass::FromObject(j);
  if (!schedule) return std::nullopt;
  ReportPass p{.schedule = std::move(*schedule),
               .position = std::string(JsonString(j, "position").value_or(""))};
  p.schedule.page_token.clear();
  return p;
}

void QueueReportRows(const std::vector<ReportRow>& rows, std::string_view marketplace,
                     std::string_view report, std::string_view where,
                     std::vector<InboundEvent>& out) {
  for (size_t i = 0; i < rows.size(); ++i) {
    const ReportRow& row = rows[i];
    std::string problem = row.problem;
    if (problem.empty() && !row.raw.is_object()) problem = "not a JSON object";
    if (problem.empty() && row.row_id.empty()) problem = "no row id";
    if (problem.empty() && row.period.empty()) problem = "no period";
    if (!problem.empty()) {
      out.push_back(UnreadableRecord(
          row.raw, fmt::format("{}: {}: row {}: {}", marketplace, where, i, problem), "report"));
      continue;
    }
    InboundEvent& e = out.emplace_back();
    e.kind = "report";
    e.idempotency_key = row.version.empty()
                            ? fmt::format("report:{}:{}", report, row.row_id)
                            : fmt::format("report:{}:{}:{}", report, row.row_id, row.version);
    e.ordering_key = row.ordering_key.empty() ? row.row_id : row.ordering_key;
    json payload = row.raw;
    payload["reportName"] = report;
    payload["reportPeriod"] = row.period;
    payload["reportRowId"] = row.row_id;
    if (!row.type.empty()) payload["reportRowType"] = row.type;
    e.payload = payload.dump();
  }
}

}  // namespace crmhub::adapters::kit
