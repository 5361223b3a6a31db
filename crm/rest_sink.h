#pragma once
// RestCrmSink: delivers canonical entities to a CRM core's REST API, the
// contract in docs/crm-core-api.yaml:
//
//   PUT {base_url}/v1/entities/{kind}/{source}/{external_id}
//   Authorization: Bearer <token>
//   Idempotency-Key: <event idempotency key>/<entity index>
//   {"kind":..,"source":..,"external_id":..,"version":..,"fields":{..},
//    "meta":{"message_id":..,"received_at":"RFC 3339"}}
//
// An event's entities are sent one after another, in order; the event's
// outcome is the first non-OK entity's (later entities are not sent), so a
// retried event re-sends its earlier entities, which the server answers as
// duplicates by their Idempotency-Key. Different events of one batch are
// sent concurrently (up to max_in_flight): the queue leases at most one
// message per ordering key, so they never touch the same entity in a way
// where order matters.
//
// Classification is net::ClassifyResponse's (2xx ok; 408/429/5xx/network
// retry, honouring Retry-After; other 4xx fail = dead letter with the
// server's `detail`), except 401 and 403: a wrong or expired token is a
// configuration problem, not the message's, so those are retried (the
// queue's max_attempts/max_age still bound them) instead of dead-lettering
// every message.
//
// Thread-safety: Apply may be called from several worker threads at once.
// REQUIRES: the HttpClient's io_context is run by other threads than the
// callers of Apply (Apply blocks until every exchange completes).

#include <chrono>
#include <string>

#include "base/clock.h"
#include "base/secret.h"
#include "crm/sink.h"
#include "net/http_client.h"

namespace crmhub::crm {

struct RestSinkOptions {
  // "https://crm.example.com/api": the API's paths are appended to it.
  std::string base_url;
  Secret token;  // sent as "Authorization: Bearer <token>"
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per request
  int max_in_flight = 16;  // events of one Apply sent concurrently
};

// "ord/1" stays readable: bytes outside visible ASCII (and '%') are
// percent-encoded so any idempotency key is a valid header value.
std::string IdempotencyKeyHeader(std::string_view event_key, size_t entity_index);
// Percent-encodes one path segment (RFC 3986 unreserved kept).
std::string EncodePathSegment(std::string_view segment);
// The PUT/GET URL of an entity.
std::string EntityUrl(std::string_view base_url, const model::Entity& entity);

class RestCrmSink final : public CrmSink {
 public:
  // `client` and `clock` must outlive the sink.
  RestCrmSink(net::HttpClient& client, Clock& clock, RestSinkOptions options);

  std::vector<DeliveryOutcome> Apply(const std::vector<SinkEvent>& events) override;
  std::string_view name() const override { return "http"; }

  // The request for entity `index` of `event` (exposed for tests and docs).
  net::OutboundRequest BuildRequest(const SinkEvent& event, size_t index) const;
  // The outcome of one exchange (exposed for tests).
  DeliveryOutcome Classify(const net::OutboundResult& result, const SinkEvent& event,
                           size_t index) const;

 private:
  class Batch;
  net::HttpClient& client_;
  Clock& clock_;
  const RestSinkOptions options_;
};

}  // namespace crmhub::crm
