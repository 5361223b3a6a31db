#pragma once
// The frame of a payment provider's adapter (YooKassa, CloudPayments,
// T-Bank, Robokassa): what such a provider is configured with, and the
// Adapter/WebhookCapability plumbing around its notifications, on the
// signed-notification frame's refusal log (kit/signed_notification.h), so
// that a provider's adapter says only what is its own: its signature rule
// (or, for one that signs nothing, its re-fetch), its answer, its keys.
//
//   PaymentProviderKeys  declares, in this order: the account (a plain
//                        string: shop_id, public_id, terminal_key,
//                        merchant_login), the secret files (names are the
//                        provider's), an optional choice key (Robokassa's
//                        hash_algorithm), `allow_ips` (the provider's
//                        published senders by default; [] allows any sender,
//                        the signature still applies), `max_body`, and, for
//                        a provider the adapter calls, `base_url` and
//                        `request_timeout`, then, for a provider whose
//                        payment links the adapter signs, the link key
//                        (Robokassa's payment_url: no default).
//   PaymentProviderType  the AdapterType of an adapter configured by those
//                        keys alone (schema and factory).
//   PaymentAdapter       id, type, webhook(), max_body_bytes, the sender
//                        check, the refusal log and the drift alarm
//                        (kit/drift_alarm.h: a run of refusals of one rule
//                        is an error line and a metric); Handle (and
//                        Resolve) are the provider's.
//   PaymentRecord        one payment-side event as queued: kind "payment"
//                        or "refund", the key the provider's README names,
//                        ordered by the payment's id so that one payment's
//                        statuses are applied in arrival order (and the
//                        store's status precedence, mapping/model/
//                        status_precedence.h, makes any order end right).
//   PaymentId            an id read from outside data: a string or an
//                        integer as text, 1..max bytes; nullopt otherwise.
//
// Immutable after construction; thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/drift_alarm.h"
#include "adapters/kit/signed_notification.h"
#include "adapters/kit/spec_type.h"
#include "adapters/kit/webhook_fields.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "base/status.h"
#include "config/config.h"
#include "net/api_client.h"
#include "net/cidr.h"
#include "net/http_types.h"

namespace crmhub::adapters::kit {

struct PaymentProviderConfig {
  std::string id;
  std::string account;          // shop_id, public_id, terminal_key, merchant_login
  std::vector<Secret> secrets;  // in Spec::secrets' order
  std::string choice;           // Spec::choice's value; "" without one
  net::CidrList allow_ips;
  uint64_t max_body = 64 * 1024;
  std::string base_url;  // the API root (Spec::default_base_url), no trailing '/'
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};
  // Spec::reconcile: how long a payment may stay pending before the
  // adapter re-reads it from the API, and how often it looks.
  std::chrono::milliseconds reconcile_after{std::chrono::hours(1)};
  std::chrono::milliseconds reconcile_every{std::chrono::minutes(5)};
  // Spec::link_key: the page the adapter's signed payment links point at,
  // no trailing '?'; "" when not configured (no links are made).
  std::string link_url;
};

struct PaymentProviderKeys {
  struct PlainKey {
    std::string name;         // "shop_id"
    std::string description;  // what it holds, where the cabinet shows it
  };
  struct ChoiceKey {
    std::string name;  // "hash_algorithm"
    std::vector<std::string> choices;
    std::string default_value;
    std::string description;
  };
  struct Spec {
    std::string system;  // "YooKassa": names the sender in descriptions
    PlainKey account;
    std::vector<SignedNotificationKeys::SecretKey> secrets;  // at least one
    std::optional<ChoiceKey> choice;
    std::vector<std::string> published_senders;
    std::string default_max_body = "64KiB";
    std::string default_base_url;  // "": no base_url key (nor request_timeout)
    // The adapter re-reads payments pending too long: reconcile_after and
    // reconcile_every keys.
    bool reconcile = false;
    // The adapter signs payment links to its provider's payment page: a URL
    // key of this name, optional and without a default (a provider whose
    // documents give no page URL gets none invented).
    std::optional<PlainKey> link_key;
  };
  PaymentProviderKeys(config::KeySet& set, const Spec& spec);

  config::Key<config::Type::kString> account;
  std::vector<config::Key<config::Type::kSecret>> secrets;
  std::optional<config::Key<config::Type::kEnum>> choice;
  config::Key<config::Type::kStringList> allow_ips;
  config::Key<config::Type::kSize> max_body;
  std::optional<config::Key<config::Type::kUrl>> base_url;
  std::optional<config::Key<config::Type::kDuration>> request_timeout;  // with base_url
  std::optional<config::Key<config::Type::kDuration>> reconcile_after;  // Spec::reconcile
  std::optional<config::Key<config::Type::kDuration>> reconcile_every;
  std::optional<config::Key<config::Type::kUrl>> link_url;  // Spec::link_key
};

