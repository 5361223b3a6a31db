// The simulator's DBS status writes, read from 05-orders-dbs.yaml (the
// PATCH /api/v3/dbs/orders/{orderId}/confirm|deliver|receive|reject|cancel
// methods and POST /api/v3/dbs/orders/status's table of how an assembly
// task reaches each supplierStatus), never from the adapter.
//
// The spec names the status each method moves an order to, the table's
// order (new, confirm «На сборке», deliver «В доставке», receive «Получено
// покупателем» / reject «Отказ покупателя при получении», cancel «Отменено
// продавцом») and one 409 for all of them, StatusMismatch («Несоответствие
// статусов»), plus InvalidWBCode («Код недействителен») for receive and
// reject. It does not say from which status each method may be called: the
// simulator takes the table's order as the machine (DbsWriteRefusal below)
// and says so in docs/adapters/wildberries.md.

#include <fmt/format.h>

#include "adapters/wildberries/wildberries_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;
using sim_wire::IncorrectBody;
using sim_wire::IncorrectParameter;
using sim_wire::WbError;

namespace {

constexpr const char* kStatusMismatch = "Несоответствие статусов, проверьте их правильность";

// supplierStatus and wbStatus after each write (wbStatus: «sold — заказ
// получен покупателем», «canceled_by_client — покупатель отменил заказ при
// получении», «canceled — отмена сборочного задания»).
std::pair<const char*, const char*> After(std::string_view write) {
  if (write == "confirm") return {"confirm", "waiting"};
  if (write == "deliver") return {"deliver", "waiting"};
  if (write == "receive") return {"receive", "sold"};
  if (write == "reject") return {"reject", "canceled_by_client"};
  return {"cancel", "canceled"};
}

}  // namespace

std::string_view DbsWriteRefusal(std::string_view write, std::string_view supplier,
                                 std::string_view wb) {
  // Only an order WB still works on (wbStatus waiting); a buyer's decline
  // in the first hour or a missed call ends it.
  if (wb != "waiting") return "StatusMismatch";
  if (write == "confirm") return supplier == "new" ? "" : "StatusMismatch";
  if (write == "deliver") return supplier == "confirm" ? "" : "StatusMismatch";
  if (write == "receive" || write == "reject") {
    return supplier == "deliver" ? "" : "StatusMismatch";
  }
  // cancel: before the order is handed to delivery (the FBS rule: new and
  // confirm); the spec does not say.
  if (write == "cancel") return supplier == "new" || supplier == "confirm" ? "" : "StatusMismatch";
  return "IncorrectParameter";
}

std::string WildberriesSimulator::BuyerCode(int64_t order_id) {
  return fmt::format("{:06d}", (order_id * 7919 + 1234) % 1'000'000);
}

WildberriesSimulator::Order* WildberriesSimulator::DbsOrderLocked(int64_t id) {
  const int64_t index = id - 20'000'000;
  if (index < 0 || index >= static_cast<int64_t>(dbs_orders_.size())) return nullptr;
  Order& o = dbs_orders_[static_cast<size_t>(index)];
  return o.created_ms <= NowMs() ? &o : nullptr;
}

net::HttpResponse WildberriesSimulator::DbsWrite(const std::string& order_id,
                                                 std::string_view write, const json& body) {
  const std::optional<int64_t> id = ParseDecimalInt(order_id);
  if (!id || *id <= 0) return IncorrectParameter();
  // receive and reject: the Code body, {"code": "<the buyer's code>"}.
  std::optional<std::string_view> code;
  if (write == "receive" || write == "reject") {
    const json* c = JsonMember(body, "code");
    code = c != nullptr ? AsString(*c) : std::nullopt;
    if (!code) return IncorrectBody();
  }
  std::lock_guard lock(mu_);
  Order* o = DbsOrderLocked(*id);
  if (o == nullptr) return WbError(404, "NotFound", "");
  const Step& s = StatusAt(*o, NowMs());
  const std::string_view refusal = DbsWriteRefusal(write, s.supplier, s.wb);
  if (!refusal.empty()) return WbError(409, refusal, kStatusMismatch);
  if (code && *code != BuyerCode(*id)) return WbError(409, "InvalidWBCode", "");
  const auto [supplier, wb] = After(write);
  MoveLocked(*o, supplier, wb);
  return net::HttpResponse{.status = 204};
}

}  // namespace crmhub::adapters::wildberries
