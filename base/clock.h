#pragma once
// Clock: the one seam through which crmhub reads time.
//
// Retry schedules, lease expiry, token buckets and circuit breakers all take a
// Clock& so tests drive them with a ManualClock and never sleep (LevelDB's
// Env::NowMicros, Envoy's TimeSource).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace crmhub {

using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

// Thread-safe: implementations must allow Now() from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: what gets persisted (created_at, next_attempt_at).
  virtual SystemTime Now() const = 0;
  // Monotonic time for intervals (rate limits, timeouts). Never goes back.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = SystemTime(std::chrono::seconds(1'700'000'000)))
      : offset_ns_(0), wall_start_(start) {}

  SystemTime Now() const override {
    return wall_start_ + std::chrono::duration_cast<SystemTime::duration>(
                             std::chrono::nanoseconds(offset_ns_.load()));
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(offset_ns_.load()));
  }
  void Advance(Duration d) { offset_ns_ += d.count(); }

 private:
  std::atomic<int64_t> offset_ns_;
  SystemTime wall_start_;
};

// Milliseconds since the Unix epoch: the persisted form of a SystemTime.
inline int64_t ToUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline SystemTime FromUnixMillis(int64_t ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}
// RFC 3339 in UTC with milliseconds: "2026-11-24T10:00:00.123Z".
std::string FormatRfc3339(SystemTime t);

}  // namespace crmhub
