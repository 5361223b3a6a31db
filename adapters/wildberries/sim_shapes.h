#pragma once
// The error bodies of the WB API, as the contract files define them
// (simulator only).

#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "net/http_types.h"

namespace crmhub::adapters::wildberries {

// Marketplace/stocks "Error": {code, message[, data]}.
inline net::HttpResponse WbError(int status, std::string_view code, std::string_view message,
                                 nlohmann::json data = nullptr) {
  nlohmann::json body = {{"code", code}, {"message", message}};
  if (!data.is_null()) body["data"] = std::move(data);
  return net::HttpResponse::Json(status, body.dump());
}

// 01-general.yaml components/responses/401 and 429.
inline nlohmann::json WbGatewayBody(int status, std::string_view title, std::string_view detail,
                                    std::string_view status_text, SystemTime now) {
  return {{"title", title},
          {"detail", detail},
          {"code", "sim-0000000000000000"},
          {"requestId", fmt::format("{:016x}", ToUnixMillis(now))},
          {"origin", "s2s-api-auth-sim"},
          {"status", status},
          {"statusText", status_text},
          {"timestamp", FormatRfc3339(now)}};
}
inline net::HttpResponse WbAuthError(SystemTime now, std::string_view detail) {
  return net::HttpResponse::Json(
      401, WbGatewayBody(401, "unauthorized", detail, "Unauthorized", now).dump());
}
inline net::HttpResponse WbTooManyRequests(SystemTime now) {
  return net::HttpResponse::Json(
      429, WbGatewayBody(429, "too many requests", "limited by sim", "Too Many Requests", now)
               .dump());
}

// Prices ("ResponseError") and content ("responseBodyContentError400"):
// {data, error, errorText}.
inline net::HttpResponse WbTaskError(int status, std::string_view text) {
  nlohmann::json body = {{"data", nullptr}, {"error", true}, {"errorText", text}};
  return net::HttpResponse::Json(status, body.dump());
}

}  // namespace crmhub::adapters::wildberries
