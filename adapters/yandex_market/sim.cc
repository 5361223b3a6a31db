#include "adapters/yandex_market/sim.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdio>
#include <ctime>
#include <set>

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

const SimOrder::Step kPath[] = {
    {{}, "PROCESSING", "STARTED"},
    {{}, "PROCESSING", "READY_TO_SHIP"},
    {{}, "DELIVERY", "DELIVERY_SERVICE_RECEIVED"},
    {{}, "DELIVERED", "DELIVERY_SERVICE_DELIVERED"},
};

net::HttpResponse ApiError(int http, const std::string& code, const std::string& message) {
  return net::HttpResponse::Json(
      http, json{{"status", "ERROR"}, {"errors", json::array({{{"code", code}, {"message", message}}})}}
                .dump());
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
net::HttpResponse Limit(const std::string& what, int64_t limit, SystemTime until) {
  auto seconds = std::chrono::ceil<std::chrono::seconds>(until.time_since_epoch());
  net::HttpResponse r = ApiError(420, "LIMIT_EXCEEDED", "Resource limit exceeded: " + what);
  r.headers.Set("X-RateLimit-Resource-Limit", std::to_string(limit));
  r.headers.Set("X-RateLimit-Resource-Remaining", "0");
  r.headers.Set("X-RateLimit-Resource-Until", HttpDate(SystemTime(seconds)));
  return r;
}

std::string OfferId(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "YM-%06lld", static_cast<long long>(index + 1));
  return buf;
}

// "/v2/campaigns/123/orders" -> ("campaigns", 123, "orders").
bool SplitIdPath(const std::string& path, const std::string& prefix, const std::string& suffix,
                 int64_t* id) {
  if (path.rfind(prefix, 0) != 0 || path.size() <= prefix.size() + suffix.size()) return false;
  if (path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  std::string middle = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (middle.empty() || !std::all_of(middle.begin(), middle.end(), ::isdigit)) return false;
  *id = std::strtoll(middle.c_str(), nullptr, 10);
  return true;
}

}  // namespace

YmSimulator::YmSimulator(YmSimOptions options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      steady_start_(clock.SteadyNow()),
      fault_rng_(options_.seed ^ 0x796d6b74),
      orders_budget_(clock, options_.orders_per_hour, std::chrono::hours(1)),
      stocks_budget_(clock, options_.stock_skus_per_minute, std::chrono::minutes(1)),
      prices_budget_(clock, options_.price_offers_per_minute, std::chrono::minutes(1)) {
  SystemTime start = clock.Now();
  simkit::SeededRng root(options_.seed);
  orders_.reserve(static_cast<size_t>(options_.orders));
  for (int i = 0; i < options_.orders; ++i) {
    simkit::SeededRng rng = root.Fork(static_cast<uint64_t>(i));
    SimOrder o;
    o.id = 70000000 + i;
    o.created = start + options_.arrival_span * i / std::max(1, options_.orders);
    o.offer_index = rng.Int(0, 999);
    o.count = static_cast<int>(rng.Int(1, 3));
    SystemTime t = o.created;
    o.steps.push_back({t, kPath[0].status, kPath[0].substatus});
    int64_t cancel_at = rng.Chance(0.1) ? rng.Int(1, 3) : -1;
    for (int s = 1; s < 4; ++s) {
      // Whole seconds: OrderDTO.updatedAt has second precision.
      t += std::chrono::seconds(
          rng.Int(1, std::max<int64_t>(1, options_.step_delay.count() / 1000)));
      if (s == cancel_at) {
        o.steps.push_back({t, "CANCELLED", "USER_CHANGED_MIND"});
        break;
      }
      o.steps.push_back({t, kPath[s].status, kPath[s].substatus});
    }
    orders_.push_back(std::move(o));
  }
}

YmSimulator::~YmSimulator() { Stop(); }

Status YmSimulator::Start(const std::string& listen) {
  return server_.Start(listen, "yandex-market-sim", options_.io_threads,
                       [this](net::HttpRequest r, net::Responder respond) {
                         Handle(std::move(r), std::move(respond));
                       });
}

void YmSimulator::Stop() { server_.Stop(); }

uint16_t YmSimulator::port() const { return server_.port(); }

std::string YmSimulator::base_url() const { return server_.base_url(); }

SystemTime YmSimulator::AllFinalAt() const {
  SystemTime last{};
  for (const auto& o : orders_) last = std::max(last, o.steps.back().at);
  return last;
}

std::map<int64_t, std::string> YmSimulator::FinalStatuses() const {
  std::map<int64_t, std::string> out;
  for (const auto& o : orders_) out[o.id] = o.steps.back().status + "/" + o.steps.back().substatus;
  return out;
}

std::map<std::string, int64_t> YmSimulator::Stocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stocks_;
}

