#pragma once
// Client for the Wildberries seller API, as specified in
// /work/shared/contracts/marketplaces/wildberries/*.yaml (one file per API
// section, one host per section):
//
//   marketplace_url (03-orders-fbs.yaml, 02-products.yaml "Остатки"):
//     GET  /api/v3/orders/new             new assembly tasks
//     GET  /api/v3/orders                 paged: limit (1..1000), next, dateFrom, dateTo
//     POST /api/v3/orders/status          {"orders":[id...]} 1..1000 ids
//     PUT  /api/v3/stocks/{warehouseId}   {"stocks":[{sku|chrtId, amount}]} 1..1000
//     POST /api/v3/stocks/{warehouseId}   read back {"chrtIds":[...]} / {"skus":[...]}
//   marketplace_url (05-orders-dbs.yaml, DBS = delivery by the seller):
//     GET  /api/v3/dbs/orders/new         every new DBS assembly task (not paged)
//     GET  /api/v3/dbs/orders             the completed ones: limit, next, dateFrom, dateTo (required)
//     POST /api/v3/dbs/orders/status      {"orders":[id...]} 1..1000 ids
//   prices_url (02-products.yaml "Цены и скидки"):
//     POST /api/v2/upload/task            {"data":[{nmID, price, discount}]} <= 1000
//     GET  /api/v2/history/tasks          ?uploadID: a processed task's status (3, 4, 5, 6)
//     GET  /api/v2/history/goods/task     ?limit<=1000&offset&uploadID: its goods, errorText
//     GET  /api/v2/buffer/tasks           ?uploadID: a task still in processing (status 1)
//     GET  /api/v2/buffer/goods/task      ?limit<=1000&offset&uploadID: its goods
//   content_url (02-products.yaml "Карточки товаров"):
//     POST /content/v2/get/cards/list     cursor {updatedAt, nmID, limit <= 100}
//
// Auth: every request carries `Authorization: <token>` (HeaderApiKey), the
// bare token, no "Bearer".
//
// Rate limits (per seller account, stated in each operation's description as
// "period / limit / interval / burst"): FBS orders 1 min / 300 / 200 ms / 20;
// stocks 1 min / 300 / 200 ms / 20; prices 6 s / 10 / 600 ms / 5; content
// 1 min / 100 / 600 ms / 5; DBS assembly tasks 1 min / 300 / 200 ms / 20
// (a group of its own); a 409 answer counts as 10 requests. The client
// paces itself with one token bucket per group (configurable, defaults a
// little under the documented numbers) and never sends a request the bucket
// refuses: it returns Throttled with the time to come back instead (adapters
// never sleep; the runtime and the queue schedule the retry).
//
// On 429 the documented body is {title, detail, code, requestId, origin,
// status, statusText, timestamp} (01-general.yaml components/responses/429).
// The contract files do not list WB's throttling headers; WB's public
// "Лимиты запросов" page names X-Ratelimit-Retry (seconds until a retry may
// succeed), X-Ratelimit-Reset (seconds until the burst is restored),
// X-Ratelimit-Limit and X-Ratelimit-Remaining. We honour X-Ratelimit-Retry,
// then Retry-After, and otherwise leave the backoff to the queue.
//
// Sending: every request goes through a net::Upstream per account and API
// group, named "<upstream_name>:<group>" ("wildberries:wb-main:orders",
// ":stocks", ":prices", ":content"), like Yandex Market's: it keeps the
// crmhub_upstream_requests_total{upstream,code},
// crmhub_upstream_throttled_total{upstream} and crmhub_circuit_open{upstream}
// metrics and a circuit breaker per group (5 transport/5xx failures in a row
// open it for 30 s; while open, calls fail as kTransient without sending).
// The Upstream's own rate limiter is left unlimited: the pacing stays in the
// client's buckets, which can refuse without blocking, peek at several
// tokens and bill a 409 as 10. A request our bucket refuses counts as
// throttled for the group's upstream.
//
// Thread-safety: all methods may be called concurrently (Pull and Deliver
// run on different worker threads); the buckets are locked. Blocking: each
// call waits for one HTTP exchange (net::HttpClient::SendBlocking).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "net/http_client.h"
#include "net/upstream.h"

