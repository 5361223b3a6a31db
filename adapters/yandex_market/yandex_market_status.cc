// The seller's order status writes: ship, cancel, set_status (see
// YandexMarketAdapter::DeliverStatuses and docs/adapters/yandex-market.md,
// "Order status commands").

#include <fmt/format.h>

#include <optional>
#include <set>
#include <string_view>

#include "adapters/kit/command_fields.h"
#include "adapters/kit/order_commands.h"
#include "adapters/yandex_market/yandex_market_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

// OrderStatusType and OrderSubstatusType (components/schemas), as enums.
constexpr std::string_view kStatuses =
    " PLACING RESERVED UNPAID PROCESSING DELIVERY PICKUP DELIVERED CANCELLED PENDING"
    " PARTIALLY_RETURNED RETURNED UNKNOWN ";
constexpr std::string_view kSubstatuses =
    " RESERVATION_EXPIRED USER_NOT_PAID USER_UNREACHABLE USER_CHANGED_MIND"
    " USER_REFUSED_DELIVERY USER_REFUSED_PRODUCT SHOP_FAILED USER_REFUSED_QUALITY"
    " REPLACING_ORDER PROCESSING_EXPIRED PENDING_EXPIRED SHOP_PENDING_CANCELLED"
    " PENDING_CANCELLED USER_FRAUD RESERVATION_FAILED USER_PLACED_OTHER_ORDER"
    " USER_BOUGHT_CHEAPER MISSING_ITEM BROKEN_ITEM WRONG_ITEM PICKUP_EXPIRED"
    " DELIVERY_PROBLEMS LATE_CONTACT CUSTOM DELIVERY_SERVICE_FAILED WAREHOUSE_FAILED_TO_SHIP"
    " DELIVERY_SERVICE_UNDELIVERED PREORDER AWAIT_CONFIRMATION STARTED PACKAGING"
    " READY_TO_SHIP SHIPPED ASYNC_PROCESSING WAITING_USER_INPUT WAITING_BANK_DECISION"
    " BANK_REJECT_CREDIT_OFFER CUSTOMER_REJECT_CREDIT_OFFER CREDIT_OFFER_FAILED"
    " AWAIT_DELIVERY_DATES_CONFIRMATION SERVICE_FAULT DELIVERY_SERVICE_RECEIVED USER_RECEIVED"
    " WAITING_FOR_STOCKS AS_PART_OF_MULTI_ORDER READY_FOR_LAST_MILE LAST_MILE_STARTED"
    " ANTIFRAUD DELIVERY_USER_NOT_RECEIVED DELIVERY_SERVICE_DELIVERED"
    " DELIVERED_USER_NOT_RECEIVED USER_WANTED_ANOTHER_PAYMENT_METHOD"
    " USER_RECEIVED_TECHNICAL_ERROR USER_FORGOT_TO_USE_BONUS DELIVERY_SERVICE_NOT_RECEIVED"
    " DELIVERY_SERVICE_LOST SHIPPED_TO_WRONG_DELIVERY_SERVICE DELIVERED_USER_RECEIVED"
    " WAITING_TINKOFF_DECISION COURIER_SEARCH COURIER_FOUND COURIER_IN_TRANSIT_TO_SENDER"
    " COURIER_ARRIVED_TO_SENDER COURIER_RECEIVED COURIER_NOT_FOUND COURIER_NOT_DELIVER_ORDER"
    " COURIER_RETURNS_ORDER COURIER_RETURNED_ORDER WAITING_USER_DELIVERY_INPUT"
    " PICKUP_SERVICE_RECEIVED PICKUP_USER_RECEIVED CANCELLED_COURIER_NOT_FOUND"
    " COURIER_NOT_COME_FOR_ORDER DELIVERY_NOT_MANAGED_REGION INCOMPLETE_CONTACT_INFORMATION"
    " INCOMPLETE_MULTI_ORDER INAPPROPRIATE_WEIGHT_SIZE TECHNICAL_ERROR SORTING_CENTER_LOST"
    " COURIER_SEARCH_NOT_STARTED LOST AWAIT_PAYMENT AWAIT_LAVKA_RESERVATION"
    " USER_WANTS_TO_CHANGE_ADDRESS FULL_NOT_RANSOM PRESCRIPTION_MISMATCH DROPOFF_LOST"
    " DROPOFF_CLOSED DELIVERY_TO_STORE_STARTED USER_WANTS_TO_CHANGE_DELIVERY_DATE"
    " WRONG_ITEM_DELIVERED DAMAGED_BOX AWAIT_DELIVERY_DATES LAST_MILE_COURIER_SEARCH"
    " PICKUP_POINT_CLOSED LEGAL_INFO_CHANGED USER_HAS_NO_TIME_TO_PICKUP_ORDER"
    " DELIVERY_CUSTOMS_ARRIVED DELIVERY_CUSTOMS_CLEARED FIRST_MILE_DELIVERY_SERVICE_RECEIVED"
    " AWAIT_AUTO_DELIVERY_DATES AWAIT_USER_PERSONAL_DATA NO_PERSONAL_DATA_EXPIRED"
    " CUSTOMS_PROBLEMS AWAIT_CASHIER WAITING_POSTPAID_BUDGET_RESERVATION"
    " AWAIT_SERVICEABLE_CONFIRMATION POSTPAID_BUDGET_RESERVATION_FAILED"
    " AWAIT_CUSTOM_PRICE_CONFIRMATION READY_FOR_PICKUP TOO_MANY_DELIVERY_DATE_CHANGES"
    " TOO_LONG_DELIVERY DEFERRED_PAYMENT POSTPAID_FAILED INCORRECT_PERSONAL_DATA"
    " CUSTOMS_FAILED_MARKET CUSTOMS_FAILED_USER_COMMERCIAL_ITEMS"
    " CUSTOMS_FAILED_USER_DUTY_NOT_PAID CUSTOMS_FAILED_USER_INVALID_PERSONAL_DATA"
    " CUSTOMS_FAILED_USER_ADDITIONAL_DATA_NOT_PROVIDED AWAIT_PAYMENT_AFTER_DELIVERY"
    " AWAIT_USER_STEAM_FAST_URL USER_IDENTIFICATION_MISMATCH"
    " PURCHASE_GROUP_THRESHOLD_NOT_REACHED_CANCELLED UNKNOWN ";
