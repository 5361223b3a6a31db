#include "docs/adapters/example/acme_client.h"

#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::acme {
namespace {

// [dialect]
// How Acme differs from the defaults: its error shape. 429 + Retry-After,
// 5xx, 401/403/404 and other 4xx are classified by net::ApiClient.
net::ApiDialect AcmeDialect() {
  net::ApiDialect d;
  d.system = "acme";
  d.error_text = [](const nlohmann::json& body) {
    const nlohmann::json* error = JsonObject(body, "error");
    return error ? std::string(JsonString(*error, "message").value_or("")) : std::string();
  };
  return d;
}
// [dialect]

}  // namespace

AcmeClient::AcmeClient(AcmeClientOptions options, net::Transport transport, const Clock& clock)
    : options_(std::move(options)),
      limit_(clock, kRequestsPerSecond, std::chrono::seconds(1)),
      api_(
          [&] {
            net::ApiClientOptions o;
            o.dialect = AcmeDialect();
            o.headers.Set("Authorization", "Bearer " + options_.token.Reveal());
            o.headers.Set("Accept", "application/json");
            return o;
          }(),
          std::move(transport), clock) {}

net::ApiResult<OrdersPage> AcmeClient::ListOrders(SystemTime updated_after, int limit) {
  const std::string after = FormatTimestamp(updated_after, TimestampStyle::kRfc3339Millis, 0);
  auto answer =
      api_.Call({.url = options_.base_url + "/v1/orders?updated_after=" + net::UrlEncode(after) +
                        "&limit=" + std::to_string(limit),
                 .limits = {{&limit_, 1}}});
  if (!answer.ok()) return answer.error();
  const nlohmann::json* orders = JsonArray(answer->json, "orders");
  if (orders == nullptr) {
    return net::ApiError{.kind = net::ApiError::Kind::kTransient,
                         .http_status = answer->status,
                         .message = "acme: GET /v1/orders: an answer without orders[]"};
  }
  OrdersPage page;
  page.orders.assign(orders->begin(), orders->end());
  page.has_more = JsonBool(answer->json, "has_more").value_or(false);
  return page;
}

net::ApiResult<nlohmann::json> AcmeClient::GetOrder(const std::string& id) {
  auto answer = api_.Call(
      {.url = options_.base_url + "/v1/orders/" + net::UrlEncode(id), .limits = {{&limit_, 1}}});
  if (!answer.ok()) return answer.error();
  return std::move(answer->json);
}

net::ApiResult<net::ApiAnswer> AcmeClient::PutStock(const std::vector<StockItem>& items) {
  nlohmann::json body = {{"items", nlohmann::json::array()}};
  for (const StockItem& item : items) {
    body["items"].push_back({{"sku", item.sku}, {"quantity", item.quantity}});
  }
  return api_.Call({.method = "PUT",
                    .url = options_.base_url + "/v1/stock",
                    .body = body.dump(),
                    .limits = {{&limit_, 1}},
                    .expect = net::ApiRequest::Expect::kAny});
}

}  // namespace crmhub::adapters::acme
