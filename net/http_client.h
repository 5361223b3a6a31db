#pragma once
// HttpClient: outbound HTTP(S) for adapters and the CRM REST sink, libcurl's
// multi interface driven by Asio sockets (curl_multi_socket_action), so
// thousands of requests share the daemon's event loop and connections are
// reused. TLS peers are always verified.
//
// Every answer is classified the way the queue understands (Fluent Bit's
// out_http): 2xx ok; 408, 429, 5xx and network errors retryable, honouring
// Retry-After; other 4xx permanent. Adapters may override per response.

// clang-format off: <utility> must come before awaitable.hpp (Boost 1.74
// uses std::exchange without including it), which sorting would undo.
#include <utility>
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/delivery.h"
#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::net {

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};  // whole transfer
  std::string ca_bundle;  // empty: the system's default store
  std::string proxy;      // empty: none (libcurl's env vars are ignored)
  uint64_t max_response_bytes = 64 * 1024 * 1024;
  std::string user_agent = "crmhub";
};

struct OutboundRequest {
  std::string method = "GET";
  std::string url;  // absolute: "https://api-seller.ozon.ru/v3/posting/fbs/list"
  HeaderMap headers;
  std::string body;
  // Per-request override of options.request_timeout.
  std::optional<std::chrono::milliseconds> timeout;
};

struct OutboundResponse {
  int status = 0;  // 0 when no HTTP answer was received
  HeaderMap headers;
  std::string body;
  std::chrono::microseconds elapsed{0};
};

// The result of one exchange: either a response (any status) or a transport
// failure (DNS, connect, TLS, timeout, reset), as a non-OK Status with
// kUnavailable or kDeadlineExceeded. A response larger than
// max_response_bytes is kResourceExhausted (classified kFail: it will be as
// large next time). Redirects are not followed (a 3xx is returned as is).
using OutboundResult = Result<OutboundResponse>;

// Default classification of an exchange, see the header comment. `now` turns
// a Retry-After of seconds or an HTTP-date into an absolute time.
DeliveryOutcome ClassifyResponse(const OutboundResult& result, SystemTime now);
// Parses Retry-After (delta-seconds or IMF-fixdate) into an absolute time.
std::optional<SystemTime> ParseRetryAfter(std::string_view value, SystemTime now);

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one exchange; completes on the io_context.
  // With GCC 12, pass a named request (`co_await client.Send(std::move(req))`)
  // rather than a temporary built inside the co_await expression: GCC may
  // destroy such temporaries twice (PR 100611).
  boost::asio::awaitable<OutboundResult> Send(OutboundRequest request);

  // Callback form of Send, for code that is not a coroutine. `done` runs on
  // the io_context.
  void SendAsync(OutboundRequest request, std::function<void(OutboundResult)> done);

  // Blocking facade for worker threads (delivery workers, pull loops): posts
  // the exchange to the io_context and waits for it.
  // REQUIRES: the io_context is being run by other threads, and the caller is
  // not one of them (that would deadlock; it is detected and answered with
  // kInternal instead).
  OutboundResult SendBlocking(OutboundRequest request);

  size_t in_flight() const;

 private:
  struct Impl;
  friend struct SendInitiation;
  std::shared_ptr<Impl> impl_;
};

}  // namespace crmhub::net
