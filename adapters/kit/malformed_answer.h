#pragma once
// MalformedAnswer: the ApiError for a 2xx answer whose content is not what
// the call promises (no "value" array, no Data.Statement, a create that
// names no id): kRejected (the same request again cannot help), with the
// answer's status and body kept for the dead letter.
//
// Pure; thread-safe.

#include <string>
#include <string_view>

#include "net/api_client.h"

namespace crmhub::adapters::kit {

// message: "<system>: <what>".
net::ApiError MalformedAnswer(std::string_view system, std::string_view what,
                              const net::ApiAnswer& answer);

}  // namespace crmhub::adapters::kit
