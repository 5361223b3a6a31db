#pragma once
// ApiClient: the outbound call layer every adapter uses to talk to an
// outside system's REST API, and ApiError, the one vocabulary for what went
// wrong.
//
// A call is: the system's limits (RateLimiters, in order; a refusal is
// answered at once, nothing is sent) -> one HTTP exchange through the
// Transport (net::Upstream in the daemon: breaker, metrics, request-rate
// bucket) -> classification:
//
//   2xx                          ok (the body parsed as JSON when asked for,
//                                depth-capped; unreadable: kTransient)
//   429, the dialect's throttle  kThrottled; not_before from the dialect's
//   statuses (Yandex Market 420) throttle headers (Retry-After, X-Ratelimit-
//                                Retry, X-RateLimit-Resource-Until, ...),
//                                else the dialect's default pause
//   408, 5xx, transport failure  kTransient (5xx honours the throttle headers)
//   401, 403                     kAuth
//   404                          kNotFound
//   other 4xx, 1xx, 3xx          kRejected
//
// Each system states its differences once, as an ApiDialect (its error
// body's text, its throttle headers and statuses, what an answer costs).
// What the caller does with an error is decided here too, so that every
// adapter agrees: ToOutcome() for a target's Deliver (throttled, transient
// and auth retry -- an expired token is the config's fault, not the
// command's; not found and rejected fail), ToStatus() for a source's Pull.
//
// Thread-safe: Call may run on several worker threads at once. Blocking:
// one HTTP exchange (the Transport).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/delivery.h"
#include "base/metrics.h"
#include "base/status.h"
#include "net/http_client.h"
#include "net/rate_limiter.h"

namespace crmhub::net {

struct ApiError {
  enum class Kind {
    kThrottled,  // the system's 429/420, or our own limiter refused: come back at not_before
    kTransient,  // transport failure, timeout, 408, 5xx, an unreadable 2xx: retry with backoff
    kAuth,       // 401/403: the credentials or their scope
    kNotFound,   // 404
    kRejected,   // any other 4xx: this request is wrong; the same again cannot help
  };
  Kind kind = Kind::kTransient;
  int http_status = 0;  // 0: no answer (transport failure, local limit)
  // "<system>: POST /v2/products/stocks: HTTP 400: <the system's own text>".
  std::string message;
  std::optional<SystemTime> not_before;
  // The error answer's body as sent (per-item errors of a 409, ...).
  std::string body;

  bool retryable() const { return kind == Kind::kThrottled || kind == Kind::kTransient; }
  // For a target's Deliver: throttled -> Throttled (a retry that is not
  // counted as an attempt); transient, auth -> Retry (at not_before); not
  // found, rejected -> Fail.
  DeliveryOutcome ToOutcome() const;
  // For a source's Pull: kResourceExhausted (throttled), kUnavailable
  // (transient), kUnauthenticated, kNotFound, kInvalidArgument.
  Status ToStatus() const;
};
std::string_view ApiErrorKindName(ApiError::Kind kind);  // "throttled", ...

// A value or the ApiError that prevented it.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // REQUIRES: !ok()
  const ApiError& error() const { return std::get<ApiError>(v_); }
  ApiError& error() { return std::get<ApiError>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

// How one system differs from the defaults above.
struct ApiDialect {
  std::string system;  // "ozon": the prefix of every message
  // Statuses that mean "throttled" besides 429.
  std::vector<int> throttle_statuses;
  struct ThrottleHeader {
    enum class Format {
      kRetryAfter,  // delta-seconds or an HTTP-date (RFC 9110 Retry-After)
      kSeconds,     // delta-seconds only
      kHttpDate,    // an HTTP-date (RFC 1123/850/asctime)
    };
    std::string name;
    Format format = Format::kRetryAfter;
  };
  // Where a throttled (or 5xx) answer says when to come back, tried in order.
  std::vector<ThrottleHeader> throttle_headers = {{"Retry-After"}};
  // When a throttled answer names no time: this pause (unset: the queue's
  // or the pull loop's backoff decides).
  std::optional<Duration> throttle_pause;
  // The system's own text from an error answer's parsed body (its error
  // shape); empty when it has none. Unset: the first non-empty string of
  // "message", "detail", "description", "errorText", "title", "error".
  std::function<std::string(const nlohmann::json& body)> error_text;
  // Units an answer costs beyond the one the limiters already took
  // (Wildberries: a 409 counts as 10 requests -> 9); billed to every limiter
  // of the request with Charge().
  std::function<int64_t(int status)> extra_cost;
};

// One blocking exchange: net::Upstream::Call (see UpstreamSet) in the
// daemon, any function in tests. `group` names the API group whose upstream
// carries it ("orders", "offers"; "" when a system has one).
using Transport = std::function<OutboundResult(std::string_view group, OutboundRequest request)>;

struct ApiRequest {
  std::string method = "GET";
  std::string url;  // absolute
  std::string body;
  std::string group;  // see Transport
  // Limits this request spends, checked in this order before sending, with
  // their weight (items, for a per-item budget). A refusal by a later one
  // does not give back what an earlier one took: we only ever under-use.
  std::vector<std::pair<RateLimiter*, int64_t>> limits;
  enum class Expect { kJson, kAny };
  Expect expect = Expect::kJson;  // kJson: a 2xx body must be a JSON document
  HeaderMap headers;              // besides ApiClientOptions::headers
};

struct ApiAnswer {
  int status = 0;  // 2xx
  HeaderMap headers;
  std::string body;
  nlohmann::json json;  // the parsed body for Expect::kJson (null for an empty 204)
};

struct ApiClientOptions {
  ApiDialect dialect;
  // Sent with every request: the system's auth headers (Api-Key, Client-Id,
  // Authorization), Accept. Content-Type: application/json is added to a
  // request with a body unless it names its own.
  HeaderMap headers;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // per exchange
  int max_json_depth = 64;
  // Counts our own limiters' refusals (the upstream's 429s are counted by
  // net::Upstream); may be null.
  Counter* throttled = nullptr;
};

class ApiClient {
 public:
  ApiClient(ApiClientOptions options, Transport transport, const Clock& clock);

  ApiResult<ApiAnswer> Call(ApiRequest request) const;

  // The classification alone (exposed for tests and for answers obtained
  // elsewhere): `path` names the call in messages.
  ApiResult<ApiAnswer> Classify(std::string_view method, std::string_view path,
                                OutboundResult result, ApiRequest::Expect expect) const;

  const ApiDialect& dialect() const { return options_.dialect; }
  const Clock& clock() const { return clock_; }

 private:
  std::optional<SystemTime> ThrottleUntil(const HeaderMap& headers, SystemTime now) const;
  std::string ErrorText(std::string_view body) const;

  ApiClientOptions options_;
  Transport transport_;
  const Clock& clock_;
};

// The path of an absolute URL, without the query ("https://h/a/b?x" -> "/a/b").
std::string_view UrlPath(std::string_view url);
// RFC 3986 percent-encoding of a query value (unreserved characters kept).
std::string UrlEncode(std::string_view value);

}  // namespace crmhub::net