// The reasons OrderSubstatusType's description lists "for an order in
// status CANCELLED". Which of them Market lets a seller send is Market's to
// say (the method's description names SHOP_FAILED; USER_UNREACHABLE has
// conditions): the others are sent and Market's refusal is the answer.
constexpr std::string_view kCancelReasons =
    " RESERVATION_EXPIRED USER_NOT_PAID USER_UNREACHABLE USER_CHANGED_MIND"
    " USER_REFUSED_DELIVERY USER_REFUSED_PRODUCT SHOP_FAILED USER_REFUSED_QUALITY"
    " USER_IDENTIFICATION_MISMATCH PURCHASE_GROUP_THRESHOLD_NOT_REACHED_CANCELLED"
    " REPLACING_ORDER PROCESSING_EXPIRED PICKUP_EXPIRED TOO_MANY_DELIVERY_DATE_CHANGES"
    " TOO_LONG_DELIVERY INCORRECT_PERSONAL_DATA ";

// The status/substatus pairs the spec documents a seller sending (the
// descriptions of updateOrderStatuses and updateOrderStatus, and
// OrderSubstatusType's for USER_UNREACHABLE), with where it says so.
struct SellerPair {
  std::string_view status, substatus, note;
};
constexpr SellerPair kSellerPairs[] = {
    {"PROCESSING", "READY_TO_SHIP", "from PROCESSING/STARTED: confirmed and prepared"},
    {"CANCELLED", "SHOP_FAILED",
     "from PROCESSING/STARTED or PROCESSING/READY_TO_SHIP: the shop cannot fulfil it; a LaaS "
     "order's cancel"},
    {"CANCELLED", "USER_UNREACHABLE",
     "the buyer could not be reached: 3 calls from 8 to 21, 90 minutes between the first and "
     "the third, else Market answers 400"},
    {"PROCESSING", "STARTED", "LaaS: confirms a draft"},
};

