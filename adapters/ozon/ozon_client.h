#pragma once
// OzonClient: the Ozon Seller API calls crmhub makes, on net::ApiClient,
// to the letter of ozon-seller-api.swagger.json (server api-seller.ozon.ru,
// headers Client-Id and Api-Key, JSON bodies, errors as rpcStatus
// {"code", "message", "details"}):
//
//   POST /v3/posting/fbs/list       PostingAPI_GetFbsPostingListV3 (FBS postings in)
//   POST /v2/posting/fbo/list       PostingAPI_GetFboPostingList (FBO postings in)
//   POST /v2/products/stocks        ProductAPI_ProductsStocksV2 (stock out)
//   POST /v1/product/import/prices  ProductAPI_ImportProductsPrices (prices out)
//   POST /v3/product/list           ProductAPI_GetProductList (offer_id -> product_id)
//   POST /v3/product/info/list      ProductAPI_GetProductInfoList (product cards,
//                                   by product_id, at most 1000 a request)
//   POST /v3/posting/fbs/get        PostingAPI_GetFbsPostingV3 (one FBS posting's
//                                   status and products)
//   POST /v4/posting/fbs/ship       PostingAPI_ShipFbsPostingV4 (ship: packages)
//   POST /v2/posting/fbs/cancel     PostingAPI_CancelFbsPosting (cancel, with a
//                                   cancel_reason_id)
//   POST /v1/returns/list           returnsList (FBS and FBO returns in, by
//                                   the status change time, paged by last_id)
//   POST /v2/posting/fbs/act/create        PostingAPI_PostingFBSActCreate (create_act)
//   POST /v2/posting/fbs/act/check-status  PostingAPI_PostingFBSActCheckStatus (its
//                                          documents' state)
//   POST /v2/posting/fbs/act/get-postings  PostingAPI_ActPostingList (its postings)
//   POST /v2/posting/fbs/act/list          PostingAPI_FbsActList (acts by creation
//                                          date: create_act's read before writing)
//
// The spec declares no 429 and names no Retry-After; Ozon's gateway answers
// 429 "You have reached request rate limit per second" (section «Частые
// ошибки»), which net::ApiClient classifies as throttled (a Retry-After,
// should one come, is honoured).
//
// Thread-safety: all methods may be called from several threads.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/kit/product_cards.h"
#include "base/clock.h"
#include "base/secret.h"
#include "net/api_client.h"
#include "net/rate_limiter.h"

