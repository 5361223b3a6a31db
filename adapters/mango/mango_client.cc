#include "adapters/mango/mango_client.h"

#include <fmt/format.h>

#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/mango/mango_adapter.h"
#include "base/json_get.h"

namespace crmhub::adapters::mango {
namespace {

// How Mango differs from the defaults: its error text is "message"; a 200
// may still carry a result code other than 1000 (checked by Callback).
net::ApiDialect MangoDialect() {
  net::ApiDialect d;
  d.system = "mango";
  return d;
}

}  // namespace

MangoClient::MangoClient(MangoClientOptions options, net::Transport transport, const Clock& clock)
    : options_(std::move(options)),
      callback_limit_(std::make_unique<net::TokenBucket>(clock, net::RateLimit::PerSecond(4, 4))),
      api_({.dialect = MangoDialect(), .timeout = options_.timeout}, std::move(transport), clock) {}

net::ApiResult<net::ApiAnswer> MangoClient::Callback(const CallbackRequest& request) const {
  nlohmann::json command = {{"command_id", request.command_id},
                            {"from", {{"extension", request.from_extension}}},
                            {"to_number", request.to_number}};
  if (!request.line_number.empty()) command["line_number"] = request.line_number;
  const std::string json = command.dump();
  const std::string& key = options_.api_key.Reveal();
  net::ApiRequest r;
  r.method = "POST";
  r.url = options_.base_url + "/commands/callback";
  r.group = "commands";
  r.headers.Set("Content-Type", "application/x-www-form-urlencoded");
  r.body = "vpbx_api_key=" + net::UrlEncode(key) +
           "&sign=" + MangoSign(key, json, options_.api_salt.Reveal()) +
           "&json=" + net::UrlEncode(json);
  r.limits = {{callback_limit_.get(), 1}};
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer;
  const std::optional<int64_t> result = JsonIntLoose(answer->json, "result");
  if (result != 1000) {
    net::ApiError e;
    e.kind = net::ApiError::Kind::kRejected;
    e.http_status = answer->status;
    e.message = fmt::format("mango: POST /commands/callback: result {}",
                            result ? std::to_string(*result) : std::string("missing"));
    e.body = answer->body;
    return e;
  }
  return answer;
}

}  // namespace crmhub::adapters::mango
