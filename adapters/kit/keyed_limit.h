#pragma once
// KeyedLimit: a limit per item rather than per request -- "each product's
// price at most 10 times an hour", "one stock update per product-warehouse
// pair every 30 s" -- as one net::SlidingWindow per key, made on first use.
// Keys whose window has emptied are dropped now and then, so a catalogue of
// a million products costs memory only for those updated lately.
//
//   kit::KeyedLimit prices(clock, 10, std::chrono::hours(1));
//   if (std::optional<Duration> wait = prices.TryTake("offer:SKU-1")) -> retry at now + *wait
//
// Never blocks (a refusal says how long until the key's unit fits).
// Thread-safe; time only through the Clock.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/thread_annotations.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::kit {

class KeyedLimit {
 public:
  // At most `limit` units per key in any `window`.
  KeyedLimit(const Clock& clock, int64_t limit, std::chrono::milliseconds window);

  // Takes one unit of `key` and returns nullopt, or takes nothing and
  // returns how long until one fits.
  std::optional<Duration> TryTake(const std::string& key);

  int64_t limit() const { return limit_; }
  std::chrono::milliseconds window() const { return window_; }

 private:
  const Clock& clock_;
  const int64_t limit_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<net::SlidingWindow>> windows_ GUARDED_BY(mu_);
  size_t prune_at_ GUARDED_BY(mu_) = 1024;
};

}  // namespace crmhub::adapters::kit
