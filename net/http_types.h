#pragma once
// Transport-neutral HTTP request/response values shared by the inbound
// server (daemon webhooks, admin API, simulators) and the outbound client
// (adapters, the CRM REST sink). Header names compare case-insensitively.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crmhub::net {

class HeaderMap {
 public:
  // Adds a header (repeats allowed, order kept).
  void Add(std::string name, std::string value);
  // Replaces every header of that name with one.
  void Set(std::string name, std::string value);
  // First value of the header, compared case-insensitively.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/hooks/site?x=1"
  std::string path;    // decoded path without query: "/hooks/site"
  std::string query;   // raw query string without '?'
  HeaderMap headers;
  std::string body;
  std::string remote_address;  // peer IP, for allow-lists ("127.0.0.1", "::1")

  // Value of a query parameter (percent-decoded), if present.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  HeaderMap headers;
  std::string body;

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body);
  // {"error": error, "detail": detail}: the shape of every error crmhub
  // answers. `detail` is for the client: no internal paths or SQL.
  static HttpResponse Error(int status, std::string_view error, std::string_view detail = {});
};

// Answers a request exactly once, from any thread.
using Responder = std::function<void(HttpResponse)>;
// A route handler. It may answer synchronously (call respond before
// returning) or later, e.g. after a durable enqueue completes.
using HttpHandler = std::function<void(HttpRequest request, Responder respond)>;

std::string PercentDecode(std::string_view in);

}  // namespace crmhub::net
