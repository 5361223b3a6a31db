#include "daemon/adapter_health.h"

#include <algorithm>
#include <cstdio>

namespace crmhub::daemon {
namespace {

constexpr const char* kLastSuccess = "crmhub_adapter_last_success_timestamp_seconds";
constexpr const char* kLastSuccessHelp =
    "When the adapter's capability (pull, deliver, push) last succeeded, Unix seconds; 0 = never.";
constexpr const char* kLastError = "crmhub_adapter_last_error_timestamp_seconds";
constexpr const char* kLastErrorHelp =
    "When the adapter's capability (pull, deliver, push) last failed, Unix seconds; 0 = never.";
constexpr const char* kErrors = "crmhub_adapter_errors_total";
constexpr const char* kErrorsHelp =
    "Failures of the adapter's capability: pulls, deliveries (retried or dead-lettered), refused "
    "webhooks.";

double Seconds(const std::optional<SystemTime>& t) {
  return t ? static_cast<double>(ToUnixMillis(*t)) / 1000.0 : 0.0;
}

// Whether upstream `name` ("<type>:<id>[:<group>]") belongs to adapter `id`.
bool UpstreamOf(const std::string& name, const std::string& id) {
  const size_t first = name.find(':');
  if (first == std::string::npos) return false;
  const size_t second = name.find(':', first + 1);
  return name.compare(first + 1,
                      second == std::string::npos ? std::string::npos : second - first - 1,
                      id) == 0;
}

}  // namespace

std::string_view CapabilityName(Capability c) {
  switch (c) {
    case Capability::kPull:
      return "pull";
    case Capability::kDeliver:
      return "deliver";
    case Capability::kPush:
      return "push";
  }
  return "?";
}

void AdapterHealth::Success(Capability c) {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  status_[static_cast<size_t>(c)].last_success = now;
}

void AdapterHealth::Error(Capability c, std::string error) {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  CapabilityStatus& s = status_[static_cast<size_t>(c)];
  s.last_error = std::move(error);
  s.last_error_at = now;
  ++s.errors;
}

CapabilityStatus AdapterHealth::Get(Capability c) const {
  std::lock_guard lock(mu_);
  return status_[static_cast<size_t>(c)];
}

void AdapterHealth::SetCapabilities(std::vector<Capability> caps) {
  std::lock_guard lock(mu_);
  caps_ = std::move(caps);
}

std::vector<Capability> AdapterHealth::capabilities() const {
  std::lock_guard lock(mu_);
  return caps_;
}

std::shared_ptr<AdapterHealth> AdapterHealthBook::Register(const std::string& id,
                                                           std::vector<Capability> caps) {
  std::shared_ptr<AdapterHealth> health;
  {
    std::lock_guard lock(mu_);
    auto& slot = book_[id];
    if (!slot) slot = std::make_shared<AdapterHealth>(clock_);
    health = slot;
  }
  health->SetCapabilities(caps);
  // Every series from the start, at 0, so a rate() or an absent() alert has
  // something to look at before the first event.
  for (Capability c : caps) {
    const Labels labels = {{"adapter", id}, {"capability", std::string(CapabilityName(c))}};
    metrics_.GetGauge(kLastSuccess, kLastSuccessHelp, labels);
    metrics_.GetGauge(kLastError, kLastErrorHelp, labels);
    metrics_.GetCounter(kErrors, kErrorsHelp, labels);
  }
  return health;
}

std::shared_ptr<AdapterHealth> AdapterHealthBook::Find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = book_.find(id);
  return it == book_.end() ? nullptr : it->second;
}

std::string AdapterHealthBook::CircuitStateFrom(std::string_view text, const std::string& id) {
  static constexpr std::string_view kSeries = "crmhub_circuit_open{";
  bool any = false;
  bool open = false;
  size_t at = 0;
  while ((at = text.find(kSeries, at)) != std::string_view::npos) {
    const size_t line_end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, line_end - at);
    at = line_end;
    const size_t name_at = line.find("upstream=\"");
    if (name_at == std::string_view::npos) continue;
    const size_t name_end = line.find('"', name_at + 10);
    if (name_end == std::string_view::npos) continue;
    if (!UpstreamOf(std::string(line.substr(name_at + 10, name_end - name_at - 10)), id)) continue;
    any = true;
    const size_t space = line.rfind(' ');
    open = open || (space != std::string_view::npos && line.substr(space + 1) != "0");
  }
  if (!any) return "";
  return open ? "open" : "closed";
}

double AdapterHealthBook::SumFrom(std::string_view text, std::string_view name,
                                  const std::vector<std::string>& labels,
                                  const std::string& upstream_of) {
  const std::string head = std::string(name) + "{";
  double sum = 0;
  size_t at = 0;
  while ((at = text.find(head, at)) != std::string_view::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    const size_t line_end = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, line_end - at);
    at = line_end;
    if (!line_start) continue;
    const size_t close = line.rfind('}');
    if (close == std::string_view::npos) continue;
    const std::string_view label_text = line.substr(0, close);
    bool match = true;
    for (const std::string& l : labels)
      match = match && label_text.find(l) != std::string_view::npos;
    if (match && !upstream_of.empty()) {
      const size_t u = label_text.find("upstream=\"");
      const size_t u_end = u == std::string_view::npos ? u : label_text.find('"', u + 10);
      match = u_end != std::string_view::npos &&
              UpstreamOf(std::string(label_text.substr(u + 10, u_end - u - 10)), upstream_of);
    }
    if (!match) continue;
    double v = 0;
    const std::string value(line.substr(close + 1));
    if (std::sscanf(value.c_str(), "%lf", &v) == 1) sum += v;
  }
  return sum;
}

void AdapterHealthBook::Collect(MetricsRegistry& m) {
  std::map<std::string, std::shared_ptr<AdapterHealth>> book;
  {
    std::lock_guard lock(mu_);
    book = book_;
  }
  for (const auto& [id, health] : book) {
    for (Capability c : health->capabilities()) {
      const CapabilityStatus s = health->Get(c);
      const Labels labels = {{"adapter", id}, {"capability", std::string(CapabilityName(c))}};
      m.GetGauge(kLastSuccess, kLastSuccessHelp, labels).Set(Seconds(s.last_success));
      m.GetGauge(kLastError, kLastErrorHelp, labels).Set(Seconds(s.last_error_at));
      Counter& errors = m.GetCounter(kErrors, kErrorsHelp, labels);
      errors.Inc(static_cast<double>(s.errors) - errors.value());
    }
  }
}

}  // namespace crmhub::daemon
