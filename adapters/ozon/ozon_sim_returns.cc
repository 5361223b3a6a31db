// The Ozon simulator's returns: created for some delivered postings, served
// by /v1/returns/list (returnsList; v1GetReturnsListRequest,
// GetReturnsListResponseReturnsItem), read from the spec, never from the
// adapter.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

constexpr int64_t kFirstReturnId = 1000015552;  // the spec's example
constexpr int64_t kMaxReturnsLimit = 500;  // «Максимальное значение — 500»

// The walk, with the ids and names the spec's filter list gives them (the
// example: id 3 «В пункте выдачи» ArrivedAtReturnPlace; the others' ids
// are not documented: the simulator's own).
struct VisualStatus {
  const char* sys_name;
  int id;
  const char* display_name;
};
constexpr VisualStatus kWalk[] = {{"MovingToOzon", 31, "Едет на склад Ozon"},
                                  {"ReturnedToOzon", 32, "На складе Ozon"},
                                  {"MovingToSeller", 18, "Возврат на пути к продавцу"},
                                  {"ReceivedBySeller", 17, "Продавец получил возврат"}};

const VisualStatus& Visual(std::string_view sys_name) {
  for (const VisualStatus& v : kWalk) {
    if (v.sys_name == sys_name) return v;
  }
  return kWalk[0];
}

std::string OzonTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Millis, kUtcOffsetMinutes);
}

// A time range {time_from, time_to}; both optional (open ends).
struct Range {
  std::optional<SystemTime> from, to;
  bool Holds(SystemTime t) const { return (!from || *from <= t) && (!to || t <= *to); }
};

std::optional<Range> ReadRange(const json& range) {
  Range r;
  for (auto [key, slot] : {std::pair{"time_from", &r.from}, std::pair{"time_to", &r.to}}) {
    if (!range.contains(key)) continue;
    std::optional<std::string_view> text = JsonString(range, key);
    if (!text) return std::nullopt;
    *slot = ParseTimestamp(*text, kNoDefaultOffset);
    if (!*slot) return std::nullopt;
  }
  return r;
}

}  // namespace

void OzonSimulator::CreateReturnsLocked() {
  const auto step = std::max<Duration>(std::chrono::milliseconds(1), options_.lifetime / 10);
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    if (p.steps.back().second != "delivered" || p.order_id % 5 != 2) continue;
    SimReturn r{.id = kFirstReturnId + static_cast<int64_t>(returns_.size()), .posting = i};
    SystemTime at = p.steps.back().first;
    for (const VisualStatus& v : kWalk) {
      at += step;
      r.steps.emplace_back(at, v.sys_name);
    }
    all_final_at_ = std::max(all_final_at_, r.steps.back().first);
    returns_.push_back(std::move(r));
  }
}

std::map<int64_t, std::string> OzonSimulator::ReturnPostings() const {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(postings_mu_);
  std::map<int64_t, std::string> out;
  for (const SimReturn& r : returns_) {
    if (r.steps.front().first <= now) out[r.id] = postings_[r.posting].posting_number;
  }
  return out;
}

net::HttpResponse OzonSimulator::ReturnsList(const json& body, bool dup) {
  const SystemTime now = clock_.Now();
  const std::optional<int64_t> limit = JsonInt(body, "limit");
  if (!limit) return RpcError(400, 3, "limit is required");
  if (*limit < 1 || *limit > kMaxReturnsLimit) {
    return RpcError(400, 3, "limit must be between 1 and 500");
  }
  const int64_t last_id = body.contains("last_id") ? JsonIntLoose(body, "last_id").value_or(-1) : 0;
  if (last_id < 0) return RpcError(400, 3, "last_id must be a return id");
  Range changed;
  if (const json* filter = JsonObject(body, "filter")) {
    // «Используйте только один фильтр в запросе: logistic_return_date,
    // storage_tariffication_start_date или visual_status_change_moment,
    // иначе вернётся ошибка.» Only the last one is served here.
    int time_filters = 0;
    for (const char* key : {"logistic_return_date", "storage_tariffication_start_date",
                            "visual_status_change_moment"}) {
      time_filters += filter->contains(key) ? 1 : 0;
    }
    if (time_filters > 1) {
      return RpcError(400, 3, "use only one time filter in a request");
    }
    if (filter->contains("logistic_return_date") ||
        filter->contains("storage_tariffication_start_date")) {
      return RpcError(400, 3, "the simulator filters by visual_status_change_moment only");
    }
    if (const json* range = JsonObject(*filter, "visual_status_change_moment")) {
      std::optional<Range> read = ReadRange(*range);
      if (!read) return RpcError(400, 3, "time_from and time_to: RFC 3339 date-times");
      changed = *read;
    }
  }
  std::vector<json> page;
  bool has_next = false;
  {
    std::lock_guard lock(postings_mu_);
    for (const SimReturn& r : returns_) {  // by id
      if (r.id <= last_id || r.steps.front().first > now) continue;
      const auto& [at, sys_name] =
          r.steps[simkit::StepAt(r.steps, now, [](const auto& s) { return s.first; })];
      if (!changed.Holds(at)) continue;
      if (static_cast<int64_t>(page.size()) == *limit) {
        has_next = true;
        break;
      }
      const SimPosting& p = postings_[r.posting];
      const VisualStatus& v = Visual(sys_name);
      // Money as the schema types it (a number; the example writes strings).
      json money = {{"currency_code", "RUB"}, {"price", 100 + p.offer_index % 900}};
      page.push_back(
          {{"exemplars", json::array({{{"id", r.id * 1000 + 1}}})},
           {"id", r.id},
           {"company_id", 3058},
           {"return_reason_name", "Покупатель передумал"},
           {"type", "ClientReturn"},
           {"schema", p.fbo ? "Fbo" : "Fbs"},
           {"order_id", p.order_id},
           {"order_number", std::to_string(p.order_id) + "-0001"},
           {"product",
            {{"sku", 200001 + p.offer_index},
             {"offer_id", OfferId(p.offer_index)},
             {"name", "Товар " + OfferId(p.offer_index)},
             {"price", money},
             {"price_without_commission", money},
             {"commission_percent", 0},
             {"commission", {{"currency_code", "RUB"}, {"price", 0}}},
             {"quantity", p.quantity}}},
           {"logistic", {{"return_date", OzonTime(r.steps.front().first)}, {"barcode", ""}}},
           {"visual",
            {{"status", {{"id", v.id}, {"display_name", v.display_name}, {"sys_name", sys_name}}},
             {"change_moment", OzonTime(at)}}},
           {"additional_info", {{"is_opened", false}, {"is_super_econom", false}}},
           {"source_id", 0},
           {"posting_number", p.posting_number},
           {"clearing_id", 0}});
    }
  }
  json returns = json::array();
  for (json& r : page) returns.push_back(r);
  // Duplicated data: the page's first return appears twice.
  if (dup && !page.empty()) returns.push_back(page.front());
  return net::HttpResponse::Json(
      200, json{{"returns", std::move(returns)}, {"has_next", has_next}}.dump());
}

}  // namespace crmhub::adapters::ozon
