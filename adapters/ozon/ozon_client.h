#pragma once
// OzonClient: the Ozon Seller API calls crmhub makes, built to the letter of
// ozon-seller-api.swagger.json (server api-seller.ozon.ru, headers Client-Id
// and Api-Key on every request, JSON bodies, errors as rpcStatus
// {"code": int, "message": str, "details": [...]}).
//
//   POST /v3/posting/fbs/list       PostingAPI_GetFbsPostingListV3 (orders in)
//   POST /v2/products/stocks        ProductAPI_ProductsStocksV2 (stock out, <= 100 items)
//   POST /v1/product/import/prices  ProductAPI_ImportProductsPrices (prices out, <= 1000)
//   POST /v3/product/list           ProductAPI_GetProductList (catalogue, cursor last_id)
//
// Rate limits (spec, section «Частые ошибки» and the stocks method): 50
// requests per second per Client-Id for all methods, and 80 requests per
// minute per account for /v2/products/stocks. The client refuses to send
// above them (WindowLimiter) and reports when to retry instead; a 429 from
// Ozon is honoured the same way (Retry-After when given).
//
// Thread-safety: all methods may be called from several threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/ozon/rate_limiter.h"
#include "base/clock.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/http_client.h"

namespace crmhub::adapters::ozon {

inline constexpr int kMaxStocksPerRequest = 100;  // "за один запрос ... 100 пар товар-склад"
inline constexpr int kMaxPricesPerRequest = 1000;  // prices maxItems = 1000
inline constexpr int kMaxPostingsPerPage = 1000;   // filter limit: "максимум — 1000"
inline constexpr int kMaxPostingsOffset = 20000;   // MAX_OFFSET_EXCEEDED: offset <= 20000
inline constexpr int kMaxProductsPerPage = 1000;   // /v3/product/list limit

// One blocking HTTP exchange (net::HttpClient::SendBlocking in the daemon).
using Transport = std::function<net::OutboundResult(net::OutboundRequest)>;

struct OzonClientOptions {
  std::string base_url = "https://api-seller.ozon.ru";
  std::string client_id;
  Secret api_key;
  int64_t requests_per_second = 50;  // all methods, per Client-Id
  int64_t stocks_per_minute = 80;    // /v2/products/stocks, per account
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// The outcome of one call: OK with a parsed body, or a classified failure.
struct ApiReply {
  Status status;                         // OK, or why not
  bool retryable = false;                // 429, 5xx, timeouts, malformed answers, local limit
  std::optional<SystemTime> not_before;  // when a retry makes sense
  int http_status = 0;                   // 0: not sent or no answer
  nlohmann::json body;                   // the parsed answer when status.ok()
};

struct FbsListQuery {
  SystemTime since;                        // filter.since (required; period <= 1 year)
  SystemTime to;                           // filter.to (required)
  std::optional<SystemTime> changed_from;  // filter.last_changed_status_date.from
  std::optional<SystemTime> changed_to;    // filter.last_changed_status_date.to
  int limit = kMaxPostingsPerPage;
  int offset = 0;
};

struct StockItem {
  int64_t product_id = 0;  // required by the spec's schema
  std::string offer_id;    // optional; Ozon prefers offer_id when both are sent
  int64_t stock = 0;
  int64_t warehouse_id = 0;
};

struct PriceItem {
  std::string offer_id;
  int64_t product_id = 0;     // 0: not sent
  std::string price;          // decimal string, "." separator
  std::string old_price;      // empty: not sent
  std::string min_price;      // empty: not sent
  std::string currency_code;  // empty: not sent (Ozon defaults to RUB)
};

// One item's result from a 200 answer of stocks/prices.
struct ItemResult {
  std::string offer_id;
  int64_t product_id = 0;
  int64_t warehouse_id = 0;
  bool updated = false;
  std::vector<std::pair<std::string, std::string>> errors;  // (code, message)
};

class OzonClient {
 public:
  OzonClient(OzonClientOptions options, Transport transport, const Clock& clock);

  ApiReply ListFbsPostings(const FbsListQuery& query);
  ApiReply UpdateStocks(const std::vector<StockItem>& items);
  ApiReply UpdatePrices(const std::vector<PriceItem>& items);
  ApiReply ListProducts(const std::string& last_id, int limit);

  // Parses result[] of a stocks/prices answer.
  static std::vector<ItemResult> ParseItemResults(const nlohmann::json& body);

  // The JSON bodies, exposed for tests and contract checks.
  static nlohmann::json FbsListBody(const FbsListQuery& query);
  static nlohmann::json StocksBody(const std::vector<StockItem>& items);
  static nlohmann::json PricesBody(const std::vector<PriceItem>& items);

  const OzonClientOptions& options() const { return options_; }

 private:
  ApiReply Post(const std::string& path, const nlohmann::json& body, WindowLimiter* extra);

  OzonClientOptions options_;
  Transport transport_;
  const Clock& clock_;
  WindowLimiter all_limiter_;
  WindowLimiter stocks_limiter_;
};

// "2019-08-24T14:15:22.123Z" (UTC, milliseconds), the spec's date-time.
std::string FormatOzonTime(SystemTime t);
// Parses RFC 3339 UTC times as Ozon sends them; nullopt on garbage.
std::optional<SystemTime> ParseOzonTime(std::string_view text);

}  // namespace crmhub::adapters::ozon
