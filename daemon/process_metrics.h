#pragma once
// Process metrics read from /proc at each /metrics render, with the standard
// Prometheus names: process_resident_memory_bytes, process_cpu_seconds_total,
// process_open_fds, process_start_time_seconds; and crmhub_build_info.

#include <string>

#include "base/metrics.h"

namespace crmhub::daemon {

// Adds the collector (reads of /proc/self: cheap, non-blocking).
void RegisterProcessMetrics(MetricsRegistry& metrics, const std::string& version);

}  // namespace crmhub::daemon
