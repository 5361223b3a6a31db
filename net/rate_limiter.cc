#include "net/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace crmhub::net {

TokenBucket::TokenBucket(const Clock& clock, RateLimit limit)
    : clock_(clock),
      limit_{limit.per_second, std::max(1.0, limit.burst)},
      tokens_(limit_.burst),
      last_(clock.SteadyNow()) {}

void TokenBucket::RefillLocked(std::chrono::steady_clock::time_point now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(limit_.burst, tokens_ + elapsed * limit_.per_second);
  last_ = now;
}

TokenBucket::TryResult TokenBucket::TryAcquireLocked() {
  auto now = clock_.SteadyNow();
  if (now < paused_until_) return {false, paused_until_ - now};
  if (limit_.per_second <= 0) return {true, Duration(0)};
  RefillLocked(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return {true, Duration(0)};
  }
  double seconds = (1.0 - tokens_) / limit_.per_second;
  // Round up so that waiting exactly this long is always enough.
  auto wait = Duration(static_cast<int64_t>(std::ceil(seconds * 1e9)));
  return {false, std::max(wait, Duration(1))};
}

TokenBucket::TryResult TokenBucket::TryAcquire() {
  std::lock_guard lock(mu_);
  return TryAcquireLocked();
}

std::optional<Duration> TokenBucket::Acquire(Duration max_wait) {
  std::unique_lock lock(mu_);
  auto start = clock_.SteadyNow();
  for (;;) {
    if (cancelled_) return std::nullopt;
    TryResult r = TryAcquireLocked();
    if (r.acquired) return clock_.SteadyNow() - start;
    auto waited = clock_.SteadyNow() - start;
    if (waited + r.wait > max_wait) return std::nullopt;
    cv_.wait_for(lock, r.wait);
  }
}

void TokenBucket::PauseUntil(std::chrono::steady_clock::time_point until) {
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, until);
}

void TokenBucket::WakeWaiters() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

void TokenBucket::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  cv_.notify_all();
}

}  // namespace crmhub::net
