#include "adapters/kit/payment_provider.h"

#include <fmt/format.h>

#include <utility>

#include "base/json_get.h"
#include "net/upstream.h"

namespace crmhub::adapters::kit {
namespace {

// Member initializers run in declaration order, which is the keys' docs
// order: these declare the middle ones in their turn.
std::vector<config::Key<config::Type::kSecret>> DeclareSecrets(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec) {
  std::vector<config::Key<config::Type::kSecret>> out;
  for (const SignedNotificationKeys::SecretKey& s : spec.secrets) {
    out.push_back(set.Declare<config::Type::kSecret>(
        {.name = s.name, .description = s.description + " Never logged.", .required = true}));
  }
  return out;
}

std::optional<config::Key<config::Type::kEnum>> DeclareChoice(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec) {
  if (!spec.choice) return std::nullopt;
  return set.Declare<config::Type::kEnum>(
      {.name = spec.choice->name,
       .default_value = "\"" + spec.choice->default_value + "\"",
       .description = spec.choice->description,
       .choices = spec.choice->choices});
}

std::optional<config::Key<config::Type::kUrl>> DeclareBaseUrl(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec) {
  if (spec.default_base_url.empty()) return std::nullopt;
  return set.Declare<config::Type::kUrl>(
      {.name = "base_url",
       .default_value = "\"" + spec.default_base_url + "\"",
       .description = spec.system + "'s API root. Change only for a simulator or a proxy."});
}

std::optional<config::Key<config::Type::kDuration>> DeclareRequestTimeout(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec) {
  if (spec.default_base_url.empty()) return std::nullopt;
  return set.Declare<config::Type::kDuration>(
      {.name = "request_timeout",
       .default_value = "\"10s\"",
       .description = "Whole-exchange timeout of one request to " + spec.system +
                      "'s API; a timed-out call is retried."});
}

std::optional<config::Key<config::Type::kDuration>> DeclareReconcile(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec, std::string name,
    const std::string& default_value, std::string description) {
  if (!spec.reconcile) return std::nullopt;
  return set.Declare<config::Type::kDuration>({.name = std::move(name),
                                               .default_value = "\"" + default_value + "\"",
                                               .description = std::move(description)});
}

std::optional<config::Key<config::Type::kUrl>> DeclareLinkUrl(
    config::KeySet& set, const PaymentProviderKeys::Spec& spec) {
  if (!spec.link_key) return std::nullopt;
  return set.Declare<config::Type::kUrl>(
      {.name = spec.link_key->name, .description = spec.link_key->description});
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

PaymentProviderKeys::PaymentProviderKeys(config::KeySet& set, const Spec& spec)
    : account(set.Declare<config::Type::kString>(
          {.name = spec.account.name, .description = spec.account.description, .required = true})),
      secrets(DeclareSecrets(set, spec)),
      choice(DeclareChoice(set, spec)),
      allow_ips(DeclareAllowIps(set, spec.system, spec.published_senders,
                                "any sender (the signature or the re-fetch still applies)")),
      max_body(DeclareMaxBody(set, spec.default_max_body)),
      base_url(DeclareBaseUrl(set, spec)),
      request_timeout(DeclareRequestTimeout(set, spec)),
      reconcile_after(DeclareReconcile(set, spec, "reconcile_after", "1h",
                                       "A payment the API last called pending (or held) this "
                                       "long is re-read from the API, whether or not a "
                                       "notification came.")),
      reconcile_every(DeclareReconcile(set, spec, "reconcile_every", "5m",
                                       "How often the adapter looks for such payments.")),
      link_url(DeclareLinkUrl(set, spec)) {}

Result<PaymentProviderConfig> ReadPaymentProvider(const config::Section& section,
                                                  const PaymentProviderKeys& keys) {
  PaymentProviderConfig c;
  c.id = section.id();
  c.account = keys.account.Get(section);
  if (c.account.empty()) return keys.account.ErrorAt(section, "must not be empty");
  for (const auto& key : keys.secrets) {
    Secret s = key.Get(section);
    if (s.empty()) return key.ErrorAt(section, "the secret file is empty");
    c.secrets.push_back(std::move(s));
  }
  if (keys.choice) c.choice = keys.choice->Get(section);
  auto allow = net::CidrList::Parse(keys.allow_ips.Get(section));
  if (!allow.ok()) return keys.allow_ips.ErrorAt(section, allow.status().message());
  c.allow_ips = std::move(allow).value();
  c.max_body = keys.max_body.Get(section);
  if (c.max_body == 0) return keys.max_body.ErrorAt(section, "must be more than 0");
  if (keys.base_url) c.base_url = keys.base_url->Get(section);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  for (auto [key, value] : {std::pair{&keys.reconcile_after, &c.reconcile_after},
                            std::pair{&keys.reconcile_every, &c.reconcile_every}}) {
    if (!*key) continue;
    *value = (*key)->Get(section);
    if (value->count() <= 0) return (*key)->ErrorAt(section, "must be more than 0");
  }
  if (keys.link_url) {
    c.link_url = keys.link_url->Find(section).value_or("");
    if (c.link_url.find('?') != std::string::npos || c.link_url.find('#') != std::string::npos) {
      return keys.link_url->ErrorAt(section, "must be the page's address without a query");
    }
  }
  if (keys.request_timeout) {
    c.request_timeout = keys.request_timeout->Get(section);
    if (c.request_timeout.count() <= 0) {
      return keys.request_timeout->ErrorAt(section, "must be more than 0");
    }
  }
  return c;
}

PaymentAdapter::PaymentAdapter(PaymentProviderConfig config, std::string_view type,
                               MetricsRegistry* metrics)
    : config_(std::move(config)),
      type_(type),
      refusals_(std::string(type), config_.id, metrics),
      drift_(std::string(type), config_.id, metrics) {}

Result<WebhookResult> PaymentAdapter::HandleWebhook(const net::HttpRequest& request) {
  Result<WebhookResult> result = Handle(request);
  if (result.ok()) drift_.Accepted();
  return result;
}

Status PaymentAdapter::Refuse(Status status, std::string_view rule,
                              const net::HttpRequest& request) const {
  drift_.Refused(rule);
  return refusals_.Refuse(std::move(status), rule, request);
}

Status PaymentAdapter::Refuse(Status status, std::string_view rule, std::string_view what) const {
  drift_.Refused(rule);
  return refusals_.Refuse(std::move(status), rule, what);
}

Status PaymentAdapter::CheckSender(const net::HttpRequest& request) const {
  if (config_.allow_ips.empty() || config_.allow_ips.Contains(request.remote_address)) {
    return Status::Ok();
  }
  return Refuse(Status::PermissionDenied("sender address not in allow_ips"), "sender", request);
}

net::Transport NoApiTransport(std::string_view type) {
  return [type = std::string(type)](std::string_view, net::OutboundRequest) -> net::OutboundResult {
    return Status::Unavailable(type + ": no HTTP client (check-config)");
  };
}

net::Transport ApiTransport(std::string_view type, const std::string& id,
                            const AdapterContext& context) {
  if (context.http == nullptr || context.clock == nullptr) return NoApiTransport(type);
  return net::MakeUpstreamTransport(std::string(type) + ":" + id, context.http, *context.clock,
                                    context.metrics, {{"api", {}}});
}

DeliveryOutcome CommandOutcome(const net::ApiError& error) {
  if (error.retryable() || error.kind == net::ApiError::Kind::kAuth) return error.ToOutcome();
  return DeliveryOutcome::Fail(fmt::format("{}: {}", error.message, error.body));
}

std::string_view PaymentKindName(PaymentKind kind) {
  return kind == PaymentKind::kRefund ? "refund" : "payment";
}

InboundEvent PaymentRecord(PaymentKind kind, std::string key, std::string payment_id,
                           std::string payload) {
  InboundEvent e;
  e.kind = std::string(PaymentKindName(kind));
  e.idempotency_key = std::move(key);
  e.ordering_key = std::move(payment_id);
  e.payload = std::move(payload);
  return e;
}

std::optional<std::string> PaymentId(const nlohmann::json* value, size_t max) {
  if (value == nullptr) return std::nullopt;
  if (std::optional<std::string_view> s = AsString(*value)) {
    return PaymentId(std::optional<std::string>(std::string(*s)), max);
  }
  if (std::optional<int64_t> n = AsInt(*value)) return std::to_string(*n);
  return std::nullopt;
}

std::optional<std::string> PaymentId(const std::optional<std::string>& text, size_t max) {
  if (!text || text->empty() || text->size() > max || HasControl(*text)) return std::nullopt;
  return text;
}

std::optional<std::string> PaymentId(const WebhookBody& body, std::string_view name, size_t max) {
  if (body.format() == BodyFormat::kJson) return PaymentId(JsonMember(body.document(), name), max);
  return PaymentId(body.Field(name), max);
}

}  // namespace crmhub::adapters::kit
