#pragma once
// TokenBucket: a client-side rate limit per upstream (e.g. Ozon's documented
// requests per second, WB's per minute), so we stay under published limits
// instead of collecting 429s.
//
// The bucket refills continuously at `rate` tokens per second up to `burst`
// tokens, and starts full. Time comes from the injected Clock: tests drive
// TryAcquire with a ManualClock. Acquire() is the blocking helper for worker
// threads; it computes waits from the Clock and sleeps on a condition
// variable (real time), re-checking after each wake.
//
// Thread-safe.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "base/clock.h"

namespace crmhub::net {

struct RateLimit {
  double per_second = 0;  // <= 0: unlimited
  double burst = 1;       // bucket size; at least 1

  static RateLimit PerSecond(double n, double burst = 1) { return {n, burst}; }
  static RateLimit PerMinute(double n, double burst = 1) { return {n / 60.0, burst}; }
  static RateLimit Unlimited() { return {0, 1}; }
};

class TokenBucket {
 public:
  TokenBucket(const Clock& clock, RateLimit limit);

  struct TryResult {
    bool acquired = false;
    // When !acquired: how long until a token will be available (or the
    // pause ends). Zero when acquired.
    Duration wait{0};
  };
  // Takes one token if there is one; never blocks.
  TryResult TryAcquire();

  // Blocks until a token is taken, returning the time waited (by the Clock).
  // Returns nullopt without taking a token when the wait would exceed
  // max_wait, or when Cancel() is called.
  // REQUIRES: not called from an io_context thread (it blocks).
  std::optional<Duration> Acquire(Duration max_wait);

  // No tokens are handed out before `until` (an upstream's Retry-After).
  // A later pause wins over an earlier one.
  void PauseUntil(std::chrono::steady_clock::time_point until);

  // Wakes blocked Acquire calls so they re-read the clock (tests that move a
  // ManualClock call this after Advance).
  void WakeWaiters();
  // Makes every current and future Acquire return nullopt (shutdown).
  void Cancel();

  RateLimit limit() const { return limit_; }

 private:
  void RefillLocked(std::chrono::steady_clock::time_point now);  // REQUIRES: mu_ held
  TryResult TryAcquireLocked();                                  // REQUIRES: mu_ held

  const Clock& clock_;
  const RateLimit limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  double tokens_;                                     // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point last_;        // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point paused_until_{};  // GUARDED_BY(mu_)
  bool cancelled_ = false;                            // GUARDED_BY(mu_)
};

}  // namespace crmhub::net
