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
    if (auto it = refusals_.find(key); it != refusals_.end()) {
      it->second.refusal = std::string(refusal);
      order_.splice(order_.end(), order_, it->second.age);  // the newest now
    } else {
      order_.push_back(key);
      refusals_.emplace(std::move(key), Kept{std::string(refusal), std::prev(order_.end())});
    }
    while (refusals_.size() > capacity_) {
      refusals_.erase(order_.front());
      order_.pop_front();
    }
  }
  DeliveryOutcome retry = read_error.ToOutcome();
  retry.error =
      fmt::format("{}: {} order {}: refused: {}; its status is re-read before the dead letter: {}",
                  system, command, order_id, refusal, read_error.message);
  return retry;
}

std::optional<DeliveryOutcome> RefusedWrites::ReadFirst(std::string_view system,
                                                        std::string_view command,
                                                        std::string_view order_id,
                                                        std::string_view status, bool reached) {
  std::optional<std::string> refusal;
  {
    std::lock_guard lock(mu_);
    if (auto it = refusals_.find(Key(command, order_id)); it != refusals_.end()) {
      refusal = std::move(it->second.refusal);
      order_.erase(it->second.age);
      refusals_.erase(it);
    }
  }
  if (reached) return DeliveryOutcome::Ok();
  if (!refusal) return std::nullopt;
  return RefusedTransition(system, command, order_id, *refusal, status);
}

void RefusedWrites::Forget(std::string_view command, std::string_view order_id) {
  std::lock_guard lock(mu_);
  auto it = refusals_.find(Key(command, order_id));
  if (it == refusals_.end()) return;
  order_.erase(it->second.age);
  refusals_.erase(it);
}

size_t RefusedWrites::size() const {
  std::lock_guard lock(mu_);
  return refusals_.size();
}

}  // namespace crmhub::adapters::kit
