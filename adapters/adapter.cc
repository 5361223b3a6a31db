// The few functions of adapters/adapter.h that are not interface.

#include "adapters/adapter.h"

namespace crmhub::adapters {

queue::NewMessage ToNewMessage(InboundEvent event, const std::string& lane,
                               const std::string& source) {
  queue::NewMessage m;
  m.lane = lane;
  m.source = source;
  m.idempotency_key = std::move(event.idempotency_key);
  m.ordering_key = std::move(event.ordering_key);
  m.headers.reserve(event.headers.size() + 2);
  if (!event.kind.empty()) m.headers.emplace_back(std::string(kKindHeader), std::move(event.kind));
  if (event.resolve) m.headers.emplace_back(std::string(kResolveHeader), "1");
  for (auto& header : event.headers) m.headers.push_back(std::move(header));
  m.payload = std::move(event.payload);
  return m;
}

std::string_view HeaderValue(const queue::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

bool IsHint(const queue::Message& message) {
  return HeaderValue(message.headers, kResolveHeader) == "1";
}

ResolveResult WebhookCapability::Resolve(const queue::Message&) {
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
