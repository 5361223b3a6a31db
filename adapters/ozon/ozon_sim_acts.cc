// The simulator's acts (carriages): /v2/posting/fbs/act/create,
// /v2/posting/fbs/act/check-status, /v2/posting/fbs/act/get-postings and
// /v2/posting/fbs/act/list, read from ozon-seller-api.swagger.json (the
// operations, their schemas and the tag Errors' table for act/create),
// never from the adapter. Where the spec is silent the simulator's choice
// is named below and in docs/adapters/ozon.md.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

constexpr int64_t kFirstActId = 5819327210249;  // the spec's example result.id

// The spec's date-time, UTC with milliseconds.
std::string OzonTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Millis, kUtcOffsetMinutes);
}

std::string Day(SystemTime t) { return OzonTime(t).substr(0, 10); }

}  // namespace

std::vector<SimAct> OzonSimulator::Acts() const {
  std::lock_guard lock(postings_mu_);
  return acts_;
}

const SimAct* OzonSimulator::FindActLocked(int64_t id) const {
  auto act = std::find_if(acts_.begin(), acts_.end(), [&](const SimAct& a) { return a.id == id; });
  return act == acts_.end() ? nullptr : &*act;
}

std::vector<SimPosting*> OzonSimulator::ActCandidatesLocked(SystemTime now) {
  // «Чтобы сформировать и получить документы, переведите отправление в
  // статус awaiting_deliver»; a posting already in an act is not taken again.
  std::vector<SimPosting*> out;
  for (SimPosting& p : postings_) {
    if (p.fbo || p.created > now || p.act_id != 0) continue;
    if (p.steps[StepOf(p, now)].second == "awaiting_deliver") out.push_back(&p);
  }
  return out;
}

net::HttpResponse OzonSimulator::CreateAct(const json& body, bool) {
  // The schema: delivery_method_id required.
  const std::optional<int64_t> method = JsonInt(body, "delivery_method_id");
  if (!method) return RpcError(400, 3, "delivery_method_id is required");
  // The sim's account has no trusted acceptance (доверительная приёмка).
  if (JsonMember(body, "containers_count") != nullptr) {
    return RpcError(400, 3, "Trying set ContainersCount to not HasEntrustedAcceptance company");
  }
  if (*method != kSimDeliveryMethodId) return RpcError(400, 3, "DELIVERY_METHOD_NOT_FOUND");
  const SystemTime now = clock_.Now();
  std::string departure;
  if (const json* d = JsonMember(body, "departure_date"); d != nullptr && !d->is_null()) {
    const std::optional<std::string_view> text = AsString(*d);
    const std::optional<SystemTime> at =
        text ? ParseTimestamp(*text, kNoDefaultOffset) : std::nullopt;
    if (!at) return RpcError(400, 3, "departure_date must be a date-time");
    // «outdated — Указана прошедшая дата» (UTC days here: the spec names no
    // time zone).
    if (Day(*at) < Day(now)) return RpcError(400, 3, "outdated");
    departure = std::string(*text);
  }
  std::lock_guard lock(postings_mu_);
  std::vector<SimPosting*> postings = ActCandidatesLocked(now);
  // «no_postings — Для выбранного метода нет доступных отправлений».
  if (postings.empty()) return RpcError(400, 3, "no_postings");
  SimAct act{.id = kFirstActId + static_cast<int64_t>(acts_.size()),
             .delivery_method_id = *method,
             .departure_date = departure,
             .created = now,
             .postings = {}};
  for (SimPosting* p : postings) {
    p->act_id = act.id;
    act.postings.push_back(p->posting_number);
  }
  // The spec says nothing of a status change at act creation (the postings
  // are handed over later): they stay awaiting_deliver.
  acts_.push_back(std::move(act));
  if (lost_act_answers_ > 0) {
    --lost_act_answers_;
    return RpcError(503, 14, "the act was created; its answer is lost (lost_act_answers)");
  }
  return net::HttpResponse::Json(200, json{{"result", {{"id", acts_.back().id}}}}.dump());
}

net::HttpResponse OzonSimulator::CheckAct(const json& body, bool) { return ActById(body, false); }

net::HttpResponse OzonSimulator::ActPostings(const json& body, bool) { return ActById(body, true); }

