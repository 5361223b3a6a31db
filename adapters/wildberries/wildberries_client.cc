#include "adapters/wildberries/wildberries_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "base/json_get.h"
#include "base/json_list.h"
#include "base/timestamp.h"
#include "net/upstream.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

constexpr std::array<Group, kGroupCount> kGroups = {Group::kOrders,  Group::kDbs,
                                                    Group::kStocks,  Group::kPrices,
                                                    Group::kContent, Group::kAnalytics};

size_t Index(Group group) { return static_cast<size_t>(group); }

// WB's error shapes: {code, message} (marketplace), {title, detail} (401,
// 429), {errorText} (prices, content), and a 409's array of {code, message}.
std::string ErrorText(const json& body) {
  const json& first = body.is_array() && !body.empty() ? body.front() : body;
  for (const char* key : {"message", "detail", "errorText", "title", "code"}) {
    if (auto s = JsonString(first, key); s && !s->empty()) return std::string(*s);
  }
  return {};
}

net::ApiDialect Dialect() {
  net::ApiDialect d;
  d.system = "wildberries";
  using Format = net::ApiDialect::ThrottleHeader::Format;
  d.throttle_headers = {{"X-Ratelimit-Retry", Format::kSeconds}, {"Retry-After"}};
  d.error_text = ErrorText;
  d.extra_cost = [](int status) { return status == 409 ? kConflictCost - 1 : 0; };
  return d;
}

std::string_view OrdersPath(Scheme scheme) {
  return scheme == Scheme::kFbs ? "/api/v3/orders" : "/api/v3/dbs/orders";
}

Group GroupOf(Scheme scheme) { return scheme == Scheme::kFbs ? Group::kOrders : Group::kDbs; }

}  // namespace

std::string_view GroupName(Group group) {
  static constexpr std::array<std::string_view, kGroupCount> kNames = {
      "orders", "dbs", "stocks", "prices", "content", "analytics"};
  return kNames[Index(group)];
}

Pace DefaultPace(Group group) {
  const Pace& d = kDocumentedLimits[Index(group)];
  return {d.interval * 11 / 10, (d.burst + 1) / 2};
}

net::Transport WildberriesClient::MakeTransport(const std::string& upstream_name,
                                                net::HttpClient* http, const Clock& clock,
                                                MetricsRegistry* metrics) {
  std::vector<std::pair<std::string, net::UpstreamOptions>> groups;
  for (Group g : kGroups) {
    // Pacing is our buckets' (they refuse instead of blocking); max_wait 0:
    // an upstream paused by a Retry-After answers a local 429 at once.
    net::UpstreamOptions o;
    o.max_wait = Duration::zero();
    groups.emplace_back(std::string(GroupName(g)), o);
  }
  return net::MakeUpstreamTransport(upstream_name, http, clock, metrics, groups);
}

WildberriesClient::WildberriesClient(WildberriesClientOptions options, net::HttpClient* http,
                                     const Clock& clock, MetricsRegistry* metrics)
    : WildberriesClient(options, MakeTransport(options.upstream_name, http, clock, metrics), clock,
                        metrics) {}

WildberriesClient::WildberriesClient(WildberriesClientOptions options, net::Transport transport,
                                     const Clock& clock, MetricsRegistry* metrics)
    : options_(std::move(options)),
      clock_(clock),
      api_(net::ApiClientOptions{.dialect = Dialect(), .headers = {}, .timeout = options_.timeout},
           std::move(transport), clock) {
  cancel_bucket_ = std::make_unique<net::TokenBucket>(
      clock, net::RateLimit::Every(options_.cancel_pacing.interval,
                                   static_cast<double>(options_.cancel_pacing.burst)));
  sales_bucket_ = std::make_unique<net::TokenBucket>(
      clock, net::RateLimit::Every(options_.sales_pacing.interval,
                                   static_cast<double>(options_.sales_pacing.burst)));
  dbs_status_bucket_ = std::make_unique<net::TokenBucket>(
      clock, net::RateLimit::Every(options_.dbs_status_pacing.interval,
                                   static_cast<double>(options_.dbs_status_pacing.burst)));
  for (Group g : kGroups) {
    const Pace& pace = options_.pacing[Index(g)];
    buckets_[Index(g)] = std::make_unique<net::TokenBucket>(
        clock, net::RateLimit::Every(pace.interval, static_cast<double>(pace.burst)));
    if (metrics != nullptr) {
      // The series net::Upstream counts the upstream's 429s in.
      throttled_[Index(g)] = &metrics->GetCounter(
          "crmhub_upstream_throttled_total",
          "Requests throttled: the upstream answered 429, or our rate limiter delayed them.",
          {{"upstream", options_.upstream_name + ":" + std::string(GroupName(g))}});
    }
  }
}

