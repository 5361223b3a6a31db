// The few functions of adapters/adapter.h that are not interface.

#include "adapters/adapter.h"

namespace crmhub::adapters {

std::string_view HeaderValue(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

ResolveResult WebhookCapability::Resolve(const Hint&) {
  return {DeliveryOutcome::Fail("this adapter has no resolve step for hints"), {}};
}

std::string_view WebhookSubPath(std::string_view path, std::string_view adapter_id) {
  constexpr std::string_view kHooks = "/hooks/";
  if (path.substr(0, kHooks.size()) != kHooks) return {};
  path.remove_prefix(kHooks.size());
  if (path.substr(0, adapter_id.size()) != adapter_id) return {};
  path.remove_prefix(adapter_id.size());
  if (path.empty() || path.front() != '/') return {};
  path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace crmhub::adapters
