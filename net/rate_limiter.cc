#include "net/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace crmhub::net {

using SteadyTime = std::chrono::steady_clock::time_point;

// ---------------------------------------------------------------------------
// TokenBucket

TokenBucket::TokenBucket(const Clock& clock, RateLimit limit)
    : clock_(clock),
      limit_{limit.per_second, std::max(1.0, limit.burst)},
      tokens_(limit_.burst),
      last_(clock.SteadyNow()) {}

void TokenBucket::RefillLocked(SteadyTime now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(limit_.burst, tokens_ + elapsed * limit_.per_second);
  last_ = now;
}

Duration TokenBucket::WaitLocked(double need) {
  const SteadyTime now = clock_.SteadyNow();
  if (now < paused_until_) return paused_until_ - now;
  if (limit_.per_second <= 0) return Duration(0);
  RefillLocked(now);
  // A hair of tolerance: refills in float arithmetic land a rounding error
  // short of a whole token exactly when a caller waited the computed time.
  if (tokens_ + 1e-9 >= need) return Duration(0);
  const double seconds = (need - tokens_) / limit_.per_second;
  // Round up so that waiting exactly this long is always enough.
  return std::max(Duration(static_cast<int64_t>(std::ceil(seconds * 1e9))), Duration(1));
}

std::optional<Duration> TokenBucket::TryTake(int64_t weight) {
  std::lock_guard lock(mu_);
  const Duration wait = WaitLocked(static_cast<double>(weight));
  if (wait > Duration(0)) return wait;
  if (limit_.per_second > 0) tokens_ -= static_cast<double>(weight);
  return std::nullopt;
}

Duration TokenBucket::Peek(int64_t weight) {
  std::lock_guard lock(mu_);
  return WaitLocked(static_cast<double>(weight));
}

void TokenBucket::Charge(int64_t weight) {
  std::lock_guard lock(mu_);
  if (limit_.per_second <= 0) return;
  RefillLocked(clock_.SteadyNow());
  tokens_ -= static_cast<double>(weight);
}

void TokenBucket::PauseUntil(SteadyTime until) {
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, until);
}

int64_t TokenBucket::Available() {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  if (now < paused_until_) return 0;
  if (limit_.per_second <= 0) return static_cast<int64_t>(limit_.burst);
  RefillLocked(now);
  return std::max<int64_t>(0, static_cast<int64_t>(std::floor(tokens_ + 1e-9)));
}

Duration TokenBucket::UntilFull() {
  std::lock_guard lock(mu_);
  return WaitLocked(limit_.burst);
}

TokenBucket::TryResult TokenBucket::TryAcquire() {
  std::optional<Duration> wait = TryTake(1);
  if (!wait) return {true, Duration(0)};
  return {false, *wait};
}

std::optional<Duration> TokenBucket::Acquire(Duration max_wait) {
  std::unique_lock lock(mu_);
  const SteadyTime start = clock_.SteadyNow();
  for (;;) {
    if (cancelled_) return std::nullopt;
    const Duration wait = WaitLocked(1.0);
    if (wait == Duration(0)) {
      if (limit_.per_second > 0) tokens_ -= 1.0;
      return clock_.SteadyNow() - start;
    }
    const Duration waited = clock_.SteadyNow() - start;
    if (waited + wait > max_wait) return std::nullopt;
    // Woken by the token's time on the clock, PauseUntil's end, or Cancel.
    cv_.WaitFor(lock, wait, [&] { return cancelled_ || WaitLocked(1.0) == Duration(0); });
  }
}

void TokenBucket::WakeWaiters() {
  std::lock_guard lock(mu_);
  cv_.NotifyAll();
}

void TokenBucket::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  cv_.NotifyAll();
}

// ---------------------------------------------------------------------------
// SlidingWindow

SlidingWindow::SlidingWindow(const Clock& clock, int64_t limit, std::chrono::milliseconds window)
    : clock_(clock), limit_(limit), window_(window) {}

void SlidingWindow::ExpireLocked(SteadyTime now) {
  while (!taken_.empty() && now - taken_.front().first >= window_) {
    in_window_ -= taken_.front().second;
    taken_.pop_front();
  }
}

Duration SlidingWindow::WaitLocked(SteadyTime now, int64_t weight) {
  if (now < paused_until_) return paused_until_ - now;
  if (limit_ <= 0) return Duration(0);
  if (weight > limit_) return window_;
  ExpireLocked(now);
  if (in_window_ + weight <= limit_) return Duration(0);
  // Until enough of the oldest entries leave the window.
  int64_t excess = in_window_ + weight - limit_;
  for (const auto& [at, units] : taken_) {
    excess -= units;
    if (excess <= 0) return std::max(Duration(at + window_ - now), Duration(1));
  }
  return window_;
}

std::optional<Duration> SlidingWindow::TryTake(int64_t weight) {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  const Duration wait = WaitLocked(now, weight);
  if (wait > Duration(0)) return wait;
  if (limit_ > 0) {
    taken_.emplace_back(now, weight);
    in_window_ += weight;
  }
  return std::nullopt;
}

Duration SlidingWindow::Peek(int64_t weight) {
  std::lock_guard lock(mu_);
  return WaitLocked(clock_.SteadyNow(), weight);
}

void SlidingWindow::Charge(int64_t weight) {
  std::lock_guard lock(mu_);
  if (limit_ <= 0) return;
  const SteadyTime now = clock_.SteadyNow();
  ExpireLocked(now);
  taken_.emplace_back(now, weight);
  in_window_ += weight;
}

void SlidingWindow::PauseUntil(SteadyTime until) {
  std::lock_guard lock(mu_);
  paused_until_ = std::max(paused_until_, until);
}

int64_t SlidingWindow::Available() {
  std::lock_guard lock(mu_);
  const SteadyTime now = clock_.SteadyNow();
  if (now < paused_until_) return 0;
  if (limit_ <= 0) return 0;
  ExpireLocked(now);
  return std::max<int64_t>(0, limit_ - in_window_);
}

}  // namespace crmhub::net
