#pragma once
// OzonClient: the Ozon Seller API calls crmhub makes, built to the letter of
// ozon-seller-api.swagger.json (server api-seller.ozon.ru, headers Client-Id
// and Api-Key on every request, JSON bodies, errors as rpcStatus
// {"code": int, "message": str, "details": [...]}).
//
//   POST /v3/posting/fbs/list       PostingAPI_GetFbsPostingListV3 (FBS orders in)
//   POST /v2/posting/fbo/list       PostingAPI_GetFboPostingList (FBO orders in)
//   POST /v2/products/stocks        ProductAPI_ProductsStocksV2 (stock out, <= 100 items)
//   POST /v1/product/import/prices  ProductAPI_ImportProductsPrices (prices out, <= 1000)
//   POST /v3/product/list           ProductAPI_GetProductList (catalogue, cursor last_id)
//
// Rate limits (spec, section «Частые ошибки» and the stocks method): 50
// requests per second per Client-Id for all methods, and 80 requests per
// minute per account for /v2/products/stocks. The first is the account's
// net::Upstream's token bucket (MakeUpstreamTransport: "ozon:<id>", with
// the crmhub_upstream_* metrics and the circuit breaker); the second, which
// only the stocks method spends, a sliding window here (WindowLimiter): the
// client refuses to send above it and reports when to retry instead. A 429
// from Ozon, or the Upstream's local one, is honoured the same way
// (Retry-After when given).
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
#include "base/metrics.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/http_client.h"

namespace crmhub::adapters::ozon {

inline constexpr int kMaxStocksPerRequest = 100;  // "за один запрос ... 100 пар товар-склад"
inline constexpr int kMaxPricesPerRequest = 1000;  // prices maxItems = 1000
inline constexpr int kMaxPostingsPerPage = 1000;   // filter limit: "максимум — 1000"
inline constexpr int kMaxPostingsOffset = 20000;   // MAX_OFFSET_EXCEEDED: offset <= 20000
inline constexpr int kMaxProductsPerPage = 1000;   // /v3/product/list limit

// One blocking HTTP exchange (net::Upstream::Call in the daemon, see
// MakeUpstreamTransport).
using Transport = std::function<net::OutboundResult(net::OutboundRequest)>;

struct OzonClientOptions {
  std::string base_url = "https://api-seller.ozon.ru";
  std::string client_id;
  Secret api_key;
  int64_t requests_per_second = 50;  // all methods, per Client-Id (the Upstream's bucket)
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
  // The list methods' answer as sent, unparsed (body stays empty): the
  // adapter splits it into postings without a tree (base/json_list.h).
  std::string text;
};

struct FbsListQuery {
  SystemTime since;                        // filter.since (required; period <= 1 year)
  SystemTime to;                           // filter.to (required)
  std::optional<SystemTime> changed_from;  // filter.last_changed_status_date.from
  std::optional<SystemTime> changed_to;    // filter.last_changed_status_date.to
  int limit = kMaxPostingsPerPage;
  int offset = 0;
};

// /v2/posting/fbo/list. The spec's filter has only since/to ("the period",
// at most a year: PERIOD_IS_TOO_LONG) and one status; no change-time filter
// and no has_next, so a full page is the only sign of more.
struct FboListQuery {
  SystemTime since;  // filter.since (required)
  SystemTime to;     // filter.to (required)
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
  ApiReply ListFboPostings(const FboListQuery& query);
  ApiReply UpdateStocks(const std::vector<StockItem>& items);
  ApiReply UpdatePrices(const std::vector<PriceItem>& items);
  ApiReply ListProducts(const std::string& last_id, int limit);

  // Parses result[] of a stocks/prices answer.
  static std::vector<ItemResult> ParseItemResults(const nlohmann::json& body);

  // The JSON bodies, exposed for tests and contract checks.
  static nlohmann::json FbsListBody(const FbsListQuery& query);
  static nlohmann::json FboListBody(const FboListQuery& query);
  static nlohmann::json StocksBody(const std::vector<StockItem>& items);
  static nlohmann::json PricesBody(const std::vector<PriceItem>& items);

  const OzonClientOptions& options() const { return options_; }

 private:
  enum class Answer { kParsed, kText };  // 200 answers: ApiReply::body or ApiReply::text
  ApiReply Post(const std::string& path, const nlohmann::json& body, WindowLimiter* extra,
                Answer answer = Answer::kParsed);

  OzonClientOptions options_;
  Transport transport_;
  const Clock& clock_;
  WindowLimiter stocks_limiter_;
};

// A Transport through one net::Upstream named `name` ("ozon:<adapter id>"):
// a token bucket of `requests_per_second` (burst 1, so never more than that
// in any second), the circuit breaker, and the crmhub_upstream_* metrics in
// `metrics` (may be null). A token not due within `max_wait` is answered at
// once with the Upstream's local 429 + Retry-After (tests on a ManualClock
// pass 0: nothing may block on a clock that does not move). `http` null:
// every call fails (check-config). The function keeps the Upstream alive.
Transport MakeUpstreamTransport(const std::string& name, net::HttpClient* http,
                                const Clock& clock, double requests_per_second,
                                MetricsRegistry* metrics,
                                Duration max_wait = std::chrono::seconds(10));

// "2019-08-24T14:15:22.123Z" (UTC, milliseconds), the spec's date-time.
std::string FormatOzonTime(SystemTime t);
// Parses RFC 3339 UTC times as Ozon sends them; nullopt on garbage.
std::optional<SystemTime> ParseOzonTime(std::string_view text);

}  // namespace crmhub::adapters::ozon
