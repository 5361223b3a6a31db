#pragma once
// WildberriesClient: the Wildberries seller API as the adapter calls it, on
// net::ApiClient, as contracts/marketplaces/wildberries/*.yaml
// specify it (one host per API section):
//
//   marketplace_url (03-orders-fbs.yaml; 05-orders-dbs.yaml for DBS, the
//   same shapes under /api/v3/dbs/...; 02-products.yaml "Остатки"):
//     GET  /api/v3/orders/new             new assembly tasks
//     GET  /api/v3/orders                 paged: limit, next, dateFrom, dateTo
//     POST /api/v3/orders/status          {"orders":[id...]}
//     POST /api/v3/supplies               {"name"}: a new FBS supply (201 {"id"})
//     PATCH /api/marketplace/v3/supplies/{supplyId}/orders  {"orders":[id...]}
//                                         (up to 100; the one-order form
//                                         /api/v3/supplies/{supplyId}/orders/{orderId}
//                                         is deprecated)
//     PATCH /api/v3/supplies/{supplyId}/deliver  close it: its orders complete
//     PATCH /api/v3/orders/{orderId}/cancel      the seller's cancel
//     PATCH /api/v3/dbs/orders/{orderId}/confirm|deliver|cancel  DBS status
//                                         writes, no body
//     PATCH /api/v3/dbs/orders/{orderId}/receive|reject  {"code"}: the
//                                         buyer's confirmation code
//     PUT  /api/v3/stocks/{warehouseId}   {"stocks":[{chrtId, amount}]}
//     POST /api/v3/stocks/{warehouseId}   read back {"chrtIds":[...]}
//   prices_url (02-products.yaml "Цены и скидки"):
//     POST /api/v2/upload/task            {"data":[{nmID, price, discount}]}
//     GET  /api/v2/history/tasks          ?uploadID: a processed task's status
//     GET  /api/v2/history/goods/task     ?limit&offset&uploadID: its goods
//     GET  /api/v2/buffer/tasks           ?uploadID: a task still in processing
//     GET  /api/v2/buffer/goods/task      ?limit&offset&uploadID
//   content_url (02-products.yaml "Карточки товаров"):
//     POST /content/v2/get/cards/list     cursor {updatedAt, nmID, limit}
//   analytics_url (12-reports.yaml "Отчёт о возвратах и перемещении
//   товаров", server seller-analytics-api.wildberries.ru):
//     GET  /api/v1/analytics/goods-return ?dateFrom&dateTo (YYYY-MM-DD, at
//                                         most 31 days apart): {"report":[...]}
//   statistics_url (12-reports.yaml "Основные отчёты", server
//   statistics-api.wildberries.ru; wildberries_reports.cc):
//     GET  /api/v1/supplier/sales ?dateFrom (RFC 3339, Moscow time)&flag=0:
//                                         [SalesItem...], rows whose
//                                         lastChangeDate >= dateFrom
//
// Stocks are sent by chrtId only: the barcode `sku` of the stocks methods is
// `deprecated: true` ("Параметр будет отключен"). No operation called here is
// deprecated.
//
// Auth: `Authorization: <token>` (HeaderApiKey: the bare token).
//
// Limits: kDocumentedLimits below (per seller account and API group), each
// group paced by a net::TokenBucket that refuses instead of waiting (a
// refusal is ApiError kThrottled with not_before; nothing is sent). The
// dialect bills a 409 as kConflictCost requests. A 429 (the body of
// 01-general.yaml components/responses/429) is throttled until
// X-Ratelimit-Retry seconds, else Retry-After, and pauses the group's bucket
// until then. The contract files name no rate-limit header: X-Ratelimit-*
// come from WB's public "Лимиты запросов" page.
//
// Sending: through one net::Upstream per API group, named
// "<upstream_name>:<group>" ("wildberries:wb-main:orders", ":dbs",
// ":stocks", ":prices", ":content"): crmhub_upstream_* metrics and a breaker
// per group. The upstreams do not pace (our buckets do); a request our bucket
// refuses counts in crmhub_upstream_throttled_total of its group.
//
// Answers are read with base/json_get.h (order pages with SplitJsonList,
// which keeps each order's own bytes and builds no tree): a 2xx whose shape
// is not the documented one is kTransient ("unexpected answer: ..."), never
// a throw.
//
// Thread-safe; each call blocks for one HTTP exchange.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/kit/product_cards.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "net/api_client.h"
#include "net/http_client.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::wildberries {

using net::ApiError;
using net::ApiResult;

// The API groups: each has its own documented limit and upstream.
enum class Group { kOrders, kDbs, kStocks, kPrices, kContent, kAnalytics };
inline constexpr size_t kGroupCount = 6;
// "orders", "dbs", "stocks", "prices", "content", "analytics".
std::string_view GroupName(Group group);

