#pragma once
// DriftAlarm: how a provider's quiet change to its signing or its fields
// shows up. Every refused notification counts into the run of its rule
// ("signature", "api_key", "body", "sender", "refetch"); an accepted one
// ends every run. When a run reaches `threshold` refusals in a row, the
// alarm counts crmhub_webhook_drift_alarms_total{adapter,rule} and logs one
// error naming the provider and the rule (once per run; the refusals
// themselves are counted by RefusalLog in crmhub_webhook_refusals_total).
//
// Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "base/metrics.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::kit {

class DriftAlarm {
 public:
  // `metrics` may be null (then only logged); it must outlive the alarm.
  DriftAlarm(std::string system, std::string adapter_id, MetricsRegistry* metrics,
             int threshold = 5);

  // A notification refused under `rule`; true when this refusal raised the
  // alarm.
  bool Refused(std::string_view rule);
  // A notification accepted: every run ends.
  void Accepted();

 private:
  const std::string system_;
  const std::string adapter_id_;
  MetricsRegistry* const metrics_;
  const int threshold_;
  std::mutex mu_;
  std::map<std::string, int, std::less<>> runs_ GUARDED_BY(mu_);
};

}  // namespace crmhub::adapters::kit
