#include "net/circuit_breaker.h"

namespace crmhub::net {

CircuitBreaker::CircuitBreaker(const Clock& clock, CircuitBreakerOptions options)
    : clock_(clock), options_(options) {}

bool CircuitBreaker::Allow() {
  std::lock_guard lock(mu_);
  auto now = clock_.SteadyNow();
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now - opened_at_ < options_.cool_down) return false;
      state_ = State::kHalfOpen;
      probe_at_ = now;
      return true;
    case State::kHalfOpen:
      // The probe is still out; give it up only if it is long overdue.
      if (now - probe_at_ < options_.cool_down) return false;
      probe_at_ = now;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
}

void CircuitBreaker::RecordFailure() {
  std::lock_guard lock(mu_);
  ++failures_;
  if (options_.failure_threshold == 0) return;
  if (state_ == State::kHalfOpen ||
      (state_ == State::kClosed && failures_ >= options_.failure_threshold)) {
    state_ = State::kOpen;
    opened_at_ = clock_.SteadyNow();
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

uint32_t CircuitBreaker::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

Duration CircuitBreaker::RetryAfter() const {
  std::lock_guard lock(mu_);
  if (state_ != State::kOpen) return Duration(0);
  auto left = opened_at_ + options_.cool_down - clock_.SteadyNow();
  return left > Duration(0) ? Duration(left) : Duration(0);
}

std::string_view CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

}  // namespace crmhub::net
