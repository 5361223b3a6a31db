#pragma once
// IntakeHandler: POST /hooks/{adapter_id}[/{sub_path}].
//
// Order of checks (each refusal is a JSON {"error","detail"} answer):
//   404 unknown adapter (or one without a webhook capability), or a
//       sub-path the adapter does not serve (WebhookCapability::ServesPath)
//   405 a method the adapter does not serve (POST unless it says otherwise)
//   413 body above the adapter's max_body
//   400 body nested deeper than [http] max_json_depth
//   503 + Retry-After: queue unhealthy, or Depth() >= high water
//   401/403/400 from the adapter's HandleWebhook (signature, IP, parse, key)
//       A 401/403 also writes a warning (at most 10 a minute per adapter)
//       with the fields adapter, peer, check (the adapter's own reason,
//       which the client is not told) and reason (the metric's).
// then the events are enqueued durably (lane in.<id>, source <id>) and only
// once the queue reports them durable the adapter's `accepted` answer is sent.
// The enqueue never blocks the I/O thread: a queue whose writer is behind
// (its pending bound in rows or bytes reached) answers kResourceExhausted at
// once, which is 503 + Retry-After (reason overloaded) with nothing written.
// A duplicate gets the same answer and enqueues nothing (queue dedup by
// (source, idempotency key), also across concurrent requests).
//
// Metrics, by adapter:
//   crmhub_events_received_total{adapter}   events answered 2xx (new + duplicate); pulls
//     and commands count theirs in it too (daemon/event_counters.h)
//   crmhub_events_duplicate_total{adapter}  of those, duplicates
//   crmhub_events_rejected_total{adapter,reason}  refused requests; reason is
//     one of unauthenticated, forbidden, malformed, too_large, unavailable,
//     overloaded, method, internal
//
// Thread-safety: Handle() may run concurrently on several threads.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/log_rate_limit.h"
#include "base/thread_annotations.h"
#include "daemon/event_counters.h"
#include "daemon/http_routes.h"

namespace crmhub::daemon {

class IntakeHandler {
 public:
  // `deps` and `options` must outlive the handler.
  IntakeHandler(const HttpRoutesDeps& deps, const HttpRoutesOptions& options);

  void Handle(std::string_view adapter_id, net::HttpRequest request, net::Responder respond);

  // The adapter's max body (for HttpServerOptions::body_limit_for), or 0
  // when `adapter_id` names no webhook adapter.
  uint64_t BodyLimit(std::string_view adapter_id) const;

 private:
  EventCounters& MetricsFor(const std::string& adapter_id);
  void Reject(const std::string& adapter_id, std::string_view reason, net::HttpResponse response,
              const net::Responder& respond);
  net::HttpResponse Unavailable(std::string_view detail) const;

  const HttpRoutesDeps& deps_;
  const HttpRoutesOptions& options_;
  std::mutex mu_;
  std::unordered_map<std::string, EventCounters> metrics_ GUARDED_BY(mu_);
  // Refused signatures and senders: a few log lines a minute per adapter.
  LogRateLimit refusal_log_{*deps_.clock, 10, std::chrono::minutes(1)};
};

}  // namespace crmhub::daemon
