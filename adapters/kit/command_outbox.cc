#include "adapters/kit/command_outbox.h"

#include <utility>

namespace crmhub::adapters::kit {

void CommandOutbox::Push(InboundEvent record) {
  std::lock_guard lock(mu_);
  records_.push_back(std::move(record));
}

std::vector<InboundEvent> CommandOutbox::Take() {
  std::lock_guard lock(mu_);
  return std::exchange(records_, {});
}

}  // namespace crmhub::adapters::kit