namespace crmhub::adapters::ozon {

// The documented limits, stated once (the simulator states them again, from
// its own reading of the spec).
// «Вы можете отправить не больше 50 запросов в секунду на все методы с одного
// Client ID» (tag Process): the account's net::Upstream's bucket.
inline constexpr int kRequestsPerSecond = 50;
// /v2/products/stocks: «За один запрос можно изменить наличие для 100 пар
// товар-склад. С одного аккаунта продавца можно отправить до 80 запросов в
// минуту.» «Обновлять остатки у одной пары товар-склад можно только 1 раз в
// 30 секунд» (else TOO_MANY_REQUESTS). STOCK_TOO_BIG: «меньше миллиона».
inline constexpr int kMaxStocksPerRequest = 100;
inline constexpr int kStocksPerMinute = 80;
inline constexpr std::chrono::seconds kStockPairInterval{30};
inline constexpr int64_t kStockLimit = 1'000'000;  // exclusive
// /v1/product/import/prices: prices maxItems 1000; «Цену каждого товара можно
// обновлять не больше 10 раз в час.»
inline constexpr int kMaxPricesPerRequest = 1000;
inline constexpr int kPriceUpdatesPerHour = 10;
// Posting lists: filter limit «максимум — 1000»; MAX_OFFSET_EXCEEDED:
// offset <= 20000 (stated for FBO; crmhub keeps FBS under it too); the
// period at most a year.
inline constexpr int kMaxPostingsPerPage = 1000;
inline constexpr int kMaxPostingsOffset = 20000;
inline constexpr int kMaxProductsPerPage = 1000;  // /v3/product/list limit
// /v3/product/info/list: «не больше 1000 товаров по параметрам offer_id,
// product_id и sku в сумме».
inline constexpr int kMaxProductInfoIds = 1000;
// /v1/returns/list: limit «Максимальное значение — 500».
inline constexpr int kMaxReturnsPerPage = 500;

struct OzonClientOptions {
  std::string base_url = "https://api-seller.ozon.ru";
  std::string client_id;
  Secret api_key;
  int64_t stocks_per_minute = kStocksPerMinute;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
};

// A posting list request. FBS: since/to bound the postings' period and
// changed_from..changed_to (filter.last_changed_status_date, sent when both
// are set) do the incremental work; FBO has only since/to and ignores them.
struct PostingQuery {
  SystemTime since;
  SystemTime to;
  std::optional<SystemTime> changed_from;
  std::optional<SystemTime> changed_to;
  int limit = kMaxPostingsPerPage;
  int offset = 0;
};

// A returns list request: filter.visual_status_change_moment {time_from,
// time_to} (the spec allows one time filter per request) and the paging
// last_id, «идентификатор последнего подгруженного возврата» (0: the
// first page; not sent then).
struct ReturnsQuery {
  SystemTime changed_from;
  SystemTime changed_to;
  int64_t last_id = 0;
  int limit = kMaxReturnsPerPage;
};

// Exactly one identifier is sent (the spec: with both, offer_id wins; «для
// избежания неоднозначности используйте только один из параметров»).
struct StockItem {
  int64_t product_id = 0;  // the schema requires product_id
  int64_t stock = 0;
  int64_t warehouse_id = 0;
};

struct PriceItem {
  std::string offer_id;       // sent alone when set
  int64_t product_id = 0;     // else this
  std::string price;          // decimal text, "." separator
  std::string old_price;      // empty: not sent ("0" resets it)
  std::string min_price;      // empty: not sent
  std::string currency_code;  // empty: not sent (Ozon assumes RUB)
};

// One item's result from a 200 answer of stocks/prices (result[]).
struct ItemResult {
  std::string offer_id;
  int64_t product_id = 0;
  int64_t warehouse_id = 0;
  bool updated = false;
  std::vector<std::pair<std::string, std::string>> errors;  // (code, message)
};

// A page of the catalogue: (offer_id, product_id) pairs and the next cursor.
struct ProductPage {
  std::vector<std::pair<std::string, int64_t>> items;
  std::string last_id;  // empty: the last page
};

// An FBS posting as /v3/posting/fbs/get answers it, as far as the commands
// need it: its status and substatus, and its products (sku: the Ozon SKU,
// which /v4/posting/fbs/ship takes as product_id).
struct ShipProduct {
  int64_t product_id =
      0;  // Ozon's SKU (the ship method's «идентификатор товара в системе Ozon — SKU»)
  int64_t quantity = 0;
};
struct FbsPosting {
  std::string posting_number;
  std::string status;
  std::string substatus;
  std::vector<ShipProduct> products;
};
// /v4/posting/fbs/ship's packages: each a list of products.
using ShipPackages = std::vector<std::vector<ShipProduct>>;

// /v2/posting/fbs/act/check-status's result: status «in_process» (the
// documents are being formed: wait), «ready», «error» and «cancelled»
// (request them again), or «The next postings aren't ready» (wait and ask
// again); added_to_act: the postings «добавлены в перевозку».
struct ActStatus {
  std::string status;
  std::vector<std::string> added;
  std::vector<std::string> removed;
  bool has_postings_for_next_carriage = false;
};

// An act (a carriage) as /v2/posting/fbs/act/list answers it.
struct ActSummary {
  int64_t id = 0;
  int64_t delivery_method_id = 0;
  std::string status;          // the carriage's: new, in_process, formed, cancelled, ...
  std::string departure_date;  // as sent
  std::string created_at;      // as sent
};

class OzonClient {
 public:
  OzonClient(OzonClientOptions options, net::Transport transport, const Clock& clock);

