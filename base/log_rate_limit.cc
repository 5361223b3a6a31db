#include "base/log_rate_limit.h"

namespace crmhub {

bool LogRateLimit::Allow(const std::string& key, int64_t* suppressed) {
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{now, 0, 0});
  Bucket& b = it->second;
  if (!fresh && now - b.window_start >= window_) {
    b.window_start = now;
    b.written = 0;
  }
  if (b.written >= burst_) {
    ++b.suppressed;
    return false;
  }
  ++b.written;
  if (suppressed != nullptr) *suppressed = b.suppressed;
  b.suppressed = 0;
  return true;
}

}  // namespace crmhub
