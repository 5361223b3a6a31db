// The sales report (12-reports.yaml, GET /api/v1/supplier/sales on
// statistics-api.wildberries.ru) as `report` entities, on kit::ReportPass:
// the client's call and the adapter's pass.
//
// What the spec says, and what crmhub does with it:
// - flag=0 (the default): the rows whose lastChangeDate is >= dateFrom; "in
//   the second and later request use the full lastChangeDate of the last row
//   of the previous answer as dateFrom". The pass's position is that value,
//   as sent, kept across passes: a pass reads only what changed since the
//   last one, the last row(s) again (>=: duplicates by their keys).
// - "условное ограничение 80000 строк" per answer: an answer of fewer rows
//   holds everything changed since dateFrom, and ends the pass. (The spec
//   says an empty array means all is read; with >= the last row comes back
//   every time, so crmhub does not wait for one: a shorter answer is the
//   end, and should WB cut an answer short anyway, the next pass starts from
//   its last row, so nothing is lost, only a day late.)
// - "Информация о заказе хранится 90 дней": the first pass reads 90 days
//   back (RFC 3339 with the Moscow offset).
// - 1 request a minute, burst 1: the pass waits for its own bucket instead
//   of holding up FBS; a 429 is the client's throttle.
// - One row = one unit of one order (srid); saleID S… a sale, R… a return.
//   Times are Moscow time when they carry no offset. No currency is named:
//   the amounts are roubles (the spec's "₽"), mapped as RUB by the rules.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "adapters/wildberries/wildberries_adapter.h"
#include "adapters/wildberries/wildberries_client.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

constexpr const char* kSalesPath = "/api/v1/supplier/sales";
constexpr std::string_view kReportName = "wb.sales";
constexpr int64_t kFirstPassDays = 90;

// A query value: RFC 3339 text may hold '+' (an offset).
std::string QueryValue(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '+') {
      out += "%2B";
    } else if (ch == ' ') {
      out += "%20";
    } else {
      out += ch;
    }
  }
  return out;
}

std::string MoscowDay(int64_t ms) {
  return FormatTimestamp(FromUnixMillis(ms), TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes)
      .substr(0, 10);
}

// One row read for the kit: its id, version, period and what is wrong.
// `changed_ms`: its lastChangeDate (0: unreadable).
kit::ReportRow ReadSale(const json& row, int64_t& changed_ms) {
  kit::ReportRow r;
  r.raw = row;
  changed_ms = 0;
  if (!row.is_object()) {
    r.problem = "not a JSON object";
    return r;
  }
  r.row_id = std::string(JsonString(row, "saleID").value_or(""));
  if (r.row_id.empty()) {
    r.problem = "saleID must be a non-empty string";
    return r;
  }
  const std::optional<std::string_view> changed = JsonString(row, "lastChangeDate");
  Result<int64_t> changed_at = ParseTimestampMs(changed.value_or(""), kMoscowOffsetMinutes);
  if (!changed || !changed_at.ok()) {
    r.problem = "lastChangeDate must be a date-time";
    return r;
  }
  const std::optional<std::string_view> date = JsonString(row, "date");
  Result<int64_t> sold_at = ParseTimestampMs(date.value_or(""), kMoscowOffsetMinutes);
  if (!date || !sold_at.ok()) {
    r.problem = "date must be a date-time";
    return r;
  }
  for (const char* key : {"forPay", "finishedPrice", "priceWithDisc", "totalPrice"}) {
    const json* v = JsonMember(row, key);
    if (v != nullptr && !v->is_null() && !v->is_number()) {
      r.problem = fmt::format("{} must be a number", key);
      return r;
    }
  }
  r.type = r.row_id[0] == 'R' ? "return" : "sale";  // S…: a sale, R…: a return
  r.version = std::string(*changed);
  r.period = MoscowDay(*sold_at);
  r.ordering_key = std::string(JsonString(row, "srid").value_or(""));
  changed_ms = *changed_at;
  return r;
}

}  // namespace

ApiResult<std::vector<json>> WildberriesClient::Sales(const std::string& date_from) {
  auto r = Call(Group::kAnalytics, "GET", options_.statistics_url,
                fmt::format("{}?dateFrom={}&flag=0", kSalesPath, QueryValue(date_from)), "",
                net::ApiRequest::Expect::kJson, sales_bucket_.get());
  if (!r.ok()) return r.error();
  if (!r->json.is_array()) return Unexpected(*r, kSalesPath, "not an array");
  return std::vector<json>(r->json.begin(), r->json.end());
}

std::optional<SystemTime> WildberriesClient::PeekSales() const {
  const Duration wait = sales_bucket_->Peek(1);
  if (wait <= Duration::zero()) return std::nullopt;
  return clock_.Now() + std::chrono::duration_cast<SystemTime::duration>(wait);
}

void WildberriesAdapter::PauseReport(const ApiError& e, SystemTime& paused_until,
                                     std::string_view what, std::string_view category) {
  if (e.kind != ApiError::Kind::kThrottled) {
    // The pass stays where it is and is tried again later; FBS goes on.
    const bool auth = e.kind == ApiError::Kind::kAuth;
    paused_until = clock_.Now() + (auth ? std::max<Duration>(kDbsAuthPause, config_.poll_interval)
                                        : Duration(config_.poll_interval));
    spdlog::warn(
        "{}: {} report: {}{}", config_.id, what == "reports" ? "sales" : what, e.message,
        auth ? fmt::format(" (the token needs the {} category, or set {} = false)", category, what)
             : std::string("; FBS goes on"));
  }
  std::lock_guard lock(describe_mu_);
  describe_[std::string(what)]["last_error"] = e.message;
}

bool WildberriesAdapter::ReportsDue(kit::ReportPass& pass) const {
  const SystemTime now = clock_.Now();
  if (now < reports_paused_until_ || client_.PeekSales().has_value()) return false;
  return pass.Due(ToUnixMillis(now));
}

Result<PullResult> WildberriesAdapter::PullReports(kit::ReportPass& pass) {
  const SystemTime now = clock_.Now();
  const int64_t now_ms = ToUnixMillis(now);
  // The first pass: RFC 3339 with its offset (the schema's `format:
  // date-time`; the prose also allows a bare date).
  const std::string from =
      pass.position.empty()
          ? FormatTimestamp(FromUnixMillis(now_ms - kFirstPassDays * 24 * 3600 * 1000),
                            TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes)
          : pass.position;
  PullResult result;
  auto rows = client_.Sales(from);
  if (!rows.ok()) {
    PauseReport(rows.error(), reports_paused_until_, "reports", "Statistics");
    result.more = true;  // FBS next; the position as it was
    return result;
  }
  std::vector<kit::ReportRow> read;
  read.reserve(rows->size());
  int64_t newest_ms = 0;
  std::string newest;
  for (const json& row : *rows) {
    int64_t changed_ms = 0;
    read.push_back(ReadSale(row, changed_ms));
    if (read.back().problem.empty() && changed_ms >= newest_ms) {
      newest_ms = changed_ms;
      newest = read.back().version;
    }
  }
  kit::QueueReportRows(read, "wildberries", kReportName, kSalesPath, result.events);
  const bool cut = rows->size() >= kSalesRowsPerAnswer && !newest.empty() && newest != from;
  result.more = pass.After(newest, cut, now_ms, config_.reports_interval.count());
  std::lock_guard lock(describe_mu_);
  describe_["reports"] = {{"position", pass.position},
                          {"rows", rows->size()},
                          {"next_ms", pass.schedule.next_ms},
                          {"last_error", ""}};
  return result;
}

}  // namespace crmhub::adapters::wildberries
