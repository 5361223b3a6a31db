#include "queue/backoff.h"

#include <algorithm>
#include <memory>
#include <random>

namespace crmhub::queue {

std::chrono::milliseconds BackoffCap(const RetryPolicy& policy, int attempts) {
  const int64_t initial = std::max<int64_t>(0, policy.initial_backoff.count());
  const int64_t max = std::max<int64_t>(0, policy.max_backoff.count());
  int64_t cap = initial;
  for (int i = 1; i < attempts && cap < max; ++i) cap *= 2;  // stops before overflow
  return std::chrono::milliseconds(std::min(cap, max));
}

std::chrono::milliseconds ComputeBackoff(const RetryPolicy& policy, int attempts,
                                         const JitterFn& jitter) {
  const int64_t cap = BackoffCap(policy, attempts).count();
  if (cap <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::clamp<int64_t>(jitter(cap), 0, cap));
}

JitterFn SeededJitter(uint64_t seed) {
  auto rng = std::make_shared<std::mt19937_64>(seed);
  return [rng](int64_t cap_ms) {
    std::uniform_int_distribution<int64_t> dist(0, cap_ms);
    return dist(*rng);
  };
}

}  // namespace crmhub::queue