// The account and every secret non-empty, the allow-list parsed,
// max_body > 0; an error names the key (`file:line: message`).
Result<PaymentProviderConfig> ReadPaymentProvider(const config::Section& section,
                                                  const PaymentProviderKeys& keys);

// The schema (`type`, `description`, the keys of `spec`) and a factory that
// reads them with ReadPaymentProvider and builds an adapter A constructed
// as A(PaymentProviderConfig, const AdapterContext&).
template <typename A>
AdapterType PaymentProviderType(std::string type, std::string description,
                                PaymentProviderKeys::Spec spec) {
  using T = SpecType<PaymentProviderKeys, PaymentProviderConfig>;
  return T::Build(std::move(type), std::move(description), std::move(spec), &ReadPaymentProvider,
                  T::MakerOf<A>());
}

class PaymentAdapter : public Adapter, public WebhookCapability {
 public:
  // REQUIRES: `type` outlives the adapter (a literal: "yookassa");
  // `metrics` null or outliving it.
  PaymentAdapter(PaymentProviderConfig config, std::string_view type, MetricsRegistry* metrics);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return type_; }
  WebhookCapability* webhook() override { return this; }
  uint64_t max_body_bytes() const override { return config_.max_body; }
  // Handle, with every refusal and acceptance told to the drift alarm.
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) final;

 protected:
  // The provider's check and parse (HandleWebhook's contract); refusals go
  // through Refuse (or CheckSender, Malformed) so that they are counted.
  virtual Result<WebhookResult> Handle(const net::HttpRequest& request) = 0;
  const PaymentProviderConfig& config() const { return config_; }
  // Counts and logs the refusal (RefusalLog) and tells the drift alarm.
  Status Refuse(Status status, std::string_view rule, const net::HttpRequest& request) const;
  // The same for what a worker refuses after the answer (a re-fetch).
  Status Refuse(Status status, std::string_view rule, std::string_view what) const;
  // The sender check against allow_ips (403, rule "sender").
  Status CheckSender(const net::HttpRequest& request) const;
  // Refuses `request` as malformed (400, rule "body") with `reason`.
  Status Malformed(std::string reason, const net::HttpRequest& request) const {
    return Refuse(Status::InvalidArgument(std::move(reason)), "body", request);
  }

 private:
  const PaymentProviderConfig config_;
  const std::string_view type_;
  const RefusalLog refusals_;
  mutable DriftAlarm drift_;
};

// How a payment adapter that calls its provider's API gets its transport:
// the context's upstream transport (named "<type>:<id>", one group "api"),
// or, without an HTTP client or a clock (check-config, tests of the
// notifications), NoApiTransport: every call fails as transient.
net::Transport ApiTransport(std::string_view type, const std::string& id,
                            const AdapterContext& context);
net::Transport NoApiTransport(std::string_view type);

// A command's outcome for an API error: retried when a later try may
// succeed (throttled, transient; auth too: the credentials are the config's
// fault, not the command's), else a dead letter carrying the provider's
// answer.
DeliveryOutcome CommandOutcome(const net::ApiError& error);

enum class PaymentKind { kPayment, kRefund };
std::string_view PaymentKindName(PaymentKind kind);  // "payment", "refund"

// One event of a payment or refund: kind, `key` (idempotency), ordered by
// `payment_id` (a refund's payment), `payload` as the mapping rules read it.
InboundEvent PaymentRecord(PaymentKind kind, std::string key, std::string payment_id,
                           std::string payload);

// Ids are at most this long unless a provider says otherwise (YooKassa's
// are 36-character UUIDs, T-Bank's 20 digits, CloudPayments' int64).
inline constexpr size_t kMaxPaymentIdBytes = 64;

// `value` as an id: a non-empty string of at most `max` bytes without
// control characters, or an integer (as decimal text); nullopt for null,
// booleans, fractions, arrays, objects and anything else.
std::optional<std::string> PaymentId(const nlohmann::json* value, size_t max = kMaxPaymentIdBytes);
// The same for text already read (a form field).
std::optional<std::string> PaymentId(const std::optional<std::string>& text,
                                     size_t max = kMaxPaymentIdBytes);
// Member `name` of a form (text) or a JSON body (a string or an integer).
std::optional<std::string> PaymentId(const WebhookBody& body, std::string_view name,
                                     size_t max = kMaxPaymentIdBytes);

}  // namespace crmhub::adapters::kit
