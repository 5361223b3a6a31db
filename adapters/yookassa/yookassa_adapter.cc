#include "adapters/yookassa/yookassa_adapter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/kit/target.h"
#include "base/json_get.h"
#include "net/hmac.h"

namespace crmhub::adapters::yookassa {
namespace {

// YooKassa's ids are UUID-like ("22d6d597-000f-5000-9000-145f6df21d6f"):
// letters, digits, '-' and '_' only, so that an id is safe in a URL path.
std::optional<std::string> ObjectId(const nlohmann::json* value) {
  std::optional<std::string> id = kit::PaymentId(value);
  if (!id) return std::nullopt;
  for (char c : *id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '-' || c == '_';
    if (!ok) return std::nullopt;
  }
  return id;
}

// How far an object's status has come: a notification claiming a status
// the fetched object has not reached (or a different end) is not trusted.
int Rank(std::string_view status) {
  if (status == "pending") return 1;
  if (status == "waiting_for_capture") return 2;
  if (status == "succeeded" || status == "canceled") return 3;
  return 0;
}

bool Trusted(std::string_view claimed, std::string_view fetched) {
  if (claimed == fetched) return true;
  return Rank(fetched) > Rank(claimed);
}

struct Notified {
  ObjectKind kind;
  std::string id;
  std::string claimed;     // the status the event names
  std::string payment_id;  // ordering: a refund's payment, else the id
};

// The object a notification names; nullopt with the reason for anything
// but a payment or refund notification of the documented shape, and for
// other products (`other` set).
Result<std::optional<Notified>> ReadNotification(const nlohmann::json& body) {
  if (!body.is_object() ||
      JsonString(body, "type") != std::optional<std::string_view>("notification")) {
    return Status::InvalidArgument("expected a JSON object with \"type\":\"notification\"");
  }
  const std::optional<std::string_view> event = JsonString(body, "event");
  const nlohmann::json* object = JsonObject(body, "object");
  if (!event || object == nullptr) {
    return Status::InvalidArgument("expected an \"event\" string and an \"object\" object");
  }
  Notified n;
  if (event->starts_with("payment.")) {
    n.kind = ObjectKind::kPayment;
  } else if (event->starts_with("refund.")) {
    n.kind = ObjectKind::kRefund;
  } else {
    return std::optional<Notified>();  // payouts, deals, payment_method.*: not ours
  }
  if (n.kind == ObjectKind::kPayment && event->starts_with("payment_method.")) {
    return std::optional<Notified>();
  }
  std::optional<std::string> id = ObjectId(JsonMember(*object, "id"));
  if (!id) return Status::InvalidArgument("object.id is missing or not a YooKassa id");
  n.id = std::move(*id);
  n.claimed = std::string(event->substr(event->find('.') + 1));
  n.payment_id = n.id;
  if (n.kind == ObjectKind::kRefund) {
    if (std::optional<std::string> p = ObjectId(JsonMember(*object, "payment_id"))) {
      n.payment_id = std::move(*p);
    }
  }
  return std::optional<Notified>(std::move(n));
}

std::string_view KindName(ObjectKind kind) {
  return kind == ObjectKind::kRefund ? "refund" : "payment";
}

YooKassaClientOptions ClientOptions(const YooKassaConfig& c) {
  YooKassaClientOptions o;
  if (!c.base_url.empty()) o.base_url = c.base_url;
  o.shop_id = c.account;
  o.secret_key = c.secrets.at(0);
  o.timeout = c.request_timeout;
  return o;
}

// The body of a create_payment or refund command: from the item alone, in
// a fixed shape, so that a redelivery sends the same bytes; InvalidArgument
// naming what is missing.
Result<std::string> CommandBody(const kit::TargetCommand& c) {
  const std::optional<std::string> amount = JsonScalarText(c.item, "amount");
  const std::string currency = JsonScalarText(c.item, "currency").value_or("RUB");
  if (!amount || amount->empty()) return Status::InvalidArgument("\"amount\" is required");
  nlohmann::json body = {{"amount", {{"value", *amount}, {"currency", currency}}}};
  if (auto d = JsonScalarText(c.item, "description")) body["description"] = *d;
  if (c.name == "refund") {
    std::optional<std::string> payment = ObjectId(JsonMember(c.item, "payment_id"));
    if (!payment) return Status::InvalidArgument("\"payment_id\" is missing or not a YooKassa id");
    body["payment_id"] = *payment;
    return body.dump();
  }
  const std::optional<std::string> return_url = JsonScalarText(c.item, "return_url");
  if (!return_url || return_url->empty()) {
    return Status::InvalidArgument("\"return_url\" is required (the redirect confirmation)");
  }
  body["capture"] = JsonBool(c.item, "capture").value_or(true);
  body["confirmation"] = {{"type", "redirect"}, {"return_url", *return_url}};
  if (auto order = JsonScalarText(c.item, "order_id")) body["metadata"] = {{"order_id", *order}};
  return body.dump();
}

}  // namespace

std::string IdempotenceKey(std::string_view command_key) {
  if (command_key.size() <= 64) return std::string(command_key);
  return net::Sha256Hex(command_key);
}

std::vector<DeliveryOutcome> YooKassaAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  for (const kit::TargetCommand& c :
       kit::ReadCommands(batch, {"create_payment", "refund"}, "yookassa", out)) {
    Result<std::string> body = CommandBody(c);
    if (!body.ok()) {
      out[c.index] = DeliveryOutcome::Fail("yookassa: " + c.name + ": " + body.status().message());
      continue;
    }
    const ObjectKind kind = c.name == "refund" ? ObjectKind::kRefund : ObjectKind::kPayment;
    net::ApiResult<net::ApiAnswer> answer =
        client_.Create(kind, IdempotenceKey(batch[c.index].key), std::move(*body));
    if (!answer.ok()) {
      out[c.index] = kit::CommandOutcome(answer.error());
      continue;
    }
    if (answer->status == 202) {  // processing: the same key and body again, later
      const int64_t ms = JsonIntLoose(answer->json, "retry_after").value_or(1800);
      out[c.index] = DeliveryOutcome::Retry(
          "yookassa: " + c.name + " is processing",
          clock_.Now() + std::chrono::milliseconds(std::clamp<int64_t>(ms, 1, 3600000)));
      continue;
    }
    const std::optional<std::string_view> id = JsonString(answer->json, "id");
    const std::optional<std::string_view> status = JsonString(answer->json, "status");
    std::vector<InboundEvent> learned;
    if (id && ObjectId(JsonMember(answer->json, "id")) && status && !status->empty()) {
      const std::string object_id(*id);
      const std::string payment_id =
          ObjectId(JsonMember(answer->json, "payment_id")).value_or(object_id);
      Track(kind, object_id, payment_id, *status);
      learned.push_back(Record(kind, object_id, payment_id, answer->json, *status));
    }
    const nlohmann::json* confirmation = JsonObject(answer->json, "confirmation");
    spdlog::info("yookassa {}: {} {} is {}{}", this->id(), c.name, id.value_or("?"),
                 JsonString(answer->json, "status").value_or("?"),
                 confirmation
                     ? ", confirmation_url " +
                           std::string(JsonString(*confirmation, "confirmation_url").value_or(""))
                     : std::string());
    out[c.index] = DeliveryOutcome::Ok(std::move(learned));
  }
  return out;
}

