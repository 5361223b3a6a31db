#pragma once
// The frame of an adapter whose system signs its notifications (Mango
// Office, Zadarma): what such a system is configured with, how refusals are
// counted and logged, and the Adapter/WebhookCapability plumbing, so that a
// provider's adapter says only what is its own (its signature rule, its
// paths, its keys).
//
//   SignedNotificationKeys   declares, in this order, the account's key file,
//                            the signing secret's file (names and meanings
//                            are the provider's), `allow_ips` (the
//                            provider's published senders by default; a
//                            proxy in front or a test overrides it; []
//                            allows any sender, the signature still
//                            applies), `max_body`, and for a PBX the
//                            missed-call task keys (kit/missed_call.h), and
//                            for one the adapter also calls, `base_url`.
//   ReadSignedNotification   reads them; an error names the key.
//   SignedNotificationType   the AdapterType of an adapter configured by
//                            those keys alone (schema and factory).
//   RefusalLog               one line at warn and crmhub_webhook_refusals_
//                            total{adapter,rule} per refused notification,
//                            naming the rule ("sender", "signature",
//                            "api_key", "body") and the sender's address,
//                            never a secret or a presented signature (a run
//                            of one rule is how a provider's quiet change to
//                            its signing shows up). The intake's
//                            crmhub_events_rejected_total counts the same
//                            refusals by HTTP class; this says which rule.
//   SignedNotificationAdapter  id, type, webhook(), max_body_bytes and the
//                            sender check; HandleWebhook is the provider's.
//
// Immutable after construction; thread-safe (counters are atomic).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/missed_call.h"
#include "adapters/kit/spec_type.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "base/status.h"
#include "config/config.h"
#include "net/cidr.h"
#include "net/http_types.h"

namespace crmhub::adapters::kit {

struct SignedNotificationConfig {
  std::string id;
  Secret account_key;  // names the account (Mango vpbx_api_key, Zadarma API key)
  Secret signing_key;  // signs the notifications (Mango vpbx_api_salt, Zadarma API secret)
  net::CidrList allow_ips;
  uint64_t max_body = 64 * 1024;
  MissedCallPolicy missed_calls;  // telephony (Spec::calls) only
  std::string base_url;           // the system's API root (Spec::default_base_url)
};

// The `allow_ips` key (the provider's published senders by default;
// `empty_means` says what [] allows) and the `max_body` key, as every
// provider's notification keys declare them into `set`.
config::Key<config::Type::kStringList> DeclareAllowIps(config::KeySet& set,
                                                       const std::string& system,
                                                       const std::vector<std::string>& published,
                                                       const std::string& empty_means);
config::Key<config::Type::kSize> DeclareMaxBody(config::KeySet& set,
                                                const std::string& default_max_body);

struct SignedNotificationKeys {
  struct SecretKey {
    std::string name;         // "api_key_file"
    std::string description;  // what it holds, where the cabinet shows it
  };
  struct Spec {
    std::string system;  // "Mango Office": names the sender in descriptions
    SecretKey account_key;
    SecretKey signing_key;
    std::vector<std::string> published_senders;
    std::string default_max_body;  // "64KiB"
    bool calls = false;            // a PBX: the missed-call task keys too
    // The API root, for an adapter that also calls the system; "": no
    // base_url key.
    std::string default_base_url;
  };
  SignedNotificationKeys(config::KeySet& set, const Spec& spec);

  config::Key<config::Type::kSecret> account_key;
  config::Key<config::Type::kSecret> signing_key;
  config::Key<config::Type::kStringList> allow_ips;
  config::Key<config::Type::kSize> max_body;
  std::optional<MissedCallKeys> missed_calls;               // set for Spec::calls
  std::optional<config::Key<config::Type::kUrl>> base_url;  // set for Spec::default_base_url
};

// Both secrets non-empty, the allow-list parsed, max_body > 0; an error
// names the key (`file:line: message`).
Result<SignedNotificationConfig> ReadSignedNotification(const config::Section& section,
                                                        const SignedNotificationKeys& keys);

// Builds the adapter from its read config and the factory's context.
using SignedNotificationMaker = SpecType<SignedNotificationKeys, SignedNotificationConfig>::Make;

// The schema (`type`, `description`, the keys of `spec`) and a factory that
// reads them with ReadSignedNotification and calls `make`.
AdapterType SignedNotificationType(std::string type, std::string description,
                                   SignedNotificationKeys::Spec spec, SignedNotificationMaker make);
// The same for an adapter A constructed as A(SignedNotificationConfig,
// const AdapterContext&).
template <typename A>
AdapterType SignedNotificationType(std::string type, std::string description,
                                   SignedNotificationKeys::Spec spec) {
  return SignedNotificationType(
      std::move(type), std::move(description), std::move(spec),
      SpecType<SignedNotificationKeys, SignedNotificationConfig>::MakerOf<A>());
}

class RefusalLog {
 public:
  // `metrics` may be null (check-config, unit tests): then only logged.
  RefusalLog(std::string system, std::string adapter_id, MetricsRegistry* metrics);

  // Counts and logs the refusal of `request` under `rule`; returns `status`
  // (so a handler writes `return refusals().Refuse(...)`). `status`'s
  // message must hold no secret: it is logged and may be answered.
  Status Refuse(Status status, std::string_view rule, const net::HttpRequest& request) const;
  // The same for what is refused after the request was answered (a
  // re-fetch on a worker disagreeing with a notification); `what` names it
  // ("payment 2a1b..."), never a secret.
  Status Refuse(Status status, std::string_view rule, std::string_view what) const;

  // PermissionDenied (-> 403) when `allow` is not empty and does not contain
  // the sender's address, counted under rule "sender"; else OK.
  Status CheckSender(const net::CidrList& allow, const net::HttpRequest& request) const;

 private:
  std::string system_;
  std::string adapter_id_;
  MetricsRegistry* metrics_;
};

class SignedNotificationAdapter : public Adapter, public WebhookCapability {
 public:
  // REQUIRES: `type` outlives the adapter (a literal: "mango"); `metrics`
  // null or outliving it.
  SignedNotificationAdapter(SignedNotificationConfig config, std::string_view type,
                            MetricsRegistry* metrics);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return type_; }
  WebhookCapability* webhook() override { return this; }
  uint64_t max_body_bytes() const override { return config_.max_body; }

 protected:
  const SignedNotificationConfig& config() const { return config_; }
  const RefusalLog& refusals() const { return refusals_; }
  // The sender check against allow_ips (see RefusalLog::CheckSender).
  Status CheckSender(const net::HttpRequest& request) const {
    return refusals_.CheckSender(config_.allow_ips, request);
  }

 private:
  const SignedNotificationConfig config_;
  const std::string_view type_;
  const RefusalLog refusals_;
};

}  // namespace crmhub::adapters::kit