namespace crmhub::adapters::wildberries {

enum class ApiGroup { kOrders, kStocks, kPrices, kContent, kDbs };
// "orders", "stocks", "prices", "content", "dbs": the suffix of the upstream name.
std::string_view GroupName(ApiGroup group);

struct GroupLimit {
  std::chrono::milliseconds interval{200};  // one request per interval...
  int64_t burst = 20;                       // ...after a burst of this many
};

struct ClientOptions {
  std::string marketplace_url = "https://marketplace-api.wildberries.ru";
  std::string content_url = "https://content-api.wildberries.ru";
  std::string prices_url = "https://discounts-prices-api.wildberries.ru";
  Secret token;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Prefix of the net::Upstream names (the adapter uses "wildberries:<id>").
  std::string upstream_name = "wildberries";
  std::map<ApiGroup, GroupLimit> limits = DefaultLimits();
  // Documented numbers with a safety margin (interval +10%, half burst): the
  // server measures arrival times, we measure send times.
  static std::map<ApiGroup, GroupLimit> DefaultLimits();
};

// Why a call did not produce a value.
struct ApiError {
  enum class Kind {
    kThrottled,  // our bucket refused, or WB answered 429: come back at not_before
    kTransient,  // transport failure, timeout, 5xx, malformed answer: retry later
    kRejected,   // 4xx other than 429: the request itself is wrong
    kAuth,       // 401/403: the token is wrong or lacks the category
  };
  Kind kind = Kind::kTransient;
  int http_status = 0;  // 0 for transport/bucket failures
  std::string message;
  std::optional<SystemTime> not_before;
  nlohmann::json body;  // parsed error body, if any (409 per-item data etc.)
};

template <typename T>
struct ApiResult {
  std::optional<T> value;
  ApiError error;  // meaningful when !ok()
  bool ok() const { return value.has_value(); }
};

struct OrdersPage {
  int64_t next = 0;
  std::vector<nlohmann::json> orders;  // the Order objects as received
};

struct OrderStatus {
  int64_t id = 0;
  std::string supplier_status;
  std::string wb_status;
};

struct StockItem {
  std::optional<std::string> sku;  // barcode (deprecated by WB, still in the spec)
  std::optional<int64_t> chrt_id;  // size id
  int64_t amount = 0;
};

// PUT /api/v3/stocks answered 204, or 409 with per-item errors.
struct StockPutResult {
  bool applied = false;  // 204
  // 409: one entry per error object: {code, message, data:[{sku, amount}]}.
  struct ItemError {
    std::string code;
    std::string message;
    std::vector<std::string> skus;  // empty: the error is not about an item
  };
  std::vector<ItemError> errors;
};

struct PriceGood {
  int64_t nm_id = 0;
  std::optional<int64_t> price;
  std::optional<int64_t> discount;
};

struct PriceTask {
  int64_t id = 0;
  bool already_exists = false;  // 208, or data.alreadyExists
};

// Where WB keeps an upload task: "history" once processed, "buffer" while
// in processing (and, per the spec, discounts waiting for a promotion).
enum class TaskList { kHistory, kBuffer };

// TaskStatus (history): 3 processed without errors, 4 canceled, 5 processed
// with errors in some goods, 6 errors in all goods; TaskStatusBuffer: 1.
struct PriceTaskStatus {
  int64_t upload_id = 0;
  int status = 0;
};

// One row of historyGoods / bufferGoods. GoodStatus: 2 updated, 3 error
// (history); 1 in processing (buffer).
struct PriceGoodResult {
  int64_t nm_id = 0;
  int status = 0;
  std::string error_text;  // WB's own text, empty when none
};

struct CardsCursor {
  std::string updated_at;  // empty on the first request
  int64_t nm_id = 0;
};

struct CardsPage {
  std::vector<nlohmann::json> cards;
  CardsCursor cursor;
  int64_t total = 0;  // cards in this answer; < limit means the end
};

class Client {
 public:
  // `http` may be null (check-config builds adapters without I/O): every call
  // then fails as kTransient. `metrics` may be null (no metrics).
  Client(net::HttpClient* http, Clock& clock, ClientOptions options,
         MetricsRegistry* metrics = nullptr);

