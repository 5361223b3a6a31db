#pragma once
// YandexMarketClient: the Yandex Market Partner API calls crmhub makes, to
// the letter of contracts/marketplaces/yandex-market/openapi/
// (header Api-Key; errors ApiErrorResponse {"status":"ERROR","errors":[...]}),
// on net::ApiClient: getBusinessOrders (orders in, and an order's status
// read back; getOrders and getOrder are deprecated), updateOrderStatuses
// (the seller's status writes), getReturns (returns and unredeemed
// orders in), updateStocks, updateBusinessPrices, and
// getDefaultPrices, the only way to read discountBase and
// minimumForBestseller back.
//
// Errors (net::ApiError): 420 is Market's "throttled", retried at
// Retry-After, else X-RateLimit-Resource-Until (partner docs), else after
// kParallelLimitPause (a 420 naming no time is the parallel-requests limit).
// 423 Locked ("the method cannot be used for this store"; the spec says
// nothing of retrying) is the account's state, not the request's: kAuth, so
// a delivery is retried with backoff until ops fix the store.
//
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/kit/product_cards.h"
#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::yandex_market {

// The documented limits, stated once (paths/*.yaml, x-resource-limit-config
// and schemas).
inline constexpr int kMaxOrdersPerPage = 50;  // PageLimit50Truncate; orders maxItems 50
inline constexpr int kOrdersPerHour = 10000;  // getBusinessOrders: 10,000 requests an hour,
inline constexpr int kOrdersParallel = 6;     // 6 in parallel (parallel-limit-value)
inline constexpr auto kMaxCreationRange = std::chrono::days(30);  // OrderDatesFilterDTO prose
inline constexpr int kMaxStocksPerRequest = 2000;      // UpdateStocksRequest.skus maxItems
inline constexpr int64_t kMaxStockCount = 2000000000;  // UpdateStockItemDTO.count maximum
inline constexpr int kStockSkusPerMinute = 100000;     // updateStocks, path req.skus
inline constexpr int kMaxPricesPerRequest = 500;      // UpdateBusinessPricesRequest.offers maxItems
inline constexpr int kPriceOffersPerMinute = 10000;   // updateBusinessPrices, path req.offers
inline constexpr int kMaxPriceReadsPerRequest = 200;  // GetDefaultPricesRequest.offerIds maxItems
inline constexpr int kPriceReadsPerMinute = 5000;     // getDefaultPrices: the lower of its tiers
inline constexpr double kMaxMinimumForBestseller = 100000000;  // UpdateBusinessPricesDTO
// ShopSku: trimmed (x-transform: trim, so " A" is "A"), then 1..255
// characters (not bytes), no control characters but tab (its pattern).
inline constexpr size_t kMaxSkuChars = 255;
inline constexpr int kMaxReturnsPerPage = 100;  // getReturns: PageLimit100Truncate
inline constexpr int kReturnsPerHour = 5000;    // getReturns, path resp
// getOfferMappings: PageLimit100Truncate, resp "none" 100 requests a minute.
inline constexpr int kMaxOfferMappingsPerPage = 100;
inline constexpr int kOfferMappingsPerMinute = 100;
inline constexpr int kMaxStatusesPerRequest = 30;   // UpdateOrderStatusesRequest.orders maxItems
inline constexpr int kStatusOrdersPerHour = 10000;  // updateOrderStatuses, path resp.result.orders
inline constexpr auto kParallelLimitPause = std::chrono::seconds(1);

struct YandexMarketClientOptions {
  std::string base_url = "https://api.partner.market.yandex.ru";
  Secret api_key;
  int64_t campaign_id = 0;
  int64_t business_id = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  // Our share of the documented limits (config keys, at most the spec's).
  int64_t orders_per_hour = kOrdersPerHour;
  int64_t stock_skus_per_minute = kStockSkusPerMinute;
  int64_t price_offers_per_minute = kPriceOffersPerMinute;
};

struct OrdersQuery {
  // updateDateFrom / updateDateTo (whole seconds; Market's bounds are
  // unstated, the pull's overlap covers either reading).
  std::optional<SystemTime> updated_from, updated_to;
  std::vector<int64_t> order_ids;  // empty: any; else 1..50
  std::string page_token;          // empty: the first page
  int limit = kMaxOrdersPerPage;
};

// A BusinessOrderDTO as sent (empty: an element that is not an object), and
// what it is keyed by as text: strings as they are, integers in decimal, ""
// when absent or of another type (base/json_list.h: no tree is built).
struct OrderRecord {
  std::string json;
  std::string order_id, status, substatus, update_date;
};

struct OrdersPage {
  std::vector<OrderRecord> orders;
  std::string next_page_token;  // empty: the last page
};

