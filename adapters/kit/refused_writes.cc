#include "adapters/kit/refused_writes.h"

#include <fmt/format.h>

#include "adapters/kit/order_commands.h"

namespace crmhub::adapters::kit {

std::string RefusedWrites::Key(std::string_view command, std::string_view order_id) {
  std::string key(command);
  key += '\n';
  key += order_id;
  return key;
}

DeliveryOutcome RefusedWrites::Unread(std::string_view system, std::string_view command,
                                      std::string_view order_id, std::string_view refusal,
                                      const net::ApiError& read_error) {
  if (!read_error.retryable() || capacity_ == 0) {
    return RefusedTransition(system, command, order_id, refusal, "", read_error.message);
  }
  {
    std::lock_guard lock(mu_);
    std::string key = Key(command, order_id);
    auto [it, fresh] = refusals_.insert_or_assign(key, std::string(refusal));
    if (fresh) order_.push_back(std::move(key));
    while (refusals_.size() > capacity_ && !order_.empty()) {
      refusals_.erase(order_.front());
      order_.pop_front();
    }
    // Keys taken or forgotten stay in order_ until they reach its front;
    // keep it from growing past twice the map.
    if (order_.size() > 2 * capacity_) {
      std::deque<std::string> live;
      for (std::string& k : order_) {
        if (refusals_.contains(k)) live.push_back(std::move(k));
      }
      order_ = std::move(live);
    }
  }
  DeliveryOutcome retry = read_error.ToOutcome();
  retry.error =
      fmt::format("{}: {} order {}: refused: {}; its status is re-read before the dead letter: {}",
                  system, command, order_id, refusal, read_error.message);
  return retry;
}

std::optional<DeliveryOutcome> RefusedWrites::Take(std::string_view system,
                                                   std::string_view command,
                                                   std::string_view order_id,
                                                   std::string_view status) {
  std::string refusal;
  {
    std::lock_guard lock(mu_);
    auto it = refusals_.find(Key(command, order_id));
    if (it == refusals_.end()) return std::nullopt;
    refusal = std::move(it->second);
    refusals_.erase(it);
  }
  return RefusedTransition(system, command, order_id, refusal, status);
}

void RefusedWrites::Forget(std::string_view command, std::string_view order_id) {
  std::lock_guard lock(mu_);
  refusals_.erase(Key(command, order_id));
}

size_t RefusedWrites::size() const {
  std::lock_guard lock(mu_);
  return refusals_.size();
}

}  // namespace crmhub::adapters::kit
