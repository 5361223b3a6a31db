#include "adapters/kit/pending_sweep.h"

#include <nlohmann/json.hpp>

#include "base/json_get.h"

namespace crmhub::adapters::kit {

PendingSweep::PendingSweep(std::chrono::milliseconds after, std::chrono::milliseconds every,
                           const Clock& clock)
    : after_(after), every_(every), clock_(clock) {}

void PendingSweep::Track(const std::string& id, const std::string& kind,
                         const std::string& ordering_key, bool final) {
  std::lock_guard lock(mu_);
  if (final) {
    entries_.erase(id);
    return;
  }
  entries_.try_emplace(id, Entry{id, kind, ordering_key, ToUnixMillis(clock_.Now())});
}

void PendingSweep::Forget(const std::string& id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

void PendingSweep::Restore(const std::optional<std::string>& cursor) {
  if (!cursor || cursor->empty()) return;
  Result<nlohmann::json> saved = ParseJson(*cursor);
  if (!saved.ok() || !saved->is_object()) return;
  std::lock_guard lock(mu_);
  for (const auto& [id, v] : saved->items()) {
    if (!v.is_array() || v.size() != 3 || entries_.contains(id)) continue;
    const std::optional<std::string_view> kind = AsString(v[0]);
    const std::optional<std::string_view> ordering = AsString(v[1]);
    const std::optional<int64_t> since = AsInt(v[2]);
    if (!kind || !ordering || !since) continue;
    entries_[id] = {id, std::string(*kind), std::string(*ordering), *since};
  }
}

std::vector<PendingSweep::Entry> PendingSweep::Due(size_t max) {
  std::vector<Entry> due;
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  if (last_ && now - *last_ < every_) return due;
  last_ = now;
  const int64_t cutoff = ToUnixMillis(now) - after_.count();
  for (const auto& [id, e] : entries_) {
    if (due.size() >= max) break;
    if (e.since_ms <= cutoff) due.push_back(e);
  }
  return due;
}

std::string PendingSweep::Cursor() const {
  nlohmann::json saved = nlohmann::json::object();
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : entries_) saved[id] = {e.kind, e.ordering_key, e.since_ms};
  return saved.dump();
}

size_t PendingSweep::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace crmhub::adapters::kit
