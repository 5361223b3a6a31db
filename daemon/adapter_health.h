#pragma once
// AdapterHealth: what each adapter's capabilities last did, for the admin
// API (GET /api/v1/adapters), `crmhub top` and /metrics. One record per
// capability, because a source whose pulls fail while its webhooks arrive
// is two facts, not one:
//   pull     the source loop's pulls (and the enqueue and cursor save after)
//   deliver  its records reaching where they go: the inbound lane's mapping
//            and CRM sink, the resolve step, or the target's Deliver
//   push     webhook requests to /hooks/<id> (accepted, or refused)
// The book lives as long as the daemon: a reload (SIGHUP) rebuilds the
// adapters and their workers, not their history.
//
// Metrics (AdapterHealthBook::Collect), every series present from the
// adapter's first Register (at start or at the reload that adds it), at 0:
//   crmhub_adapter_last_success_timestamp_seconds{adapter,capability}  0 = never
//   crmhub_adapter_last_error_timestamp_seconds{adapter,capability}    0 = never
//   crmhub_adapter_errors_total{adapter,capability}
// The breakers themselves are crmhub_circuit_open{upstream} (net/upstream.h),
// upstreams named "<type>:<adapter id>[:<group>]"; CircuitStateFrom reads an
// adapter's state from them for the admin API.
//
// Thread-safety: every method may be called from any thread.

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/thread_annotations.h"

namespace crmhub::daemon {

enum class Capability { kPull = 0, kDeliver = 1, kPush = 2 };
inline constexpr std::array<Capability, 3> kAllCapabilities = {
    Capability::kPull, Capability::kDeliver, Capability::kPush};
std::string_view CapabilityName(Capability c);  // "pull", "deliver", "push"

struct CapabilityStatus {
  std::optional<SystemTime> last_success;
  std::optional<std::string> last_error;
  std::optional<SystemTime> last_error_at;
  int64_t errors = 0;
};

class AdapterHealth {
 public:
  explicit AdapterHealth(Clock& clock) : clock_(clock) {}
  void Success(Capability c);
  void Error(Capability c, std::string error);
  CapabilityStatus Get(Capability c) const;
  // Which capabilities the adapter has now (set at each Register).
  void SetCapabilities(std::vector<Capability> caps);
  std::vector<Capability> capabilities() const;

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::array<CapabilityStatus, 3> status_ GUARDED_BY(mu_);
  std::vector<Capability> caps_ GUARDED_BY(mu_);
};

class AdapterHealthBook {
 public:
  // `clock` and `metrics` must outlive the book.
  AdapterHealthBook(Clock& clock, MetricsRegistry& metrics) : clock_(clock), metrics_(metrics) {}

  // The record of `id` (created at the first call, kept after), with the
  // capabilities the adapter has now; its metric series appear at 0.
  std::shared_ptr<AdapterHealth> Register(const std::string& id, std::vector<Capability> caps);
  // The record of `id`, or null if it was never registered.
  std::shared_ptr<AdapterHealth> Find(const std::string& id) const;

  // "open" when a breaker of one of adapter `id`'s upstreams is open,
  // "closed" when it has upstreams and none is, "" when it has none, read
  // from `prometheus_text` (MetricsRegistry::RenderPrometheus; not from a
  // collector, which that runs).
  static std::string CircuitStateFrom(std::string_view prometheus_text, const std::string& id);
  // The sum of the series of `name` in `prometheus_text` whose label text
  // holds every one of `labels` (e.g. adapter="site"), and, when
  // `upstream_of` is not empty, whose upstream belongs to that adapter.
  static double SumFrom(std::string_view prometheus_text, std::string_view name,
                        const std::vector<std::string>& labels,
                        const std::string& upstream_of = "");

  // Refreshes the gauges above (a MetricsRegistry collector).
  void Collect(MetricsRegistry& m);

 private:
  Clock& clock_;
  MetricsRegistry& metrics_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<AdapterHealth>> book_ GUARDED_BY(mu_);
};

}  // namespace crmhub::daemon
