#include "adapters/kit/malformed_answer.h"

namespace crmhub::adapters::kit {

net::ApiError MalformedAnswer(std::string_view system, std::string_view what,
                              const net::ApiAnswer& answer) {
  net::ApiError e;
  e.kind = net::ApiError::Kind::kRejected;
  e.http_status = answer.status;
  e.message = std::string(system) + ": " + std::string(what);
  e.body = answer.body;
  return e;
}

}  // namespace crmhub::adapters::kit