std::optional<SystemTime> WildberriesClient::Peek(Group group, int64_t tokens) const {
  const Duration wait = buckets_[Index(group)]->Peek(tokens);
  if (wait <= Duration::zero()) return std::nullopt;
  return clock_.Now() + std::chrono::duration_cast<SystemTime::duration>(wait);
}

ApiResult<net::ApiAnswer> WildberriesClient::Call(Group group, const char* method,
                                                  const std::string& base, std::string target,
                                                  std::string body, net::ApiRequest::Expect expect,
                                                  net::TokenBucket* own_bucket) {
  net::TokenBucket& bucket = own_bucket != nullptr ? *own_bucket : *buckets_[Index(group)];
  net::ApiRequest request{.method = method,
                          .url = base + target,
                          .body = std::move(body),
                          .group = std::string(GroupName(group)),
                          .limits = {{&bucket, 1}},
                          .expect = expect};
  request.headers.Set("Authorization", std::string(options_.token.Reveal()));
  request.headers.Set("Accept", "application/json");
  ApiResult<net::ApiAnswer> answer = api_.Call(std::move(request));
  if (!answer.ok() && answer.error().kind == ApiError::Kind::kThrottled) {
    const ApiError& e = answer.error();
    if (e.http_status == 0 && throttled_[Index(group)] != nullptr) throttled_[Index(group)]->Inc();
    if (e.http_status == 429 && e.not_before) {
      // Our pacing was wrong about WB: nothing goes out before its time.
      bucket.PauseUntil(clock_.SteadyNow() +
                        std::chrono::duration_cast<Duration>(*e.not_before - clock_.Now()));
    }
  }
  return answer;
}

ApiError WildberriesClient::Unexpected(const net::ApiAnswer& answer, std::string_view call,
                                       std::string_view what) const {
  ApiError e;
  e.kind = ApiError::Kind::kTransient;
  e.http_status = answer.status;
  e.message = fmt::format("wildberries: {}: unexpected answer: {}", call, what);
  return e;
}

ApiResult<std::vector<json>> WildberriesClient::NewOrders(Scheme scheme) {
  const std::string path = std::string(OrdersPath(scheme)) + "/new";
  auto r = Call(GroupOf(scheme), "GET", options_.marketplace_url, path, "");
  if (!r.ok()) return r.error();
  if (JsonArray(r->json, "orders") == nullptr) return Unexpected(*r, path, "no orders array");
  std::vector<json> orders;
  for (json& o : r->json["orders"]) orders.push_back(std::move(o));  // checked: an array
  return orders;
}

ApiResult<OrdersPage> WildberriesClient::Orders(Scheme scheme, int limit, int64_t next,
                                                std::optional<int64_t> date_from,
                                                std::optional<int64_t> date_to) {
  std::string target = fmt::format("{}?limit={}&next={}", OrdersPath(scheme), limit, next);
  if (date_from) target += fmt::format("&dateFrom={}", *date_from);
  if (date_to) target += fmt::format("&dateTo={}", *date_to);
  auto r = Call(GroupOf(scheme), "GET", options_.marketplace_url, std::move(target), "",
                net::ApiRequest::Expect::kAny);
  if (!r.ok()) return r.error();
  // A page holds up to 1000 orders, each queued as the text WB sent.
  static constexpr std::string_view kPath[] = {"orders"};
  static constexpr std::string_view kKeys[] = {"id", "createdAt"};
  Result<JsonList> list = SplitJsonList(r->body, kPath, kKeys);
  if (!list.ok()) return Unexpected(*r, OrdersPath(scheme), list.status().message());
  const std::optional<int64_t> page_next = ParseDecimalInt(list->Sibling("next"));
  if (!list->found || !page_next) {
    return Unexpected(*r, OrdersPath(scheme), "no orders array and integer next");
  }
  OrdersPage page{*page_next, {}};
  page.orders.reserve(list->elements.size());
  for (size_t i = 0; i < list->elements.size(); ++i) {
    JsonListElement& e = list->elements[i];
    const std::optional<int64_t> id = ParseDecimalInt(e.fields[0]);
    if (e.text.empty() || !id) {
      return Unexpected(*r, OrdersPath(scheme), fmt::format("orders[{}] has no integer id", i));
    }
    page.orders.push_back({*id, std::move(e.fields[1]), std::string(e.text)});
  }
  return page;
}

