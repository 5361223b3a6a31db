#pragma once
// RateEnforcer: the simulators' side of a documented rate limit.
//
// Marketplaces state limits as "period / limit / interval / burst" (WB:
// "1 минута | 300 запросов | 200 миллисекунд | 20 запросов"): a token bucket
// that holds up to `burst` requests and gains one every `interval`. One
// bucket per key (e.g. token + API category), created on first use.
// Charge() lets a simulator bill an answer extra (WB counts a 409 as 10).
//
// Thread-safe. Time only through the injected Clock (steady readings).

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"

namespace crmhub::simkit {

struct RateLimit {
  std::chrono::milliseconds interval{200};  // one token per interval
  int64_t burst = 20;                       // bucket size
};

struct RateDecision {
  bool allowed = false;
  int64_t remaining = 0;  // whole tokens left after this request
  // When refused: time until one token is available.
  std::chrono::milliseconds retry_after{0};
  // Time until the bucket is full again.
  std::chrono::milliseconds reset_after{0};
  int64_t limit = 0;  // the burst
};

class RateEnforcer {
 public:
  explicit RateEnforcer(Clock& clock) : clock_(clock) {}

  // Takes one token from `key`'s bucket if there is one.
  RateDecision Admit(const std::string& key, const RateLimit& limit);
  // Takes `tokens` more (the bucket may go below zero, delaying later
  // requests); used for answers that cost more than one request.
  void Charge(const std::string& key, const RateLimit& limit, int64_t tokens);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
  };
  Bucket& Refill(const std::string& key, const RateLimit& limit);

  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace crmhub::simkit
