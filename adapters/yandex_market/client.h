#pragma once
// YmClient: the Yandex Market Partner API calls crmhub makes, to the letter
// of /work/shared/contracts/marketplaces/yandex-market/openapi/ (server
// https://api.partner.market.yandex.ru, security scheme ApiKey: header
// `Api-Key` on every request; errors as ApiErrorResponse
// {"status":"ERROR","errors":[{"code","message"}]}):
//
//   GET  /v2/campaigns/{campaignId}/orders               getOrders (orders in):
//        updatedAtFrom (inclusive) / updatedAtTo (exclusive), ISO 8601 with
//        offset, at most 30 days apart; pageToken (alias page_token) +
//        limit 1..50 (PageLimit50TruncateWithoutDefault); answer
//        {orders[<=50], paging{nextPageToken}}.
//   PUT  /v2/campaigns/{campaignId}/offers/stocks        updateStocks:
//        {"skus":[{"sku","items":[{"count"}]}]}, 1..2000 skus, unique per
//        request, exactly one item each, count 0..2000000000; answer
//        EmptyApiResponse {"status":"OK"} (no per-item results).
//   POST /v2/businesses/{businessId}/offer-prices/updates updateBusinessPrices:
//        {"offers":[{"offerId","price":{"value","currencyId"}}]}, 1..500.
//
// Limits (x-resource-limit-config of each operation): getOrders 10,000
// requests per hour, 6 in parallel; updateStocks 100,000 skus per minute
// (path req.skus: counted in items, not requests); updateBusinessPrices
// 10,000 offers per minute. Market answers 420 (ApiLimitErrorResponse) when
// a limit is exceeded; the spec names no retry header, the partner API docs
// ("Restrictions on requests") say every answer carries
// X-RateLimit-Resource-Limit / -Remaining / -Until (RFC 822 date), and a 420
// for the parallel-requests limit carries none. So a 420/429 is retried at
// Retry-After, else at X-RateLimit-Resource-Until, else after
// kParallelLimitPause. The per-request limit is
// enforced by net::Upstream (see MakeUpstreamTransport); the item budgets
// here (ItemBudget), refusing locally instead of sending.
//
// Thread-safety: all methods may be called from several threads.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/http_client.h"

namespace crmhub::net {
class HttpClient;
}

namespace crmhub::adapters::yandex_market {

inline constexpr int kMaxOrdersPerPage = 50;       // GetOrdersResponse.orders maxItems
inline constexpr int kMaxStocksPerRequest = 2000;  // UpdateStocksRequest.skus maxItems
inline constexpr int kMaxPricesPerRequest = 500;   // UpdateBusinessPricesRequest.offers maxItems
inline constexpr int64_t kMaxStockCount = 2000000000;
inline constexpr auto kMaxOrdersWindow = std::chrono::hours(24 * 30);  // updatedAtFrom..To
// Pause after a 420 that names no time (the parallel-requests limit).
inline constexpr auto kParallelLimitPause = std::chrono::seconds(1);

// Which limit a request belongs to (each group has its own net::Upstream).
enum class Group { kOrders, kOffers };

// One blocking HTTP exchange.
using Transport = std::function<net::OutboundResult(Group, net::OutboundRequest)>;

// Items per sliding window (Market counts skus/offers, not requests).
// Thread-safe.
class ItemBudget {
 public:
  ItemBudget(const Clock& clock, int64_t items, std::chrono::milliseconds window);
  // Takes `n` items, or returns how long until they fit (nothing taken).
  std::optional<std::chrono::milliseconds> TryTake(int64_t n);

 private:
  const Clock& clock_;
  const int64_t items_;
  const std::chrono::milliseconds window_;
  std::mutex mu_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> taken_;  // GUARDED_BY(mu_)
  int64_t in_window_ = 0;                                                         // GUARDED_BY(mu_)
};

struct ClientOptions {
  std::string base_url = "https://api.partner.market.yandex.ru";
  Secret api_key;
  int64_t campaign_id = 0;
  int64_t business_id = 0;  // 0: prices not configured
  int64_t stock_skus_per_minute = 100000;
  int64_t price_offers_per_minute = 10000;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // Market: 10 s per call
};

struct ApiReply {
  Status status;                         // OK, or why not
  bool retryable = false;                // 420/429, 5xx, transport, malformed, local limit
  std::optional<SystemTime> not_before;  // when a retry makes sense
  int http_status = 0;                   // 0: not sent or no answer
  nlohmann::json body;                   // the parsed answer when status.ok()
};

struct OrdersQuery {
  SystemTime updated_from;  // inclusive
  SystemTime updated_to;    // exclusive; REQUIRES: to - from <= 30 days
  std::string page_token;   // empty: first page
  int limit = kMaxOrdersPerPage;
};

struct StockItem {
  std::string sku;
  int64_t count = 0;
};

struct PriceItem {
  std::string offer_id;
  std::string value;  // decimal text, sent as a JSON number
  std::string currency = "RUR";
};

class YmClient {
 public:
  YmClient(ClientOptions options, Transport transport, const Clock& clock);

  ApiReply GetOrders(const OrdersQuery& query);
  // REQUIRES: 1..2000 items with distinct skus.
  ApiReply UpdateStocks(const std::vector<StockItem>& items);
  // REQUIRES: 1..500 items with distinct offer ids; business_id set.
  ApiReply UpdatePrices(const std::vector<PriceItem>& items);

  // Exposed for tests and contract checks.
  std::string OrdersTarget(const OrdersQuery& query) const;  // path + query
  static nlohmann::json StocksBody(const std::vector<StockItem>& items);
  static nlohmann::json PricesBody(const std::vector<PriceItem>& items);

  const ClientOptions& options() const { return options_; }

 private:
  ApiReply Send(Group group, std::string method, const std::string& target, std::string body);

  ClientOptions options_;
  Transport transport_;
  const Clock& clock_;
  ItemBudget stock_budget_;
  ItemBudget price_budget_;
};

// "2017-11-21T00:42:42+03:00": ISO 8601 with offset, in Moscow time (the
// spec's examples); used for updatedAtFrom/updatedAtTo.
std::string FormatIsoMsk(SystemTime t);
// "23-09-2022 09:12:41" (DateDdMmYyyyHhMmSs, UTC+03:00), as OrderDTO's
// creationDate/updatedAt.
std::string FormatMarketTime(SystemTime t);
std::optional<SystemTime> ParseMarketTime(std::string_view text);
// Parses ISO 8601 date-times with Z or +hh:mm (notifications' times).
std::optional<SystemTime> ParseIsoTime(std::string_view text);

// A Transport over two net::Upstream objects ("<name>:orders" limited to
// `orders_per_hour` requests with a burst of 6, the parallel limit;
// "<name>:offers" unlimited in requests, the item budgets apply). `http`
// null: every call fails (check-config). The returned function keeps the
// Upstreams alive.
Transport MakeUpstreamTransport(const std::string& name, net::HttpClient* http,
                                const Clock& clock, double orders_per_hour,
                                MetricsRegistry* metrics);

}  // namespace crmhub::adapters::yandex_market