ApiResult<std::vector<OrderStatus>> WildberriesClient::Statuses(Scheme scheme,
                                                                std::span<const int64_t> ids) {
  const std::string path = std::string(OrdersPath(scheme)) + "/status";
  const json body = {{"orders", std::vector<int64_t>(ids.begin(), ids.end())}};
  auto r = Call(GroupOf(scheme), "POST", options_.marketplace_url, path, body.dump());
  if (!r.ok()) return r.error();
  const json* orders = JsonArray(r->json, "orders");
  if (orders == nullptr) return Unexpected(*r, path, "no orders array");
  std::vector<OrderStatus> statuses;
  statuses.reserve(orders->size());
  for (const json& s : *orders) {
    auto id = JsonInt(s, "id");
    auto supplier = JsonString(s, "supplierStatus");
    auto wb = JsonString(s, "wbStatus");
    if (!id || !supplier || !wb) {
      return Unexpected(*r, path, "a status without integer id and string statuses");
    }
    statuses.push_back({*id, std::string(*supplier), std::string(*wb)});
  }
  return statuses;
}

ApiResult<std::vector<StockConflict>> WildberriesClient::PutStocks(
    int64_t warehouse_id, std::span<const StockItem> items) {
  json stocks = json::array();
  for (const StockItem& item : items) {
    stocks.push_back({{"chrtId", item.chrt_id}, {"amount", item.amount}});
  }
  auto r = Call(Group::kStocks, "PUT", options_.marketplace_url,
                fmt::format("/api/v3/stocks/{}", warehouse_id),
                json{{"stocks", std::move(stocks)}}.dump(), net::ApiRequest::Expect::kAny);
  if (r.ok()) return std::vector<StockConflict>{};
  if (r.error().http_status != 409) return r.error();
  // StocksWarehouseError: an array of {code, message, data: [{sku, amount}] | null}.
  // Another body names no item: the whole request is in conflict.
  Result<json> errors = ParseJson(r.error().body);
  if (!errors.ok() || !errors->is_array()) {
    return std::vector<StockConflict>{{"(unreadable)", r.error().message, {}}};
  }
  std::vector<StockConflict> conflicts;
  for (const json& e : *errors) {
    StockConflict c{std::string(JsonString(e, "code").value_or("")),
                    std::string(JsonString(e, "message").value_or("")),
                    {}};
    if (const json* data = JsonArray(e, "data")) {
      for (const json& d : *data) {
        if (auto sku = JsonString(d, "sku")) c.barcodes.emplace_back(*sku);
      }
    }
    conflicts.push_back(std::move(c));
  }
  return conflicts;
}

ApiResult<std::vector<StockItem>> WildberriesClient::GetStocks(int64_t warehouse_id,
                                                               std::span<const int64_t> chrt_ids) {
  const std::string path = fmt::format("/api/v3/stocks/{}", warehouse_id);
  auto r = Call(Group::kStocks, "POST", options_.marketplace_url, path,
                json{{"chrtIds", std::vector<int64_t>(chrt_ids.begin(), chrt_ids.end())}}.dump());
  if (!r.ok()) return r.error();
  const json* stocks = JsonArray(r->json, "stocks");
  if (stocks == nullptr) return Unexpected(*r, path, "no stocks array");
  std::vector<StockItem> items;
  for (const json& s : *stocks) {
    items.push_back({JsonInt(s, "chrtId").value_or(0), JsonInt(s, "amount").value_or(0)});
  }
  return items;
}

ApiResult<int64_t> WildberriesClient::UploadPrices(std::span<const PriceGood> goods) {
  json data = json::array();
  for (const PriceGood& g : goods) {
    json item = {{"nmID", g.nm_id}};
    if (g.price) item["price"] = *g.price;
    if (g.discount) item["discount"] = *g.discount;
    data.push_back(std::move(item));
  }
  auto r = Call(Group::kPrices, "POST", options_.prices_url, "/api/v2/upload/task",
                json{{"data", std::move(data)}}.dump());
  if (!r.ok()) return r.error();
  // TaskCreated (200) or the 208 "already exists" answer: {data: {id, alreadyExists}}.
  const json* task = JsonObject(r->json, "data");
  const std::optional<int64_t> id = task ? JsonInt(*task, "id") : std::nullopt;
  if (!id || *id <= 0) return Unexpected(*r, "/api/v2/upload/task", "no task id");
  return *id;
}

