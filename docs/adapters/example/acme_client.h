#pragma once
// AcmeClient: the calls the example adapter makes to the Acme Shop API, a
// made-up system (docs/adapters/writing-an-adapter.md):
//
//   GET /v1/orders?updated_after=<RFC 3339>&limit=<1..100>
//       -> {"orders": [{"id", "status", "updated_at", "total"}], "has_more": bool}
//          oldest change first
//   GET /v1/orders/{id} -> one order
//   PUT /v1/stock {"items": [{"sku", "quantity"}]}, 1..100 distinct skus -> 204
//
// Auth: "Authorization: Bearer <token>". Errors: {"error": {"code", "message"}}.
// Limit: 10 requests a second per token; 429 with Retry-After.
//
// Thread-safe (net::ApiClient and the limiter are).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/secret.h"
#include "net/api_client.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::acme {

// The documented numbers, stated once.
inline constexpr int kMaxOrdersPerPage = 100;
inline constexpr int kMaxStockPerRequest = 100;
inline constexpr int kRequestsPerSecond = 10;

struct AcmeClientOptions {
  std::string base_url = "https://api.acme.example";
  Secret token;
};

struct OrdersPage {
  std::vector<nlohmann::json> orders;  // as sent
  bool has_more = false;
};

struct StockItem {
  std::string sku;
  int64_t quantity = 0;
};

class AcmeClient {
 public:
  AcmeClient(AcmeClientOptions options, net::Transport transport, const Clock& clock);

  net::ApiResult<OrdersPage> ListOrders(SystemTime updated_after, int limit);
  net::ApiResult<nlohmann::json> GetOrder(const std::string& id);
  // REQUIRES: 1..100 items with distinct skus.
  net::ApiResult<net::ApiAnswer> PutStock(const std::vector<StockItem>& items);

 private:
  AcmeClientOptions options_;
  net::SlidingWindow limit_;  // 10 a second: the sliding window never lets 11 through
  net::ApiClient api_;
};

}  // namespace crmhub::adapters::acme
