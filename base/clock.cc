#include "base/clock.h"

#include <fmt/format.h>

#include <ctime>

namespace crmhub {

void ManualClock::Advance(Duration d) {
  offset_ns_ += d.count();
  std::lock_guard lock(waiters_mu_);
  for (CondVar* w : waiters_) w->ClockMoved();
}

void ManualClock::Block(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                        Duration /*d: only Advance or a notify ends it*/) const {
  {
    std::lock_guard count(blocked_mu_);
    ++blocked_;
  }
  blocked_cv_.notify_all();
  cv.wait(lock);
  std::lock_guard count(blocked_mu_);
  --blocked_;
}

void ManualClock::AddWaiter(CondVar* w) const {
  std::lock_guard lock(waiters_mu_);
  waiters_.insert(w);
}

void ManualClock::RemoveWaiter(CondVar* w) const {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(w);
}

int ManualClock::Waiting() const {
  std::lock_guard lock(blocked_mu_);
  return blocked_;
}

bool ManualClock::AwaitWaiting(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(blocked_mu_);
  return blocked_cv_.wait_for(lock, timeout, [&] { return blocked_ >= n; });
}

std::string FormatRfc3339(SystemTime t) {
  const int64_t ms = ToUnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace crmhub
