#include "net/upstream.h"

#include <cmath>
#include <map>

namespace crmhub::net {

Upstream::Upstream(std::string name, HttpClient& client, const Clock& clock,
                   UpstreamOptions options, MetricsRegistry* metrics)
    : name_(std::move(name)),
      client_(client),
      clock_(clock),
      options_(options),
      metrics_(metrics),
      bucket_(clock, options.rate_limit),
      breaker_(clock, options.breaker) {
  if (metrics_) {
    throttled_ = &metrics_->GetCounter(
        "crmhub_upstream_throttled_total",
        "Requests throttled: the upstream answered 429, or our rate limiter delayed them.",
        {{"upstream", name_}});
    circuit_open_ = &metrics_->GetGauge("crmhub_circuit_open",
                                        "1 while the upstream's circuit breaker is open.",
                                        {{"upstream", name_}});
  }
}

void Upstream::UpdateCircuitGauge() {
  if (circuit_open_) {
    circuit_open_->Set(breaker_.state() == CircuitBreaker::State::kOpen ? 1 : 0);
  }
}

OutboundResult Upstream::Call(OutboundRequest request) {
  std::optional<Duration> waited = bucket_.Acquire(options_.max_wait);
  if (!waited) {
    if (throttled_) throttled_->Inc();
    TokenBucket::TryResult next = bucket_.TryAcquire();
    if (next.acquired) {
      // A token came free meanwhile; go ahead with it.
    } else {
      auto seconds =
          static_cast<int64_t>(std::ceil(std::chrono::duration<double>(next.wait).count()));
      OutboundResponse local;
      local.status = 429;
      local.headers.Set("Retry-After", std::to_string(std::max<int64_t>(seconds, 1)));
      local.headers.Set("X-Crmhub-Local", "rate-limit");
      local.body = "local rate limit for upstream " + name_;
      return local;
    }
  } else if (*waited > Duration(0) && throttled_) {
    throttled_->Inc();
  }

  if (!breaker_.Allow()) {
    UpdateCircuitGauge();
    auto retry_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(breaker_.RetryAfter()).count();
    return Status::Unavailable("circuit open for upstream " + name_ + "; next probe in " +
                               std::to_string(retry_ms) + "ms");
  }

  OutboundResult result = client_.SendBlocking(std::move(request));

  std::string code = "error";
  bool failure = true;
  if (result.ok()) {
    int status = result->status;
    code = std::to_string(status);
    failure = status == 408 || status >= 500;
    if (status == 429) {
      if (throttled_) throttled_->Inc();
      if (auto h = result->headers.Get("Retry-After")) {
        SystemTime now = clock_.Now();
        if (auto at = ParseRetryAfter(*h, now)) {
          bucket_.PauseUntil(clock_.SteadyNow() + (*at - now));
        }
      }
    }
  } else {
    // Only transport failures say the upstream is unwell; kInternal (our own
    // misuse) and kResourceExhausted (an answer over our size cap) do not.
    StatusCode c = result.status().code();
    failure = c == StatusCode::kUnavailable || c == StatusCode::kDeadlineExceeded;
  }
  if (failure) {
    breaker_.RecordFailure();
  } else {
    breaker_.RecordSuccess();
  }
  if (metrics_) {
    metrics_
        ->GetCounter("crmhub_upstream_requests_total",
                     "Requests sent to upstream APIs, by HTTP status or \"error\".",
                     {{"upstream", name_}, {"code", code}})
        .Inc();
  }
  UpdateCircuitGauge();
  return result;
}

Transport MakeUpstreamTransport(
    const std::string& prefix, HttpClient* http, const Clock& clock, MetricsRegistry* metrics,
    const std::vector<std::pair<std::string, UpstreamOptions>>& groups) {
  if (http == nullptr) {
    return [](std::string_view, OutboundRequest) -> OutboundResult {
      return Status::FailedPrecondition("no HTTP client (check-config)");
    };
  }
  auto upstreams =
      std::make_shared<std::map<std::string, std::unique_ptr<Upstream>, std::less<>>>();
  for (const auto& [group, options] : groups) {
    std::string name = group.empty() ? prefix : prefix + ":" + group;
    upstreams->emplace(group,
                       std::make_unique<Upstream>(std::move(name), *http, clock, options, metrics));
  }
  return [upstreams](std::string_view group, OutboundRequest request) -> OutboundResult {
    auto it = upstreams->find(group);
    if (it == upstreams->end()) {
      return Status::Internal("no upstream for API group \"" + std::string(group) + "\"");
    }
    return it->second->Call(std::move(request));
  };
}

}  // namespace crmhub::net
