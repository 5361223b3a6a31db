#pragma once
// Checks over a simulator's request log.

#include <vector>

#include "adapters/simkit/request_log.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::wildberries::test {

// Replays the requests' arrival times through a token bucket with the
// documented interval and burst: true when every request would have passed.
inline bool WithinDocumentedRate(const std::vector<simkit::LoggedRequest>& requests,
                                 std::chrono::milliseconds interval, int64_t burst) {
  ManualClock clock;
  net::TokenBucket bucket(clock, net::RateLimit::Every(interval, static_cast<double>(burst)));
  int64_t at = 0;
  for (const auto& r : requests) {
    clock.Advance(std::chrono::milliseconds(r.at_ms - at));
    at = r.at_ms;
    if (bucket.TryTake().has_value()) return false;
  }
  return true;
}

}  // namespace crmhub::adapters::wildberries::test
