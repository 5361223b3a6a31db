#include "adapters/simkit/rate_enforcer.h"

#include <algorithm>
#include <cmath>

namespace crmhub::simkit {
namespace {

std::chrono::milliseconds CeilMs(double ms) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(std::max(0.0, ms))));
}

}  // namespace

RateEnforcer::Bucket& RateEnforcer::Refill(const std::string& key, const RateLimit& limit) {
  auto now = clock_.SteadyNow();
  auto [it, inserted] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = static_cast<double>(limit.burst);
    b.updated = now;
    return b;
  }
  double interval_ms = static_cast<double>(std::max<int64_t>(1, limit.interval.count()));
  double elapsed_ms = std::chrono::duration<double, std::milli>(now - b.updated).count();
  b.tokens = std::min(static_cast<double>(limit.burst), b.tokens + elapsed_ms / interval_ms);
  b.updated = now;
  return b;
}

RateDecision RateEnforcer::Admit(const std::string& key, const RateLimit& limit) {
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, limit);
  double interval_ms = static_cast<double>(std::max<int64_t>(1, limit.interval.count()));
  RateDecision d;
  d.limit = limit.burst;
  // A tiny epsilon absorbs floating error from many small refills.
  if (b.tokens >= 1.0 - 1e-9) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.retry_after = CeilMs((1.0 - b.tokens) * interval_ms);
  }
  d.remaining = std::max<int64_t>(0, static_cast<int64_t>(std::floor(b.tokens + 1e-9)));
  d.reset_after = CeilMs((static_cast<double>(limit.burst) - b.tokens) * interval_ms);
  return d;
}

void RateEnforcer::Charge(const std::string& key, const RateLimit& limit, int64_t tokens) {
  std::lock_guard lock(mu_);
  Bucket& b = Refill(key, limit);
  b.tokens -= static_cast<double>(tokens);
}

}  // namespace crmhub::simkit