InboundEvent YooKassaAdapter::Record(ObjectKind kind, const std::string& id,
                                     const std::string& payment_id, const nlohmann::json& fetched,
                                     std::string_view status) const {
  nlohmann::json record = {{"type", "notification"},
                           {"event", fmt::format("{}.{}", KindName(kind), status)},
                           {"object", fetched}};
  return kit::PaymentRecord(
      kind == ObjectKind::kRefund ? kit::PaymentKind::kRefund : kit::PaymentKind::kPayment,
      fmt::format("{}:{}:{}", KindName(kind), id, status), payment_id, record.dump());
}

void YooKassaAdapter::Track(ObjectKind kind, const std::string& id, const std::string& payment_id,
                            std::string_view status) {
  sweep_.Track(id, std::string(KindName(kind)), payment_id,
               status == "succeeded" || status == "canceled");
}

Result<PullResult> YooKassaAdapter::Pull(const std::optional<std::string>& cursor) {
  constexpr size_t kMaxReadsPerPull = 50;
  sweep_.Restore(cursor);
  PullResult result;
  for (const kit::PendingSweep::Entry& e : sweep_.Due(kMaxReadsPerPull)) {
    const ObjectKind kind = e.kind == "refund" ? ObjectKind::kRefund : ObjectKind::kPayment;
    net::ApiResult<nlohmann::json> fetched = client_.Get(kind, e.id);
    if (!fetched.ok()) {
      if (fetched.error().kind == net::ApiError::Kind::kNotFound) {
        sweep_.Forget(e.id);
        continue;
      }
      break;  // the API is down or throttling: the rest next time
    }
    const std::optional<std::string_view> status = JsonString(*fetched, "status");
    if (!status || status->empty()) continue;
    if (*status == "succeeded" || *status == "canceled") {
      result.events.push_back(Record(kind, e.id, e.ordering_key, *fetched, *status));
    }
    Track(kind, e.id, e.ordering_key, *status);
  }
  result.next_cursor = sweep_.Cursor();
  return result;
}

