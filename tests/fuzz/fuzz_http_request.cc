// The HTTP request parser exactly as a connection uses it (net/http_parse.h):
// framing rules, header and body limits, percent-decoding of the path.

#include <cstdint>
#include <string_view>

#include "net/http_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto request = crmhub::net::ParseHttpRequest(bytes, 16 * 1024, 1024 * 1024);
  if (request.ok()) {
    (void)request->QueryParam("token");
    (void)request->headers.Get("Authorization");
  }
  return 0;
}
