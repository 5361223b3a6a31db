// The Ozon simulator's posting lists: /v3/posting/fbs/list and
// /v2/posting/fbo/list (see ozon_sim.h).

#include <algorithm>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// The spec's date-time: RFC 3339, so an offset is required.
std::optional<SystemTime> TimeField(const json& j, std::string_view key) {
  auto text = JsonString(j, key);
  if (!text) return std::nullopt;
  return ParseTimestamp(*text, kNoDefaultOffset);
}

std::string OzonTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Millis, kUtcOffsetMinutes);
}

// The page [offset, offset + limit) of `hits` as a JSON array, each hit
// written by `append`, with the "dup" fault's repeated postings.
template <typename Hit, typename Append>
std::string Page(const std::vector<Hit>& hits, int64_t offset, int64_t limit, bool dup, size_t& end,
                 Append append) {
  size_t begin = std::min(hits.size(), static_cast<size_t>(offset));
  end = std::min(hits.size(), begin + static_cast<size_t>(limit));
  simkit::JsonText out;
  out.BeginArray();
  for (size_t k = begin; k < end; ++k) append(out, hits[k]);
  // Duplicated data: the first few postings of the page appear twice.
  if (dup) {
    for (size_t k = begin; k < std::min(end, begin + 3); ++k) append(out, hits[k]);
  }
  out.EndArray();
  return out.Take();
}

}  // namespace

void OzonSimulator::AppendPosting(simkit::JsonText& out, const SimPosting& p, size_t step) const {
  const std::string& status = p.steps[step].second;
  const bool cancelled = status == "cancelled";
  SystemTime delivering{};
  for (const auto& [t, s] : p.steps) {
    if (s == "delivering") delivering = t;
  }
  out.BeginObject()
      .Member("posting_number", p.posting_number)
      .Member("order_id", p.order_id)
      .Member("order_number", std::to_string(p.order_id) + "-0001")
      .Member("status", status)
      .Member("substatus", cancelled ? "posting_canceled" : "posting_created")
      .Member("in_process_at", OzonTime(p.created))
      .Member("shipment_date", OzonTime(p.created + std::chrono::hours(24)))
      .Member("tracking_number", "")
      .Member("tpl_integration_type", "ozon")
      .Member("is_express", false)
      .Member("is_multibox", false)
      .Member("multi_box_qty", 1)
      .Member("parent_posting_number", "");
  out.Key("delivery_method")
      .BeginObject()
      .Member("id", kSimDeliveryMethodId)
      .Member("name", "Ozon Логистика самостоятельно")
      .Member("tpl_provider", "Ozon Логистика")
      .Member("tpl_provider_id", 24)
      .Member("warehouse", "Склад 22")
      .Member("warehouse_id", options_.warehouse_id)
      .EndObject();
  out.Key("cancellation")
      .BeginObject()
      .Member("cancel_reason", cancelled ? "Покупатель отменил заказ" : "")
      .Member("cancel_reason_id", cancelled ? p.cancel_reason_id : 0)
      .Member("cancellation_initiator", cancelled ? "Клиент" : "")
      .Member("cancellation_type", cancelled ? "client" : "")
      .Member("cancelled_after_ship", cancelled && step > 1)
      .Member("affect_cancellation_rating", false)
      .EndObject();
  const std::string offer = OfferId(p.offer_index);
  out.Key("products")
      .BeginArray()
      .BeginObject()
      .Member("name", "Товар " + offer)
      .Member("offer_id", offer)
      .Member("price", std::to_string(100 + p.offer_index % 900) + ".00")
      .Member("quantity", p.quantity)
      .Member("sku", 200001 + p.offer_index)
      .Member("currency_code", "RUB")
      .EndObject()
      .EndArray();
  if (delivering != SystemTime{} && step >= 2) {
    out.Member("delivering_date", OzonTime(delivering));
  }
  out.EndObject();
}

struct OzonSimulator::ListQuery {
  const json* filter = nullptr;
  SystemTime since, to;
  int64_t limit = 0;
  int64_t offset = 0;
  std::optional<std::string> status;
  bool desc = false;
};

std::optional<net::HttpResponse> OzonSimulator::ParseListQuery(const json& body,
                                                               const char* period_error,
                                                               ListQuery& query) const {
  query.filter = JsonObject(body, "filter");
  if (query.filter == nullptr) return RpcError(400, 3, "filter is required");
  auto since = TimeField(*query.filter, "since");
  auto to = TimeField(*query.filter, "to");
  if (!since || !to) return RpcError(400, 3, "filter.since and filter.to are required (date-time)");
  if (*to - *since > std::chrono::hours(24 * 366)) return RpcError(400, 3, period_error);
  auto limit = JsonInt(body, "limit");
  auto offset = JsonInt(body, "offset");
  if (!limit || !offset) return RpcError(400, 3, "limit and offset are required");
  query.since = *since;
  query.to = *to;
  query.limit = *limit;
  query.offset = *offset;
  if (query.limit < 1 || query.limit > 1000)
    return RpcError(400, 3, "limit must be between 1 and 1000");
  if (query.offset < 0) return RpcError(400, 3, "offset must not be negative");
  if (query.offset > 20000) return RpcError(400, 3, "MAX_OFFSET_EXCEEDED");
  if (auto s = JsonString(*query.filter, "status"); s && !s->empty())
    query.status = std::string(*s);
  auto dir = JsonString(body, "dir");
  query.desc = dir == "desc" || dir == "DESC";
  return std::nullopt;
}

