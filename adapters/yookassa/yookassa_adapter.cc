#include "adapters/yookassa/yookassa_adapter.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/json_get.h"
#include "net/upstream.h"

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

net::Transport NoTransport() {
  return [](std::string_view, net::OutboundRequest) -> net::OutboundResult {
    return Status::Unavailable("yookassa: no HTTP client (check-config)");
  };
}

YooKassaClientOptions ClientOptions(const YooKassaConfig& c) {
  YooKassaClientOptions o;
  if (!c.base_url.empty()) o.base_url = c.base_url;
  o.shop_id = c.account;
  o.secret_key = c.secrets.at(0);
  o.timeout = c.request_timeout;
  return o;
}

}  // namespace

std::vector<std::string> PublishedSenders() {
  return {"185.71.76.0/27",        "185.71.77.0/27",        "77.75.153.0/25",
          "77.75.154.128/25",      "77.75.156.11",          "77.75.156.35",
          "2a02:5180:0:1509::/64", "2a02:5180:0:2655::/64", "2a02:5180:0:1533::/64",
          "2a02:5180:0:2669::/64"};
}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics)
    : YooKassaAdapter(std::move(config), metrics, NoTransport(), system_clock_) {}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, const AdapterContext& context)
    : YooKassaAdapter(
          config, context.metrics,
          context.http == nullptr || context.clock == nullptr
              ? NoTransport()
              : net::MakeUpstreamTransport("yookassa:" + config.id, context.http, *context.clock,
                                           context.metrics, {{"api", {}}}),
          context.clock != nullptr ? static_cast<const Clock&>(*context.clock)
                                   : static_cast<const Clock&>(system_clock_)) {}

YooKassaAdapter::YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics,
                                 net::Transport transport, const Clock& clock)
    : PaymentAdapter(config, "yookassa", metrics),
      client_(ClientOptions(config), std::move(transport), clock) {}

std::string YooKassaAdapter::DescribeJson() const {
  return nlohmann::json{{"shop_id", config().account},
                        {"verification", "sender ranges + re-fetch of the object"},
                        {"sender_allowlist", !config().allow_ips.empty()}}
      .dump();
}

Result<WebhookResult> YooKassaAdapter::HandleWebhook(const net::HttpRequest& request) {
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
    (void)refusals().Refuse(Status::Unauthenticated(fmt::format(
                                "the notification says {}, the API says {}: acting on the API's",
                                notified.claimed, *status)),
                            "refetch", what);
  }
  nlohmann::json record = {{"type", "notification"},
                           {"event", fmt::format("{}.{}", KindName(notified.kind), *status)},
                           {"object", *fetched}};
  ResolveResult resolved{DeliveryOutcome::Ok(), {}};
  resolved.events.push_back(kit::PaymentRecord(
      notified.kind == ObjectKind::kRefund ? kit::PaymentKind::kRefund : kit::PaymentKind::kPayment,
      fmt::format("{}:{}:{}", KindName(notified.kind), notified.id, *status), notified.payment_id,
      record.dump()));
  return resolved;
}

}  // namespace crmhub::adapters::yookassa
