#include "adapters/kit/keyed_limit.h"

namespace crmhub::adapters::kit {

KeyedLimit::KeyedLimit(const Clock& clock, int64_t limit, std::chrono::milliseconds window)
    : clock_(clock), limit_(limit), window_(window) {}

std::optional<Duration> KeyedLimit::TryTake(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (windows_.size() >= prune_at_) {
    // A window holding nothing any more is the same as no window.
    std::erase_if(windows_, [&](auto& entry) { return entry.second->Available() >= limit_; });
    prune_at_ = std::max<size_t>(1024, 2 * windows_.size());
  }
  auto& window = windows_[key];
  if (!window) window = std::make_unique<net::SlidingWindow>(clock_, limit_, window_);
  return window->TryTake(1);
}

}  // namespace crmhub::adapters::kit