struct ReturnsQuery {
  // fromDate / toDate: update dates, YYYY-MM-DD (Market's bounds are
  // unstated; the pull's overlap and a day's margin cover either reading).
  std::string from_date, to_date;
  std::string page_token;  // empty: the first page
  int limit = kMaxReturnsPerPage;
};

// A ReturnDTO as sent (empty: an element that is not an object), and what it
// is keyed by as text (OrderRecord's rules).
struct ReturnRecord {
  std::string json;
  std::string id, order_id, update_date, shipment_status, refund_status;
};

// A page of getOfferMappings: each offer in the kit's shape (sku and
// marketplace_id the offerId, which is what Market's stock and price
// methods address; name, barcodes, archived; attributes {market_sku,
// market_sku_name, market_category_id, market_category_name, vendor,
// vendor_code}) with the OfferMappingDTO as sent.
struct OfferMappingsPage {
  std::vector<kit::PulledCard> cards;
  std::string next_page_token;  // empty: the last page
};

struct ReturnsPage {
  std::vector<ReturnRecord> returns;
  std::string next_page_token;  // empty: the last page
};

// One order of updateOrderStatuses (OrderStateDTO).
struct OrderStatusChange {
  int64_t order_id = 0;
  std::string status;     // an OrderStatusType
  std::string substatus;  // an OrderSubstatusType; empty: not sent
};

// One order of its answer (UpdateOrderStatusDTO): the status Market holds
// after the request, and whether this write changed it.
struct OrderStatusAnswer {
  int64_t order_id = 0;
  std::string status, substatus;
  bool updated = false;  // updateStatus OK
  std::string error;     // errorDetails (updateStatus ERROR)
};

struct StockItem {
  std::string sku;  // trimmed, checked
  int64_t count = 0;
};

struct PriceItem {
  std::string offer_id;                   // trimmed, checked
  nlohmann::json value;                   // a number > 0
  std::string currency;                   // a CurrencyType
  nlohmann::json discount_base;           // null: not sent (Market deletes it)
  nlohmann::json minimum_for_bestseller;  // null: not sent (Market deletes it)
};

class YandexMarketClient {
 public:
  YandexMarketClient(YandexMarketClientOptions options, net::Transport transport,
                     const Clock& clock);

  // An answer that is not JSON (or deeper than kMaxJsonDepth), or has no
  // orders array, is kTransient.
  net::ApiResult<OrdersPage> GetBusinessOrders(const OrdersQuery& query) const;
  // GET /v2/campaigns/{campaignId}/returns. An answer that is not JSON, or
  // has no result.returns array, is kTransient.
  net::ApiResult<ReturnsPage> GetReturns(const ReturnsQuery& query) const;
  // The whole catalogue, a page at a time (no body: «получить список всех
  // товаров в каталоге»). REQUIRES: 1 <= limit <= kMaxOfferMappingsPerPage.
  net::ApiResult<OfferMappingsPage> GetOfferMappings(const std::string& page_token,
                                                     int limit) const;
  // POST /v2/campaigns/{campaignId}/orders/status-update. Market answers
  // each order (OrderStatusAnswer); an answer without result.orders is
  // kTransient. REQUIRES: 1..30 changes with distinct order ids.
  net::ApiResult<std::vector<OrderStatusAnswer>> UpdateOrderStatuses(
      const std::vector<OrderStatusChange>& changes) const;
  // REQUIRES: 1..2000 items with distinct skus.
  net::ApiResult<net::ApiAnswer> UpdateStocks(const std::vector<StockItem>& items) const;
  // REQUIRES: 1..500 items with distinct offer ids.
  net::ApiResult<net::ApiAnswer> UpdatePrices(const std::vector<PriceItem>& items) const;
  // offer id -> the discountBase and minimumForBestseller Market holds (null:
  // not set; the rest of each PriceItem is empty; offers it does not return
  // are absent). REQUIRES: 1..200 distinct ids.
  net::ApiResult<std::map<std::string, PriceItem>> GetDefaultPrices(
      const std::vector<std::string>& offer_ids) const;

  const YandexMarketClientOptions& options() const { return options_; }

 private:
  net::ApiResult<net::ApiAnswer> Call(net::ApiRequest request) const;
  std::string Url(std::string_view owner, int64_t id, std::string_view tail) const;
  nlohmann::json OrdersBody(const OrdersQuery& query) const;

  const YandexMarketClientOptions options_;
  const Clock& clock_;
  net::ApiClient api_;
  // Limits, never blocking (a refusal is kThrottled with not_before).
  mutable net::TokenBucket orders_limit_;
  mutable net::SlidingWindow stock_limit_;
  mutable net::SlidingWindow price_limit_;
  mutable net::SlidingWindow price_read_limit_;
  mutable net::SlidingWindow status_limit_;
  mutable net::SlidingWindow returns_limit_;
  mutable net::SlidingWindow offer_mappings_limit_;
};

}  // namespace crmhub::adapters::yandex_market
