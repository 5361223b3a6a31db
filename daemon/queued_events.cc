#include "daemon/queued_events.h"

#include <algorithm>
#include <type_traits>
#include <utility>

namespace crmhub::daemon {

// An event's headers are queued as they are, without a copy per header.
static_assert(std::is_same_v<adapters::Headers, queue::Headers>);

queue::NewMessage ToNewMessage(adapters::InboundEvent event, const std::string& lane,
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

bool IsHint(const queue::Message& message) {
  return adapters::HeaderValue(message.headers, kResolveHeader) == "1";
}

namespace {

// The attempt an adapter is told: above 1 whenever an earlier delivery was
// tried. Message::attempts alone is not that: a throttled retry gives back
// the delivery its lease counted (queue.h), yet that delivery may have sent
// a write before it was throttled (a status write refused, then its re-read
// throttled: told "first attempt" again, the adapter would send the refused
// write once more). Every retry, throttled or not, records its reason in
// last_error (both engines; the queue conformance test checks it), so a
// message with a last error was delivered before.
int AttemptOf(const queue::Message& message) {
  const int counted = std::max(1, message.attempts);
  return counted == 1 && !message.last_error.empty() ? 2 : counted;
}

}  // namespace

adapters::Command ToCommand(const queue::Message& message) {
  return {.name = std::string(adapters::HeaderValue(message.headers, kCommandHeader)),
          .payload = message.payload,
          .key = message.idempotency_key,
          .attempt = AttemptOf(message)};
}

adapters::Hint ToHint(const queue::Message& message) {
  adapters::Hint hint{.key = message.idempotency_key,
                      .kind = std::string(adapters::HeaderValue(message.headers, kKindHeader)),
                      .headers = {},
                      .payload = message.payload,
                      .attempt = AttemptOf(message)};
  for (const auto& header : message.headers) {
    if (header.first != kKindHeader && header.first != kResolveHeader)
      hint.headers.push_back(header);
  }
  return hint;
}

}  // namespace crmhub::daemon