  // The list answers come back as text (ApiAnswer::body): the adapter splits
  // them into postings without a tree (base/json_list.h).
  net::ApiResult<net::ApiAnswer> ListFbsPostings(const PostingQuery& query) const;
  net::ApiResult<net::ApiAnswer> ListFboPostings(const PostingQuery& query) const;
  // {returns[], has_next}, parsed (a page of at most 500 returns).
  net::ApiResult<net::ApiAnswer> ListReturns(const ReturnsQuery& query) const;
  // POST /v2/finance/realization {month, year} (ozon_reports.cc): the
  // month's realization report, {result: {header, rows[]}}, parsed.
  net::ApiResult<net::ApiAnswer> RealizationReport(int year, int month) const;
  // Spends a unit of the 80 a minute; a refusal is kThrottled (nothing sent).
  net::ApiResult<std::vector<ItemResult>> UpdateStocks(const std::vector<StockItem>& items);
  net::ApiResult<std::vector<ItemResult>> UpdatePrices(const std::vector<PriceItem>& items) const;
  net::ApiResult<ProductPage> ListProducts(const std::string& last_id, int limit) const;
  // The cards of `product_ids` (at most kMaxProductInfoIds), in the kit's
  // shape: sku offer_id, marketplace_id product_id, name, barcodes,
  // is_archived, updated_ms from updated_at, attributes {ozon_sku, price,
  // old_price, currency_code, vat, description_category_id, type_id} as
  // sent. An item without offer_id or id comes back with them empty (the
  // caller queues it unreadable: kit::CardProblem).
  net::ApiResult<std::vector<kit::PulledCard>> ProductCards(
      const std::vector<int64_t>& product_ids) const;
  // One FBS posting (an FBO posting, or one of another account, is not
  // found: Ozon answers an error, classified as the HTTP status says).
  net::ApiResult<FbsPosting> GetFbsPosting(const std::string& posting_number) const;
  // Ships the posting in `packages`; Ok: Ozon answered 200. Its refusals
  // (POSTING_ALREADY_SHIPPED, POSTING_ALREADY_CANCELLED, ...) are errors.
  net::ApiResult<net::ApiAnswer> ShipFbsPosting(const std::string& posting_number,
                                                const ShipPackages& packages) const;
  // Cancels the posting with `reason_id` (and `message`, sent when not
  // empty). An answer {"result": false} is kRejected.
  net::ApiResult<net::ApiAnswer> CancelFbsPosting(const std::string& posting_number,
                                                  int64_t reason_id,
                                                  const std::string& message) const;

  // Creates the act of `delivery_method_id`'s postings in awaiting_deliver
  // (departure_date sent when not empty): the task's id (result.id). An
  // answer without a positive result.id is kTransient.
  net::ApiResult<int64_t> CreateAct(int64_t delivery_method_id,
                                    const std::string& departure_date) const;
  // The act's state; an answer without result.status is kTransient.
  net::ApiResult<ActStatus> CheckAct(int64_t id) const;
  // The posting numbers of act `id` (result[].posting_number).
  net::ApiResult<std::vector<std::string>> ActPostings(int64_t id) const;
  // The acts created from `date_from` to `date_to` ("YYYY-MM-DD", required by
  // the spec), at most `limit` of them.
  net::ApiResult<std::vector<ActSummary>> ListActs(const std::string& date_from,
                                                   const std::string& date_to, int limit) const;

  // How long until the stocks method's 80 a minute admits a request (zero:
  // now). Takes nothing.
  Duration StocksWait() { return stocks_window_.Peek(); }

  // The stocks request's body (the contract test sends it by hand).
  static nlohmann::json StocksBody(const std::vector<StockItem>& items);

 private:
  net::ApiResult<net::ApiAnswer> Post(std::string path, const nlohmann::json& body,
                                      net::ApiRequest::Expect expect,
                                      net::RateLimiter* limit = nullptr) const;

  OzonClientOptions options_;
  net::ApiClient api_;
  net::SlidingWindow stocks_window_;
};

// "2019-08-24T14:15:22.123Z": the spec's date-time as crmhub sends it (UTC,
// milliseconds).
std::string OzonTime(SystemTime t);

}  // namespace crmhub::adapters::ozon