size_t YmSimulator::CurrentStep(const SimOrder& o, SystemTime now) const {
  size_t step = 0;
  for (size_t s = 0; s < o.steps.size(); ++s) {
    if (o.steps[s].at <= now) step = s;
  }
  return step;
}

std::string YmSimulator::StateJson() const {
  SystemTime now = clock_.Now();
  json orders = json::array();
  for (const auto& o : orders_) {
    if (o.created > now) continue;
    const auto& cur = o.steps[CurrentStep(o, now)];
    orders.push_back({{"id", o.id},
                      {"status", cur.status},
                      {"substatus", cur.substatus},
                      {"updatedAt", FormatMarketTime(cur.at)},
                      {"final_status", o.steps.back().status},
                      {"final_substatus", o.steps.back().substatus}});
  }
  json stocks = json::object();
  json prices = json::object();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : stocks_) stocks[k] = v;
    for (const auto& [k, v] : prices_) prices[k] = v;
  }
  return json{{"orders", std::move(orders)}, {"stocks", std::move(stocks)},
              {"prices", std::move(prices)}}
      .dump();
}

void YmSimulator::Handle(net::HttpRequest request, net::Responder respond) {
  auto at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.SteadyNow() - steady_start_)
          .count();
  if (request.path.rfind("/__sim/", 0) == 0) {
    if (request.path == "/__sim/requests") {
      uint64_t since = 0;
      if (auto s = request.QueryParam("since")) since = std::strtoull(s->c_str(), nullptr, 10);
      respond(net::HttpResponse::Json(200, log_.ToJson(since)));
    } else if (request.path == "/__sim/state") {
      respond(net::HttpResponse::Json(200, StateJson()));
    } else {
      respond(ApiError(404, "NOT_FOUND", "no such simulator endpoint"));
    }
    return;
  }
  uint64_t seq = log_.Record(request, at_ms);
  auto finish = [&](net::HttpResponse r, simkit::Fault fault, std::string note) {
    log_.Complete(seq, r.status, fault, std::move(note));
    respond(std::move(r));
  };
  auto key = request.headers.Get("Api-Key");
  if (!key || !ConstantTimeEquals(*key, options_.api_key)) {
    return finish(ApiError(401, "UNAUTHORIZED",
                           key ? "Api-Key is invalid" : "Api-Key header is required"),
                  simkit::Fault::kNone, key ? "bad auth" : "no auth");
  }
  simkit::Fault fault =
      options_.faults.empty() ? simkit::Fault::kNone : options_.faults.Pick(fault_rng_.Uniform());
  switch (fault) {
    case simkit::Fault::k429:
      // As if the limit's window ended within the next second.
      return finish(Limit("injected", options_.orders_per_hour,
                          clock_.Now() + std::chrono::seconds(1)),
                    fault, "fault");
    case simkit::Fault::k500:
      return finish(ApiError(500, "INTERNAL_ERROR", "Internal server error"), fault, "fault");
    case simkit::Fault::k503:
      return finish(ApiError(503, "SERVICE_UNAVAILABLE", "Service unavailable"), fault, "fault");
    case simkit::Fault::kTimeout:
      log_.Complete(seq, 0, fault, "held");
      server_.held().AnswerLater(std::move(respond), ApiError(504, "TIMEOUT", "timeout"),
                         options_.faults.timeout_hold);
      return;
    default:
      break;
  }
  net::HttpResponse response = Route(request, fault == simkit::Fault::kDup);
  std::string note = response.status == 420 ? "rate limited" : "";
  if (fault == simkit::Fault::kMalformed && response.status == 200) {
    return finish(simkit::MalformedJson(response.body), fault, "fault");
  }
  if (fault == simkit::Fault::kSlow) {
    log_.Complete(seq, response.status, fault, "slow");
    server_.held().AnswerLater(std::move(respond), std::move(response), options_.faults.slow_delay);
    return;
  }
  finish(std::move(response), fault, note);
}

