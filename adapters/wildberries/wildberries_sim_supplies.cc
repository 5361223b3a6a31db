// The simulator's FBS supplies and the seller's cancel, read from
// 03-orders-fbs.yaml ("Поставки FBS", the cancel method and
// /api/v3/orders/status's table of how an order reaches each
// supplierStatus), never from the adapter.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/wildberries/wildberries_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;
using sim_wire::IncorrectBody;
using sim_wire::IncorrectParameter;
using sim_wire::WbError;

namespace {

// The 409 examples' texts (components/examples).
constexpr const char* kFailedToAdd =
    "Не удалось закрепить сборочное задание за поставкой. Убедитесь, что сборочное задание и "
    "поставка удовлетворяют всем необходимым требованиям.";
constexpr const char* kStatusMismatch = "Несоответствие статусов, проверьте их правильность";
constexpr const char* kStatusChangeNotAllowed =
    "Задание перейдёт в завершенные после сканирования на пунте выдачи заказов (ПВЗ)";
constexpr const char* kZeroOrders =
    "Не удалось обработать поставку. Убедитесь, что за ней закреплён хотя бы одно сборочное "
    "задание.";

}  // namespace

std::string_view SellerWriteRefusal(std::string_view write, std::string_view supplier,
                                    std::string_view wb) {
  // Only an order WB still works on (wbStatus waiting) that the seller has
  // not completed or cancelled: new goes to confirm «при добавлении в
  // поставку»; confirm may move «между активными поставками».
  const bool open = wb == "waiting" && (supplier == "new" || supplier == "confirm");
  if (open) return "";
  if (write == "add") return "FailedToAddSupplyOrder";
  // cancel: the spec's examples; which statuses take a cancel it does not
  // say. The simulator: complete is in WB's hands (StatusChangeNotAllowed),
  // anything else is a mismatch.
  return supplier == "complete" && wb == "waiting" ? "StatusChangeNotAllowed" : "StatusMismatch";
}

WildberriesSimulator::Order* WildberriesSimulator::FbsOrderLocked(int64_t id) {
  const int64_t index = id - 10'000'000;
  if (index < 0 || index >= static_cast<int64_t>(orders_.size())) return nullptr;
  Order& o = orders_[static_cast<size_t>(index)];
  return o.created_ms <= NowMs() ? &o : nullptr;
}

void WildberriesSimulator::MoveLocked(Order& o, const char* supplier, const char* wb) {
  const int64_t now = NowMs();
  const Step& cur = StatusAt(o, now);
  const size_t step = static_cast<size_t>(&cur - o.steps.data());
  o.steps.resize(step + 1);
  o.steps.push_back({std::max(now, o.steps[step].at_ms), supplier, wb});
}

net::HttpResponse WildberriesSimulator::CreateSupply(const json& body) {
  // name: string, 1..128 characters (optional).
  if (const json* name = JsonMember(body, "name")) {
    const std::optional<std::string_view> text = AsString(*name);
    if (!text || text->empty() || text->size() > 128 * 4) return IncorrectBody();
  }
  std::lock_guard lock(mu_);
  const std::string id = fmt::format("WB-GI-{}", next_supply_++);
  supplies_[id] = Supply{};
  return net::HttpResponse::Json(201, json{{"id", id}}.dump());
}

net::HttpResponse WildberriesSimulator::AddSupplyOrders(const std::string& supply_id,
                                                        const json& body) {
  const json* ids = JsonArray(body, "orders");
  if (ids == nullptr || ids->empty() || ids->size() > 100) return IncorrectBody();
  std::vector<int64_t> orders;
  for (const json& v : *ids) {
    const std::optional<int64_t> id = AsInt(v);
    if (!id) return IncorrectBody();
    orders.push_back(*id);
  }
  std::lock_guard lock(mu_);
  auto supply = supplies_.find(supply_id);
  if (supply == supplies_.end()) return WbError(404, "NotFound", "Not found");
  // «После закрытия поставки добавить новые сборочные задания к ней нельзя.»
  if (supply->second.closed) return WbError(409, "FailedToAddSupplyOrder", kFailedToAdd);
  // All or nothing: one order that cannot go refuses the request.
  const int64_t now = NowMs();
  int64_t warehouse = supply->second.warehouse;
  for (int64_t id : orders) {
    Order* o = FbsOrderLocked(id);
    if (o == nullptr) return WbError(409, "FailedToAddSupplyOrder", kFailedToAdd);
    const Step& s = StatusAt(*o, now);
    // «нельзя добавить сборочные задания, поступившие на разные склады»
    if (!SellerWriteRefusal("add", s.supplier, s.wb).empty() ||
        (warehouse != 0 && o->warehouse != warehouse)) {
      return WbError(409, "FailedToAddSupplyOrder", kFailedToAdd);
    }
    warehouse = o->warehouse;
  }
  supply->second.warehouse = warehouse;
  for (int64_t id : orders) {
    Order& o = *FbsOrderLocked(id);
    if (auto from = supply_of_.find(id); from != supply_of_.end() && from->second != supply_id) {
      std::erase(supplies_[from->second].orders, id);  // moved between active supplies
    }
    if (supply_of_[id] != supply_id) supply->second.orders.push_back(id);
    supply_of_[id] = supply_id;
    if (std::string_view(StatusAt(o, now).supplier) == "new") MoveLocked(o, "confirm", "waiting");
  }
  return net::HttpResponse{.status = 204};
}

net::HttpResponse WildberriesSimulator::DeliverSupply(const std::string& supply_id) {
  std::lock_guard lock(mu_);
  auto supply = supplies_.find(supply_id);
  if (supply == supplies_.end()) return WbError(404, "NotFound", "Not found");
  // Closing twice: the spec is silent; the simulator answers 204 again.
  if (supply->second.closed) return net::HttpResponse{.status = 204};
  if (supply->second.orders.empty()) return WbError(409, "SupplyHasZeroOrders", kZeroOrders);
  supply->second.closed = true;
  const int64_t now = NowMs();
  for (int64_t id : supply->second.orders) {
    Order& o = *FbsOrderLocked(id);
    if (std::string_view(StatusAt(o, now).supplier) == "confirm") {
      MoveLocked(o, "complete", "waiting");
    }
  }
  return net::HttpResponse{.status = 204};
}

net::HttpResponse WildberriesSimulator::CancelOrder(const std::string& order_id) {
  const std::optional<int64_t> id = ParseDecimalInt(order_id);
  if (!id || *id <= 0) return IncorrectParameter();
  std::lock_guard lock(mu_);
  Order* o = FbsOrderLocked(*id);
  if (o == nullptr) return WbError(404, "NotFound", "Not found");
  const Step& s = StatusAt(*o, NowMs());
  const std::string_view refusal = SellerWriteRefusal("cancel", s.supplier, s.wb);
  if (refusal == "StatusChangeNotAllowed") return WbError(409, refusal, kStatusChangeNotAllowed);
  if (!refusal.empty()) return WbError(409, refusal, kStatusMismatch);
  MoveLocked(*o, "cancel", "canceled");
  // «прикрепленное сборочное задание автоматически удалится из поставки»
  if (auto in = supply_of_.find(*id); in != supply_of_.end()) {
    std::erase(supplies_[in->second].orders, *id);
    supply_of_.erase(in);
  }
  return net::HttpResponse{.status = 204};
}

}  // namespace crmhub::adapters::wildberries
