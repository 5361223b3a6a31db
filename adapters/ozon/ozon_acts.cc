// The seller's create_act command: the act (carriage) of a delivery
// method's packed postings, /v2/posting/fbs/act/create, its documents'
// state polled by /v2/posting/fbs/act/check-status, its postings read by
// /v2/posting/fbs/act/get-postings and queued for the CRM (see
// docs/adapters/ozon.md, "Acts").

#include <fmt/format.h>

#include <algorithm>

#include "adapters/kit/command_fields.h"
#include "adapters/ozon/ozon_adapter.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// The check-status answers that say "wait and ask again": «in_process» and
// «The next postings aren't ready» («Подождите некоторое время и проверьте
// результат запроса»).
bool Forming(std::string_view status) {
  return status == "in_process" || status == "The next postings aren't ready";
}

std::string UtcDay(SystemTime t) { return OzonTime(t).substr(0, 10); }

}  // namespace

bool SameAct(const ActSummary& act, const ActRequest& request) {
  if (act.delivery_method_id != request.delivery_method_id) return false;
  // A cancelled act, or one Ozon failed to create, is no act: the spec says
  // to request it again.
  if (act.status == "cancelled" || act.status == "error") return false;
  if (act.departure_date.starts_with(request.day)) return true;
  return request.departure_date.empty() && act.created_at.starts_with(request.day);
}

Result<ActRequest> ReadActRequest(const nlohmann::json& item, SystemTime now) {
  const std::optional<int64_t> method = JsonIntLoose(item, "delivery_method_id");
  if (!method || *method <= 0) {
    return Status::InvalidArgument(
        "delivery_method_id must be Ozon's delivery method id (an integer > 0, from "
        "/v1/delivery-method/list), got " +
        kit::QuoteMember(item, "delivery_method_id"));
  }
  ActRequest r{.delivery_method_id = *method, .departure_date = {}, .day = UtcDay(now)};
  const json* departure = JsonMember(item, "departure_date");
  if (departure != nullptr && !departure->is_null()) {
    const std::optional<std::string_view> text = AsString(*departure);
    // The spec's date-time: a date, a time and its offset.
    if (!text || text->size() < 10 || !ParseTimestampMs(*text, kNoDefaultOffset).ok()) {
      return Status::InvalidArgument(
          "departure_date must be a date-time with its offset (\"2026-12-07T10:00:00Z\"), got " +
          kit::QuoteMember(item, "departure_date"));
    }
    r.departure_date = std::string(*text);
    r.day = r.departure_date.substr(0, 10);
  }
  return r;
}

std::string ActRecord(int64_t act_id, const ActRequest& request,
                      const std::vector<std::string>& postings, int64_t recorded_ms) {
  json record = {{"act_id", act_id},
                 {"delivery_method_id", request.delivery_method_id},
                 {"departure_day", request.day},
                 {"postings", postings},
                 {"status", "ready"},
                 {"recorded_ms", recorded_ms}};
  if (!request.departure_date.empty()) record["departure_date"] = request.departure_date;
  return record.dump();
}

DeliveryOutcome OzonAdapter::DeliverAct(const ActRequest& request, int attempt) {
  const std::string what =
      fmt::format("ozon: create_act for delivery method {}", request.delivery_method_id);
  auto failed = [&](const net::ApiError& error, std::string_view step) {
    DeliveryOutcome o = error.ToOutcome();
    o.error = fmt::format("{}: {}: {}", what, step, o.error);
    return o;
  };
  const SystemTime now = clock_.Now();
  int64_t id = 0;
  // Read before writing: a redelivery (its first try may have created the
  // act, its answer lost) looks for the act of this method and day first.
  if (attempt > 1) {
    auto acts = client_.ListActs(UtcDay(now - std::chrono::hours(48)), UtcDay(now), kActListLimit);
    if (!acts.ok()) return failed(acts.error(), "act/list");
    for (const ActSummary& act : *acts) {
      if (SameAct(act, request)) id = std::max(id, act.id);
    }
  }
  if (id == 0) {
    auto created = client_.CreateAct(request.delivery_method_id, request.departure_date);
    if (!created.ok()) {
      const net::ApiError& e = created.error();
      if (e.kind == net::ApiError::Kind::kRejected || e.kind == net::ApiError::Kind::kNotFound) {
        // no_postings, DELIVERY_METHOD_NOT_FOUND, outdated, ...: Ozon's own
        // words in a dead letter, never a blind retry.
        return DeliveryOutcome::Fail(fmt::format("{}: refused: {}", what, e.message));
      }
      return failed(e, "act/create");
    }
    id = *created;
  }
  std::string status;
  for (int poll = 0; poll < kActStatusPolls; ++poll) {
    auto state = client_.CheckAct(id);
    if (!state.ok()) return failed(state.error(), fmt::format("act {}: check-status", id));
    status = state->status;
    if (Forming(status)) continue;
    if (status != "ready") {
      return DeliveryOutcome::Fail(
          fmt::format("{}: act {}: Ozon answered status \"{}\" (the spec: request the "
                      "documents again; send create_act anew)",
                      what, id, status));
    }
    auto postings = client_.ActPostings(id);
    if (!postings.ok()) return failed(postings.error(), fmt::format("act {}: get-postings", id));
    return DeliveryOutcome::Ok(
        {{.idempotency_key = fmt::format("act:{}", id),
          .ordering_key = fmt::format("act:{}", id),
          .kind = "act",
          .headers = {},
          .payload = ActRecord(id, request, *postings, ToUnixMillis(clock_.Now())),
          .resolve = false}});
  }
  // Not formed within this attempt: come back later; the redelivery finds
  // the act in act/list and polls it again rather than creating another.
  return DeliveryOutcome::Retry(
      fmt::format("{}: act {} is still \"{}\"", what, id, status),
      clock_.Now() + std::chrono::duration_cast<SystemTime::duration>(kActRecheck));
}

}  // namespace crmhub::adapters::ozon