ApiResult<std::optional<int64_t>> WildberriesClient::PriceTaskStatus(TaskList list,
                                                                     int64_t upload_id) {
  const char* path = list == TaskList::kHistory ? "/api/v2/history/tasks" : "/api/v2/buffer/tasks";
  auto r = Call(Group::kPrices, "GET", options_.prices_url,
                fmt::format("{}?uploadID={}", path, upload_id), "");
  if (!r.ok()) return r.error();
  const json* data = JsonMember(r->json, "data");
  if (!r->json.is_object()) return Unexpected(*r, path, "not an object");
  if (data == nullptr || data->is_null()) return std::optional<int64_t>();  // not in this list
  const std::optional<int64_t> status = JsonInt(*data, "status");
  if (!status) return Unexpected(*r, path, "data without an integer status");
  return std::optional<int64_t>(*status);
}

ApiResult<std::vector<PriceGoodResult>> WildberriesClient::PriceTaskGoods(TaskList list,
                                                                          int64_t upload_id,
                                                                          int limit,
                                                                          int64_t offset) {
  const bool history = list == TaskList::kHistory;
  const char* path = history ? "/api/v2/history/goods/task" : "/api/v2/buffer/goods/task";
  auto r =
      Call(Group::kPrices, "GET", options_.prices_url,
           fmt::format("{}?limit={}&offset={}&uploadID={}", path, limit, offset, upload_id), "");
  if (!r.ok()) return r.error();
  if (!r->json.is_object()) return Unexpected(*r, path, "not an object");
  std::vector<PriceGoodResult> out;
  const json* data = JsonObject(r->json, "data");
  const char* key = history ? "historyGoods" : "bufferGoods";
  const json* goods = data ? JsonMember(*data, key) : nullptr;
  if (goods == nullptr || goods->is_null()) return out;  // nothing (bufferGoods is nullable)
  if (!goods->is_array()) return Unexpected(*r, path, fmt::format("{} is not an array", key));
  for (const json& g : *goods) {
    auto nm = JsonInt(g, "nmID");
    if (!nm) return Unexpected(*r, path, "a good without an integer nmID");
    out.push_back({*nm, JsonInt(g, "status").value_or(0),
                   std::string(JsonString(g, "errorText").value_or(""))});
  }
  return out;
}

namespace {

// A card of /content/v2/get/cards/list in the kit's shape (CardsPage).
kit::PulledCard ReadCard(const json& card) {
  kit::PulledCard out{.card = {}, .raw = card};
  if (!card.is_object()) return out;
  kit::ProductCard& c = out.card;
  c.sku = std::string(JsonString(card, "vendorCode").value_or(""));
  if (auto nm = JsonInt(card, "nmID"); nm && *nm > 0) c.marketplace_id = std::to_string(*nm);
  c.name = std::string(JsonString(card, "title").value_or(""));
  if (auto at = JsonString(card, "updatedAt")) {
    Result<int64_t> ms = ParseTimestampMs(*at, kNoDefaultOffset);
    if (ms.ok()) c.updated_ms = *ms;
  }
  json chrt_ids = json::array();
  if (const json* sizes = JsonArray(card, "sizes")) {
    for (const json& size : *sizes) {
      if (auto chrt = JsonInt(size, "chrtID")) chrt_ids.push_back(*chrt);
      if (const json* skus = JsonArray(size, "skus")) {
        for (const json& sku : *skus) {
          if (auto b = AsString(sku); b && !b->empty()) c.barcodes.emplace_back(*b);
        }
      }
    }
  }
  c.attributes["chrt_ids"] = std::move(chrt_ids);
  for (const char* key : {"imtID", "brand", "subjectID", "subjectName"}) {
    if (auto v = JsonScalarText(card, key); v && !v->empty()) c.attributes[key] = *v;
  }
  return out;
}

}  // namespace

ApiResult<std::vector<json>> WildberriesClient::GoodsReturns(const std::string& date_from,
                                                             const std::string& date_to) {
  constexpr const char* kPath = "/api/v1/analytics/goods-return";
  auto r = Call(Group::kAnalytics, "GET", options_.analytics_url,
                fmt::format("{}?dateFrom={}&dateTo={}", kPath, date_from, date_to), "");
  if (!r.ok()) return r.error();
  const json* report = JsonArray(r->json, "report");
  if (report == nullptr) return Unexpected(*r, kPath, "no report array");
  return std::vector<json>(report->begin(), report->end());
}

