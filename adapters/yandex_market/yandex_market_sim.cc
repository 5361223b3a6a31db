#include "adapters/yandex_market/yandex_market_sim.h"

#include <algorithm>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "adapters/simkit/world.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

// From the spec (openapi), the simulator's own reading of it.
constexpr int64_t kMaxOrdersPerPage = 50;        // GetOrdersResponse.orders maxItems
constexpr size_t kMaxStocksPerRequest = 2000;    // UpdateStocksRequest.skus maxItems
constexpr size_t kMaxPricesPerRequest = 500;     // UpdateBusinessPricesRequest.offers maxItems
constexpr int64_t kMaxStockCount = 2000000000;   // UpdateStockItemDTO.count maximum
constexpr auto kMaxOrdersWindow = std::chrono::hours(24 * 30);  // updatedAtFrom..updatedAtTo
constexpr int64_t kDefaultCampaignId = 21000001;
constexpr int64_t kDefaultBusinessId = 31000001;
constexpr const char* kDefaultApiKey = "sim-api-key";

const SimOrder::Step kPath[] = {
    {{}, "PROCESSING", "STARTED"},
    {{}, "PROCESSING", "READY_TO_SHIP"},
    {{}, "DELIVERY", "DELIVERY_SERVICE_RECEIVED"},
    {{}, "DELIVERED", "DELIVERY_SERVICE_DELIVERED"},
};

net::HttpResponse ApiError(int http, std::string_view code, std::string_view message) {
  return net::HttpResponse::Json(
      http,
      json{{"status", "ERROR"}, {"errors", json::array({{{"code", code}, {"message", message}}})}}
          .dump());
}

std::string_view ErrorCode(int http) {
  switch (http) {
    case 400: return "BAD_REQUEST";
    case 401: return "UNAUTHORIZED";
    case 403: return "FORBIDDEN";
    case 404: return "NOT_FOUND";
    case 405: return "METHOD_NOT_ALLOWED";
    case 500: return "INTERNAL_ERROR";
    case 503: return "SERVICE_UNAVAILABLE";
    default: return "ERROR";
  }
}

// OrderDTO's dates: "dd-MM-yyyy HH:mm:ss", Moscow time.
std::string MarketTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kDdMmYyyyDashed, kMoscowOffsetMinutes);
}

std::string HttpDate(SystemTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// A resource limit is spent: 420 with the headers Market sends on it
// (partner API docs, "Restrictions on requests"): X-RateLimit-Resource-Limit,
// -Remaining and -Until (RFC 822 date, whole seconds: rounded up so a
// client that waits until then finds the limit free).
net::HttpResponse LimitExceeded(std::string_view what, int64_t limit, SystemTime until) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(until.time_since_epoch());
  net::HttpResponse r = ApiError(420, "LIMIT_EXCEEDED", fmt::format("Resource limit exceeded: {}", what));
  r.headers.Set("X-RateLimit-Resource-Limit", std::to_string(limit));
  r.headers.Set("X-RateLimit-Resource-Remaining", "0");
  r.headers.Set("X-RateLimit-Resource-Until", HttpDate(SystemTime(seconds)));
  return r;
}

std::string OfferId(int64_t index) { return fmt::format("YM-{:06d}", index + 1); }

// The step `o` is at `now`.
size_t StepOf(const SimOrder& o, SystemTime now) {
  return simkit::StepAt(o.steps, now, [](const SimOrder::Step& step) { return step.at; });
}

int64_t AccountId(const simkit::SimOptions& o, const char* key, int64_t fallback) {
  auto it = o.account.find(key);
  if (it == o.account.end()) return fallback;
  return ParseDecimalInt(it->second).value_or(0);
}

// Items of a request's array (the unit Market's item limits count).
int64_t Items(const json& body, std::string_view key) {
  const json* items = JsonArray(body, key);
  return std::max<int64_t>(1, items ? static_cast<int64_t>(items->size()) : 0);
}

}  // namespace

