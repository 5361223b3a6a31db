#pragma once
// LogRateLimit: at most `burst` lines per `window` for each key (e.g.
// "dead_letter/<adapter>"), so a flood of dead letters or refused signatures
// writes a few lines a minute per adapter instead of one per message, and
// says how many it left out.
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub {

class LogRateLimit {
 public:
  // `clock` must outlive this object; its steady time measures the windows.
  LogRateLimit(Clock& clock, int burst, std::chrono::milliseconds window)
      : clock_(clock), burst_(burst), window_(window) {}

  // Whether a line for `key` may be written now. When it may, `*suppressed`
  // (if given) is how many lines of this key were left out since the last
  // one written (to be said in the line).
  bool Allow(const std::string& key, int64_t* suppressed = nullptr);

 private:
  struct Bucket {
    std::chrono::steady_clock::time_point window_start;
    int written = 0;
    int64_t suppressed = 0;
  };
  Clock& clock_;
  const int burst_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
};

}  // namespace crmhub