// One "Период | Лимит | Интервал | Всплеск" row: a request every `interval`
// after a burst of `burst` (300 a minute is one every 200 ms).
struct Pace {
  std::chrono::milliseconds interval{200};
  int64_t burst = 1;
};
// As the operations' descriptions state them, by Group:
//   FBS assembly tasks (03-orders-fbs.yaml)   1 min / 300 / 200 ms / 20
//   DBS assembly tasks (05-orders-dbs.yaml)   1 min / 300 / 200 ms / 20
//   stocks (02-products.yaml, PUT/POST)       1 min / 300 / 200 ms / 20
//   prices and discounts (02-products.yaml)   6 s / 10 / 600 ms / 5
//   content (02-products.yaml, cards/list)    1 min / 100 / 600 ms / 5
//   analytics (12-reports.yaml, goods-return) 1 min / 1 / 1 min / 10
inline constexpr std::array<Pace, kGroupCount> kDocumentedLimits = {{
    {std::chrono::milliseconds(200), 20},
    {std::chrono::milliseconds(200), 20},
    {std::chrono::milliseconds(200), 20},
    {std::chrono::milliseconds(600), 5},
    {std::chrono::milliseconds(600), 5},
    {std::chrono::milliseconds(60'000), 10},
}};
// Our default pacing: the documented interval + 10 %, half the burst
// (rounded up): WB measures arrival times, we measure send times.
Pace DefaultPace(Group group);

// PATCH /api/v3/orders/{orderId}/cancel has its own limit: 1 min / 100 /
// 600 ms / 20 (sent through the orders group's upstream, paced by its own
// bucket).
inline constexpr Pace kDocumentedCancelLimit = {std::chrono::milliseconds(600), 20};
// The DBS status writes (PATCH /api/v3/dbs/orders/{orderId}/confirm,
// deliver, receive, reject, cancel) each state 1 min / 100 / 600 ms / 20;
// we pace all five with one bucket (never over any method's own), through
// the dbs group's upstream. A 409 of receive or reject counts as 33
// requests (the others': kConflictCost).
inline constexpr Pace kDocumentedDbsStatusLimit = {std::chrono::milliseconds(600), 20};
inline constexpr int64_t kDbsCodeConflictCost = 33;
// Adding orders to a supply: «до 100 сборочных заданий» per request.
inline constexpr size_t kMaxOrdersPerSupplyAdd = 100;

// "Один запрос с кодом ответа 409 учитывается как 10 запросов" (stocks).
inline constexpr int64_t kConflictCost = 10;
// GET /api/v3/orders and /api/v3/dbs/orders `limit` 1..1000; the statuses
// methods' `orders` 1..1000 ids.
inline constexpr int kMaxOrdersPerRequest = 1000;
// "максимум 30 календарных дней одним запросом" (dateFrom..dateTo).
inline constexpr std::chrono::seconds kMaxPeriod{30 * 24 * 3600};
// PUT /api/v3/stocks: `stocks` 1..1000 items, `amount` maximum 100000.
inline constexpr size_t kMaxStocksPerRequest = 1000;
inline constexpr int64_t kMaxStockAmount = 100000;
// Goods: "Максимум 1 000 товаров" per upload.
inline constexpr size_t kMaxGoodsPerUpload = 1000;
// The task goods methods' `limit` maximum.
inline constexpr int kMaxTaskGoodsPage = 1000;
// Cards: "Чтобы получить больше 100 карточек товаров, используйте пагинацию".
inline constexpr int kMaxCardsPage = 100;
// Returns report: "Можно получить отчёт максимум за 31 день" (dateFrom..dateTo).
inline constexpr int kMaxReturnsDays = 31;
// Sales: "1 минута | 1 запрос | 1 минута | 1 запрос" (its own limit, paced by
// its own bucket, sent through the analytics group's upstream), and "условное
// ограничение 80000 строк" per answer: a shorter answer holds everything.
inline constexpr Pace kDocumentedSalesLimit = {std::chrono::milliseconds(60'000), 1};
inline constexpr size_t kSalesRowsPerAnswer = 80'000;

struct WildberriesClientOptions {
  std::string marketplace_url = "https://marketplace-api.wildberries.ru";
  std::string content_url = "https://content-api.wildberries.ru";
  std::string prices_url = "https://discounts-prices-api.wildberries.ru";
  std::string analytics_url = "https://seller-analytics-api.wildberries.ru";
  std::string statistics_url = "https://statistics-api.wildberries.ru";
  Secret token;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Prefix of the upstream names (the adapter: "wildberries:<id>").
  std::string upstream_name = "wildberries";
  // Our buckets, by Group.
  std::array<Pace, kGroupCount> pacing = {
      DefaultPace(Group::kOrders), DefaultPace(Group::kDbs),     DefaultPace(Group::kStocks),
      DefaultPace(Group::kPrices), DefaultPace(Group::kContent), DefaultPace(Group::kAnalytics)};
  // The cancel method's own bucket.
  Pace cancel_pacing = {kDocumentedCancelLimit.interval * 11 / 10,
                        (kDocumentedCancelLimit.burst + 1) / 2};
  // The sales report's own bucket.
  Pace sales_pacing = {kDocumentedSalesLimit.interval * 11 / 10, kDocumentedSalesLimit.burst};
  // The DBS status writes' bucket.
  Pace dbs_status_pacing = {kDocumentedDbsStatusLimit.interval * 11 / 10,
                            (kDocumentedDbsStatusLimit.burst + 1) / 2};
};

// The seller's DBS status writes: each moves the assembly task to the
// supplierStatus of its name.
enum class DbsWrite { kConfirm, kDeliver, kReceive, kReject, kCancel };
// "confirm", "deliver", "receive", "reject", "cancel": the method's path
// segment and the supplierStatus it sets.
std::string_view DbsWriteName(DbsWrite write);

// FBS (03-orders-fbs.yaml) or DBS (05-orders-dbs.yaml, under /api/v3/dbs).
enum class Scheme { kFbs, kDbs };

// One order of a list page, as WB sent it.
struct OrderRecord {
  int64_t id = 0;
  std::string created_at;  // "" when absent or not a string
  std::string text;        // the order object's own JSON text
};

struct OrdersPage {
  int64_t next = 0;
  std::vector<OrderRecord> orders;
};

struct OrderStatus {
  int64_t id = 0;
  std::string supplier_status;
  std::string wb_status;
};

struct StockItem {
  int64_t chrt_id = 0;
  int64_t amount = 0;
};

// One error of a 409 StocksWarehouseError: {code, message, data[{sku, amount}] | null}.
struct StockConflict {
  std::string code;
  std::string message;
  std::vector<std::string> barcodes;  // data[].sku; empty: the error names no item
};

struct PriceGood {
  int64_t nm_id = 0;
  std::optional<int64_t> price;
  std::optional<int64_t> discount;
};

// Where WB keeps an upload task: "history" once processed, "buffer" while in
// processing (per the spec, also discounts waiting for a promotion).
enum class TaskList { kHistory, kBuffer };

// One row of historyGoods / bufferGoods. GoodStatus: 2 updated, 3 error
// (history); 1 in processing (buffer).
struct PriceGoodResult {
  int64_t nm_id = 0;
  int64_t status = 0;
  std::string error_text;  // WB's own text; empty when none
};

struct CardsCursor {
  std::string updated_at;  // empty on the first request
  int64_t nm_id = 0;
  bool operator==(const CardsCursor&) const = default;
};

// One size of a card: sizes[].chrtID and its barcodes (sizes[].skus).
struct CardSize {
  int64_t chrt_id = 0;
  std::vector<std::string> barcodes;
};

struct CardsPage {
  size_t cards = 0;
  std::vector<CardSize> sizes;  // the sizes with an integer chrtID
  // Each card in the kit's shape (sku the vendorCode, marketplace_id the
  // nmID, name the title, barcodes every size's skus, updated_ms from
  // updatedAt, attributes {imtID, brand, subjectID, subjectName,
  // chrt_ids: [every size's chrtID]}) with the card as sent.
  std::vector<kit::PulledCard> products;
  CardsCursor cursor;
  int64_t total = 0;  // cards in this answer; < limit: the last page
};

class WildberriesClient {
 public:
  WildberriesClient(WildberriesClientOptions options, net::Transport transport, const Clock& clock,
                    MetricsRegistry* metrics = nullptr);
  // Sends through the upstreams of MakeTransport.
  WildberriesClient(WildberriesClientOptions options, net::HttpClient* http, const Clock& clock,
                    MetricsRegistry* metrics = nullptr);
  // The upstreams of every group; `http` null (check-config): nothing is sent.
  static net::Transport MakeTransport(const std::string& upstream_name, net::HttpClient* http,
                                      const Clock& clock, MetricsRegistry* metrics);

  ApiResult<std::vector<nlohmann::json>> NewOrders(Scheme scheme);
  // REQUIRES: 1 <= limit <= kMaxOrdersPerRequest. DBS requires from and to.
  ApiResult<OrdersPage> Orders(Scheme scheme, int limit, int64_t next,
                               std::optional<int64_t> date_from, std::optional<int64_t> date_to);
  // REQUIRES: 1 <= ids.size() <= kMaxOrdersPerRequest.
  ApiResult<std::vector<OrderStatus>> Statuses(Scheme scheme, std::span<const int64_t> ids);
  // 204: no conflicts; 409: its errors. REQUIRES: 1..kMaxStocksPerRequest items.
  ApiResult<std::vector<StockConflict>> PutStocks(int64_t warehouse_id,
                                                  std::span<const StockItem> items);
  ApiResult<std::vector<StockItem>> GetStocks(int64_t warehouse_id,
                                              std::span<const int64_t> chrt_ids);
  // The task's id (200, or 208 "already exists": the same task). REQUIRES:
  // 1..kMaxGoodsPerUpload goods, distinct nmIDs.
  ApiResult<int64_t> UploadPrices(std::span<const PriceGood> goods);
  // The task's status in `list`; nullopt when that list does not hold it.
  ApiResult<std::optional<int64_t>> PriceTaskStatus(TaskList list, int64_t upload_id);
  // One page. REQUIRES: 1 <= limit <= kMaxTaskGoodsPage.
  ApiResult<std::vector<PriceGoodResult>> PriceTaskGoods(TaskList list, int64_t upload_id,
                                                         int limit, int64_t offset);
  // REQUIRES: 1 <= limit <= kMaxCardsPage.
  ApiResult<CardsPage> ListCards(const CardsCursor& cursor, int limit);
  // GET /api/v1/analytics/goods-return: the report's rows (each as sent;
  // an element that is not an object is kept, for the caller to refuse).
  // An answer without a "report" array is kTransient. REQUIRES: days
  // "YYYY-MM-DD", from <= to, at most kMaxReturnsDays apart.
  ApiResult<std::vector<nlohmann::json>> GoodsReturns(const std::string& date_from,
                                                      const std::string& date_to);

  // GET /api/v1/supplier/sales?dateFrom=<date_from>&flag=0 (wildberries_reports.cc):
  // the rows as sent (an element that is not an object is kept, for the
  // caller to refuse). An answer that is not an array is kTransient.
  ApiResult<std::vector<nlohmann::json>> Sales(const std::string& date_from);
  // When the sales report's bucket has a token (nullopt: now).
  std::optional<SystemTime> PeekSales() const;

  // FBS supplies (03-orders-fbs.yaml, "Поставки FBS"): the new supply's id.
  ApiResult<std::string> CreateSupply(const std::string& name);
  // When the orders group has tokens for a supply's creation AND its first
  // add (nullopt: now). A supply created without the add's token would stay
  // empty, and each retry would leave another one behind. (With a pacing
  // burst of 1 the bucket never holds two: then the create's token alone.)
  std::optional<SystemTime> PeekSupplyStart() const;
  // 204: added (their status confirm). REQUIRES: 1..kMaxOrdersPerSupplyAdd ids.
  ApiResult<bool> AddSupplyOrders(const std::string& supply_id, std::span<const int64_t> ids);
  // 204: closed, its orders complete.
  ApiResult<bool> DeliverSupply(const std::string& supply_id);
  // 204: cancelled (supplierStatus cancel). 409 StatusMismatch /
  // StatusChangeNotAllowed: refused.
  ApiResult<bool> CancelOrder(int64_t order_id);
  // A DBS status write (05-orders-dbs.yaml). 204: done. 409 StatusMismatch
  // (receive, reject: also InvalidWBCode), 404: refused. `code`: the
  // buyer's code, sent as {"code"} by receive and reject (ignored by the
  // others).
  ApiResult<bool> DbsStatus(DbsWrite write, int64_t order_id, std::string_view code);

  // When `tokens` requests of `group` would fit (nullopt: now). Takes nothing.
  std::optional<SystemTime> Peek(Group group, int64_t tokens) const;

 private:
  ApiResult<net::ApiAnswer> Call(Group group, const char* method, const std::string& base,
                                 std::string target, std::string body,
                                 net::ApiRequest::Expect expect = net::ApiRequest::Expect::kJson,
                                 net::TokenBucket* bucket = nullptr);  // null: the group's
  net::ApiError Unexpected(const net::ApiAnswer& answer, std::string_view call,
                           std::string_view what) const;

  WildberriesClientOptions options_;
  const Clock& clock_;
  net::ApiClient api_;
  std::array<std::unique_ptr<net::TokenBucket>, kGroupCount> buckets_;
  std::unique_ptr<net::TokenBucket> cancel_bucket_;
  std::unique_ptr<net::TokenBucket> sales_bucket_;
  std::unique_ptr<net::TokenBucket> dbs_status_bucket_;
  std::array<Counter*, kGroupCount> throttled_{};  // our buckets' refusals; may be null
};

}  // namespace crmhub::adapters::wildberries