ApiResult<CardsPage> WildberriesClient::ListCards(const CardsCursor& cursor, int limit) {
  json c = {{"limit", limit}};
  if (!cursor.updated_at.empty()) {
    c["updatedAt"] = cursor.updated_at;
    c["nmID"] = cursor.nm_id;
  }
  const json body = {{"settings", {{"cursor", std::move(c)}, {"filter", {{"withPhoto", -1}}}}}};
  constexpr const char* kPath = "/content/v2/get/cards/list";
  auto r = Call(Group::kContent, "POST", options_.content_url, kPath, body.dump());
  if (!r.ok()) return r.error();
  const json* cards = JsonArray(r->json, "cards");
  const json* next = JsonObject(r->json, "cursor");
  if (cards == nullptr || next == nullptr) return Unexpected(*r, kPath, "no cards and cursor");
  CardsPage page;
  page.cards = cards->size();
  page.cursor = {std::string(JsonString(*next, "updatedAt").value_or("")),
                 JsonInt(*next, "nmID").value_or(0)};
  page.total = JsonInt(*next, "total").value_or(0);
  for (const json& card : *cards) {
    page.products.push_back(ReadCard(card));
    const json* sizes = JsonArray(card, "sizes");
    if (sizes == nullptr) continue;  // a card without sizes names no item
    for (const json& size : *sizes) {
      auto chrt = JsonInt(size, "chrtID");
      if (!chrt) continue;  // a size we could not name an item by
      CardSize s{*chrt, {}};
      if (const json* skus = JsonArray(size, "skus")) {
        for (const json& sku : *skus) {
          if (auto b = AsString(sku)) s.barcodes.emplace_back(*b);
        }
      }
      page.sizes.push_back(std::move(s));
    }
  }
  return page;
}

std::optional<SystemTime> WildberriesClient::PeekSupplyStart() const {
  const int64_t burst = options_.pacing[Index(Group::kOrders)].burst;
  return Peek(Group::kOrders, std::clamp<int64_t>(burst, 1, 2));
}

ApiResult<std::string> WildberriesClient::CreateSupply(const std::string& name) {
  auto r = Call(Group::kOrders, "POST", options_.marketplace_url, "/api/v3/supplies",
                json{{"name", name}}.dump());
  if (!r.ok()) return r.error();
  const std::optional<std::string_view> id = JsonString(r->json, "id");
  if (!id || id->empty()) return Unexpected(*r, "/api/v3/supplies", "no supply id");
  return std::string(*id);
}

ApiResult<bool> WildberriesClient::AddSupplyOrders(const std::string& supply_id,
                                                   std::span<const int64_t> ids) {
  const json body = {{"orders", std::vector<int64_t>(ids.begin(), ids.end())}};
  auto r = Call(Group::kOrders, "PATCH", options_.marketplace_url,
                fmt::format("/api/marketplace/v3/supplies/{}/orders", net::UrlEncode(supply_id)),
                body.dump(), net::ApiRequest::Expect::kAny);
  if (!r.ok()) return r.error();
  return true;
}

ApiResult<bool> WildberriesClient::DeliverSupply(const std::string& supply_id) {
  auto r = Call(Group::kOrders, "PATCH", options_.marketplace_url,
                fmt::format("/api/v3/supplies/{}/deliver", net::UrlEncode(supply_id)), "",
                net::ApiRequest::Expect::kAny);
  if (!r.ok()) return r.error();
  return true;
}

ApiResult<bool> WildberriesClient::CancelOrder(int64_t order_id) {
  auto r = Call(Group::kOrders, "PATCH", options_.marketplace_url,
                fmt::format("/api/v3/orders/{}/cancel", order_id), "",
                net::ApiRequest::Expect::kAny, cancel_bucket_.get());
  if (!r.ok()) return r.error();
  return true;
}

std::string_view DbsWriteName(DbsWrite write) {
  switch (write) {
    case DbsWrite::kConfirm:
      return "confirm";
    case DbsWrite::kDeliver:
      return "deliver";
    case DbsWrite::kReceive:
      return "receive";
    case DbsWrite::kReject:
      return "reject";
    case DbsWrite::kCancel:
      break;
  }
  return "cancel";
}

ApiResult<bool> WildberriesClient::DbsStatus(DbsWrite write, int64_t order_id,
                                             std::string_view code) {
  const bool coded = write == DbsWrite::kReceive || write == DbsWrite::kReject;
  auto r = Call(Group::kDbs, "PATCH", options_.marketplace_url,
                fmt::format("/api/v3/dbs/orders/{}/{}", order_id, DbsWriteName(write)),
                coded ? json{{"code", code}}.dump() : "", net::ApiRequest::Expect::kAny,
                dbs_status_bucket_.get());
  if (!r.ok()) {
    // The dialect billed kConflictCost; receive and reject's 409 costs more.
    if (coded && r.error().http_status == 409) {
      dbs_status_bucket_->Charge(kDbsCodeConflictCost - kConflictCost);
    }
    return r.error();
  }
  return true;
}

}  // namespace crmhub::adapters::wildberries
