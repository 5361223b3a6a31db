#include "adapters/ozon/rate_limiter.h"

namespace crmhub::adapters::ozon {

std::optional<std::chrono::milliseconds> WindowLimiter::TryAcquire() {
  if (limit_ <= 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_.SteadyNow();
  while (!sent_.empty() && now - sent_.front() >= window_) sent_.pop_front();
  if (static_cast<int64_t>(sent_.size()) < limit_) {
    sent_.push_back(now);
    return std::nullopt;
  }
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(sent_.front() + window_ - now);
  return wait.count() > 0 ? wait : std::chrono::milliseconds(1);
}

}  // namespace crmhub::adapters::ozon
