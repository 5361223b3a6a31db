// The simulator's realization report: POST /v2/finance/realization
// (FinanceAPI_GetRealizationReportV2; v2GetRealizationReportRequestV2,
// GetRealizationReportResponseV2Result), read from the spec, never from the
// adapter.
//
// What the spec states and the simulator does: {month, year} required (400
// rpcStatus otherwise); the report of a month's delivered and returned goods
// («Отмены и невыкупы не включаются»): a row per posting delivered in that
// month (delivery_commission) and a row per return created in it
// (return_commission), numbered by rowNumber in time order, with the
// header's fields. What it leaves open and the simulator chooses: a month
// is reported once it is over (Moscow time; the spec: «не позднее 5-го
// числа следующего месяца»), a month not over is the listed 404 «Ответ не
// найден» (rpcStatus code 5); the commission is 15 % of the amount, the
// currency RUB, the amounts the postings' prices.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

namespace {

using nlohmann::json;

std::string MoscowMonth(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes).substr(0, 7);
}

// A commission member: the amounts of `quantity` units at `price` (kopecks).
json Commission(int64_t price, int64_t quantity) {
  const int64_t amount = price * quantity;
  const int64_t commission = amount * 15 / 100;
  auto rub = [](int64_t kopecks) { return static_cast<double>(kopecks) / 100.0; };
  return {{"amount", rub(amount)},
          {"bonus", 0},
          {"commission", rub(commission)},
          {"compensation", 0},
          {"price_per_instance", rub(price)},
          {"quantity", quantity},
          {"standard_fee", rub(commission)},
          {"bank_coinvestment", 0},
          {"stars", 0},
          {"pick_up_point_coinvestment", 0},
          {"total", rub(amount - commission)}};
}

}  // namespace

std::vector<OzonSimulator::RealizationRow> OzonSimulator::RealizationRowsLocked(
    const std::string& month) const {
  std::vector<RealizationRow> rows;
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    const auto& last = p.steps.back();
    if (last.second != "delivered" || MoscowMonth(last.first) != month) continue;
    rows.push_back({.at = last.first, .posting = i, .returned = false});
  }
  for (const SimReturn& r : returns_) {
    if (r.steps.empty() || MoscowMonth(r.steps.front().first) != month) continue;
    rows.push_back({.at = r.steps.front().first, .posting = r.posting, .returned = true});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const RealizationRow& a, const RealizationRow& b) { return a.at < b.at; });
  return rows;
}

std::set<std::string> OzonSimulator::RealizationRowIds() const {
  const std::string current = MoscowMonth(clock_.Now());
  std::set<std::string> months;
  std::lock_guard lock(postings_mu_);
  for (const SimPosting& p : postings_) months.insert(MoscowMonth(p.steps.back().first));
  for (const SimReturn& r : returns_) {
    if (!r.steps.empty()) months.insert(MoscowMonth(r.steps.front().first));
  }
  std::set<std::string> out;
  for (const std::string& month : months) {
    if (month >= current) continue;  // not over: not reported yet
    const size_t n = RealizationRowsLocked(month).size();
    for (size_t i = 1; i <= n; ++i) out.insert(fmt::format("{}:{}", month, i));
  }
  return out;
}

net::HttpResponse OzonSimulator::Realization(const json& body, bool /*dup*/) {
  const std::optional<int64_t> month = JsonInt(body, "month");
  const std::optional<int64_t> year = JsonInt(body, "year");
  if (!month || !year) return RpcError(400, 3, "month and year are required");
  if (*month < 1 || *month > 12 || *year < 2000 || *year > 9999) {
    return RpcError(400, 3, "invalid month or year");
  }
  const std::string wanted = fmt::format("{:04}-{:02}", *year, *month);
  if (wanted >= MoscowMonth(clock_.Now())) {
    return RpcError(404, 5, "realization report for the period is not formed yet");
  }
  json rows = json::array();
  int64_t doc_kopecks = 0;
  {
    std::lock_guard lock(postings_mu_);
    int number = 0;
    for (const RealizationRow& r : RealizationRowsLocked(wanted)) {
      const SimPosting& p = postings_[r.posting];
      const int64_t price = (100 + p.offer_index % 900) * 100;  // kopecks, as the postings say
      json commission = Commission(price, p.quantity);
      const int64_t amount = price * p.quantity;  // the commission's total, as Commission has it
      doc_kopecks += (r.returned ? -1 : 1) * (amount - amount * 15 / 100);
      rows.push_back({{"rowNumber", ++number},
                      {"commission_ratio", 0.15},
                      {"seller_price_per_instance", static_cast<double>(price) / 100.0},
                      {"item",
                       {{"barcode", fmt::format("46{:011}", p.offer_index + 1)},
                        {"name", fmt::format("Товар симулятора {}", p.offer_index + 1)},
                        {"offer_id", OfferId(p.offer_index)},
                        {"sku", 200001 + p.offer_index}}},
                      {"delivery_commission", r.returned ? json(nullptr) : commission},
                      {"return_commission", r.returned ? commission : json(nullptr)}});
    }
  }
  const std::string last_day = [&] {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (*year % 4 == 0 && *year % 100 != 0) || *year % 400 == 0;
    return fmt::format("{}-{:02}", wanted, kDays[*month - 1] + (*month == 2 && leap ? 1 : 0));
  }();
  json header = {{"contract_date", "2024-01-01"},
                 {"contract_number", "ИР-123456/24"},
                 {"currency_sys_name", "RUB"},
                 {"doc_amount", static_cast<double>(doc_kopecks) / 100.0},
                 {"doc_date", last_day},
                 {"number", fmt::format("{}-{:04}{:02}", options_.client_id(), *year, *month)},
                 {"payer_inn", "7704217370"},
                 {"payer_kpp", "997750001"},
                 {"payer_name", "ООО «Интернет Решения»"},
                 {"receiver_inn", "7700000000"},
                 {"receiver_kpp", "770001001"},
                 {"receiver_name", "ООО «Продавец симулятора»"},
                 {"start_date", wanted + "-01"},
                 {"stop_date", last_day},
                 {"vat_amount", 0}};
  return net::HttpResponse::Json(
      200, json{{"result", {{"header", std::move(header)}, {"rows", std::move(rows)}}}}.dump());
}

}  // namespace crmhub::adapters::ozon