// Whether `value` is one of the space-separated words of `list` (which
// begins and ends with a space).
bool In(std::string_view list, std::string_view value) {
  if (value.empty() || value.find(' ') != std::string_view::npos) return false;
  for (size_t at = list.find(value); at != std::string_view::npos; at = list.find(value, at + 1)) {
    if (at > 0 && list[at - 1] == ' ' && at + value.size() < list.size() &&
        list[at + value.size()] == ' ') {
      return true;
    }
  }
  return false;
}

// A status command as sent: where it goes, and what "there" means.
struct StatusCommand {
  size_t index = 0;
  std::string name;  // ship, cancel, set_status
  int64_t order_id = 0;
  int attempt = 1;
  OrderStatusChange change;

  // Whether an order at `now` ("STATUS/SUBSTATUS") is where this command
  // wants it: shipped is READY_TO_SHIP or any later step of delivery,
  // cancelled is CANCELLED for whatever reason, set_status is the very
  // status (and substatus, when one is named).
  bool Reached(std::string_view now) const {
    const size_t slash = now.find('/');
    const std::string_view status = now.substr(0, slash);
    const std::string_view substatus =
        slash == std::string_view::npos ? std::string_view() : now.substr(slash + 1);
    if (name == kit::kShip) {
      return (status == "PROCESSING" && substatus == "READY_TO_SHIP") ||
             In(" DELIVERY PICKUP DELIVERED PARTIALLY_RETURNED RETURNED ", status);
    }
    if (name == kit::kCancel) return status == "CANCELLED";
    return status == change.status && (change.substatus.empty() || substatus == change.substatus);
  }
};

// The command's target, or why its item is not one.
Result<StatusCommand> ReadStatusCommand(const kit::TargetCommand& c) {
  Result<std::string> key = kit::OrderKey(c.item);
  if (!key.ok()) return key.status();
  const std::optional<int64_t> id = ParseDecimalInt(*key);
  if (!id) return Status::InvalidArgument("order_id must be Market's order id, an integer > 0");
  StatusCommand s{.index = c.index, .name = c.name, .order_id = *id, .attempt = c.attempt};
  s.change.order_id = *id;
  auto text = [&c](std::string_view member) {
    const std::optional<std::string_view> v = JsonString(c.item, member);
    return v ? std::optional(std::string(*v)) : std::nullopt;
  };
  if (c.name == kit::kShip) {
    s.change.status = "PROCESSING";
    s.change.substatus = "READY_TO_SHIP";
  } else if (c.name == kit::kCancel) {
    const json* reason = JsonMember(c.item, "reason");
    s.change.status = "CANCELLED";
    s.change.substatus =
        reason == nullptr || reason->is_null() ? "SHOP_FAILED" : text("reason").value_or("");
    if (!In(kCancelReasons, s.change.substatus)) {
      return Status::InvalidArgument(
          "reason must be a cancel reason of OrderSubstatusType (SHOP_FAILED, ...), got " +
          kit::QuoteMember(c.item, "reason"));
    }
  } else {
    s.change.status = text("status").value_or("");
    const json* substatus = JsonMember(c.item, "substatus");
    s.change.substatus =
        substatus == nullptr || substatus->is_null() ? "" : text("substatus").value_or("?");
    if (!In(kStatuses, s.change.status)) {
      return Status::InvalidArgument("status must be an OrderStatusType (PROCESSING, ...), got " +
                                     kit::QuoteMember(c.item, "status"));
    }
    if (!s.change.substatus.empty() && !In(kSubstatuses, s.change.substatus)) {
      return Status::InvalidArgument(
          "substatus must be an OrderSubstatusType (READY_TO_SHIP, ...), got " +
          kit::QuoteMember(c.item, "substatus"));
    }
    if (Status pair = CheckSellerStatusPair(s.change.status, s.change.substatus); !pair.ok()) {
      return pair;
    }
  }
  return s;
}

}  // namespace

