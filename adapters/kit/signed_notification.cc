#include "adapters/kit/signed_notification.h"

#include <utility>

#include <spdlog/spdlog.h>

namespace crmhub::adapters::kit {

SenderKeys::SenderKeys(config::KeySet& set, const std::string& system,
                       const std::vector<std::string>& published_senders)
    : allow_ips(set.Declare<config::Type::kStringList>(
          {.name = "allow_ips",
           .default_value = config::TomlStringList(published_senders),
           .description = "Addresses allowed to post notifications to /hooks/<id>/... (" + system +
                          "'s published senders by default; set it when a proxy stands in "
                          "front). Others get 403. Empty: any sender (the signature still "
                          "applies)."})) {}

Result<net::CidrList> ReadSenders(const config::Section& section, const SenderKeys& keys) {
  auto allow = net::CidrList::Parse(keys.allow_ips.Get(section));
  if (!allow.ok()) return keys.allow_ips.ErrorAt(section, allow.status().message());
  return std::move(allow).value();
}

RefusalLog::RefusalLog(std::string system, std::string adapter_id, MetricsRegistry* metrics)
    : system_(std::move(system)), adapter_id_(std::move(adapter_id)), metrics_(metrics) {}

Status RefusalLog::Refuse(Status status, std::string_view rule,
                          const net::HttpRequest& request) const {
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("crmhub_webhook_refusals_total",
                     "Notifications refused by a provider adapter, by the rule they failed",
                     {{"adapter", adapter_id_}, {"rule", std::string(rule)}})
        .Inc();
  }
  spdlog::warn("{} {}: refused a notification to {} from {} ({}): {}", system_, adapter_id_,
               request.path, request.remote_address, rule, status.message());
  return status;
}

Status RefusalLog::CheckSender(const net::CidrList& allow, const net::HttpRequest& request) const {
  if (allow.empty() || allow.Contains(request.remote_address)) return Status::Ok();
  return Refuse(Status::PermissionDenied("sender address not in allow_ips"), "sender", request);
}

}  // namespace crmhub::adapters::kit
