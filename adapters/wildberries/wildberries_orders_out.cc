// The seller's FBS order commands: ship (a supply: create it, add the
// orders, deliver it) and cancel (PATCH /api/v3/orders/{orderId}/cancel);
// see WildberriesAdapter::DeliverOrders and docs/adapters/wildberries.md,
// "Order commands".

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "adapters/kit/command_fields.h"
#include "adapters/kit/order_commands.h"
#include "adapters/kit/order_writes.h"
#include "adapters/wildberries/wildberries_adapter.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {

namespace {

std::string StatusText(const OrderStatus& s) { return s.supplier_status + "/" + s.wb_status; }

// Whether an order at `status` ("supplierStatus/wbStatus") is where
// `command` wants it: shipped is supplierStatus complete (the supply was
// delivered), cancelled is supplierStatus cancel.
bool Reached(std::string_view command, std::string_view status) {
  const std::string_view supplier = status.substr(0, status.find('/'));
  return command == kit::kShip ? supplier == "complete" : supplier == "cancel";
}

// A failure in passing that stops the call: the account's limit would meet
// the rest too. A transient one (a 5xx, a timeout) fails its own request
// only: the next chunk is tried.
bool Throttled(const ApiError& e) { return e.kind == ApiError::Kind::kThrottled; }

bool Refusal(const ApiError& e) {
  return e.kind == ApiError::Kind::kRejected || e.kind == ApiError::Kind::kNotFound;
}

}  // namespace

Result<int64_t> AssemblyTaskId(const nlohmann::json& item) {
  Result<std::string> key = kit::OrderKey(item);
  if (!key.ok()) return key.status();
  const std::optional<int64_t> id = ParseDecimalInt(*key);
  if (!id) {
    return Status::InvalidArgument("order_id must be the assembly task's id (an integer), got " +
                                   kit::QuoteMember(item, "order_id"));
  }
  return *id;
}

Result<WildberriesAdapter::OrderCommand> WildberriesAdapter::ReadOrderCommand(
    const kit::TargetCommand& c) {
  Result<int64_t> id = AssemblyTaskId(c.item);
  if (!id.ok()) return id.status();
  OrderCommand o{.write = {.index = c.index,
                           .command = c.name,
                           .order_id = std::to_string(*id),
                           .attempt = c.attempt},
                 .id = *id};
  if (c.name == kit::kShip) {
    // «В поставку нельзя добавить сборочные задания, поступившие на разные
    // склады»: the supply is per warehouse, and WB's status read does not
    // name it.
    const std::optional<int64_t> warehouse = CommandInt(c.item, {"warehouse_id", "warehouseId"});
    if (!warehouse || *warehouse <= 0) {
      return Status::InvalidArgument(
          "ship needs warehouse_id (the order's warehouseId): a supply holds one warehouse's "
          "orders");
    }
    o.warehouse = *warehouse;
  }
  return o;
}

WildberriesAdapter::StatusRead WildberriesAdapter::ReadOrderStatuses(std::vector<int64_t> ids,
                                                                     Scheme scheme) {
  StatusRead read;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (size_t from = 0; from < ids.size(); from += kMaxOrdersPerRequest) {
    const std::span<const int64_t> chunk(ids.data() + from,
                                         std::min<size_t>(kMaxOrdersPerRequest, ids.size() - from));
    ApiResult<std::vector<OrderStatus>> statuses = client_.Statuses(scheme, chunk);
    for (int64_t id : chunk) {
      if (!statuses.ok()) read.unread.emplace(id, statuses.error());
    }
    if (!statuses.ok()) continue;
    for (const OrderStatus& s : *statuses) read.status[s.id] = StatusText(s);
    for (int64_t id : chunk) {
      if (!read.status.contains(id)) {
        read.unread.emplace(
            id, ApiError{.kind = ApiError::Kind::kNotFound,
                         .message =
                             fmt::format("wildberries: {}/orders/status does not "
                                         "return order {}",
                                         scheme == Scheme::kFbs ? "/api/v3" : "/api/v3/dbs", id)});
      }
    }
  }
  return read;
}