Status CheckSellerStatusPair(std::string_view status, std::string_view substatus) {
  for (const SellerPair& p : kSellerPairs) {
    if (p.status == status && p.substatus == substatus) return Status::Ok();
  }
  std::string allowed;
  for (const SellerPair& p : kSellerPairs) {
    allowed +=
        fmt::format("{}{}/{} ({})", allowed.empty() ? "" : "; ", p.status, p.substatus, p.note);
  }
  return Status::InvalidArgument(fmt::format(
      "set_status {}/{} is not a write the spec documents for a seller; it documents: {} (the "
      "DBS status model, concepts/dbs-order-status-model.md, is linked but not part of it)",
      status, substatus.empty() ? "-" : substatus, allowed));
}

YandexMarketAdapter::OrderStatuses YandexMarketAdapter::ReadStatuses(
    const std::vector<int64_t>& order_ids) const {
  OrderStatuses out;
  std::optional<net::ApiError> stop;
  for (size_t from = 0; from < order_ids.size(); from += kMaxOrdersPerPage) {
    const std::vector<int64_t> ids(
        order_ids.begin() + from,
        order_ids.begin() + std::min(order_ids.size(), from + kMaxOrdersPerPage));
    net::ApiResult<OrdersPage> page =
        stop ? net::ApiResult<OrdersPage>(*stop) : client_.GetBusinessOrders({.order_ids = ids});
    if (!page.ok()) {
      // Throttled or failing in passing: the later reads would meet the
      // same (and spend the budget the pull shares).
      if (page.error().retryable()) stop = page.error();
      for (int64_t id : ids) out.unread.emplace(id, page.error());
      continue;
    }
    for (const OrderRecord& o : page->orders) {
      if (auto id = ParseDecimalInt(o.order_id)) out.read[*id] = o.status + "/" + o.substatus;
    }
  }
  return out;
}