std::string YandexMarketSimOptions::api_key() const {
  return credentials.empty() ? kDefaultApiKey : credentials[0];
}
int64_t YandexMarketSimOptions::campaign_id() const {
  return AccountId(*this, "campaign_id", kDefaultCampaignId);
}
int64_t YandexMarketSimOptions::business_id() const {
  return AccountId(*this, "business_id", kDefaultBusinessId);
}

Status YandexMarketSimOptions::Complete() const {
  if (campaign_id() <= 0 || business_id() < 0) {
    return Status::InvalidArgument(
        "yandex-market simulator: campaign_id and business_id must be numbers");
  }
  return Status::Ok();
}

YandexMarketSimulator::YandexMarketSimulator(YandexMarketSimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      pipeline_(PipelineOptions(), clock) {
  BuildWorld();
}

void YandexMarketSimulator::BuildWorld() {
  simkit::CreateOrders(options_, clock_, [this](int i, SystemTime created, simkit::SeededRng& rng) {
    SimOrder o;
    o.id = 70000000 + i;
    o.created = created;
    o.offer_index = rng.Int(0, 999);
    o.count = static_cast<int>(rng.Int(1, 3));
    // Whole seconds: OrderDTO.updatedAt has second precision.
    for (const simkit::WalkStep& s : simkit::Walk(rng, o.created, 4, options_.lifetime / 3,
                                                   std::chrono::seconds(1), 0.1)) {
      if (s.status == simkit::WalkStep::kCancelled) {
        o.steps.push_back({s.at, "CANCELLED", "USER_CHANGED_MIND"});
      } else {
        o.steps.push_back({s.at, kPath[s.status].status, kPath[s.status].substatus});
      }
    }
    all_final_at_ = std::max(all_final_at_, o.steps.back().at);
    orders_.push_back(std::move(o));
  });
}

simkit::SimPipeline::Options YandexMarketSimulator::PipelineOptions() {
  using Limit = simkit::SimPipeline::Limit;
  simkit::SimPipeline::Options o = CommonOptions(options_, 0x796d6b74);
  o.dialect.server_header = "yandex-market-sim";
  o.dialect.auth_headers = {"Api-Key"};
  std::vector<std::string> keys = options_.credentials;
  if (keys.empty()) keys.push_back(kDefaultApiKey);
  for (const std::string& key : keys) o.dialect.accepted.push_back({key, key});
  o.dialect.unauthorized = [](bool missing) {
    return ApiError(401, "UNAUTHORIZED",
                    missing ? "Api-Key header is required" : "Api-Key is invalid");
  };
  o.dialect.error = [](int status, std::string_view message) {
    return ApiError(status, ErrorCode(status), message);
  };
  o.dialect.throttled = [this](const simkit::LimitRefusal& refusal) {
    std::string what = refusal.injected        ? "injected"
                       : refusal.group == "orders" ? fmt::format("getOrders: {} requests per hour", refusal.limit)
                       : refusal.group == "stocks" ? std::string("updateStocks: skus per minute")
                                                   : std::string("offer-prices/updates: offers per minute");
    return LimitExceeded(what, refusal.limit, clock_.Now() + refusal.retry_after);
  };
  o.limits = {
      Limit::Window("orders", options_.orders_per_hour, std::chrono::hours(1)),
      Limit::Window("stocks", options_.stock_skus_per_minute, std::chrono::minutes(1)),
      Limit::Window("prices", options_.price_offers_per_minute, std::chrono::minutes(1)),
  };
  // The path's id must be the account's: another campaign or business is
  // not this key's to see.
  auto owned = [](int64_t id, const simkit::SimRequest& r) {
    return r.params.size() == 1 && ParseDecimalInt(r.params[0]) == id;
  };
  const int64_t campaign = options_.campaign_id();
  const int64_t business = options_.business_id();
  o.routes = {
      {.method = "GET",
       .path = "/v2/campaigns/{}/orders",
       .limits = {"orders"},
       .handler =
           [this, owned, campaign](const simkit::SimRequest& r) {
             if (!owned(campaign, r)) return ApiError(403, "FORBIDDEN", "Access denied");
             return GetOrders(r.http, r.dup);
           }},
      {.method = "PUT",
       .path = "/v2/campaigns/{}/offers/stocks",
       .limits = {"stocks"},
       .json_body = true,
       .weight = [](const simkit::SimRequest& r) { return Items(r.body, "skus"); },
       .handler =
           [this, owned, campaign](const simkit::SimRequest& r) {
             if (!owned(campaign, r)) return ApiError(403, "FORBIDDEN", "Access denied");
             return UpdateStocks(r.body);
           }},
      {.method = "POST",
       .path = "/v2/businesses/{}/offer-prices/updates",
       .limits = {"prices"},
       .json_body = true,
       .weight = [](const simkit::SimRequest& r) { return Items(r.body, "offers"); },
       .handler =
           [this, owned, business](const simkit::SimRequest& r) {
             if (!owned(business, r)) return ApiError(403, "FORBIDDEN", "Access denied");
             return UpdatePrices(r.body);
           }},
  };
  return o;
}

std::map<std::string, std::string> YandexMarketSimulator::OrderStatuses(bool final_only) const {
  const SystemTime now = clock_.Now();
  std::map<std::string, std::string> out;
  for (const auto& o : orders_) {
    if (!final_only && o.created > now) continue;
    const SimOrder::Step& s =
        final_only ? o.steps.back()
                   : o.steps[StepOf(o, now)];
    out[std::to_string(o.id)] = s.status + "/" + s.substatus;
  }
  return out;
}

std::vector<json> YandexMarketSimulator::StockCommandItems(int n, int64_t stock) const {
  std::vector<json> items;
  for (int i = 0; i < n; ++i) items.push_back({{"sku", OfferId(i)}, {"stock", stock}});
  return items;
}

int64_t YandexMarketSimulator::StockItemsAt(int n, int64_t stock) const {
  std::lock_guard lock(mu_);
  int64_t held = 0;
  for (int i = 0; i < n; ++i) {
    auto it = stocks_.find(OfferId(i));
    held += it != stocks_.end() && it->second == stock ? 1 : 0;
  }
  return held;
}

simkit::AdapterWiring YandexMarketSimulator::Wiring() const {
  return {.type = "yandex-market",
          .keys = fmt::format("campaign_id = {}\nbusiness_id = {}\nbase_url = {}\n",
                              options_.campaign_id(), options_.business_id(),
                              simkit::TomlString(base_url())),
          // getOrders' 10,000 an hour would cap the benchmark at 140 orders/s.
          .unthrottled_keys = "orders_rate_limit = 1000000000\n",
          .lookback_key = "lookback",
          .secrets = {{"api_key_file", options_.api_key()}},
          .orders_method = "GET",
          .orders_path = fmt::format("/v2/campaigns/{}/orders", options_.campaign_id())};
}

std::map<std::string, int64_t> YandexMarketSimulator::Stocks() const {
  std::lock_guard lock(mu_);
  return stocks_;
}

std::string YandexMarketSimulator::StateJson() const {
  const SystemTime now = clock_.Now();
  json orders = json::array();
  for (const auto& o : orders_) {
    if (o.created > now) continue;
    const auto& cur = o.steps[StepOf(o, now)];
    orders.push_back({{"id", o.id},
                      {"status", cur.status},
                      {"substatus", cur.substatus},
                      {"updatedAt", MarketTime(cur.at)},
                      {"final_status", o.steps.back().status},
                      {"final_substatus", o.steps.back().substatus}});
  }
  json stocks = json::object();
  json prices = json::object();
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : stocks_) stocks[k] = v;
    for (const auto& [k, v] : prices_) prices[k] = v;
  }
  return json{{"orders", std::move(orders)}, {"stocks", std::move(stocks)},
              {"prices", std::move(prices)}}
      .dump();
}