ApiResult<std::string> WildberriesAdapter::ReadOnce(StatusRead& before, int64_t id, Scheme scheme) {
  if (auto it = before.status.find(id); it != before.status.end()) {
    std::string status = it->second;
    before.status.erase(it);  // once: a re-read after a refusal asks again
    return status;
  }
  if (auto it = before.unread.find(id); it != before.unread.end()) return it->second;
  StatusRead now = ReadOrderStatuses({id}, scheme);
  if (auto it = now.unread.find(id); it != now.unread.end()) return it->second;
  return now.status.at(id);
}

void WildberriesAdapter::DeliverOrders(std::vector<OrderCommand> commands,
                                       std::vector<DeliveryOutcome>& out) {
  // Commands tried before are read first, all at once.
  std::vector<int64_t> tried;
  for (const OrderCommand& c : commands) {
    if (c.write.attempt > 1) tried.push_back(c.id);
  }
  StatusRead before = ReadOrderStatuses(tried);
  std::optional<ApiError> stop;  // throttled: the rest share it

  // Cancels: one order a request.
  std::vector<kit::OrderWrite> cancels;
  std::map<size_t, int64_t> id_of;
  for (const OrderCommand& c : commands) {
    id_of[c.write.index] = c.id;
    if (c.write.command == kit::kCancel) cancels.push_back(c.write);
  }
  kit::OrderWriteCalls calls;
  calls.read = [&](const kit::OrderWrite& w) -> ApiResult<std::string> {
    return ReadOnce(before, id_of.at(w.index), Scheme::kFbs);
  };
  calls.reached = [](const kit::OrderWrite& w, std::string_view status) {
    return Reached(w.command, status);
  };
  calls.send = [&](const kit::OrderWrite& w) -> std::optional<ApiError> {
    ApiResult<bool> r = client_.CancelOrder(id_of.at(w.index));
    return r.ok() ? std::nullopt : std::optional(r.error());
  };
  kit::DeliverOrderWrites("wildberries", cancels, calls, refused_writes_, out);

  // Ships: a supply per warehouse.
  std::map<int64_t, std::vector<const OrderCommand*>> by_warehouse;
  for (const OrderCommand& c : commands) {
    if (c.write.command != kit::kShip) continue;
    if (c.write.attempt > 1) {
      if (auto it = before.unread.find(c.id); it != before.unread.end()) {
        out[c.write.index] = it->second.ToOutcome();  // not written: it could be twice
        continue;
      }
      if (auto it = before.status.find(c.id); it != before.status.end()) {
        if (auto settled =
                refused_writes_.ReadFirst("wildberries", c.write.command, c.write.order_id,
                                          it->second, Reached(kit::kShip, it->second))) {
          out[c.write.index] = std::move(*settled);
          continue;
        }
      }
    }
    refused_writes_.Forget(c.write.command, c.write.order_id);  // this send's answer rules
    by_warehouse[c.warehouse].push_back(&c);
  }
  std::map<const OrderCommand*, std::string> refused;  // with WB's words
  for (const auto& [warehouse, ships] : by_warehouse) {
    if (!stop) {
      stop = ShipInSupply(warehouse, ships, refused, out);
      continue;
    }
    for (const OrderCommand* c : ships) out[c->write.index] = stop->ToOutcome();
  }
  if (refused.empty()) return;
  // Refused: read again. Got there meanwhile: Ok; else a dead letter with
  // the status it is in.
  std::vector<int64_t> again;
  for (const auto& [c, why] : refused) again.push_back(c->id);
  const StatusRead after = ReadOrderStatuses(again);
  for (const auto& [c, why] : refused) {
    if (auto it = after.status.find(c->id); it != after.status.end()) {
      out[c->write.index] = Reached(kit::kShip, it->second)
                                ? DeliveryOutcome::Ok()
                                : kit::RefusedTransition("wildberries", kit::kShip,
                                                         c->write.order_id, why, it->second);
    } else {
      out[c->write.index] = refused_writes_.Unread("wildberries", kit::kShip, c->write.order_id,
                                                   why, after.unread.at(c->id));
    }
  }
}

