#pragma once
// How the HTTP server turns bytes into an HttpRequest, as functions: the
// server's sessions use them, and so do the request parser's fuzz target and
// unit tests, so that what is fuzzed is what serves.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::net {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// RFC 9112's framing rules that Beast leaves to us (§6.1, §6.3, §3.2): the
// reason a request must be refused with 400 and its connection closed, or
// empty.
std::string_view FramingError(const BeastRequest& request);

// The request as handlers see it: method, target, percent-decoded path,
// query, headers (order kept), body, the peer's address.
HttpRequest ToHttpRequest(BeastRequest&& request, std::string remote_address);

// One request parsed from `bytes` as a connection parses it (header limit,
// body limit, framing rules). InvalidArgument (400), ResourceExhausted (413
// or 431: the message says which) or FailedPrecondition (incomplete) when
// the server would not hand it to a handler.
Result<HttpRequest> ParseHttpRequest(std::string_view bytes, uint32_t header_limit,
                                     uint64_t body_limit);

}  // namespace crmhub::net