  ApiResult<std::vector<nlohmann::json>> GetNewOrders();
  // REQUIRES: 1 <= limit <= 1000.
  ApiResult<OrdersPage> GetOrders(int limit, int64_t next, std::optional<int64_t> date_from,
                                  std::optional<int64_t> date_to);
  // REQUIRES: 1 <= ids.size() <= 1000.
  ApiResult<std::vector<OrderStatus>> GetStatuses(std::span<const int64_t> ids);
  // DBS (05-orders-dbs.yaml), the same shapes as FBS.
  ApiResult<std::vector<nlohmann::json>> GetDbsNewOrders();
  // REQUIRES: 1 <= limit <= 1000; date_to - date_from <= 30 days.
  ApiResult<OrdersPage> GetDbsOrders(int limit, int64_t next, int64_t date_from, int64_t date_to);
  // REQUIRES: 1 <= ids.size() <= 1000.
  ApiResult<std::vector<OrderStatus>> GetDbsStatuses(std::span<const int64_t> ids);
  // REQUIRES: 1 <= items.size() <= 1000.
  ApiResult<StockPutResult> PutStocks(int64_t warehouse_id, std::span<const StockItem> items);
  // Reads back amounts; by chrtIds when given, else by skus.
  ApiResult<std::vector<StockItem>> GetStocks(int64_t warehouse_id,
                                              std::span<const int64_t> chrt_ids,
                                              std::span<const std::string> skus);
  // REQUIRES: 1 <= goods.size() <= 1000.
  ApiResult<PriceTask> UploadPrices(std::span<const PriceGood> goods);
  // The task's status in `list`; nullopt when that list does not hold it
  // (data: null).
  ApiResult<std::optional<PriceTaskStatus>> GetPriceTask(TaskList list, int64_t upload_id);
  // One page of the task's goods. REQUIRES: 1 <= limit <= 1000.
  ApiResult<std::vector<PriceGoodResult>> GetPriceTaskGoods(TaskList list, int64_t upload_id,
                                                            int limit, int64_t offset);
  // REQUIRES: 1 <= limit <= 100.
  ApiResult<CardsPage> ListCards(const CardsCursor& cursor, int limit);

  // Takes a token from `group`'s bucket, or returns when one will be there.
  // Public so that a caller can reserve several requests up front.
  std::optional<SystemTime> TryAcquire(ApiGroup group, int64_t tokens = 1) {
    return Take(group, tokens, true);
  }
  // Like TryAcquire but takes nothing: when `tokens` would be available.
  std::optional<SystemTime> Peek(ApiGroup group, int64_t tokens) {
    return Take(group, tokens, false);
  }

 private:
  // consume: take the tokens if there are enough. force: take them even if
  // the bucket goes below zero (bills an answer that costs more).
  std::optional<SystemTime> Take(ApiGroup group, int64_t tokens, bool consume, bool force = false);
  struct Reply {
    int status = 0;
    nlohmann::json body;  // null when empty
  };
  // The list, paged list and statuses requests of FBS and DBS.
  ApiResult<std::vector<nlohmann::json>> NewOrdersAt(ApiGroup group, const char* path);
  ApiResult<OrdersPage> OrdersPageAt(ApiGroup group, std::string path);
  ApiResult<std::vector<OrderStatus>> StatusesAt(ApiGroup group, const char* path,
                                                 std::span<const int64_t> ids);
  // One exchange with pacing, auth and classification. A 2xx whose body is
  // not JSON (when JSON is expected) is kTransient.
  ApiResult<Reply> Call(ApiGroup group, std::string method, const std::string& base,
                        std::string path, std::string body, bool expect_json);

  net::HttpClient* http_;
  Clock& clock_;
  ClientOptions options_;
  // One per group; empty when http_ is null. Built once, then only read.
  std::map<ApiGroup, std::unique_ptr<net::Upstream>> upstreams_;
  std::map<ApiGroup, Counter*> throttled_;  // our bucket's refusals
  std::mutex mu_;
  // Empties `group`'s bucket until `until` (a 429 said our pacing was wrong).
  void PauseUntil(ApiGroup group, SystemTime until);
  struct Bucket {
    bool initialised = false;  // a new bucket starts full
    // May go below zero: a 409 is billed after the fact, a 429 pauses.
    double tokens = 0;
    // The time `tokens` was computed at; in the future while paused.
    std::chrono::steady_clock::time_point updated;
  };
  std::map<ApiGroup, Bucket> buckets_;
};

// The throttling time a 429 (or 503) answer asks for: X-Ratelimit-Retry
// seconds, else Retry-After, else nothing.
std::optional<SystemTime> ThrottleUntil(const net::HeaderMap& headers, SystemTime now);

}  // namespace crmhub::adapters::wildberries
