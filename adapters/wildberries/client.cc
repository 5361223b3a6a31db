#include "adapters/wildberries/client.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

std::string Trimmed(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::optional<int64_t> ParseSeconds(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || out < 0) return std::nullopt;
  return out;
}

// A short description of an error body for logs and the DLQ (WB's shapes:
// {code, message} for marketplace, {title, detail} for 401/429,
// {errorText} for prices).
std::string Describe(const json& body) {
  if (body.is_object()) {
    for (const char* key : {"message", "detail", "errorText", "title", "code"}) {
      auto it = body.find(key);
      if (it != body.end() && it->is_string() && !it->get<std::string>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  if (body.is_array() && !body.empty()) return Describe(body.front());
  return {};
}

}  // namespace

std::map<ApiGroup, GroupLimit> ClientOptions::DefaultLimits() {
  using std::chrono::milliseconds;
  return {
      {ApiGroup::kOrders, {milliseconds(220), 10}},   // doc: 200 ms, burst 20
      {ApiGroup::kStocks, {milliseconds(220), 10}},   // doc: 200 ms, burst 20
      {ApiGroup::kPrices, {milliseconds(660), 3}},    // doc: 600 ms, burst 5
      {ApiGroup::kContent, {milliseconds(660), 3}},   // doc: 600 ms, burst 5
      {ApiGroup::kDbs, {milliseconds(220), 10}},      // doc: 200 ms, burst 20
  };
}

std::optional<SystemTime> ThrottleUntil(const net::HeaderMap& headers, SystemTime now) {
  if (auto v = headers.Get("X-Ratelimit-Retry")) {
    if (auto s = ParseSeconds(*v)) return now + std::chrono::seconds(std::max<int64_t>(*s, 1));
  }
  if (auto v = headers.Get("Retry-After")) return net::ParseRetryAfter(*v, now);
  return std::nullopt;
}

std::string_view GroupName(ApiGroup group) {
  switch (group) {
    case ApiGroup::kOrders:
      return "orders";
    case ApiGroup::kStocks:
      return "stocks";
    case ApiGroup::kPrices:
      return "prices";
    case ApiGroup::kContent:
      return "content";
    case ApiGroup::kDbs:
      return "dbs";
  }
  return "other";
}

Client::Client(net::HttpClient* http, Clock& clock, ClientOptions options,
               MetricsRegistry* metrics)
    : http_(http), clock_(clock), options_(std::move(options)) {
  options_.marketplace_url = Trimmed(options_.marketplace_url);
  options_.content_url = Trimmed(options_.content_url);
  options_.prices_url = Trimmed(options_.prices_url);
  if (http_ == nullptr) return;
  for (ApiGroup group : {ApiGroup::kOrders, ApiGroup::kStocks, ApiGroup::kPrices,
                         ApiGroup::kContent, ApiGroup::kDbs}) {
    std::string name = fmt::format("{}:{}", options_.upstream_name, GroupName(group));
    net::UpstreamOptions upstream;
    // Pacing is the client's own bucket (see client.h); max_wait 0: should
    // the Upstream pause after a Retry-After, it answers a local 429 at once
    // instead of parking the worker thread.
    upstream.rate_limit = net::RateLimit::Unlimited();
    upstream.max_wait = Duration::zero();
    if (metrics != nullptr) {
      // The same series net::Upstream counts the upstream's 429s in.
      throttled_[group] = &metrics->GetCounter(
          "crmhub_upstream_throttled_total",
          "Requests throttled: the upstream answered 429, or our rate limiter delayed them.",
          {{"upstream", name}});
    }
    upstreams_[group] = std::make_unique<net::Upstream>(name, *http_, clock_, upstream, metrics);
  }
}

std::optional<SystemTime> Client::Take(ApiGroup group, int64_t tokens, bool consume, bool force) {
  GroupLimit limit = options_.limits.count(group) ? options_.limits.at(group) : GroupLimit{};
  double interval_ms = static_cast<double>(std::max<int64_t>(1, limit.interval.count()));
  std::lock_guard lock(mu_);
  Bucket& b = buckets_[group];
  auto now = clock_.SteadyNow();
  if (!b.initialised) {
    b.initialised = true;
    b.tokens = static_cast<double>(limit.burst);
  } else {
    double elapsed = std::chrono::duration<double, std::milli>(now - b.updated).count();
    b.tokens = std::min(static_cast<double>(limit.burst), b.tokens + elapsed / interval_ms);
  }
  b.updated = now;
  double need = static_cast<double>(tokens);
  if (force) {
    b.tokens -= need;
    return std::nullopt;
  }
  if (b.tokens + 1e-9 >= need) {
    if (consume) b.tokens -= need;
    return std::nullopt;
  }
  auto wait_ms = static_cast<int64_t>(std::ceil((need - b.tokens) * interval_ms));
  return clock_.Now() + std::chrono::milliseconds(wait_ms);
}

void Client::PauseUntil(ApiGroup group, SystemTime until) {
  const auto ahead = until - clock_.Now();
  if (ahead <= SystemTime::duration::zero()) return;
  std::lock_guard lock(mu_);
  Bucket& b = buckets_[group];
  // Empty, and refilling only from `until` on: Take's refill subtracts the
  // time still to wait.
  b.initialised = true;
  b.tokens = 0;
  b.updated = clock_.SteadyNow() +
              std::chrono::duration_cast<std::chrono::steady_clock::duration>(ahead);
}

ApiResult<Client::Reply> Client::Call(ApiGroup group, std::string method, const std::string& base,
                                      std::string path, std::string body, bool expect_json) {
  ApiResult<Reply> out;
  if (auto wait = TryAcquire(group)) {
    if (auto it = throttled_.find(group); it != throttled_.end()) it->second->Inc();
    out.error = {ApiError::Kind::kThrottled, 0, "client-side rate limit", wait, {}};
    return out;
  }
  if (upstreams_.empty()) {
    out.error = {ApiError::Kind::kTransient, 0, "no HTTP client", std::nullopt, {}};
    return out;
  }
  net::OutboundRequest req;
  req.method = std::move(method);
  req.url = base + path;
  req.headers.Set("Authorization", options_.token.Reveal());
  req.headers.Set("Accept", "application/json");
  if (!body.empty()) req.headers.Set("Content-Type", "application/json");
  req.body = std::move(body);
  req.timeout = options_.timeout;
  net::OutboundResult result = upstreams_.at(group)->Call(std::move(req));
  SystemTime now = clock_.Now();
  if (!result.ok()) {
    out.error = {ApiError::Kind::kTransient, 0, result.status().ToString(), std::nullopt, {}};
    return out;
  }
  const net::OutboundResponse& resp = *result;
  json parsed = json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  bool parsed_ok = !parsed.is_discarded();
  if (!parsed_ok) parsed = nullptr;
  std::string where = fmt::format("{} -> {}", path, resp.status);
  if (resp.status == 409) {
    // WB bills a 409 as 10 requests (9 more than the one already taken).
    Take(group, 9, true, /*force=*/true);
  }
  if (resp.status >= 200 && resp.status < 300) {
    if (expect_json && !parsed_ok) {
      out.error = {ApiError::Kind::kTransient, resp.status, where + ": malformed JSON answer",
                   std::nullopt, {}};
      return out;
    }
    out.value = Reply{resp.status, std::move(parsed)};
    return out;
  }
  std::string detail = Describe(parsed);
  std::string message = detail.empty() ? where : where + ": " + detail;
  if (resp.status == 429) {
    auto until = ThrottleUntil(resp.headers, now);
    // Our bucket was wrong about the server: empty it until then.
    if (until) PauseUntil(group, *until);
    out.error = {ApiError::Kind::kThrottled, 429, message, until, std::move(parsed)};
  } else if (resp.status == 408 || resp.status >= 500) {
    out.error = {ApiError::Kind::kTransient, resp.status, message, ThrottleUntil(resp.headers, now),
                 std::move(parsed)};
  } else if (resp.status == 401 || resp.status == 403) {
    out.error = {ApiError::Kind::kAuth, resp.status, message, std::nullopt, std::move(parsed)};
  } else {
    out.error = {ApiError::Kind::kRejected, resp.status, message, std::nullopt, std::move(parsed)};
  }
  return out;
}

template <typename T>
static ApiResult<T> Fail(ApiError error) {
  ApiResult<T> r;
  r.error = std::move(error);
  return r;
}

template <typename T>
static ApiResult<T> Malformed(std::string what) {
  return Fail<T>({ApiError::Kind::kTransient, 200, "unexpected answer: " + what, std::nullopt, {}});
}

ApiResult<std::vector<json>> Client::NewOrdersAt(ApiGroup group, const char* path) {
  auto r = Call(group, "GET", options_.marketplace_url, path, "", true);
  if (!r.ok()) return Fail<std::vector<json>>(std::move(r.error));
  const json& body = r.value->body;
  if (!body.is_object() || !body.contains("orders") || !body["orders"].is_array()) {
    return Malformed<std::vector<json>>("orders/new without an orders array");
  }
  ApiResult<std::vector<json>> out;
  out.value = body["orders"].get<std::vector<json>>();
  return out;
}

ApiResult<std::vector<json>> Client::GetNewOrders() {
  return NewOrdersAt(ApiGroup::kOrders, "/api/v3/orders/new");
}

ApiResult<std::vector<json>> Client::GetDbsNewOrders() {
  return NewOrdersAt(ApiGroup::kDbs, "/api/v3/dbs/orders/new");
}

ApiResult<OrdersPage> Client::OrdersPageAt(ApiGroup group, std::string path) {
  auto r = Call(group, "GET", options_.marketplace_url, std::move(path), "", true);
  if (!r.ok()) return Fail<OrdersPage>(std::move(r.error));
  const json& body = r.value->body;
  if (!body.is_object() || !body.contains("orders") || !body["orders"].is_array() ||
      !body.contains("next") || !body["next"].is_number_integer()) {
    return Malformed<OrdersPage>("orders page without orders[] and next");
  }
  OrdersPage page;
  page.next = body["next"].get<int64_t>();
  for (const auto& o : body["orders"]) {
    if (!o.is_object() || !o.contains("id") || !o["id"].is_number_integer()) {
      return Malformed<OrdersPage>("order without an integer id");
    }
    page.orders.push_back(o);
  }
  ApiResult<OrdersPage> out;
  out.value = std::move(page);
  return out;
}

ApiResult<OrdersPage> Client::GetOrders(int limit, int64_t next, std::optional<int64_t> date_from,
                                        std::optional<int64_t> date_to) {
  std::string path = fmt::format("/api/v3/orders?limit={}&next={}", limit, next);
  if (date_from) path += fmt::format("&dateFrom={}", *date_from);
  if (date_to) path += fmt::format("&dateTo={}", *date_to);
  return OrdersPageAt(ApiGroup::kOrders, std::move(path));
}

ApiResult<OrdersPage> Client::GetDbsOrders(int limit, int64_t next, int64_t date_from,
                                           int64_t date_to) {
  return OrdersPageAt(ApiGroup::kDbs,
                      fmt::format("/api/v3/dbs/orders?limit={}&next={}&dateFrom={}&dateTo={}",
                                  limit, next, date_from, date_to));
}

ApiResult<std::vector<OrderStatus>> Client::StatusesAt(ApiGroup group, const char* path,
                                                       std::span<const int64_t> ids) {
  json body = {{"orders", json(std::vector<int64_t>(ids.begin(), ids.end()))}};
  auto r = Call(group, "POST", options_.marketplace_url, path, body.dump(), true);
  if (!r.ok()) return Fail<std::vector<OrderStatus>>(std::move(r.error));
  const json& answer = r.value->body;
  if (!answer.is_object() || !answer.contains("orders") || !answer["orders"].is_array()) {
    return Malformed<std::vector<OrderStatus>>("orders/status without an orders array");
  }
  std::vector<OrderStatus> statuses;
  for (const auto& s : answer["orders"]) {
    if (!s.is_object() || !s.contains("id") || !s["id"].is_number_integer() ||
        !s.contains("supplierStatus") || !s["supplierStatus"].is_string() ||
        !s.contains("wbStatus") || !s["wbStatus"].is_string()) {
      return Malformed<std::vector<OrderStatus>>("status entry without id/supplierStatus/wbStatus");
    }
    statuses.push_back({s["id"].get<int64_t>(), s["supplierStatus"].get<std::string>(),
                        s["wbStatus"].get<std::string>()});
  }
  ApiResult<std::vector<OrderStatus>> out;
  out.value = std::move(statuses);
  return out;
}

ApiResult<std::vector<OrderStatus>> Client::GetStatuses(std::span<const int64_t> ids) {
  return StatusesAt(ApiGroup::kOrders, "/api/v3/orders/status", ids);
}

ApiResult<std::vector<OrderStatus>> Client::GetDbsStatuses(std::span<const int64_t> ids) {
  return StatusesAt(ApiGroup::kDbs, "/api/v3/dbs/orders/status", ids);
}

ApiResult<StockPutResult> Client::PutStocks(int64_t warehouse_id,
                                            std::span<const StockItem> items) {
  json stocks = json::array();
  for (const auto& item : items) {
    json s = json::object();
    if (item.chrt_id) s["chrtId"] = *item.chrt_id;
    if (item.sku) s["sku"] = *item.sku;
    s["amount"] = item.amount;
    stocks.push_back(std::move(s));
  }
  json body = {{"stocks", std::move(stocks)}};
  auto r = Call(ApiGroup::kStocks, "PUT", options_.marketplace_url,
                fmt::format("/api/v3/stocks/{}", warehouse_id), body.dump(), false);
  ApiResult<StockPutResult> out;
  if (r.ok()) {
    out.value = StockPutResult{true, {}};
    return out;
  }
  if (r.error.http_status != 409) return Fail<StockPutResult>(std::move(r.error));
  // 409: StocksWarehouseError, an array of {code, message, data[{sku, amount}]}.
  const json& errors = r.error.body;
  if (!errors.is_array()) return Fail<StockPutResult>(std::move(r.error));
  StockPutResult result;
  for (const auto& e : errors) {
    StockPutResult::ItemError ie;
    if (e.is_object()) {
      ie.code = e.value("code", "");
      ie.message = e.value("message", "");
      if (e.contains("data") && e["data"].is_array()) {
        for (const auto& d : e["data"]) {
          if (d.is_object() && d.contains("sku") && d["sku"].is_string()) {
            ie.skus.push_back(d["sku"].get<std::string>());
          }
        }
      }
    }
    result.errors.push_back(std::move(ie));
  }
  out.value = std::move(result);
  return out;
}

ApiResult<std::vector<StockItem>> Client::GetStocks(int64_t warehouse_id,
                                                    std::span<const int64_t> chrt_ids,
                                                    std::span<const std::string> skus) {
  json body = json::object();
  body["chrtIds"] = json(std::vector<int64_t>(chrt_ids.begin(), chrt_ids.end()));
  if (!skus.empty()) body["skus"] = json(std::vector<std::string>(skus.begin(), skus.end()));
  auto r = Call(ApiGroup::kStocks, "POST", options_.marketplace_url,
                fmt::format("/api/v3/stocks/{}", warehouse_id), body.dump(), true);
  if (!r.ok()) return Fail<std::vector<StockItem>>(std::move(r.error));
  const json& answer = r.value->body;
  if (!answer.is_object() || !answer.contains("stocks") || !answer["stocks"].is_array()) {
    return Malformed<std::vector<StockItem>>("stocks answer without a stocks array");
  }
  std::vector<StockItem> items;
  for (const auto& s : answer["stocks"]) {
    StockItem item;
    if (s.contains("sku") && s["sku"].is_string()) item.sku = s["sku"].get<std::string>();
    if (s.contains("chrtId") && s["chrtId"].is_number_integer()) {
      item.chrt_id = s["chrtId"].get<int64_t>();
    }
    item.amount = s.value("amount", int64_t{0});
    items.push_back(std::move(item));
  }
  ApiResult<std::vector<StockItem>> out;
  out.value = std::move(items);
  return out;
}

ApiResult<PriceTask> Client::UploadPrices(std::span<const PriceGood> goods) {
  json data = json::array();
  for (const auto& g : goods) {
    json item = {{"nmID", g.nm_id}};
    if (g.price) item["price"] = *g.price;
    if (g.discount) item["discount"] = *g.discount;
    data.push_back(std::move(item));
  }
  json body = {{"data", std::move(data)}};
  auto r = Call(ApiGroup::kPrices, "POST", options_.prices_url, "/api/v2/upload/task", body.dump(),
                true);
  if (!r.ok()) return Fail<PriceTask>(std::move(r.error));
  const json& answer = r.value->body;
  PriceTask task;
  if (answer.is_object() && answer.contains("data") && answer["data"].is_object()) {
    task.id = answer["data"].value("id", int64_t{0});
    task.already_exists = answer["data"].value("alreadyExists", false);
  }
  if (r.value->status == 208) task.already_exists = true;
  ApiResult<PriceTask> out;
  out.value = task;
  return out;
}

ApiResult<std::optional<PriceTaskStatus>> Client::GetPriceTask(TaskList list,
                                                               int64_t upload_id) {
  const char* path = list == TaskList::kHistory ? "/api/v2/history/tasks" : "/api/v2/buffer/tasks";
  auto r = Call(ApiGroup::kPrices, "GET", options_.prices_url,
                fmt::format("{}?uploadID={}", path, upload_id), "", true);
  using Out = std::optional<PriceTaskStatus>;
  if (!r.ok()) return Fail<Out>(std::move(r.error));
  const json& answer = r.value->body;
  if (!answer.is_object()) return Malformed<Out>("task answer is not an object");
  ApiResult<Out> out;
  out.value.emplace();
  auto data = answer.find("data");
  if (data == answer.end() || data->is_null()) return out;  // not in this list
  if (!data->is_object() || !data->contains("status") || !(*data)["status"].is_number_integer()) {
    return Malformed<Out>("task data without an integer status");
  }
  PriceTaskStatus status;
  status.upload_id = data->value("uploadID", upload_id);
  status.status = (*data)["status"].get<int>();
  *out.value = status;
  return out;
}

ApiResult<std::vector<PriceGoodResult>> Client::GetPriceTaskGoods(TaskList list,
                                                                  int64_t upload_id, int limit,
                                                                  int64_t offset) {
  const bool history = list == TaskList::kHistory;
  auto r = Call(ApiGroup::kPrices, "GET", options_.prices_url,
                fmt::format("{}?limit={}&offset={}&uploadID={}",
                            history ? "/api/v2/history/goods/task" : "/api/v2/buffer/goods/task",
                            limit, offset, upload_id),
                "", true);
  using Out = std::vector<PriceGoodResult>;
  if (!r.ok()) return Fail<Out>(std::move(r.error));
  const json& answer = r.value->body;
  if (!answer.is_object()) return Malformed<Out>("task goods answer is not an object");
  ApiResult<Out> out;
  out.value.emplace();
  const json* data = answer.contains("data") ? &answer["data"] : nullptr;
  const char* key = history ? "historyGoods" : "bufferGoods";
  if (data == nullptr || !data->is_object() || !data->contains(key) || (*data)[key].is_null()) {
    return out;  // nothing (bufferGoods is nullable)
  }
  if (!(*data)[key].is_array()) return Malformed<Out>(std::string(key) + " is not an array");
  for (const auto& g : (*data)[key]) {
    if (!g.is_object() || !g.contains("nmID") || !g["nmID"].is_number_integer()) {
      return Malformed<Out>("task good without an integer nmID");
    }
    PriceGoodResult row;
    row.nm_id = g["nmID"].get<int64_t>();
    row.status = g.contains("status") && g["status"].is_number_integer() ? g["status"].get<int>() : 0;
    if (g.contains("errorText") && g["errorText"].is_string()) {
      row.error_text = g["errorText"].get<std::string>();
    }
    out.value->push_back(std::move(row));
  }
  return out;
}

ApiResult<CardsPage> Client::ListCards(const CardsCursor& cursor, int limit) {
  json c = {{"limit", limit}};
  if (!cursor.updated_at.empty()) {
    c["updatedAt"] = cursor.updated_at;
    c["nmID"] = cursor.nm_id;
  }
  json body = {{"settings", {{"cursor", std::move(c)}, {"filter", {{"withPhoto", -1}}}}}};
  auto r = Call(ApiGroup::kContent, "POST", options_.content_url, "/content/v2/get/cards/list",
                body.dump(), true);
  if (!r.ok()) return Fail<CardsPage>(std::move(r.error));
  const json& answer = r.value->body;
  if (!answer.is_object() || !answer.contains("cards") || !answer["cards"].is_array()) {
    return Malformed<CardsPage>("cards list without cards[]");
  }
  CardsPage page;
  page.cards = answer["cards"].get<std::vector<json>>();
  if (answer.contains("cursor") && answer["cursor"].is_object()) {
    const json& rc = answer["cursor"];
    page.cursor.updated_at = rc.value("updatedAt", "");
    page.cursor.nm_id = rc.value("nmID", int64_t{0});
    page.total = rc.value("total", int64_t{0});
  }
  ApiResult<CardsPage> out;
  out.value = std::move(page);
  return out;
}

}  // namespace crmhub::adapters::wildberries