json YandexMarketSimulator::OrderJson(const SimOrder& o, size_t step) const {
  const auto& cur = o.steps[step];
  const double price = 100 + static_cast<double>(o.offer_index % 900);
  return {
      {"id", o.id},
      {"status", cur.status},
      {"substatus", cur.substatus},
      {"creationDate", MarketTime(o.created)},
      {"updatedAt", MarketTime(cur.at)},
      {"currency", "RUR"},
      {"itemsTotal", price * o.count},
      {"deliveryTotal", 0},
      {"buyerItemsTotalBeforeDiscount", price * o.count},
      {"paymentType", "PREPAID"},
      {"paymentMethod", "YANDEX"},
      {"fake", false},
      {"taxSystem", "OSN"},
      {"items", json::array({{{"id", o.id * 10 + 1},
                              {"offerId", OfferId(o.offer_index)},
                              {"offerName", "Товар " + OfferId(o.offer_index)},
                              {"price", price},
                              {"buyerPrice", price},
                              {"buyerPriceBeforeDiscount", price},
                              {"count", o.count}}})},
      {"delivery",
       {{"type", "DELIVERY"},
        {"serviceName", "Доставка Маркета"},
        {"deliveryPartnerType", "YANDEX_MARKET"},
        {"deliveryServiceId", 1006360},
        {"dates", {{"fromDate", "01-01-2030"}}}}},
      {"buyer", {{"type", "PERSON"}}},
  };
}