std::vector<std::string> PublishedSenders() {
  return {"185.71.76.0/27",        "185.71.77.0/27",        "77.75.153.0/25",
          "77.75.154.128/25",      "77.75.156.11",          "77.75.156.35",
          "2a02:5180:0:1509::/64", "2a02:5180:0:2655::/64", "2a02:5180:0:1533::/64",
          "2a02:5180:0:2669::/64"};
}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics)
    : YooKassaAdapter(std::move(config), metrics, kit::NoApiTransport("yookassa"), nullptr) {}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, const AdapterContext& context)
    : YooKassaAdapter(config, context.metrics, kit::ApiTransport("yookassa", config.id, context),
                      context.clock) {}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics,
                                 net::Transport transport, const Clock& clock)
    : YooKassaAdapter(std::move(config), metrics, std::move(transport), &clock) {}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics,
                                 net::Transport transport, const Clock* clock)
    : PaymentAdapter(config, "yookassa", metrics),
      clock_(clock != nullptr ? *clock : static_cast<const Clock&>(system_clock_)),
      client_(ClientOptions(config), std::move(transport), clock_),
      sweep_(config.reconcile_after, config.reconcile_every, clock_) {}

std::string YooKassaAdapter::DescribeJson() const {
  return nlohmann::json{{"shop_id", config().account},
                        {"verification", "sender ranges + re-fetch of the object"},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

Result<WebhookResult> YooKassaAdapter::Handle(const net::HttpRequest& request) {
  if (Status sender = CheckSender(request); !sender.ok()) return sender;
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok()) return Malformed("the body is not JSON", request);
  Result<std::optional<Notified>> n = ReadNotification(*body);
  if (!n.ok()) return Malformed(n.status().message(), request);
  WebhookResult result;
  result.accepted = net::HttpResponse::Text(200, "");
  if (!n->has_value()) return result;
  InboundEvent hint;
  hint.kind = fmt::format("{}_hint", KindName((*n)->kind));
  hint.resolve = true;
  hint.idempotency_key =
      fmt::format("hint:{}:{}.{}", (*n)->id, KindName((*n)->kind), (*n)->claimed);
  hint.ordering_key = (*n)->payment_id;
  hint.payload = request.body;
  result.events.push_back(std::move(hint));
  return result;
}

ResolveResult YooKassaAdapter::Resolve(const Hint& hint) {
  Result<nlohmann::json> body = ParseJson(hint.payload);
  Result<std::optional<Notified>> n =
      body.ok() ? ReadNotification(*body) : Result<std::optional<Notified>>(body.status());
  if (!n.ok() || !n->has_value()) {
    return {DeliveryOutcome::Fail("yookassa: not a payment or refund notification"), {}};
  }
  const Notified& notified = **n;
  net::ApiResult<nlohmann::json> fetched = client_.Get(notified.kind, notified.id);
  if (!fetched.ok()) return {fetched.error().ToOutcome(), {}};
  const std::optional<std::string_view> status = JsonString(*fetched, "status");
  if (ObjectId(JsonMember(*fetched, "id")) != notified.id || !status || status->empty()) {
    return {DeliveryOutcome::Fail(
                fmt::format("yookassa: GET {}s/{} answered an object without its id or status",
                            KindName(notified.kind), notified.id)),
            {}};
  }
  const std::string what = fmt::format("{} {}", KindName(notified.kind), notified.id);
  if (!Trusted(notified.claimed, *status)) {
    (void)Refuse(Status::Unauthenticated(
                     fmt::format("the notification says {}, the API says {}: acting on the API's",
                                 notified.claimed, *status)),
                 "refetch", what);
  }
  Track(notified.kind, notified.id, notified.payment_id, *status);
  ResolveResult resolved{DeliveryOutcome::Ok(), {}};
  resolved.events.push_back(
      Record(notified.kind, notified.id, notified.payment_id, *fetched, *status));
  return resolved;
}

Result<InboundEvent> YooKassaAdapter::LookUpPayment(const std::string& id) {
  nlohmann::json given = id;
  if (!ObjectId(&given)) return Status::NotFound("not a YooKassa payment id: " + id);
  net::ApiResult<nlohmann::json> fetched = client_.Get(ObjectKind::kPayment, id);
  if (!fetched.ok()) return fetched.error().ToStatus();
  const std::optional<std::string_view> status = JsonString(*fetched, "status");
  if (ObjectId(JsonMember(*fetched, "id")) != id || !status || status->empty()) {
    return Status::Unavailable(
        fmt::format("yookassa: GET payments/{} answered an object without its id or status", id));
  }
  return Record(ObjectKind::kPayment, id, id, *fetched, *status);
}

}  // namespace crmhub::adapters::yookassa
