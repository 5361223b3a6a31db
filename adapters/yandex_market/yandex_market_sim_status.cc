// The simulator's order status writes: updateOrderStatuses
// (POST /v2/campaigns/{campaignId}/orders/status-update) and Market's
// status machine for the seller, read from the spec (paths/
// v2_campaigns_campaignId_orders_status-update.yaml and the schemas it
// names), never from the adapter.

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "adapters/simkit/json_text.h"
#include "adapters/simkit/world.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

constexpr size_t kStatusesMax = 30;  // UpdateOrderStatusesRequest.orders maxItems

// OrderStatusType's values.
const std::set<std::string, std::less<>> kStatusTypes = {
    "PLACING",   "RESERVED",  "UNPAID",  "PROCESSING",         "DELIVERY", "PICKUP",
    "DELIVERED", "CANCELLED", "PENDING", "PARTIALLY_RETURNED", "RETURNED", "UNKNOWN"};

// An enum value's shape (OrderSubstatusType lists 125; a value outside the
// shape is a 400 as the schema's, one inside it goes to the machine).
bool EnumShaped(std::string_view v) {
  return !v.empty() && v.size() <= 64 &&
         std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
}

}  // namespace

std::string SellerTransitionRefusal(int64_t order_id, const SimOrder::Step& from,
                                    std::string_view to_status, std::string_view to_substatus) {
  const bool started = from.status == "PROCESSING" && from.substatus == "STARTED";
  const bool ready = from.status == "PROCESSING" && from.substatus == "READY_TO_SHIP";
  // A LaaS draft («зарезервирован, но недооформлен (только для LaaS)»):
  // confirmed with PROCESSING/STARTED, cancelled with CANCELLED/SHOP_FAILED.
  const bool draft = from.status == "RESERVED";
  if (to_status == "PROCESSING" && to_substatus == "READY_TO_SHIP" && started) return "";
  if (to_status == "PROCESSING" && to_substatus == "STARTED" && draft) return "";
  if (to_status == "CANCELLED" && to_substatus == "SHOP_FAILED" && (started || ready || draft)) {
    return "";
  }
  if (to_status == "CANCELLED" && to_substatus == "USER_UNREACHABLE" && (started || ready)) {
    return fmt::format(
        "Order {}: cannot be cancelled with USER_UNREACHABLE: the conditions for it (3 calls "
        "from 8 to 21, 90 minutes between the first and the third) are not met",
        order_id);
  }
  return fmt::format("Order {}: status {}/{} cannot be changed to {}/{}", order_id, from.status,
                     from.substatus, to_status, to_substatus.empty() ? "-" : to_substatus);
}

net::HttpResponse YandexMarketSimulator::UpdateOrderStatuses(const simkit::SimRequest& r) {
  // The schema first: the request as a whole is a 400 when it breaks it.
  const json* orders = JsonArray(r.body, "orders");
  if (orders == nullptr || orders->empty() || orders->size() > kStatusesMax) {
    return Error(400, "orders: 1..30 OrderStateDTO are required");
  }
  struct Change {
    int64_t id;
    std::string status, substatus;
  };
  std::vector<Change> changes;
  for (const json& o : *orders) {
    const std::optional<int64_t> id = o.is_object() ? JsonInt(o, "id") : std::nullopt;
    const std::optional<std::string_view> status = id ? JsonString(o, "status") : std::nullopt;
    const json* substatus = id ? JsonMember(o, "substatus") : nullptr;
    if (!id || !status || !kStatusTypes.contains(*status)) {
      return Error(400, "orders[]: id (int64) and status (OrderStatusType) are required");
    }
    const std::optional<std::string_view> sub = substatus ? AsString(*substatus) : std::nullopt;
    if (substatus != nullptr && !(sub && EnumShaped(*sub))) {
      return Error(400, "orders[].substatus must be an OrderSubstatusType");
    }
    changes.push_back({*id, std::string(*status), std::string(sub.value_or(""))});
  }
  // Then each order on its own (UpdateOrderStatusDTO): the status it has
  // after the request, OK or ERROR with errorDetails. A cancel with
  // USER_UNREACHABLE whose conditions are not met is the one refusal the
  // spec gives a code: «Вернется ответ с кодом ошибки 400» — for the
  // request, nothing of it applied.
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  for (const Change& c : changes) {
    if (c.status != "CANCELLED" || c.substatus != "USER_UNREACHABLE") continue;
    auto it = std::lower_bound(orders_.begin(), orders_.end(), c.id,
                               [](const SimOrder& o, int64_t id) { return o.id < id; });
    if (it == orders_.end() || it->id != c.id || it->created > now) continue;
    const size_t step =
        simkit::StepAt(it->steps, now, [](const SimOrder::Step& s) { return s.at; });
    const std::string refusal =
        SellerTransitionRefusal(c.id, it->steps[step], c.status, c.substatus);
    if (refusal.find("cannot be cancelled with USER_UNREACHABLE") != std::string::npos) {
      return Error(400, refusal);
    }
  }
  simkit::JsonText out;
  out.BeginObject().Member("status", "OK").Key("result").BeginObject().Key("orders").BeginArray();
  for (const Change& c : changes) {
    auto it = std::lower_bound(orders_.begin(), orders_.end(), c.id,
                               [](const SimOrder& o, int64_t id) { return o.id < id; });
    out.BeginObject().Member("id", c.id);
    if (it == orders_.end() || it->id != c.id || it->created > now) {
      out.Member("updateStatus", "ERROR")
          .Member("errorDetails", fmt::format("Order {} not found", c.id))
          .EndObject();
      continue;
    }
    SimOrder& o = *it;
    const size_t step = simkit::StepAt(o.steps, now, [](const SimOrder::Step& s) { return s.at; });
    const std::string refusal = SellerTransitionRefusal(o.id, o.steps[step], c.status, c.substatus);
    if (refusal.empty()) {
      // The write ends the order's walk: later steps were Market's
      // schedule for an order the seller had not touched.
      o.steps.resize(step + 1);
      o.steps.push_back({std::max(now, o.steps[step].at), c.status, c.substatus});
    }
    const SimOrder::Step& cur = refusal.empty() ? o.steps.back() : o.steps[step];
    out.Member("status", cur.status).Member("substatus", cur.substatus);
    if (refusal.empty()) {
      out.Member("updateStatus", "OK");
    } else {
      out.Member("updateStatus", "ERROR").Member("errorDetails", refusal);
    }
    out.EndObject();
  }
  out.EndArray().EndObject().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::yandex_market