net::HttpResponse OzonSimulator::ActById(const json& body, bool postings) {
  const std::optional<int64_t> id = JsonInt(body, "id");
  if (!id) return RpcError(400, 3, "id is required");
  const SystemTime now = clock_.Now();
  std::lock_guard lock(postings_mu_);
  const SimAct* act = FindActLocked(*id);
  // The spec names no error for an unknown id: 404, as for a posting.
  if (act == nullptr) return RpcError(404, 5, "ACT_NOT_FOUND");
  simkit::JsonText out;
  out.BeginObject().Key("result");
  if (!postings) {  // check-status
    const bool ready = now >= act->created + options_.act_forming;
    const bool next = !ActCandidatesLocked(now).empty();
    out.BeginObject().Key("added_to_act").BeginArray();
    for (const std::string& number : act->postings) out.String(number);
    out.EndArray().Key("removed_from_act").BeginArray().EndArray();
    out.Member("status", ready ? "ready" : "in_process")
        .Key("is_partial")
        .Bool(false)
        .Key("has_postings_for_next_carriage")
        .Bool(next)
        .Member("partial_num", int64_t{0})
        .EndObject();
    return net::HttpResponse::Json(200, out.EndObject().Take());
  }
  out.BeginArray();  // get-postings
  for (const std::string& number : act->postings) {
    const SimPosting* p = FindFbsLocked(number);
    if (p == nullptr) continue;
    const std::string offer = OfferId(p->offer_index);
    out.BeginObject()
        .Member("id", act->id)
        .Member("multi_box_qty", int64_t{1})
        .Member("posting_number", number)
        .Member("status", p->steps[StepOf(*p, now)].second)
        .Member("seller_error", "")
        .Member("created_at", OzonTime(act->created))
        .Member("updated_at", OzonTime(act->created));
    out.Key("products")
        .BeginArray()
        .BeginObject()
        .Member("name", "Товар " + offer)
        .Member("offer_id", offer)
        .Member("price", std::to_string(100 + p->offer_index % 900) + ".00")
        .Member("quantity", int64_t{p->quantity})
        .Member("sku", 200001 + p->offer_index)
        .EndObject()
        .EndArray();
    out.EndObject();
  }
  out.EndArray().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

void OzonSimulator::AppendAct(simkit::JsonText& out, const SimAct& act, SystemTime now) const {
  const bool formed = now >= act.created + options_.act_forming;
  out.BeginObject()
      .Member("id", act.id)
      .Member("delivery_method_id", act.delivery_method_id)
      .Member("delivery_method_name", "Ozon Логистика самостоятельно")
      .Member("integration_type", "ozon")
      .Member("containers_count", int64_t{0})
      // The carriage's statuses as the filter lists them: in_process
      // («собирается») while its documents form, then formed («собрана»).
      .Member("status", formed ? "formed" : "in_process")
      // Without one sent, the simulator names the day the act was created.
      .Member("departure_date",
              act.departure_date.empty() ? OzonTime(act.created) : act.departure_date)
      .Member("created_at", OzonTime(act.created))
      .Member("updated_at", OzonTime(act.created))
      .Member("act_type", "")
      .Key("is_partial")
      .Bool(false)
      .Key("has_postings_for_next_carriage")
      .Bool(false)
      .Member("partial_num", int64_t{0});
  out.Key("related_docs")
      .BeginObject()
      .Key("act_of_acceptance")
      .BeginObject()
      .Member("created_at", OzonTime(act.created))
      .Member("document_status", formed ? "FORMED" : "FORMING")
      .EndObject()
      .EndObject();
  out.EndObject();
}

net::HttpResponse OzonSimulator::ActList(const json& body, bool) {
  // The schema: limit required, filter.date_from and date_to required.
  const std::optional<int64_t> limit = JsonInt(body, "limit");
  if (!limit || *limit <= 0) return RpcError(400, 3, "limit is required");
  const json* filter = JsonObject(body, "filter");
  const std::string_view from =
      filter != nullptr ? JsonString(*filter, "date_from").value_or("") : "";
  const std::string_view to = filter != nullptr ? JsonString(*filter, "date_to").value_or("") : "";
  if (from.size() < 10 || to.size() < 10) {
    return RpcError(400, 3, "filter.date_from and filter.date_to are required");
  }
  std::vector<std::string> statuses;
  if (const json* list = JsonArray(*filter, "status")) {
    for (const json& s : *list) statuses.emplace_back(AsString(s).value_or(""));
  }
  const SystemTime now = clock_.Now();
  std::lock_guard lock(postings_mu_);
  simkit::JsonText out;
  out.BeginObject().Key("result").BeginArray();
  int64_t listed = 0;
  // Newest first (the spec gives no order); the creation day (UTC) within
  // [date_from, date_to], compared as dates.
  for (auto act = acts_.rbegin(); act != acts_.rend() && listed < *limit; ++act) {
    const std::string day = Day(act->created);
    if (day < from.substr(0, 10) || day > to.substr(0, 10)) continue;
    const std::string status = now >= act->created + options_.act_forming ? "formed" : "in_process";
    if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), status) == statuses.end())
      continue;
    AppendAct(out, *act, now);
    ++listed;
  }
  out.EndArray().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::ozon
