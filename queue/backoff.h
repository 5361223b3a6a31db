#pragma once
// Retry delays: exponential backoff with full jitter (AWS architecture blog
// "Exponential Backoff And Jitter"; Fluent Bit's flb_scheduler.c).

#include <chrono>
#include <cstdint>
#include <functional>

#include "queue/queue.h"

namespace crmhub::queue {

// The upper bound of the delay before attempt `attempts + 1`, given that
// `attempts` (>= 1) deliveries have been started:
// min(max_backoff, initial_backoff * 2^(attempts-1)). Never overflows.
std::chrono::milliseconds BackoffCap(const RetryPolicy& policy, int attempts);

// Picks a delay in [0, cap_ms] (inclusive). The test seam for jitter.
using JitterFn = std::function<int64_t(int64_t cap_ms)>;

// The full-jitter delay: jitter(BackoffCap(policy, attempts)).
std::chrono::milliseconds ComputeBackoff(const RetryPolicy& policy, int attempts,
                                         const JitterFn& jitter);

// A seeded uniform jitter source (std::mt19937_64). Not thread-safe: the
// engine calls it from its writer thread only.
JitterFn SeededJitter(uint64_t seed);

}  // namespace crmhub::queue
