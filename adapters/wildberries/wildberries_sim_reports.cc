// The simulator's sales report (12-reports.yaml, GET /api/v1/supplier/sales
// on statistics-api.wildberries.ru, the same server here), read from the
// spec, never from the adapter.
//
// What the spec states and the simulator enforces: dateFrom required (400
// {"errors":["dateFrom: field required"]}), RFC 3339 or a date, Moscow time
// when it has no offset (400 {"errors":"dateFrom: Value not validated"});
// flag=0 (or none): the rows whose lastChangeDate >= dateFrom, in that
// order, at most kRowsPerAnswer (the "условное ограничение 80000 строк");
// flag=1: every row sold on dateFrom's day; 1 request a minute, burst 1
// (the "statistics" limit group, 429 with the documented body). "1 строка =
// 1 заказ = 1 сборочное задание = 1 единица товара": one S row per sold FBS
// order (its lastChangeDate the sale), one R row per return (its
// lastChangeDate the return's creation). What the spec leaves open and the
// simulator chooses: the amounts (the order's price in roubles, the seller's
// discount 10 %, forPay 85 % of it), the times written with their offset
// (the schema's `format: date-time`).

#include <fmt/format.h>

#include <algorithm>

#include "adapters/simkit/json_text.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {

namespace {

constexpr size_t kRowsPerAnswer = 80'000;

net::HttpResponse StatisticsError(std::string_view errors_json) {
  return net::HttpResponse::Json(400, fmt::format(R"({{"errors":{}}})", errors_json));
}

std::string IsoMsk(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
}

}  // namespace

std::vector<WildberriesSimulator::SaleRow> WildberriesSimulator::SaleRowsLocked(int64_t now) const {
  std::vector<SaleRow> rows;
  for (const Order& o : orders_) {
    const Step& last = o.steps.back();
    if (std::string_view(last.wb) != "sold" || last.at_ms > now) continue;
    rows.push_back({.sale_id = fmt::format("S{:010}", o.id), .order = &o, .at_ms = last.at_ms});
  }
  for (const SimReturn& r : returns_) {
    if (r.steps[0] > now) continue;
    auto it = std::lower_bound(orders_.begin(), orders_.end(), r.order_id,
                               [](const Order& o, int64_t id) { return o.id < id; });
    if (it == orders_.end() || it->id != r.order_id) continue;
    rows.push_back({.sale_id = fmt::format("R{:010}", r.order_id),
                    .order = &*it,
                    .at_ms = r.steps[0],
                    .sold_ms = it->steps.back().at_ms});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const SaleRow& a, const SaleRow& b) { return a.at_ms < b.at_ms; });
  return rows;
}

std::map<std::string, int64_t> WildberriesSimulator::SaleRows() const {
  std::lock_guard lock(mu_);
  std::map<std::string, int64_t> out;
  for (const SaleRow& r : SaleRowsLocked(NowMs())) out[r.sale_id] = r.order->id;
  return out;
}

net::HttpResponse WildberriesSimulator::Sales(const net::HttpRequest& req) {
  const std::optional<std::string> from = req.QueryParam("dateFrom");
  if (!from || from->empty()) return StatisticsError(R"(["dateFrom: field required"])");
  Result<int64_t> from_ms = ParseTimestampMs(*from, kMoscowOffsetMinutes);
  if (!from_ms.ok()) return StatisticsError(R"("dateFrom: Value not validated")");
  const std::optional<std::string> flag = req.QueryParam("flag");
  if (flag && *flag != "0" && *flag != "1")
    return StatisticsError(R"("flag: Value not validated")");
  const bool by_day = flag && *flag == "1";
  const std::string day = IsoMsk(FromUnixMillis(*from_ms)).substr(0, 10);

  simkit::JsonText out;
  out.BeginArray();
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const SaleRow& r : SaleRowsLocked(NowMs())) {
    const SystemTime changed = start_ + std::chrono::milliseconds(r.at_ms);
    const SystemTime sold = start_ + std::chrono::milliseconds(r.sold_ms ? r.sold_ms : r.at_ms);
    if (by_day ? IsoMsk(sold).substr(0, 10) != day : ToUnixMillis(changed) < *from_ms) continue;
    if (!by_day && ++n > kRowsPerAnswer) break;
    const Order& o = *r.order;
    const bool back = r.sale_id[0] == 'R';
    const int64_t sign = back ? -1 : 1;
    const int64_t price = 100'000 + (o.product % 97) * 1'000;  // kopecks, as the orders say
    const int64_t with_disc = price * 9 / 10;
    const int64_t for_pay = with_disc * 85 / 100;
    auto rub = [&](int64_t kopecks) {
      return fmt::format("{}{}.{:02}", sign < 0 ? "-" : "", kopecks / 100, kopecks % 100);
    };
    out.BeginObject().Member("date", IsoMsk(sold)).Member("lastChangeDate", IsoMsk(changed));
    out.Member("warehouseName", "Склад продавца симулятора")
        .Member("warehouseType", "Склад продавца");
    out.Member("countryName", "Россия").Member("oblastOkrugName", "Центральный федеральный округ");
    out.Member("regionName", "Московская")
        .Member("supplierArticle", fmt::format("art-{}", o.product));
    out.Member("nmId", 100000000 + o.product).Member("barcode", SimBarcode(o.product));
    out.Member("category", "Товары").Member("subject", "Товар симулятора").Member("brand", "sim");
    out.Member("techSize", "0").Member("incomeID", 0).Member("isSupply", false);
    out.Member("isRealization", true);
    out.Key("totalPrice").Raw(rub(price)).Member("discountPercent", 10).Member("spp", 0);
    out.Member("paymentSaleAmount", 0);
    out.Key("forPay").Raw(rub(for_pay)).Key("finishedPrice").Raw(rub(with_disc));
    out.Key("priceWithDisc").Raw(rub(with_disc));
    out.Member("saleID", r.sale_id).Member("sticker", std::to_string(33800000000 + o.id));
    out.Member("gNumber", fmt::format("{:020}", o.id)).Member("srid", o.rid);
    out.EndObject();
  }
  out.EndArray();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::wildberries
