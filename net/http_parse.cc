#include "net/http_parse.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>

namespace crmhub::net {

namespace beast = boost::beast;
namespace http = boost::beast::http;

std::string_view FramingError(const BeastRequest& req) {
  if (req.version() >= 11 && req.count(http::field::host) == 0) {
    return "an HTTP/1.1 request needs a Host header";
  }
  auto te = req.find(http::field::transfer_encoding);
  if (te == req.end()) return {};
  if (req.version() < 11) return "Transfer-Encoding is not allowed in HTTP/1.0";
  if (req.count(http::field::content_length) != 0) {
    return "Transfer-Encoding and Content-Length together";
  }
  if (req.count(http::field::transfer_encoding) > 1) return "Transfer-Encoding given twice";
  // The last coding must be chunked, and chunked the only one we accept.
  std::string_view codings = te->value();
  while (!codings.empty() && (codings.back() == ' ' || codings.back() == '\t')) {
    codings.remove_suffix(1);
  }
  while (!codings.empty() && (codings.front() == ' ' || codings.front() == '\t')) {
    codings.remove_prefix(1);
  }
  if (!beast::iequals(codings, "chunked")) return "unsupported Transfer-Encoding";
  return {};
}

HttpRequest ToHttpRequest(BeastRequest&& msg, std::string remote_address) {
  HttpRequest req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::string_view target = req.target;
  const size_t q = target.find('?');
  req.path = PercentDecode(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  for (const auto& field : msg) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  req.remote_address = std::move(remote_address);
  return req;
}

Result<HttpRequest> ParseHttpRequest(std::string_view bytes, uint32_t header_limit,
                                     uint64_t body_limit) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(body_limit);
  parser.eager(false);
  beast::error_code ec;
  size_t used = 0;
  auto feed = [&](bool until_done) {
    while (!(until_done ? parser.is_done() : parser.is_header_done())) {
      if (used >= bytes.size()) return false;
      const size_t n =
          parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec == http::error::need_more) {
        ec = {};
        if (n == 0) return false;
        continue;
      }
      if (ec || n == 0) return false;
    }
    return true;
  };
  if (!feed(false)) {
    if (ec == http::error::header_limit) return Status::ResourceExhausted("431: header too large");
    if (ec) return Status::InvalidArgument("400: malformed HTTP request");
    return Status::FailedPrecondition("incomplete request");
  }
  if (std::string_view error = FramingError(parser.get()); !error.empty()) {
    return Status::InvalidArgument("400: " + std::string(error));
  }
  parser.eager(true);
  if (!feed(true)) {
    if (ec == http::error::body_limit) return Status::ResourceExhausted("413: body too large");
    if (ec) return Status::InvalidArgument("400: malformed HTTP request");
    return Status::FailedPrecondition("incomplete request");
  }
  return ToHttpRequest(parser.release(), "127.0.0.1");
}

}  // namespace crmhub::net
