#include "adapters/tbank/tbank_client.h"

#include <fmt/format.h>

#include <utility>

#include "adapters/tbank/tbank_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::tbank {

TbankClient::TbankClient(TbankClientOptions options, net::Transport transport, const Clock& clock)
    : options_(std::move(options)),
      api_({.dialect = {.system = "tbank"}, .timeout = options_.timeout}, std::move(transport),
           clock) {}

net::ApiResult<nlohmann::json> TbankClient::Call(std::string_view method,
                                                 nlohmann::json params) const {
  params["TerminalKey"] = options_.terminal_key;
  params["Token"] = TbankToken(params, options_.password.Reveal());
  net::ApiRequest r;
  r.method = "POST";
  r.url = fmt::format("{}/{}", options_.base_url, method);
  r.group = "api";
  r.body = params.dump();
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  if (JsonBool(answer->json, "Success") != true) {
    net::ApiError e;
    e.kind = net::ApiError::Kind::kRejected;
    e.http_status = answer->status;
    e.message = fmt::format("tbank: {}: ErrorCode {} {}", method,
                            JsonScalarText(answer->json, "ErrorCode").value_or("?"),
                            JsonScalarText(answer->json, "Message").value_or(""));
    e.body = answer->body;
    return e;
  }
  return std::move(answer->json);
}

}  // namespace crmhub::adapters::tbank
