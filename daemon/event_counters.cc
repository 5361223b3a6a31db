#include "daemon/event_counters.h"

namespace crmhub::daemon {

EventCounters EventCountersFor(MetricsRegistry& metrics, const std::string& adapter_id) {
  return {
      &metrics.GetCounter("crmhub_events_received_total",
                          "Events queued from webhooks (answered 2xx), pulls and the records "
                          "commands learned, new and duplicate",
                          {{"adapter", adapter_id}}),
      &metrics.GetCounter("crmhub_events_duplicate_total",
                          "Events whose idempotency key was already accepted (nothing enqueued)",
                          {{"adapter", adapter_id}})};
}

}  // namespace crmhub::daemon