net::HttpResponse OzonSimulator::FbsList(const json& body, bool dup) {
  ListQuery q;
  if (auto error = ParseListQuery(body, "period must not exceed one year", q)) return *error;
  std::optional<SystemTime> changed_from, changed_to;
  if (const json* c = JsonObject(*q.filter, "last_changed_status_date")) {
    changed_from = TimeField(*c, "from");
    changed_to = TimeField(*c, "to");
  }
  const SystemTime now = clock_.Now();
  struct Hit {
    SystemTime changed;
    size_t index;
    size_t step;
  };
  std::vector<Hit> hits;
  std::lock_guard lock(postings_mu_);
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    if (p.fbo || p.created > now || p.created < q.since || p.created > q.to) continue;
    const size_t step = StepOf(p, now);
    const SystemTime changed = p.steps[step].first;
    if (changed_from && changed < *changed_from) continue;
    if (changed_to && changed > *changed_to) continue;
    if (q.status && p.steps[step].second != *q.status) continue;
    hits.push_back({changed, i, step});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.changed != b.changed ? a.changed < b.changed : a.index < b.index;
  });
  if (q.desc) std::reverse(hits.begin(), hits.end());
  size_t end = 0;
  std::string postings = Page(
      hits, q.offset, q.limit, dup, end,
      [&](simkit::JsonText& out, const Hit& h) { AppendPosting(out, postings_[h.index], h.step); });
  simkit::JsonText answer;
  answer.BeginObject().Key("result").BeginObject().Key("postings").Raw(postings);
  answer.Member("has_next", end < hits.size()).EndObject().EndObject();
  return net::HttpResponse::Json(200, answer.Take());
}

net::HttpResponse OzonSimulator::FboList(const json& body, bool dup) {
  ListQuery q;
  // The spec names this error for the FBO list: "Если период больше года,
  // вернётся ошибка PERIOD_IS_TOO_LONG".
  if (auto error = ParseListQuery(body, "PERIOD_IS_TOO_LONG", q)) return *error;
  const json* with_member = JsonObject(body, "with");
  const json with = with_member != nullptr ? *with_member : json::object();
  const SystemTime now = clock_.Now();
  struct Hit {
    size_t index;
    size_t step;
  };
  // postings_ is in creation order: the answer is sorted by creation.
  std::vector<Hit> hits;
  std::lock_guard lock(postings_mu_);
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    if (!p.fbo || p.created > now || p.created < q.since || p.created > q.to) continue;
    const size_t step = StepOf(p, now);
    if (q.status && p.steps[step].second != *q.status) continue;
    hits.push_back({i, step});
  }
  if (q.desc) std::reverse(hits.begin(), hits.end());
  size_t end = 0;
  std::string postings =
      Page(hits, q.offset, q.limit, dup, end, [&](simkit::JsonText& out, const Hit& h) {
        AppendFboPosting(out, postings_[h.index], h.step, with);
      });
  simkit::JsonText answer;
  answer.BeginObject().Key("result").Raw(postings).EndObject();
  return net::HttpResponse::Json(200, answer.Take());
}

void OzonSimulator::AppendFboPosting(simkit::JsonText& out, const SimPosting& p, size_t step,
                                     const json& with) const {
  const std::string& status = p.steps[step].second;
  const std::string offer = OfferId(p.offer_index);
  out.BeginObject()
      .Member("order_id", p.order_id)
      .Member("order_number", std::to_string(p.order_id) + "-0001")
      .Member("posting_number", p.posting_number)
      .Member("status", status)
      .Member("cancel_reason_id", status == "cancelled" ? 402 : 0)
      .Member("created_at", OzonTime(p.created))
      .Member("in_process_at", OzonTime(p.created));
  out.Key("products")
      .BeginArray()
      .BeginObject()
      .Member("sku", 200001 + p.offer_index)
      .Member("name", "Товар " + offer)
      .Member("quantity", p.quantity)
      .Member("offer_id", offer)
      .Member("price", std::to_string(100 + p.offer_index % 900) + ".00")
      .Member("is_marketplace_buyout", false)
      .Key("digital_codes")
      .BeginArray()
      .EndArray()
      .Member("currency_code", "RUB")
      .EndObject()
      .EndArray();
  out.Key("additional_data").BeginArray().EndArray();
  auto asked = [&](const char* key) { return JsonBool(with, key) == true; };
  if (asked("analytics_data")) {
    out.Key("analytics_data")
        .BeginObject()
        .Member("city", "Ростов-на-Дону")
        .Member("delivery_type", "PVZ")
        .Member("is_premium", false)
        .Member("payment_type_group_name", "Карты оплаты")
        .Member("warehouse_id", options_.fbo_warehouse_id)
        .Member("warehouse_name", "РОСТОВ-НА-ДОНУ_РФЦ")
        .Member("is_legal", false)
        .EndObject();
  }
  if (asked("financial_data")) {
    out.Key("financial_data")
        .BeginObject()
        .Member("cluster_from", "")
        .Member("cluster_to", "")
        .Key("products")
        .BeginArray()
        .EndArray()
        .EndObject();
  }
  if (asked("legal_info")) {
    out.Key("legal_info")
        .BeginObject()
        .Member("company_name", "")
        .Member("inn", "")
        .Member("kpp", "")
        .EndObject();
  }
  out.EndObject();
}

}  // namespace crmhub::adapters::ozon