void YandexMarketAdapter::DeliverStatuses(const std::vector<kit::TargetCommand>& commands,
                                          std::vector<DeliveryOutcome>& out) const {
  std::vector<StatusCommand> valid;
  std::set<int64_t> ids;  // of commands tried before: their orders are read first
  for (const kit::TargetCommand& c : commands) {
    Result<StatusCommand> s = ReadStatusCommand(c);
    if (!s.ok()) {
      out[c.index] =
          DeliveryOutcome::Fail("yandex-market: " + c.name + ": " + s.status().message());
      continue;
    }
    if (s->attempt > 1) ids.insert(s->order_id);
    valid.push_back(std::move(*s));
  }
  if (valid.empty()) return;
  // Read first: what is already there is not sent again.
  // A command tried before may have reached Market (a lost answer, a crash
  // mid-delivery): its order is read first, and one already there is not
  // written again. A first attempt cannot have: it is sent at once (an
  // order that got there by other means is refused, read again, and Ok).
  // An order whose status could not be read is not written (it could be
  // twice): its command gets the read's outcome.
  const OrderStatuses before = ReadStatuses({ids.begin(), ids.end()});
  std::vector<const StatusCommand*> pending;
  std::vector<std::string> keys;
  for (const StatusCommand& c : valid) {
    auto it = before.read.find(c.order_id);
    if (c.attempt <= 1) {
      pending.push_back(&c);
      keys.push_back(std::to_string(c.order_id));
    } else if (auto unread = before.unread.find(c.order_id); unread != before.unread.end()) {
      out[c.index] = unread->second.ToOutcome();
    } else if (auto settled = it == before.read.end()
                                  ? std::nullopt
                                  : refused_writes_.ReadFirst("yandex-market", c.name,
                                                              std::to_string(c.order_id),
                                                              it->second, c.Reached(it->second))) {
      out[c.index] = std::move(*settled);  // there already, or refused before: not sent again
    } else {
      pending.push_back(&c);
      keys.push_back(std::to_string(c.order_id));
    }
  }
  // What these sends answer supersedes any refusal kept from before.
  for (const StatusCommand* c : pending) {
    refused_writes_.Forget(c->name, std::to_string(c->order_id));
  }
  // Orders Market refused to move, with its words.
  std::map<const StatusCommand*, std::string> refused;
  std::optional<net::ApiError> stop;  // a failure in passing: the rest share it
  auto send = [&](const std::vector<const StatusCommand*>& request) {
    std::vector<OrderStatusChange> changes;
    for (const StatusCommand* c : request) changes.push_back(c->change);
    auto answer = client_.UpdateOrderStatuses(changes);
    if (!answer.ok()) return std::optional(answer.error());
    for (const StatusCommand* c : request) {
      auto it = std::find_if(answer->begin(), answer->end(),
                             [c](const OrderStatusAnswer& a) { return a.order_id == c->order_id; });
      if (it == answer->end()) {
        out[c->index] = DeliveryOutcome::Retry(fmt::format(
            "yandex-market: updateOrderStatuses did not answer for order {}", c->order_id));
      } else if (it->updated) {
        out[c->index] = DeliveryOutcome::Ok();
      } else {
        refused[c] = it->error.empty() ? "updateStatus ERROR" : it->error;
      }
    }
    return std::optional<net::ApiError>();
  };
  for (const std::vector<size_t>& chunk : kit::ChunkDistinct(keys, kMaxStatusesPerRequest)) {
    std::vector<const StatusCommand*> request;
    for (size_t i : chunk) request.push_back(pending[i]);
    std::optional<net::ApiError> error = stop ? stop : send(request);
    if (!error) continue;
    const bool rejected = error->kind == net::ApiError::Kind::kRejected ||
                          error->kind == net::ApiError::Kind::kNotFound;
    if (!stop && rejected && request.size() > 1) {
      // Refused as a whole: each order alone, so each refusal is its own.
      for (const StatusCommand* c : request) {
        if (std::optional<net::ApiError> alone = stop ? stop : send({c})) {
          if (alone->kind == net::ApiError::Kind::kRejected ||
              alone->kind == net::ApiError::Kind::kNotFound) {
            refused[c] = alone->message;
          } else {
            if (alone->retryable()) stop = alone;
            out[c->index] = alone->ToOutcome();
          }
        }
      }
    } else if (!stop && rejected) {
      refused[request[0]] = error->message;
    } else {
      if (error->retryable()) stop = error;
      for (const StatusCommand* c : request) out[c->index] = error->ToOutcome();
    }
  }
  if (refused.empty()) return;
  // Refused: read again. Got there meanwhile (another write, Market's own
  // move): Ok; else a dead letter with the status it is in.
  std::set<int64_t> again;
  for (const auto& [c, why] : refused) again.insert(c->order_id);
  const OrderStatuses after = ReadStatuses({again.begin(), again.end()});
  for (const auto& [c, why] : refused) {
    const std::string id = std::to_string(c->order_id);
    if (auto unread = after.unread.find(c->order_id); unread != after.unread.end()) {
      out[c->index] = refused_writes_.Unread("yandex-market", c->name, id, why, unread->second);
    } else if (auto it = after.read.find(c->order_id); it == after.read.end()) {
      out[c->index] = kit::RefusedTransition("yandex-market", c->name, id, why, "",
                                             "getBusinessOrders does not return it");
    } else if (c->Reached(it->second)) {
      out[c->index] = DeliveryOutcome::Ok();
    } else {
      out[c->index] = kit::RefusedTransition("yandex-market", c->name, id, why, it->second);
    }
  }
}

}  // namespace crmhub::adapters::yandex_market
