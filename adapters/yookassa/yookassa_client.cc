#include "adapters/yookassa/yookassa_client.h"

#include <fmt/format.h>

#include <utility>

#include "net/hmac.h"

namespace crmhub::adapters::yookassa {
namespace {

// YooKassa's error body is {"type":"error","code":..,"description":..}.
net::ApiDialect Dialect() {
  net::ApiDialect d;
  d.system = "yookassa";
  return d;
}

net::HeaderMap AuthHeaders(const YooKassaClientOptions& o) {
  net::HeaderMap h;
  h.Set("Authorization", "Basic " + net::Base64Encode(o.shop_id + ":" + o.secret_key.Reveal()));
  h.Set("Accept", "application/json");
  return h;
}

}  // namespace

YooKassaClient::YooKassaClient(YooKassaClientOptions options, net::Transport transport,
                               const Clock& clock)
    : options_(std::move(options)),
      api_({.dialect = Dialect(), .headers = AuthHeaders(options_), .timeout = options_.timeout},
           std::move(transport), clock) {}

net::ApiResult<nlohmann::json> YooKassaClient::Get(ObjectKind kind, std::string_view id) const {
  net::ApiRequest r;
  r.method = "GET";
  r.url = fmt::format("{}/{}/{}", options_.base_url,
                      kind == ObjectKind::kRefund ? "refunds" : "payments", id);
  r.group = "api";
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(r));
  if (!answer.ok()) return answer.error();
  if (!answer->json.is_object()) {
    net::ApiError e;
    e.kind = net::ApiError::Kind::kTransient;
    e.http_status = answer->status;
    e.message = "yookassa: the object's answer is not a JSON object";
    e.body = answer->body;
    return e;
  }
  return std::move(answer->json);
}

net::ApiResult<net::ApiAnswer> YooKassaClient::Create(ObjectKind kind, std::string_view key,
                                                      std::string body) const {
  net::ApiRequest r;
  r.method = "POST";
  r.url =
      fmt::format("{}/{}", options_.base_url, kind == ObjectKind::kRefund ? "refunds" : "payments");
  r.group = "api";
  r.body = std::move(body);
  r.headers.Set("Idempotence-Key", std::string(key));
  return api_.Call(std::move(r));
}

}  // namespace crmhub::adapters::yookassa