net::HttpResponse YandexMarketSimulator::GetOrders(const net::HttpRequest& request, bool dup) {
  const SystemTime now = clock_.Now();
  // The spec's date-time: ISO 8601 with an offset.
  std::optional<SystemTime> from, to;
  if (auto v = request.QueryParam("updatedAtFrom")) {
    from = ParseTimestamp(*v, kNoDefaultOffset);
    if (!from) return ApiError(400, "BAD_REQUEST", "updatedAtFrom: not an ISO 8601 date-time");
  }
  if (auto v = request.QueryParam("updatedAtTo")) {
    to = ParseTimestamp(*v, kNoDefaultOffset);
    if (!to) return ApiError(400, "BAD_REQUEST", "updatedAtTo: not an ISO 8601 date-time");
  }
  if (from && to && (*to < *from || *to - *from > kMaxOrdersWindow)) {
    return ApiError(400, "BAD_REQUEST",
                    "updatedAtFrom..updatedAtTo must be at most 30 days and ordered");
  }
  int64_t limit = kMaxOrdersPerPage;
  if (auto v = request.QueryParam("limit")) {
    auto parsed = ParseDecimalInt(*v);
    if (!parsed || *parsed < 1) return ApiError(400, "BAD_REQUEST", "limit must be an integer >= 1");
    limit = std::min<int64_t>(*parsed, kMaxOrdersPerPage);  // x-transform: truncateLimit
  }
  std::optional<std::string> status = request.QueryParam("status");
  std::optional<std::string> token = request.QueryParam("pageToken");
  if (!token) token = request.QueryParam("page_token");
  int64_t after_id = 0;
  if (token && !token->empty()) {
    // Opaque to clients; here "o" + the last id of the previous page.
    auto last = (*token)[0] == 'o' ? ParseDecimalInt(std::string_view(*token).substr(1))
                                   : std::nullopt;
    if (!last) return ApiError(400, "BAD_REQUEST", "pageToken is invalid");
    after_id = *last;
  }
  json orders = json::array();
  int64_t last_id = 0;
  bool more = false;
  for (const auto& o : orders_) {
    if (o.id <= after_id || o.created > now) continue;
    const size_t step = StepOf(o, now);
    const auto& cur = o.steps[step];
    // updatedAt has second precision in the answer: compare at that grain.
    if (from && cur.at < *from) continue;
    if (to && cur.at >= *to) continue;
    if (status && cur.status != *status) continue;
    if (static_cast<int64_t>(orders.size()) == limit) {
      more = true;
      break;
    }
    orders.push_back(OrderJson(o, step));
    last_id = o.id;
  }
  if (dup) {
    json doubled = json::array();
    for (const auto& o : orders) {
      doubled.push_back(o);
      doubled.push_back(o);
    }
    // GetOrdersResponse.orders has maxItems 50: keep the page legal.
    while (doubled.size() > static_cast<size_t>(kMaxOrdersPerPage)) doubled.erase(doubled.end() - 1);
    if (doubled.size() < orders.size() * 2) {
      // Trimmed: the page now ends earlier.
      last_id = doubled.back()["id"].get<int64_t>();
      more = true;
    }
    orders = std::move(doubled);
  }
  json answer = {{"orders", std::move(orders)}};
  json paging = json::object();
  if (more) paging["nextPageToken"] = "o" + std::to_string(last_id);
  answer["paging"] = std::move(paging);
  return net::HttpResponse::Json(200, answer.dump());
}