std::optional<ApiError> WildberriesAdapter::ShipInSupply(
    int64_t warehouse, const std::vector<const OrderCommand*>& ships,
    std::map<const OrderCommand*, std::string>& refused, std::vector<DeliveryOutcome>& out) {
  // Every outcome is settled below; Ok stands for "not settled" meanwhile.
  for (const OrderCommand* c : ships) out[c->write.index] = DeliveryOutcome::Ok();
  if (std::optional<SystemTime> later = client_.PeekSupplyStart()) {
    // No token for the first add after the create: wait rather than leave an
    // empty supply behind (WB keeps it active; a retry would make another).
    ApiError wait;
    wait.kind = ApiError::Kind::kThrottled;
    wait.message = fmt::format(
        "wildberries: a supply for warehouse {}: the orders limit has no room for the supply "
        "and its first add until {}",
        warehouse, FormatTimestamp(*later, TimestampStyle::kRfc3339Seconds, kUtcOffsetMinutes));
    wait.not_before = later;
    for (const OrderCommand* c : ships) out[c->write.index] = wait.ToOutcome();
    return wait;
  }
  ApiResult<std::string> supply = client_.CreateSupply(
      fmt::format("crmhub {} {} warehouse {}", config_.id,
                  FormatTimestamp(clock_.Now(), TimestampStyle::kRfc3339Seconds, kUtcOffsetMinutes),
                  warehouse));
  if (!supply.ok()) {
    for (const OrderCommand* c : ships) out[c->write.index] = supply.error().ToOutcome();
    return Throttled(supply.error()) ? std::optional(supply.error()) : std::nullopt;
  }
  std::vector<const OrderCommand*> added;
  std::optional<ApiError> stop;
  auto add = [&](std::span<const OrderCommand* const> chunk) {
    std::vector<int64_t> ids;
    for (const OrderCommand* c : chunk) ids.push_back(c->id);
    return client_.AddSupplyOrders(*supply, ids);
  };
  for (size_t from = 0; from < ships.size(); from += kMaxOrdersPerSupplyAdd) {
    const std::span<const OrderCommand* const> chunk(
        ships.data() + from, std::min(kMaxOrdersPerSupplyAdd, ships.size() - from));
    ApiResult<bool> r = stop ? ApiResult<bool>(*stop) : add(chunk);
    if (r.ok()) {
      added.insert(added.end(), chunk.begin(), chunk.end());
      continue;
    }
    if (!stop && Refusal(r.error()) && chunk.size() > 1) {
      // Refused as a whole (FailedToAddSupplyOrder names no order): each
      // alone, so each refusal is its own.
      for (const OrderCommand* c : chunk) {
        ApiResult<bool> alone = stop ? ApiResult<bool>(*stop) : add({&c, 1});
        if (alone.ok()) {
          added.push_back(c);
        } else if (!stop && Refusal(alone.error())) {
          refused[c] = alone.error().message;
        } else {
          if (Throttled(alone.error())) stop = alone.error();
          out[c->write.index] = alone.error().ToOutcome();
        }
      }
    } else if (!stop && Refusal(r.error())) {
      refused[chunk[0]] = r.error().message;
    } else {
      if (Throttled(r.error())) stop = r.error();
      for (const OrderCommand* c : chunk) out[c->write.index] = r.error().ToOutcome();
    }
  }
  if (added.empty()) return stop;
  // Close the supply: its orders go complete. Not closed (a failure in
  // passing): the commands retry, read first, and go in a new supply
  // (adding moves an order «между активными поставками»).
  ApiResult<bool> delivered = client_.DeliverSupply(*supply);
  for (const OrderCommand* c : added) {
    if (delivered.ok()) continue;  // Ok already
    if (Refusal(delivered.error())) {
      refused[c] = delivered.error().message;
    } else {
      out[c->write.index] = delivered.error().ToOutcome();
    }
  }
  if (!delivered.ok() && Throttled(delivered.error())) stop = delivered.error();
  return stop;
}

}  // namespace crmhub::adapters::wildberries
