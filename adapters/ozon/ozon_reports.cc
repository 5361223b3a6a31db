// The realization report (ozon-seller-api.swagger.json, POST
// /v2/finance/realization, «Отчёт о реализации товаров (версия 2)») as
// `report` entities, on kit::ReportPass: the client's call and the adapter's
// pass.
//
// What the spec says, and what crmhub does with it:
// - The report is monthly ({month, year} required), of the goods delivered
//   and returned in that month (cancellations and non-purchases are not in
//   it), and «придёт не позднее 5-го числа следующего месяца». crmhub asks
//   for each month that is over (Moscow time) and not yet read, oldest
//   first; the pass's position is the last month read ("YYYY-MM"). The
//   first pass reads the month before the current one.
// - The spec does not say what a month not yet formed is answered with; its
//   listed refusals are 400/403/404/409/500 (rpcStatus). A 404 («Ответ не
//   найден») ends the pass with the position where it was: the month is
//   asked again at the next pass (reports_interval later). Any other refusal
//   (403: «Метод недоступен для продавцов ... ОЗОН Маркетплейс Казахстан»)
//   ends the pass too, logged: the postings
//   go on.
// - A row has no posting number (the per-posting report,
//   /v1/finance/realization/posting, has them; it is not read): the rows
//   carry the product (offer_id, Ozon's sku), the delivery and return
//   commissions (amount, quantity, commission, total «Итого к начислению»)
//   and rowNumber, «номер строки в отчёте»: the row's id within its month.
//   The header's currency_sys_name is the money's currency.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/ozon/ozon_adapter.h"
#include "adapters/ozon/ozon_client.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

constexpr std::string_view kPath = "/v2/finance/realization";
constexpr std::string_view kReportName = "ozon.realization";

struct Month {
  int year = 0;
  int month = 0;  // 1..12
  int Index() const { return year * 12 + (month - 1); }
  static Month FromIndex(int i) { return {i / 12, i % 12 + 1}; }
  std::string Text() const { return fmt::format("{:04}-{:02}", year, month); }
  static std::optional<Month> Parse(std::string_view text) {
    if (text.size() != 7 || text[4] != '-') return std::nullopt;
    auto y = ParseDecimalInt(text.substr(0, 4));
    auto m = ParseDecimalInt(text.substr(5, 2));
    if (!y || !m || *m < 1 || *m > 12) return std::nullopt;
    return Month{static_cast<int>(*y), static_cast<int>(*m)};
  }
};

// The month `ms` falls in, in Moscow time.
Month MonthOf(int64_t ms) {
  const std::string t =
      FormatTimestamp(FromUnixMillis(ms), TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
  return Month::Parse(t.substr(0, 7)).value_or(Month{1970, 1});
}

// Whether a commission member is there with a quantity above 0.
bool Moves(const json& row, std::string_view key) {
  const json* c = JsonObject(row, key);
  return c != nullptr && JsonInt(*c, "quantity").value_or(0) > 0;
}

kit::ReportRow ReadRow(const json& row, const json& header, const std::string& period) {
  kit::ReportRow r;
  r.raw = row;
  r.period = period;
  if (!row.is_object()) {
    r.problem = "not a JSON object";
    return r;
  }
  const std::optional<int64_t> number = JsonInt(row, "rowNumber");
  if (!number) {
    r.problem = "rowNumber must be an integer";
    return r;
  }
  const json* item = JsonObject(row, "item");
  if (item == nullptr ||
      (JsonString(*item, "offer_id").value_or("").empty() && !JsonInt(*item, "sku").has_value())) {
    r.problem = "item must name an offer_id or a sku";
    return r;
  }
  for (const char* key : {"delivery_commission", "return_commission"}) {
    const json* c = JsonMember(row, key);
    if (c == nullptr || c->is_null()) continue;
    if (!c->is_object()) {
      r.problem = fmt::format("{} must be an object", key);
      return r;
    }
    for (const char* money : {"amount", "commission", "total", "price_per_instance"}) {
      const json* v = JsonMember(*c, money);
      if (v != nullptr && !v->is_null() && !v->is_number()) {
        r.problem = fmt::format("{}.{} must be a number", key, money);
        return r;
      }
    }
  }
  r.row_id = fmt::format("{}:{}", period, *number);
  r.type =
      Moves(row, "return_commission") && !Moves(row, "delivery_commission") ? "return" : "sale";
  r.ordering_key = r.row_id;
  r.raw["header"] = header;  // the currency and the report's number, for the rules
  return r;
}

}  // namespace

net::ApiResult<net::ApiAnswer> OzonClient::RealizationReport(int year, int month) const {
  return Post(std::string(kPath), json{{"month", month}, {"year", year}},
              net::ApiRequest::Expect::kJson);
}

Result<PullResult> OzonAdapter::PullReports(kit::ReportPass& pass, int64_t now_ms) {
  const int current = MonthOf(now_ms).Index();
  const std::optional<Month> last = Month::Parse(pass.position);
  const int next = last ? last->Index() + 1 : current - 1;
  const int64_t interval = config_.reports_interval.count();
  PullResult out;
  if (next >= current) {  // every month over is read
    out.more = pass.After("", false, now_ms, interval);
    return out;
  }
  const Month month = Month::FromIndex(next);
  auto answer = client_.RealizationReport(month.year, month.month);
  if (!answer.ok()) {
    const net::ApiError& error = answer.error();
    if (error.kind == net::ApiError::Kind::kThrottled && error.not_before) {
      out.not_before = error.not_before;
      return out;
    }
    // Not formed yet (404), or refused: the month is asked again at the
    // next pass; the postings go on.
    if (error.http_status != 404) {
      spdlog::warn("{}: realization report {}: {}", config_.id, month.Text(), error.message);
    }
    out.more = pass.After("", false, now_ms, interval);
    return out;
  }
  const json* result = JsonObject(answer->json, "result");
  const json* rows = result != nullptr ? JsonArray(*result, "rows") : nullptr;
  if (rows == nullptr) {
    // Answered, but not the documented shape: read again at the next pass.
    spdlog::warn("{}: realization report {}: an answer without result.rows[]", config_.id,
                 month.Text());
    out.more = pass.After("", false, now_ms, interval);
    return out;
  }
  const json* header = JsonObject(*result, "header");
  std::vector<kit::ReportRow> read;
  read.reserve(rows->size());
  for (const json& row : *rows) {
    read.push_back(ReadRow(row, header != nullptr ? *header : json::object(), month.Text()));
  }
  kit::QueueReportRows(read, "ozon", kReportName, kPath, out.events);
  // The month is read; the next one follows at once while it is over.
  out.more = pass.After(month.Text(), next + 1 < current, now_ms, interval);
  return out;
}

}  // namespace crmhub::adapters::ozon