net::HttpResponse YandexMarketSimulator::UpdateStocks(const json& body) {
  const json* skus = JsonArray(body, "skus");
  if (skus == nullptr) return ApiError(400, "BAD_REQUEST", "skus is required");
  if (skus->empty() || skus->size() > kMaxStocksPerRequest)
    return ApiError(400, "BAD_REQUEST", "skus must have 1..2000 items");
  std::set<std::string> seen;
  std::vector<std::pair<std::string, int64_t>> updates;
  for (const json& s : *skus) {
    auto sku_text = JsonString(s, "sku");
    if (!sku_text || sku_text->empty() || sku_text->size() > 255)
      return ApiError(400, "BAD_REQUEST", "sku must be a 1..255 character string");
    const std::string sku(*sku_text);
    if (!seen.insert(sku).second)
      return ApiError(400, "BAD_REQUEST", "duplicate sku in one request: " + sku);
    const json* items = JsonArray(s, "items");
    if (items == nullptr || items->size() != 1)
      return ApiError(400, "BAD_REQUEST", "items must have exactly one element: " + sku);
    auto count = JsonInt((*items)[0], "count");
    if (!count || *count < 0 || *count > kMaxStockCount)
      return ApiError(400, "BAD_REQUEST", "count must be an integer 0..2000000000: " + sku);
    updates.emplace_back(sku, *count);
  }
  std::lock_guard lock(mu_);
  for (const auto& [sku, count] : updates) stocks_[sku] = count;
  return net::HttpResponse::Json(200, R"({"status":"OK"})");
}

net::HttpResponse YandexMarketSimulator::UpdatePrices(const json& body) {
  const json* offers = JsonArray(body, "offers");
  if (offers == nullptr) return ApiError(400, "BAD_REQUEST", "offers is required");
  if (offers->empty() || offers->size() > kMaxPricesPerRequest)
    return ApiError(400, "BAD_REQUEST", "offers must have 1..500 items");
  std::set<std::string> seen;
  std::vector<std::pair<std::string, std::string>> updates;
  for (const json& o : *offers) {
    auto id_text = JsonString(o, "offerId");
    if (!id_text || id_text->empty())
      return ApiError(400, "BAD_REQUEST", "offerId must be a non-empty string");
    const std::string id(*id_text);
    if (!seen.insert(id).second)
      return ApiError(400, "BAD_REQUEST", "duplicate offerId in one request: " + id);
    const json* price = JsonObject(o, "price");
    const json* value = price ? JsonMember(*price, "value") : nullptr;
    auto currency = price ? JsonString(*price, "currencyId") : std::nullopt;
    if (value == nullptr || !value->is_number() || value->get<double>() <= 0 || !currency)
      return ApiError(400, "BAD_REQUEST", "price {value > 0, currencyId} required: " + id);
    updates.emplace_back(id, value->dump() + " " + std::string(*currency));
  }
  std::lock_guard lock(mu_);
  for (const auto& [id, v] : updates) prices_[id] = v;
  return net::HttpResponse::Json(200, R"({"status":"OK"})");
}

simkit::SimulatorType YandexMarketSimulatorType() {
  return {.name = "yandex-market",
          .description = "Yandex Market Partner API: orders, stocks, prices (--tokens API_KEY)",
          .account_keys = {"campaign_id", "business_id"},
          .url_key = "base_url",
          .create = simkit::Create<YandexMarketSimulator, YandexMarketSimOptions>};
}

}  // namespace crmhub::adapters::yandex_market
