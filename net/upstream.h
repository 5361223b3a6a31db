#pragma once
// Upstream: one outside API as adapters see it — the shared HttpClient plus
// this API's rate limit, circuit breaker and metrics. Call() is the blocking
// entry point for adapter worker threads.
//
// Metrics (when a registry is given):
//   crmhub_upstream_requests_total{upstream,code}  one per exchange that went
//       out; code is the HTTP status ("200", "429") or "error" for a
//       transport failure (timeout, reset, DNS, TLS).
//   crmhub_upstream_throttled_total{upstream}  counts both kinds of
//       throttling: the upstream answered 429, or our own limiter made the
//       caller wait (or turned it away) before sending.
//   crmhub_circuit_open{upstream}  1 while the breaker is open, else 0.
//
// Thread-safe; Call may run on many worker threads at once.

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "net/api_client.h"
#include "net/circuit_breaker.h"
#include "net/http_client.h"
#include "net/rate_limiter.h"

namespace crmhub::net {

struct UpstreamOptions {
  RateLimit rate_limit = RateLimit::Unlimited();
  CircuitBreakerOptions breaker;
  // Longest a caller blocks for a token. Beyond it Call() answers at once
  // with a local 429 whose Retry-After says when a token is due, so the
  // queue reschedules the message instead of parking a worker thread.
  Duration max_wait = std::chrono::seconds(10);
};

class Upstream {
 public:
  Upstream(std::string name, HttpClient& client, const Clock& clock, UpstreamOptions options,
           MetricsRegistry* metrics = nullptr);

  // Waits for a token, then sends. Outcomes besides the exchange's own:
  //  - breaker open: kUnavailable "circuit open ..." without sending;
  //  - token not due within max_wait: a synthesized 429 response with
  //    Retry-After and header "X-Crmhub-Local: rate-limit" (not sent).
  // An upstream's 429 with Retry-After pauses this upstream's bucket until
  // then. Transport errors, 408 and 5xx count as breaker failures; any other
  // answer (including 4xx and 429) means the upstream is alive.
  // REQUIRES: not called on an io_context thread (it blocks).
  OutboundResult Call(OutboundRequest request);

  const std::string& name() const { return name_; }
  TokenBucket& bucket() { return bucket_; }
  CircuitBreaker& breaker() { return breaker_; }

 private:
  void UpdateCircuitGauge();

  const std::string name_;
  HttpClient& client_;
  const Clock& clock_;
  const UpstreamOptions options_;
  MetricsRegistry* metrics_;
  TokenBucket bucket_;
  CircuitBreaker breaker_;
  Counter* throttled_ = nullptr;
  Gauge* circuit_open_ = nullptr;
};

// An ApiClient Transport over the upstreams of one account, one per API
// group, each with its own breaker, metrics and request-rate bucket: named
// "<prefix>:<group>" ("yandex-market:ym-main:orders"), or "<prefix>" for the
// group "". A group not in `groups` is an internal error. `http` null (as in
// `check-config`): every call fails with FailedPrecondition, nothing is sent.
// The returned function owns the upstreams.
Transport MakeUpstreamTransport(const std::string& prefix, HttpClient* http, const Clock& clock,
                                MetricsRegistry* metrics,
                                const std::vector<std::pair<std::string, UpstreamOptions>>& groups);

}  // namespace crmhub::net
