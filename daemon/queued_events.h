#pragma once
// Between the adapters' types and the queue's: an adapter's InboundEvent
// becomes a queue::NewMessage here, and a leased message becomes the
// Command a target delivers or the Hint a webhook resolves. Adapters never
// see a queue::Message (its ids, leases and lanes are one engine's
// bookkeeping; the Kafka engine has others).
//
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "adapters/adapter.h"
#include "queue/queue.h"

namespace crmhub::daemon {

// Header names the runtime writes on queued inbound events.
inline constexpr std::string_view kKindHeader = "kind";
inline constexpr std::string_view kResolveHeader = "crmhub-resolve";
// The header an outbound command's name travels in.
inline constexpr std::string_view kCommandHeader = "command";

// The queue message for `event` in `lane` (source: the adapter id), with its
// kind and resolve mark as headers.
queue::NewMessage ToNewMessage(adapters::InboundEvent event, const std::string& lane,
                               const std::string& source);

// True when the message was queued as a hint (InboundEvent::resolve).
bool IsHint(const queue::Message& message);

// What the adapter is handed for a leased outbound message / hint.
adapters::Command ToCommand(const queue::Message& message);
adapters::Hint ToHint(const queue::Message& message);

}  // namespace crmhub::daemon
