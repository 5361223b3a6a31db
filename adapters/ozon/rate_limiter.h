#pragma once
// WindowLimiter: at most `limit` requests in any `window` (a sliding log of
// request times). Ozon states its limits that way ("50 запросов в секунду с
// одного Client ID", "до 80 запросов в минуту" for /v2/products/stocks), so a
// sliding window never exceeds them, where a token bucket with that burst
// could let through up to twice the limit across a window boundary.
//
// Thread-safe. Time only through the injected Clock (steady readings). Never
// sleeps: a refusal says when to try again, and the caller turns that into
// a DeliveryOutcome / PullResult::not_before.

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "base/clock.h"

namespace crmhub::adapters::ozon {

class WindowLimiter {
 public:
  WindowLimiter(const Clock& clock, int64_t limit, std::chrono::milliseconds window)
      : clock_(clock), limit_(limit), window_(window) {}

  // Takes a slot now if one is free; otherwise returns how long to wait.
  // limit <= 0 means unlimited.
  std::optional<std::chrono::milliseconds> TryAcquire();

  int64_t limit() const { return limit_; }
  std::chrono::milliseconds window() const { return window_; }

 private:
  const Clock& clock_;
  const int64_t limit_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::deque<std::chrono::steady_clock::time_point> sent_;  // GUARDED_BY(mu_)
};

}  // namespace crmhub::adapters::ozon
