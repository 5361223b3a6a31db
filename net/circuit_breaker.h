#pragma once
// CircuitBreaker: stops hammering an upstream that is down.
//
//   closed --(N consecutive failures)--> open
//   open --(cool_down elapsed; next Allow())--> half-open, one probe let through
//   half-open --(probe succeeds)--> closed
//   half-open --(probe fails)--> open (cool-down starts again)
//
// A probe that never reports (its caller died) is given up after another
// cool_down, and a new probe is allowed. What counts as a failure is the
// caller's decision (Upstream: transport errors, 408 and 5xx).
//
// Time comes from the injected Clock. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::net {

struct CircuitBreakerOptions {
  uint32_t failure_threshold = 5;  // consecutive failures that open it; 0 disables the breaker
  Duration cool_down = std::chrono::seconds(30);
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  CircuitBreaker(const Clock& clock, CircuitBreakerOptions options);

  // Whether a request may go out now. In half-open state only one caller
  // gets true (the probe) until it reports.
  bool Allow();
  void RecordSuccess();
  void RecordFailure();

  State state() const;
  uint32_t consecutive_failures() const;
  // While open: time until the next probe is allowed; otherwise zero.
  Duration RetryAfter() const;

 private:
  const Clock& clock_;
  const CircuitBreakerOptions options_;
  mutable std::mutex mu_;
  State state_ GUARDED_BY(mu_) = State::kClosed;
  uint32_t failures_ GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point opened_at_ GUARDED_BY(mu_) = {};
  std::chrono::steady_clock::time_point probe_at_ GUARDED_BY(mu_) = {};
};

std::string_view CircuitStateName(CircuitBreaker::State state);

}  // namespace crmhub::net
