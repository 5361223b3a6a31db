#pragma once
// The rate-limit family: every limit an outside system documents has one of
// two shapes, and the same classes serve adapters (to stay under a limit)
// and simulators (to enforce it), so there is one implementation of each
// shape to test. The numbers are stated once per system, from its spec, on
// each side independently.
//
//  * TokenBucket: `rate` units a second, up to `burst` banked. Wildberries'
//    "period / limit / interval / burst" tables ("1 min | 300 | 200 ms | 20")
//    are RateLimit::Every(200ms, 20); a per-second request limit with burst 1
//    never lets more than the rate through in any second.
//  * SlidingWindow: at most `limit` units in any `window` (a log of what was
//    taken). Ozon ("50 requests a second", "80 a minute") and Yandex Market
//    ("100,000 skus a minute": units are items, not requests) state their
//    limits so; a bucket with that burst could let twice the limit through
//    across a window's edge.
//
// Both are RateLimiters: TryTake never blocks (a refusal says how long to
// wait, and the caller turns that into a PullResult::not_before or a
// DeliveryOutcome::Retry), Charge bills units after the fact (Wildberries
// counts a 409 answer as 10 requests), PauseUntil honours an upstream's
// Retry-After. TokenBucket also has a blocking Acquire for net::Upstream.
//
// Time only through the injected Clock (steady readings): tests drive them
// with a ManualClock. Thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::net {

struct RateLimit {
  double per_second = 0;  // <= 0: unlimited
  double burst = 1;       // bucket size; at least 1

  static RateLimit PerSecond(double n, double burst = 1) { return {n, burst}; }
  static RateLimit PerMinute(double n, double burst = 1) { return {n / 60.0, burst}; }
  // One unit every `interval`, after a burst of `burst` (Wildberries' tables).
  static RateLimit Every(std::chrono::milliseconds interval, double burst) {
    return {interval.count() > 0 ? 1000.0 / static_cast<double>(interval.count()) : 0, burst};
  }
  static RateLimit Unlimited() { return {0, 1}; }
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes `weight` units if they fit now and returns nullopt; otherwise takes
  // nothing and returns how long until they will (at least 1 ns).
  virtual std::optional<Duration> TryTake(int64_t weight = 1) = 0;
  // How long until `weight` units would fit (zero: now). Takes nothing.
  virtual Duration Peek(int64_t weight = 1) = 0;
  // Bills `weight` units now whether or not they fit; later requests wait
  // the debt off.
  virtual void Charge(int64_t weight) = 0;
  // Nothing is handed out before `until`; a later pause wins.
  virtual void PauseUntil(std::chrono::steady_clock::time_point until) = 0;
  // Whole units that fit now (a simulator's X-RateLimit-Remaining).
  virtual int64_t Available() = 0;
};

class TokenBucket final : public RateLimiter {
 public:
  // Starts full.
  TokenBucket(const Clock& clock, RateLimit limit);

  std::optional<Duration> TryTake(int64_t weight = 1) override;
  Duration Peek(int64_t weight = 1) override;
  void Charge(int64_t weight) override;
  void PauseUntil(std::chrono::steady_clock::time_point until) override;
  int64_t Available() override;
  // How long until the bucket is full again (a simulator's X-RateLimit-Reset).
  Duration UntilFull();

  struct TryResult {
    bool acquired = false;
    Duration wait{0};  // when !acquired: until a token (or the pause's end)
  };
  // One token: TryTake(1) in the older shape net::Upstream uses.
  TryResult TryAcquire();

  // Blocks until a token is taken, returning the time waited (by the Clock,
  // which also times the wait: on a ManualClock it ends when the clock is
  // advanced to the token). Returns nullopt without taking a token when the
  // wait would exceed max_wait, or when Cancel() is called.
  // REQUIRES: not called from an io_context thread (it blocks).
  std::optional<Duration> Acquire(Duration max_wait);
  // Wakes blocked Acquire calls so they re-read the clock. A ManualClock's
  // Advance already does; a clock of another kind may need it.
  void WakeWaiters();
  // Makes every current and future Acquire return nullopt (shutdown).
  void Cancel();

  RateLimit limit() const { return limit_; }

 private:
  void RefillLocked(std::chrono::steady_clock::time_point now);  // REQUIRES: mu_ held
  Duration WaitLocked(double need);                              // REQUIRES: mu_ held

  const Clock& clock_;
  const RateLimit limit_;
  std::mutex mu_;
  CondVar cv_{clock_, mu_};
  double tokens_ GUARDED_BY(mu_);  // may go below 0
  std::chrono::steady_clock::time_point last_ GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point paused_until_ GUARDED_BY(mu_) = {};
  bool cancelled_ GUARDED_BY(mu_) = false;
};

class SlidingWindow final : public RateLimiter {
 public:
  // At most `limit` units in any `window`; limit <= 0: unlimited.
  SlidingWindow(const Clock& clock, int64_t limit, std::chrono::milliseconds window);

  // A weight above `limit` can never fit: it is refused with the whole
  // window as the wait (the caller must split its request).
  std::optional<Duration> TryTake(int64_t weight = 1) override;
  Duration Peek(int64_t weight = 1) override;
  void Charge(int64_t weight) override;
  void PauseUntil(std::chrono::steady_clock::time_point until) override;
  int64_t Available() override;

  int64_t limit() const { return limit_; }
  std::chrono::milliseconds window() const { return window_; }

 private:
  // Drops what left the window; REQUIRES: mu_ held.
  void ExpireLocked(std::chrono::steady_clock::time_point now);
  Duration WaitLocked(std::chrono::steady_clock::time_point now, int64_t weight);

  const Clock& clock_;
  const int64_t limit_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> taken_ GUARDED_BY(mu_);
  int64_t in_window_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point paused_until_ GUARDED_BY(mu_) = {};
};

}  // namespace crmhub::net
