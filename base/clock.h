#pragma once
// Clock: the one seam through which crmhub reads time and waits for it.
//
// Retry schedules, lease expiry, token buckets and circuit breakers all take a
// Clock& so tests drive them with a ManualClock and never sleep (LevelDB's
// Env::NowMicros, Envoy's TimeSource). Waits go through it too (LevelDB's
// Env owns SleepForMicroseconds): a CondVar made on a clock times out by that
// clock, so a wait of a minute on a ManualClock ends when a test Advance()s
// it a minute, at once, and never on its own.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "base/thread_annotations.h"

namespace crmhub {

using SystemTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class CondVar;

// Thread-safe: implementations must allow every call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: what gets persisted (created_at, next_attempt_at).
  virtual SystemTime Now() const = 0;
  // Monotonic time for intervals (rate limits, timeouts). Never goes back.
  virtual std::chrono::steady_clock::time_point SteadyNow() const = 0;

 protected:
  friend class CondVar;
  // Blocks on `cv` (releasing `lock`, as condition_variable::wait does) for
  // at most `d` of this clock's time, or until notified; may wake early.
  // The default waits `d` of real time, right for clocks that follow it.
  // REQUIRES: `lock` holds the mutex of the CondVar that owns `cv`.
  virtual void Block(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                     Duration d) const {
    cv.wait_for(lock, d);
  }
  // A CondVar on this clock is made and destroyed (ManualClock wakes them
  // when it moves). REQUIRES: no CondVar's mutex is held (a CondVar is made
  // and destroyed with its owner, not inside a wait).
  virtual void AddWaiter(CondVar*) const {}
  virtual void RemoveWaiter(CondVar*) const {}
};

// A condition variable whose timed waits run on a Clock's time (LevelDB's
// port::CondVar, with the timeout read from the Env). Bound to one mutex,
// which every wait must hold.
// Thread-safety: as std::condition_variable. The clock must outlive it.
class CondVar {
 public:
  CondVar(const Clock& clock, std::mutex& mu) : clock_(clock), mu_(mu) { clock_.AddWaiter(this); }
  ~CondVar() { clock_.RemoveWaiter(this); }
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Waits until pred() holds or `timeout` has passed on the clock; returns
  // pred() (false: timed out). A timeout <= 0 only evaluates pred().
  // REQUIRES: `lock` holds the mutex given to the constructor.
  template <typename Pred>
  bool WaitFor(std::unique_lock<std::mutex>& lock, Duration timeout, Pred pred) {
    return WaitUntil(lock, clock_.SteadyNow() + timeout, std::move(pred));
  }
  template <typename Pred>
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::chrono::steady_clock::time_point deadline,
                 Pred pred) {
    while (!pred()) {
      const auto now = clock_.SteadyNow();
      if (now >= deadline) return pred();
      clock_.Block(cv_, lock, deadline - now);
    }
    return true;
  }
  void NotifyAll() { cv_.notify_all(); }
  void NotifyOne() { cv_.notify_one(); }

 private:
  friend class ManualClock;
  // The clock moved: every waiter re-reads it. Taking the mutex first means
  // a waiter between its check and its wait cannot miss the wake-up.
  void ClockMoved() {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

  const Clock& clock_;
  std::mutex& mu_;
  std::condition_variable cv_;
};

class SystemClock final : public Clock {
 public:
  SystemTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to. Both readings advance together.
// A wait on it never ends by real time passing: only a notify or an
// Advance() past its deadline ends it, so a test decides when it does.
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
  // Moves both readings and wakes every CondVar made on this clock, so that
  // waits whose deadline passed return.
  // REQUIRES: the caller holds no CondVar's mutex (it takes each in turn).
  void Advance(Duration d);

  // How many threads are blocked in a wait on a CondVar of this clock.
  int Waiting() const;
  // Until at least `n` threads are blocked in such a wait, or `timeout` of
  // real time passed (a test's guard, not a clock wait); returns whether
  // they are. A test parks a worker this way before it advances past the
  // worker's deadline.
  bool AwaitWaiting(int n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 protected:
  void Block(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
             Duration d) const override;
  void AddWaiter(CondVar* w) const override;
  void RemoveWaiter(CondVar* w) const override;

 private:
  std::atomic<int64_t> offset_ns_;
  SystemTime wall_start_;
  // Lock order: waiters_mu_, then a CondVar's mutex (Advance). blocked_mu_
  // is taken under a CondVar's mutex and never with waiters_mu_.
  mutable std::mutex waiters_mu_;
  mutable std::set<CondVar*> waiters_ GUARDED_BY(waiters_mu_);
  mutable std::mutex blocked_mu_;
  mutable std::condition_variable blocked_cv_;
  mutable int blocked_ GUARDED_BY(blocked_mu_) = 0;
};

// Milliseconds since the Unix epoch: the persisted form of a SystemTime.
inline int64_t ToUnixMillis(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline SystemTime FromUnixMillis(int64_t ms) { return SystemTime(std::chrono::milliseconds(ms)); }
// RFC 3339 in UTC with milliseconds: "2026-11-24T10:00:00.123Z".
std::string FormatRfc3339(SystemTime t);

}  // namespace crmhub
