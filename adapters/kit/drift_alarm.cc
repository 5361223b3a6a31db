#include "adapters/kit/drift_alarm.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace crmhub::adapters::kit {

DriftAlarm::DriftAlarm(std::string system, std::string adapter_id, MetricsRegistry* metrics,
                       int threshold)
    : system_(std::move(system)),
      adapter_id_(std::move(adapter_id)),
      metrics_(metrics),
      threshold_(threshold) {}

bool DriftAlarm::Refused(std::string_view rule) {
  int run = 0;
  {
    std::lock_guard lock(mu_);
    auto it = runs_.find(rule);
    if (it == runs_.end()) it = runs_.emplace(std::string(rule), 0).first;
    run = ++it->second;
  }
  if (run != threshold_) return false;
  if (metrics_ != nullptr) {
    metrics_
        ->GetCounter("crmhub_webhook_drift_alarms_total",
                     "Runs of notifications refused in a row by one rule of a provider adapter",
                     {{"adapter", adapter_id_}, {"rule", std::string(rule)}})
        .Inc();
  }
  spdlog::error(
      "{} {}: {} notifications in a row refused by rule \"{}\" and none accepted: has {} "
      "changed what it sends? (crmhub_webhook_refusals_total counts each)",
      system_, adapter_id_, run, rule, system_);
  return true;
}

void DriftAlarm::Accepted() {
  std::lock_guard lock(mu_);
  runs_.clear();
}

}  // namespace crmhub::adapters::kit
