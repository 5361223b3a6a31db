#pragma once
// HttpServer: a Boost.Beast HTTP/1.1 server on an io_context, used by the
// daemon (webhooks, admin API, metrics), the marketplace simulators and the
// reference CRM core in tests.
//
// One strand per connection; every read has a deadline (slow-loris clients
// are cut off) and header/body limits; keep-alive; connections capped.
// Framing is strict (RFC 9112 §6.1, §6.3, §3.2): a Transfer-Encoding whose
// last coding is not "chunked", Transfer-Encoding with HTTP/1.0 or beside a
// Content-Length, and an HTTP/1.1 request without Host are answered 400 and
// the connection closed, so that no proxy in front can frame a request
// differently from us (request smuggling).
// Stop() stops accepting, lets in-flight requests finish, and closes idle
// connections; it never drops an answered-but-unsent response.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::net {

struct HttpServerOptions {
  uint32_t header_limit_bytes = 16 * 1024;
  // Default body limit; a route may raise or lower it (see BodyLimitFor).
  uint64_t body_limit_bytes = 1024 * 1024;
  // Optional per-request body limit by path (e.g. per webhook adapter);
  // gets the percent-decoded path without query (as HttpRequest::path);
  // return 0 to use body_limit_bytes. Called on connection strands, so it
  // must be thread-safe.
  std::function<uint64_t(std::string_view path)> body_limit_for;
  // Optional: called once a request's headers are in, before any body byte
  // is read; an answer it returns is sent at once and the connection closed
  // (an admin API refuses a wrong token without reading, and holding, the
  // body). Gets the method, the percent-decoded path, the headers and the
  // peer's address. Called on connection strands: thread-safe, no blocking.
  std::function<std::optional<HttpResponse>(std::string_view method, std::string_view path,
                                            const HeaderMap& headers,
                                            std::string_view remote_address)>
      screen_headers;
  std::chrono::milliseconds read_timeout{std::chrono::seconds(15)};  // whole request
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};  // keep-alive wait
  std::chrono::milliseconds write_timeout{std::chrono::seconds(15)};
  uint32_t max_connections = 1024;
  std::string server_header = "crmhub";
  // Source of the Date header; null means the system clock. Not owned.
  const Clock* clock = nullptr;
  // Counts handlers that threw (each is logged; the request is answered 500
  // unless the handler had answered). May be null. Not owned.
  Counter* handler_exceptions = nullptr;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting on "host:port" ("127.0.0.1:0" picks a free
  // port). May be called several times for several listeners.
  Status Listen(const std::string& address);
  // Port actually bound by the n-th Listen() call.
  uint16_t port(size_t listener = 0) const;

  // Stops accepting; open connections finish their current request and close.
  // Called off the io threads, it returns once the listening sockets are
  // closed (new connections are refused). Never calls io.stop().
  void Stop();
  size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace crmhub::net
