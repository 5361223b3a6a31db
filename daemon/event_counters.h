#pragma once
// The two counters every way an event enters the queue keeps per adapter:
// a webhook's intake (answered 2xx), a pull, and the records a command
// learned (a marketplace's fresh order status). One registration, so that
// the name and help text `/metrics` shows cannot drift between them.
//
//   crmhub_events_received_total{adapter}   events queued, new and duplicate
//   crmhub_events_duplicate_total{adapter}  the repeats idempotency absorbed

#include <string>

#include "base/metrics.h"

namespace crmhub::daemon {

struct EventCounters {
  Counter* received;
  Counter* duplicate;
};

// Registers (or finds) `adapter_id`'s counters; they live as long as
// `metrics`.
EventCounters EventCountersFor(MetricsRegistry& metrics, const std::string& adapter_id);

}  // namespace crmhub::daemon