net::HttpResponse YmSimulator::Route(const net::HttpRequest& request, bool dup) {
  int64_t id = 0;
  if (SplitIdPath(request.path, "/v2/campaigns/", "/orders", &id)) {
    if (request.method != "GET") return ApiError(405, "METHOD_NOT_ALLOWED", "use GET");
    if (id != options_.campaign_id) return ApiError(403, "FORBIDDEN", "Access denied");
    return GetOrders(request, dup);
  }
  bool stocks = SplitIdPath(request.path, "/v2/campaigns/", "/offers/stocks", &id);
  bool prices = !stocks &&
                SplitIdPath(request.path, "/v2/businesses/", "/offer-prices/updates", &id);
  if (!stocks && !prices) return ApiError(404, "NOT_FOUND", "Resource not found");
  if (request.method != (stocks ? "PUT" : "POST"))
    return ApiError(405, "METHOD_NOT_ALLOWED", "method not allowed");
  if (id != (stocks ? options_.campaign_id : options_.business_id))
    return ApiError(403, "FORBIDDEN", "Access denied");
  auto body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return ApiError(400, "BAD_REQUEST", "request body is not a JSON object");
  return stocks ? UpdateStocks(body) : UpdatePrices(body);
}

json YmSimulator::OrderJson(const SimOrder& o, size_t step) const {
  const auto& cur = o.steps[step];
  double price = 100 + static_cast<double>(o.offer_index % 900);
  json order = {
      {"id", o.id},
      {"status", cur.status},
      {"substatus", cur.substatus},
      {"creationDate", FormatMarketTime(o.created)},
      {"updatedAt", FormatMarketTime(cur.at)},
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
  return order;
}

net::HttpResponse YmSimulator::GetOrders(const net::HttpRequest& request, bool dup) {
  if (options_.enforce_rate_limits) {
    if (auto wait = orders_budget_.TryTake(1)) {
      return Limit("getOrders: 10000 requests per hour", options_.orders_per_hour,
                   clock_.Now() + *wait);
    }
  }
  SystemTime now = clock_.Now();
  std::optional<SystemTime> from, to;
  if (auto v = request.QueryParam("updatedAtFrom")) {
    from = ParseIsoTime(*v);
    if (!from) return ApiError(400, "BAD_REQUEST", "updatedAtFrom: not an ISO 8601 date-time");
  }
  if (auto v = request.QueryParam("updatedAtTo")) {
    to = ParseIsoTime(*v);
    if (!to) return ApiError(400, "BAD_REQUEST", "updatedAtTo: not an ISO 8601 date-time");
  }
  if (from && to && (*to < *from || *to - *from > kMaxOrdersWindow)) {
    return ApiError(400, "BAD_REQUEST",
                    "updatedAtFrom..updatedAtTo must be at most 30 days and ordered");
  }
  int64_t limit = kMaxOrdersPerPage;
  if (auto v = request.QueryParam("limit")) {
    char* end = nullptr;
    limit = std::strtoll(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || limit < 1)
      return ApiError(400, "BAD_REQUEST", "limit must be an integer >= 1");
    limit = std::min<int64_t>(limit, kMaxOrdersPerPage);  // x-transform: truncateLimit
  }
  std::optional<std::string> status = request.QueryParam("status");
  std::optional<std::string> token = request.QueryParam("pageToken");
  if (!token) token = request.QueryParam("page_token");
  int64_t after_id = 0;
  if (token && !token->empty()) {
    // Opaque to clients; here "o" + the last id of the previous page.
    if ((*token)[0] != 'o' || token->size() < 2)
      return ApiError(400, "BAD_REQUEST", "pageToken is invalid");
    after_id = std::strtoll(token->c_str() + 1, nullptr, 10);
  }
  json orders = json::array();
  int64_t last_id = 0;
  bool more = false;
  for (const auto& o : orders_) {
    if (o.id <= after_id || o.created > now) continue;
    size_t step = CurrentStep(o, now);
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

net::HttpResponse YmSimulator::UpdateStocks(const json& body) {
  if (!body.contains("skus") || !body["skus"].is_array())
    return ApiError(400, "BAD_REQUEST", "skus is required");
  const json& skus = body["skus"];
  if (skus.empty() || skus.size() > static_cast<size_t>(kMaxStocksPerRequest))
    return ApiError(400, "BAD_REQUEST", "skus must have 1..2000 items");
  std::set<std::string> seen;
  std::vector<std::pair<std::string, int64_t>> updates;
  for (const auto& s : skus) {
    if (!s.is_object() || !s.contains("sku") || !s["sku"].is_string() ||
        s["sku"].get<std::string>().empty() || s["sku"].get<std::string>().size() > 255)
      return ApiError(400, "BAD_REQUEST", "sku must be a 1..255 character string");
    const std::string sku = s["sku"].get<std::string>();
    if (!seen.insert(sku).second)
      return ApiError(400, "BAD_REQUEST", "duplicate sku in one request: " + sku);
    if (!s.contains("items") || !s["items"].is_array() || s["items"].size() != 1)
      return ApiError(400, "BAD_REQUEST", "items must have exactly one element: " + sku);
    const json& item = s["items"][0];
    if (!item.is_object() || !item.contains("count") || !item["count"].is_number_integer() ||
        item["count"].get<int64_t>() < 0 || item["count"].get<int64_t>() > kMaxStockCount)
      return ApiError(400, "BAD_REQUEST", "count must be an integer 0..2000000000: " + sku);
    updates.emplace_back(sku, item["count"].get<int64_t>());
  }
  if (options_.enforce_rate_limits) {
    if (auto wait = stocks_budget_.TryTake(static_cast<int64_t>(updates.size()))) {
      return Limit("updateStocks: skus per minute", options_.stock_skus_per_minute,
                   clock_.Now() + *wait);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [sku, count] : updates) stocks_[sku] = count;
  return net::HttpResponse::Json(200, R"({"status":"OK"})");
}

net::HttpResponse YmSimulator::UpdatePrices(const json& body) {
  if (!body.contains("offers") || !body["offers"].is_array())
    return ApiError(400, "BAD_REQUEST", "offers is required");
  const json& offers = body["offers"];
  if (offers.empty() || offers.size() > static_cast<size_t>(kMaxPricesPerRequest))
    return ApiError(400, "BAD_REQUEST", "offers must have 1..500 items");
  std::set<std::string> seen;
  std::vector<std::pair<std::string, std::string>> updates;
  for (const auto& o : offers) {
    if (!o.is_object() || !o.contains("offerId") || !o["offerId"].is_string() ||
        o["offerId"].get<std::string>().empty())
      return ApiError(400, "BAD_REQUEST", "offerId must be a non-empty string");
    const std::string id = o["offerId"].get<std::string>();
    if (!seen.insert(id).second)
      return ApiError(400, "BAD_REQUEST", "duplicate offerId in one request: " + id);
    const json* price = o.contains("price") ? &o["price"] : nullptr;
    if (price == nullptr || !price->is_object() || !price->contains("value") ||
        !(*price)["value"].is_number() || (*price)["value"].get<double>() <= 0 ||
        !price->contains("currencyId") || !(*price)["currencyId"].is_string())
      return ApiError(400, "BAD_REQUEST", "price {value > 0, currencyId} required: " + id);
    updates.emplace_back(id, (*price)["value"].dump() + " " +
                                 (*price)["currencyId"].get<std::string>());
  }
  if (options_.enforce_rate_limits) {
    if (auto wait = prices_budget_.TryTake(static_cast<int64_t>(updates.size()))) {
      return Limit("offer-prices/updates: offers per minute", options_.price_offers_per_minute,
                   clock_.Now() + *wait);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, v] : updates) prices_[id] = v;
  return net::HttpResponse::Json(200, R"({"status":"OK"})");
}

}  // namespace crmhub::adapters::yandex_market
