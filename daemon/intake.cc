#include "daemon/intake.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

#include "adapters/adapter.h"
#include "base/json_get.h"
#include "base/log_fields.h"
#include "daemon/queued_events.h"

namespace crmhub::daemon {
namespace {

// A refusal from HandleWebhook: the status the issue documents, and the
// metric reason. The adapter's message is the client-facing detail for 400
// (why the body is malformed); for 401/403 the detail stays generic so a
// prober learns nothing about which check failed.
struct Refusal {
  int http_status;
  std::string_view error;
  std::string_view reason;
  bool pass_detail;
};

Refusal RefusalFor(StatusCode code) {
  switch (code) {
    case StatusCode::kUnauthenticated:
      return {401, "unauthorized", "unauthenticated", false};
    case StatusCode::kPermissionDenied:
      return {403, "forbidden", "forbidden", false};
    case StatusCode::kInvalidArgument:
      return {400, "bad_request", "malformed", true};
    case StatusCode::kResourceExhausted:
      return {413, "payload_too_large", "too_large", false};
    default:
      return {500, "internal", "internal", false};
  }
}

}  // namespace

IntakeHandler::IntakeHandler(const HttpRoutesDeps& deps, const HttpRoutesOptions& options)
    : deps_(deps), options_(options) {}

EventCounters& IntakeHandler::MetricsFor(const std::string& adapter_id) {
  std::lock_guard lock(mu_);
  auto it = metrics_.find(adapter_id);
  if (it != metrics_.end()) return it->second;
  return metrics_.emplace(adapter_id, EventCountersFor(*deps_.metrics, adapter_id)).first->second;
}

void IntakeHandler::Reject(const std::string& adapter_id, std::string_view reason,
                           net::HttpResponse response, const net::Responder& respond) {
  if (deps_.health != nullptr) {
    if (auto h = deps_.health->Find(adapter_id)) {
      h->Error(Capability::kPush, fmt::format("refused {} ({})", response.status, reason));
    }
  }
  deps_.metrics
      ->GetCounter("crmhub_events_rejected_total", "Webhook requests refused, by reason",
                   {{"adapter", adapter_id}, {"reason", std::string(reason)}})
      .Inc();
  respond(std::move(response));
}

net::HttpResponse IntakeHandler::Unavailable(std::string_view detail) const {
  auto r = net::HttpResponse::Error(503, "unavailable", detail);
  r.headers.Set("Retry-After", std::to_string(options_.retry_after.count()));
  return r;
}

uint64_t IntakeHandler::BodyLimit(std::string_view adapter_id) const {
  if (!deps_.find_adapter) return 0;
  auto adapter = deps_.find_adapter(adapter_id);
  if (!adapter || !adapter->webhook()) return 0;
  return adapter->webhook()->max_body_bytes();
}

void IntakeHandler::Handle(std::string_view adapter_id_view, net::HttpRequest request,
                           net::Responder respond) {
  std::shared_ptr<adapters::Adapter> adapter;
  if (deps_.find_adapter) adapter = deps_.find_adapter(adapter_id_view);
  adapters::WebhookCapability* webhook = adapter ? adapter->webhook() : nullptr;
  if (webhook == nullptr) {
    // Not counted: the label would be whatever a prober typed.
    respond(net::HttpResponse::Error(404, "not_found", "no webhook adapter with this id"));
    return;
  }
  const std::string adapter_id(adapter_id_view);
  if (!webhook->ServesPath(adapters::WebhookSubPath(request.path, adapter_id))) {
    respond(net::HttpResponse::Error(404, "not_found", "no such webhook path for this adapter"));
    return;
  }
  if (!webhook->ServesMethod(request.method)) {
    std::string allow;
    for (const char* m : {"GET", "POST", "PUT"}) {
      if (webhook->ServesMethod(m)) allow += allow.empty() ? m : std::string(", ") + m;
    }
    auto r = net::HttpResponse::Error(405, "method_not_allowed", "use " + allow);
    r.headers.Set("Allow", allow);
    Reject(adapter_id, "method", std::move(r), respond);
    return;
  }
  if (request.body.size() > webhook->max_body_bytes()) {
    Reject(adapter_id, "too_large",
           net::HttpResponse::Error(
               413, "payload_too_large",
               fmt::format("body is larger than {} bytes", webhook->max_body_bytes())),
           respond);
    return;
  }
  // One door for every adapter: nothing nested deeper than the cap reaches
  // an adapter's parse, the queue or the mapping.
  if (!JsonDepthWithin(request.body, options_.max_json_depth)) {
    Reject(adapter_id, "malformed",
           net::HttpResponse::Error(
               400, "bad_request",
               fmt::format("body nested deeper than {} levels", options_.max_json_depth)),
           respond);
    return;
  }
  queue::Queue& q = *deps_.queue;
  if (!q.Healthy()) {
    Reject(adapter_id, "unavailable", Unavailable("event store unavailable, retry later"), respond);
    return;
  }
  if (options_.queue_high_water > 0 && q.Depth() >= options_.queue_high_water) {
    Reject(adapter_id, "overloaded", Unavailable("queue is full, retry later"), respond);
    return;
  }

  Result<adapters::WebhookResult> parsed = webhook->HandleWebhook(request);
  if (!parsed.ok()) {
    const Refusal refusal = RefusalFor(parsed.status().code());
    if (refusal.http_status == 500) {
      spdlog::error("webhook {}: adapter failed: {}", adapter_id, parsed.status().ToString());
    }
    int64_t suppressed = 0;
    if ((refusal.http_status == 401 || refusal.http_status == 403) &&
        refusal_log_.Allow(adapter_id, &suppressed)) {
      LogWithFields(spdlog::level::warn, "webhook refused",
                    {{"adapter", adapter_id},
                     {"peer", request.remote_address},
                     {"check", parsed.status().message()},
                     {"reason", std::string(refusal.reason)},
                     {"suppressed_before", std::to_string(suppressed)}});
    }
    std::string_view detail;
    if (refusal.pass_detail) detail = parsed.status().message();
    Reject(adapter_id, refusal.reason,
           net::HttpResponse::Error(refusal.http_status, refusal.error, detail), respond);
    return;
  }

  adapters::WebhookResult result = std::move(parsed).value();
  if (result.events.empty()) {  // e.g. a provider's ping
    respond(std::move(result.accepted));
    return;
  }
  std::vector<queue::NewMessage> messages;
  messages.reserve(result.events.size());
  const std::string lane = "in." + adapter_id;
  for (adapters::InboundEvent& e : result.events) {
    messages.push_back(ToNewMessage(std::move(e), lane, adapter_id));
  }
  EventCounters& metrics = MetricsFor(adapter_id);
  // The callback runs on the queue's engine thread (or here, at once, when
  // the queue refuses: it never blocks this thread): it only counts and
  // hands the prepared answer to the responder (which posts to the
  // connection).
  q.EnqueueAsync(
      std::move(messages),
      [this, adapter_id, metrics, accepted = std::move(result.accepted),
       respond = std::move(respond)](Result<std::vector<queue::EnqueueOutcome>> outcome) mutable {
        if (!outcome.ok()) {
          // Nothing of the batch was written (all or nothing): the sender's
          // retry after Retry-After is the whole answer.
          if (outcome.status().code() == StatusCode::kResourceExhausted) {
            Reject(adapter_id, "overloaded", Unavailable("queue is full, retry later"), respond);
            return;
          }
          spdlog::warn("webhook {}: enqueue failed: {}", adapter_id, outcome.status().ToString());
          Reject(adapter_id, "unavailable", Unavailable("event store unavailable, retry later"),
                 respond);
          return;
        }
        for (queue::EnqueueOutcome o : *outcome) {
          metrics.received->Inc();
          if (o == queue::EnqueueOutcome::kDuplicate) metrics.duplicate->Inc();
        }
        if (deps_.health != nullptr) {
          if (auto h = deps_.health->Find(adapter_id)) h->Success(Capability::kPush);
        }
        respond(std::move(accepted));
      });
}

}  // namespace crmhub::daemon
