#include "adapters/kit/signed_notification.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

namespace crmhub::adapters::kit {

config::Key<config::Type::kStringList> DeclareAllowIps(config::KeySet& set,
                                                       const std::string& system,
                                                       const std::vector<std::string>& published,
                                                       const std::string& empty_means) {
  return set.Declare<config::Type::kStringList>(
      {.name = "allow_ips",
       .default_value = config::TomlStringList(published),
       .description = "Addresses allowed to post notifications to /hooks/<id>... (" + system +
                      "'s published senders by default; set it when a proxy stands in "
                      "front). Others get 403. Empty: " +
                      empty_means + "."});
}

config::Key<config::Type::kSize> DeclareMaxBody(config::KeySet& set,
                                                const std::string& default_max_body) {
  return set.Declare<config::Type::kSize>(
      {.name = "max_body",
       .default_value = "\"" + default_max_body + "\"",
       .description = "Largest notification accepted; larger requests get 413."});
}

SignedNotificationKeys::SignedNotificationKeys(config::KeySet& set, const Spec& spec)
    : account_key(set.Declare<config::Type::kSecret>(
          {.name = spec.account_key.name,
           .description = spec.account_key.description + " Never logged.",
           .required = true})),
      signing_key(set.Declare<config::Type::kSecret>(
          {.name = spec.signing_key.name,
           .description = spec.signing_key.description + " Never logged.",
           .required = true})),
      allow_ips(DeclareAllowIps(set, spec.system, spec.published_senders,
                                "any sender (the signature still applies)")),
      max_body(DeclareMaxBody(set, spec.default_max_body)) {
  if (spec.calls) missed_calls.emplace(set);
  if (!spec.default_base_url.empty()) {
    base_url.emplace(set.Declare<config::Type::kUrl>(
        {.name = "base_url",
         .default_value = "\"" + spec.default_base_url + "\"",
         .description = spec.system + "'s API root. Change only for a simulator or a proxy."}));
  }
}

Result<SignedNotificationConfig> ReadSignedNotification(const config::Section& section,
                                                        const SignedNotificationKeys& keys) {
  SignedNotificationConfig c;
  c.id = section.id();
  c.account_key = keys.account_key.Get(section);
  if (c.account_key.empty()) return keys.account_key.ErrorAt(section, "the secret file is empty");
  c.signing_key = keys.signing_key.Get(section);
  if (c.signing_key.empty()) return keys.signing_key.ErrorAt(section, "the secret file is empty");
  auto allow = net::CidrList::Parse(keys.allow_ips.Get(section));
  if (!allow.ok()) return keys.allow_ips.ErrorAt(section, allow.status().message());
  c.allow_ips = std::move(allow).value();
  c.max_body = keys.max_body.Get(section);
  if (c.max_body == 0) return keys.max_body.ErrorAt(section, "must be more than 0");
  if (keys.base_url) c.base_url = keys.base_url->Get(section);
  if (keys.missed_calls) {
    Result<MissedCallPolicy> policy = ReadMissedCallPolicy(section, *keys.missed_calls);
    if (!policy.ok()) return policy.status();
    c.missed_calls = *policy;
  }
  return c;
}

AdapterType SignedNotificationType(std::string type, std::string description,
                                   SignedNotificationKeys::Spec spec,
                                   SignedNotificationMaker make) {
  return SpecType<SignedNotificationKeys, SignedNotificationConfig>::Build(
      std::move(type), std::move(description), std::move(spec), &ReadSignedNotification,
      std::move(make));
}

RefusalLog::RefusalLog(std::string system, std::string adapter_id, MetricsRegistry* metrics)
    : system_(std::move(system)), adapter_id_(std::move(adapter_id)), metrics_(metrics) {}

Status RefusalLog::Refuse(Status status, std::string_view rule,
                          const net::HttpRequest& request) const {
  return Refuse(std::move(status), rule,
                fmt::format("a notification to {} from {}", request.path, request.remote_address));
}

Status RefusalLog::Refuse(Status status, std::string_view rule, std::string_view what) const {
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("crmhub_webhook_refusals_total",
                     "Notifications refused by a provider adapter, by the rule they failed",
                     {{"adapter", adapter_id_}, {"rule", std::string(rule)}})
        .Inc();
  }
  spdlog::warn("{} {}: refused {} ({}): {}", system_, adapter_id_, what, rule, status.message());
  return status;
}

Status RefusalLog::CheckSender(const net::CidrList& allow, const net::HttpRequest& request) const {
  if (allow.empty() || allow.Contains(request.remote_address)) return Status::Ok();
  return Refuse(Status::PermissionDenied("sender address not in allow_ips"), "sender", request);
}

SignedNotificationAdapter::SignedNotificationAdapter(SignedNotificationConfig config,
                                                     std::string_view type,
                                                     MetricsRegistry* metrics)
    : config_(std::move(config)), type_(type), refusals_(std::string(type), config_.id, metrics) {}

}  // namespace crmhub::adapters::kit
