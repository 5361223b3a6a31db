#pragma once
// InboundEvent: a record from the outside world, before it is queued.
//
// The adapters' unit of input (a pulled order, a webhook's notification),
// and also what a delivered command can bring back (DeliveryOutcome::
// learned): so it lives here, below both the adapter API and the outcomes.

#include <string>
#include <utility>
#include <vector>

namespace crmhub {

struct InboundEvent {
  std::string idempotency_key;  // the system's own identity (+ status etc.)
  std::string ordering_key;     // e.g. the order id, so its changes stay ordered
  std::string kind;             // "order", "payment", ...: queued as header "kind"
  // More, e.g. {"ozon_status", "delivered"} (the same type as queue::Headers:
  // the runtime queues them as they are).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload;  // the raw record (JSON text, XML, ...)
  // A hint, not a record: the adapter's WebhookCapability::Resolve turns it
  // into the records it names on a delivery worker, before any mapping.
  bool resolve = false;
};

}  // namespace crmhub
