// The simulator's returns: created for some sold FBS orders, served by the
// returns report (12-reports.yaml, GET /api/v1/analytics/goods-return on
// seller-analytics-api.wildberries.ru), read from the spec, never from the
// adapter.
//
// What the spec states and the simulator enforces: dateFrom and dateTo
// required, "YYYY-MM-DD", dateTo after dateFrom, at most 31 days apart,
// each refusal a 400 with its documented example body (application/
// problem+json {title, detail, origin, requestId}); 1 request a minute with
// a burst of 10 (the "analytics" limit group). What it does not state, and
// the simulator chooses: the period selects a return by orderDt (the day
// the return was ordered), both days inclusive, in Moscow time; the report
// is not paged (the spec has no paging). Status texts: the spec gives one,
// its example "В пути в пвз"; "Готов к выдаче" and "Выдан продавцу" are the
// simulator's own, the last one archived (isStatusActive 0, completedDt).

#include <fmt/format.h>

#include <algorithm>

#include "adapters/simkit/json_text.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {

namespace {

using nlohmann::json;

constexpr int64_t kMaxDays = 31;
// A return's status at its steps (see above: only the first is the spec's).
constexpr const char* kReturnStatuses[] = {"В пути в пвз", "Готов к выдаче", "Выдан продавцу"};
constexpr int64_t kDayMs = 24 * 3600 * 1000;

// 12-reports.yaml components/examples (MissingDateTimeFrom, ...): the
// 4xxResponse shape.
net::HttpResponse ReportError(std::string_view detail, int64_t request) {
  json body = {{"detail", detail},
               {"origin", "api-statistics"},
               {"requestId", fmt::format("{:032x}", request)},
               {"title", "Bad Request"}};
  net::HttpResponse r = net::HttpResponse::Json(400, body.dump());
  r.headers.Set("Content-Type", "application/problem+json");
  return r;
}

// Moscow time with its offset: the schema's `format: date-time` is RFC 3339,
// which requires one (the spec's examples, "2025-03-31T11:33:53", omit it).
std::string IsoMsk(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
}

// "format: date": YYYY-MM-DD only.
std::optional<int64_t> DayMs(std::string_view day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (day[i] < '0' || day[i] > '9') return std::nullopt;
  }
  Result<int64_t> ms = ParseTimestampMs(day, kMoscowOffsetMinutes);
  return ms.ok() ? std::optional(*ms) : std::nullopt;
}

}  // namespace

void WildberriesSimulator::CreateReturns() {
  // One sold FBS order in six; the steps a third of the lifetime apart (at
  // least a second), from a step after the sale.
  const int64_t step = std::max<int64_t>(1000, options_.lifetime.count() / 3);
  for (const Order& o : orders_) {
    if (std::string_view(o.steps.back().wb) != "sold" || o.id % 6 != 1) continue;
    const int64_t created = o.steps.back().at_ms + step;
    returns_.push_back({.order_id = o.id,
                        .product = o.product,
                        .srid = o.rid,
                        .steps = {created, created + step, created + 2 * step}});
  }
}

std::map<std::string, int64_t> WildberriesSimulator::ReturnOrders() const {
  const int64_t now = NowMs();
  std::map<std::string, int64_t> out;
  std::lock_guard lock(mu_);
  for (const SimReturn& r : returns_) {
    if (r.steps[0] <= now) out[r.srid] = r.order_id;
  }
  return out;
}

net::HttpResponse WildberriesSimulator::GoodsReturns(const net::HttpRequest& req) {
  int64_t request = 0;
  {
    std::lock_guard lock(mu_);
    request = ++request_counter_;
  }
  const std::optional<std::string> from = req.QueryParam("dateFrom");
  const std::optional<std::string> to = req.QueryParam("dateTo");
  if (!from || from->empty()) {
    return ReportError(
        R"(parameter "dateFrom" in query has an error: value is required but missing)", request);
  }
  if (!to || to->empty()) {
    return ReportError(R"(parameter "dateTo" in query has an error: value is required but missing)",
                       request);
  }
  const std::optional<int64_t> from_ms = DayMs(*from), to_ms = DayMs(*to);
  if (!from_ms) return ReportError("can't parse dateFrom", request);
  if (!to_ms) return ReportError("can't parse dateTo", request);
  if (*to_ms <= *from_ms) return ReportError("dateTo should be greater dateFrom", request);
  if (*to_ms - *from_ms > kMaxDays * kDayMs) {
    return ReportError("difference between dateFrom and dateTo should be less or equal 31 days",
                       request);
  }
  const int64_t now = NowMs();
  simkit::JsonText out;
  out.BeginObject().Key("report").BeginArray();
  std::lock_guard lock(mu_);
  for (const SimReturn& r : returns_) {
    if (r.steps[0] > now) continue;
    const std::string ordered = IsoMsk(start_ + std::chrono::milliseconds(r.steps[0]));
    const std::string day = ordered.substr(0, 10);
    if (day < *from || day > *to) continue;
    size_t at = 0;
    while (at + 1 < r.steps.size() && r.steps[at + 1] <= now) ++at;
    auto time = [&](size_t k) { return IsoMsk(start_ + std::chrono::milliseconds(r.steps[k])); };
    out.BeginObject().Member("barcode", SimBarcode(r.product)).Member("brand", "sim");
    out.Key("completedDt");
    if (at == 2) {
      out.String(time(2));
    } else {
      out.Raw("null");
    }
    out.Member("dstOfficeAddress", "Москва, ПВЗ симулятора 1").Member("dstOfficeId", 310105);
    out.Key("expiredDt").Raw("null");
    out.Member("isStatusActive", at == 2 ? 0 : 1).Member("nmId", 100000000 + r.product);
    out.Member("orderDt", day).Member("orderId", r.order_id);
    out.Key("readyToReturnDt");
    if (at >= 1) {
      out.String(time(1));
    } else {
      out.Raw("null");
    }
    out.Member("reason", "Цвет").Member("returnType", "Возврат брака");
    out.Member("shkId", 23400000000 + r.order_id).Member("srid", r.srid);
    out.Member("status", kReturnStatuses[at]);
    out.Member("stickerId", std::to_string(33800000000 + r.order_id));
    out.Member("subjectName", "Товар симулятора").Member("techSize", "0");
    out.EndObject();
  }
  out.EndArray().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::wildberries
