// WildberriesSimulator: the dialect (error bodies as the contract files
// define them), the routes with their limit groups, and the API endpoints
// (paths, parameters, limits and answers as in the contract files).

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "adapters/wildberries/wildberries_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

namespace sim_wire {

net::HttpResponse WbError(int status, std::string_view code, std::string_view message) {
  return net::HttpResponse::Json(status, json{{"code", code}, {"message", message}}.dump());
}

net::HttpResponse IncorrectParameter() {
  return WbError(400, "IncorrectParameter", "Передан некорректный параметр");
}
net::HttpResponse IncorrectBody() {
  return WbError(400, "IncorrectRequestBody", "Некорректное тело запроса");
}

}  // namespace sim_wire

namespace {

using sim_wire::IncorrectBody;
using sim_wire::IncorrectParameter;
using sim_wire::WbError;

// 01-general.yaml components/responses/401 and 429.
net::HttpResponse WbGatewayError(int status, std::string_view title, std::string_view detail,
                                 std::string_view status_text, SystemTime now) {
  json body = {{"title", title},
               {"detail", detail},
               {"code", "sim-0000000000000000"},
               {"requestId", fmt::format("{:016x}", ToUnixMillis(now))},
               {"origin", "s2s-api-auth-sim"},
               {"status", status},
               {"statusText", status_text},
               {"timestamp", FormatRfc3339(now)}};
  return net::HttpResponse::Json(status, body.dump());
}

// Prices ("ResponseError") and content ("responseBodyContentError400"):
// {data, error, errorText}.
net::HttpResponse WbTaskError(int status, std::string_view text) {
  json body = {{"data", nullptr}, {"error", true}, {"errorText", text}};
  return net::HttpResponse::Json(status, body.dump());
}

// The API groups' limits, from the contract files' "period / limit /
// interval / burst" tables.
struct GroupLimit {
  const char* group;
  std::chrono::milliseconds interval;
  int64_t burst;
};
constexpr GroupLimit kGroupLimits[] = {
    {"orders", std::chrono::milliseconds(200), 20},
    {"dbs", std::chrono::milliseconds(200), 20},
    {"stocks", std::chrono::milliseconds(200), 20},
    {"prices", std::chrono::milliseconds(600), 5},
    {"content", std::chrono::milliseconds(600), 5},
    // 12-reports.yaml, goods-return: 1 min / 1 / 1 min / 10.
    {"analytics", std::chrono::milliseconds(60'000), 10},
    // 12-reports.yaml, supplier/sales: 1 min / 1 / 1 min / 1.
    {"statistics", std::chrono::milliseconds(60'000), 1},
    // PATCH /api/v3/orders/{orderId}/cancel: its own 1 min / 100 / 600 ms / 20.
    {"cancel", std::chrono::milliseconds(600), 20},
    // The DBS status writes (05-orders-dbs.yaml), each method 1 min / 100 /
    // 600 ms / 20.
    {"dbs_confirm", std::chrono::milliseconds(600), 20},
    {"dbs_deliver", std::chrono::milliseconds(600), 20},
    {"dbs_receive", std::chrono::milliseconds(600), 20},
    {"dbs_reject", std::chrono::milliseconds(600), 20},
    {"dbs_cancel", std::chrono::milliseconds(600), 20},
};

std::chrono::milliseconds IntervalOf(std::string_view group) {
  for (const GroupLimit& g : kGroupLimits) {
    if (g.group == group) return g.interval;
  }
  return std::chrono::milliseconds(200);
}

int64_t CeilSeconds(Duration d) { return std::chrono::ceil<std::chrono::seconds>(d).count(); }

std::optional<int64_t> QueryInt(const net::HttpRequest& req, std::string_view name) {
  auto v = req.QueryParam(name);
  return v ? ParseDecimalInt(*v) : std::nullopt;
}

// GoodHistory.errorText's documented example (price quarantine).
constexpr const char* kQuarantineText =
    "The new price is several times lower than the current price. Item has been moved to Price "
    "Quarantine";

// Barcode -> product index, for SimBarcode(i) = "2" + 11 digits + check.
int ProductOfBarcode(std::string_view barcode, int products) {
  if (barcode.size() != 13 || barcode[0] != '2') return 0;
  auto i = ParseDecimalInt(barcode.substr(1, 11));
  if (!i || *i < 1 || *i > products || SimBarcode(static_cast<int>(*i)) != barcode) return 0;
  return static_cast<int>(*i);
}

}  // namespace

simkit::SimPipeline::Options WildberriesSimulator::PipelineOptions() {
  using Limit = simkit::SimPipeline::Limit;
  using Route = simkit::SimPipeline::Route;
  using simkit::SimRequest;
  simkit::SimPipeline::Options o = CommonOptions(options_, 0);
  o.dialect.server_header = "wildberries-sim";
  // HeaderApiKey: the bare token in Authorization.
  o.dialect.auth_headers = {"Authorization"};
  std::vector<std::string> tokens = options_.credentials;
  if (tokens.empty()) tokens.push_back("sim-token");
  for (const std::string& t : tokens) o.dialect.accepted.push_back({t, t});
  o.dialect.unauthorized = [this](bool missing) {
    return WbGatewayError(
        401, "unauthorized",
        missing ? "empty Authorization header" : "token problem; token is malformed",
        "Unauthorized", clock_.Now());
  };
  o.dialect.error = [](int status, std::string_view message) {
    switch (status) {
      case 400:
        return IncorrectBody();
      case 404:
        return WbError(404, "NotFound", "Not found");
      case 500:
        return WbError(500, "InternalServerError", "Внутренняя ошибка сервиса");
      case 503:
        return WbError(503, "ServiceUnavailable", "Сервис временно недоступен");
      default:
        return WbError(status, "Error", message);
    }
  };
  o.dialect.throttled = [this](const simkit::LimitRefusal& refusal) {
    net::HttpResponse r = WbGatewayError(429, "too many requests", "limited by sim",
                                         "Too Many Requests", clock_.Now());
    // A bucket short of a token by retry_after is full again after the
    // rest of the burst's intervals.
    const Duration until_full =
        refusal.retry_after + (refusal.limit - 1) * IntervalOf(refusal.group);
    r.headers.Set("X-Ratelimit-Retry",
                  std::to_string(std::max<int64_t>(1, CeilSeconds(refusal.retry_after))));
    r.headers.Set("X-Ratelimit-Limit", std::to_string(refusal.limit));
    r.headers.Set("X-Ratelimit-Reset",
                  std::to_string(refusal.injected ? 1 : CeilSeconds(until_full)));
    return r;
  };
  o.dialect.limit_headers = [](net::HttpResponse& r, const Limit& limit,
                               net::RateLimiter& limiter) {
    r.headers.Set("X-Ratelimit-Remaining", std::to_string(limiter.Available()));
    r.headers.Set("X-Ratelimit-Limit", std::to_string(limit.size));
  };
  for (const GroupLimit& g : kGroupLimits) {
    o.limits.push_back(
        Limit::Bucket(g.group, net::RateLimit::Every(g.interval, static_cast<double>(g.burst))));
  }
  for (Limit& l : o.limits) {
    if (l.group == "statistics") {
      l = Limit::Bucket("statistics", net::RateLimit::Every(options_.sales_interval, 1.0));
    }
  }
  // "Each 409 response is counted as 10 requests" (stocks).
  for (Limit& l : o.limits) {
    if (l.group == "stocks") l.extra_cost = [](int status) { return status == 409 ? 9 : 0; };
  }
  // The DBS status writes: «Один запрос с кодом ответа 409 учитывается как
  // 10 запросов» (confirm, deliver, cancel), «как 33 запроса» (receive,
  // reject).
  for (Limit& l : o.limits) {
    if (l.group == "dbs_confirm" || l.group == "dbs_deliver" || l.group == "dbs_cancel") {
      l.extra_cost = [](int status) { return status == 409 ? 9 : 0; };
    } else if (l.group == "dbs_receive" || l.group == "dbs_reject") {
      l.extra_cost = [](int status) { return status == 409 ? 32 : 0; };
    }
  }
  auto get = [](std::string path, const char* group,
                std::function<net::HttpResponse(const SimRequest&)> h) {
    return Route{
        .method = "GET", .path = std::move(path), .limits = {group}, .handler = std::move(h)};
  };
  auto post = [](std::string method, std::string path, const char* group,
                 std::function<net::HttpResponse(const SimRequest&)> h) {
    return Route{.method = std::move(method),
                 .path = std::move(path),
                 .limits = {group},
                 .json_body = true,
                 .handler = std::move(h)};
  };
  o.routes = {
      get("/api/v3/orders", "orders",
          [this](const SimRequest& r) { return ListOrders(r.http, r.dup, /*dbs=*/false); }),
      get("/api/v1/analytics/goods-return", "analytics",
          [this](const SimRequest& r) { return GoodsReturns(r.http); }),
      get("/api/v1/supplier/sales", "statistics",
          [this](const SimRequest& r) { return Sales(r.http); }),
      get("/api/v3/orders/new", "orders", [this](const SimRequest&) { return NewOrders(false); }),
      post("POST", "/api/v3/orders/status", "orders",
           [this](const SimRequest& r) { return Statuses(r.body, r.dup, /*dbs=*/false); }),
      get("/api/v3/dbs/orders/new", "dbs", [this](const SimRequest&) { return NewOrders(true); }),
      get("/api/v3/dbs/orders", "dbs",
          [this](const SimRequest& r) { return ListOrders(r.http, r.dup, /*dbs=*/true); }),
      post("POST", "/api/v3/dbs/orders/status", "dbs",
           [this](const SimRequest& r) { return Statuses(r.body, r.dup, /*dbs=*/true); }),
      post("PUT", "/api/v3/stocks/{}", "stocks", [this](const SimRequest& r) { return Stocks(r); }),
      post("POST", "/api/v3/stocks/{}", "stocks",
           [this](const SimRequest& r) { return Stocks(r); }),
      post("POST", "/api/v2/upload/task", "prices",
           [this](const SimRequest& r) { return UploadPrices(r.http, r.body); }),
      get("/api/v2/history/tasks", "prices",
          [this](const SimRequest& r) { return PriceTask(r.http, true, false); }),
      get("/api/v2/history/goods/task", "prices",
          [this](const SimRequest& r) { return PriceTask(r.http, true, true); }),
      get("/api/v2/buffer/tasks", "prices",
          [this](const SimRequest& r) { return PriceTask(r.http, false, false); }),
      get("/api/v2/buffer/goods/task", "prices",
          [this](const SimRequest& r) { return PriceTask(r.http, false, true); }),
      post("POST", "/content/v2/get/cards/list", "content",
           [this](const SimRequest& r) { return ListCards(r.body); }),
      // FBS supplies and the seller's cancel (wildberries_sim_supplies.cc).
      post("POST", "/api/v3/supplies", "orders",
           [this](const SimRequest& r) { return CreateSupply(r.body); }),
      post("PATCH", "/api/marketplace/v3/supplies/{}/orders", "orders",
           [this](const SimRequest& r) { return AddSupplyOrders(r.params.at(0), r.body); }),
      Route{.method = "PATCH",
            .path = "/api/v3/supplies/{}/deliver",
            .limits = {"orders"},
            .handler = [this](const SimRequest& r) { return DeliverSupply(r.params.at(0)); }},
      Route{.method = "PATCH",
            .path = "/api/v3/orders/{}/cancel",
            .limits = {"cancel"},
            .handler = [this](const SimRequest& r) { return CancelOrder(r.params.at(0)); }},
  };
  // The DBS status writes (wildberries_sim_dbs.cc): receive and reject take
  // the Code body.
  for (const char* write : {"confirm", "deliver", "receive", "reject", "cancel"}) {
    const bool coded = std::string_view(write) == "receive" || std::string_view(write) == "reject";
    o.routes.push_back(Route{.method = "PATCH",
                             .path = fmt::format("/api/v3/dbs/orders/{{}}/{}", write),
                             .limits = {fmt::format("dbs_{}", write)},
                             .json_body = coded,
                             .handler = [this, write](const SimRequest& r) {
                               return DbsWrite(r.params.at(0), write, r.body);
                             }});
  }
  // The prices and content APIs answer a body they cannot read in their own
  // shapes.
  for (Route& r : o.routes) {
    if (r.path == "/api/v2/upload/task") {
      r.error = [](int, std::string_view) { return WbTaskError(400, "Invalid data format"); };
    } else if (r.path == "/content/v2/get/cards/list") {
      r.error = [](int, std::string_view) {
        return net::HttpResponse::Text(400, "Request body can not be decoded");
      };
    }
  }
  return o;
}

// FBS: every assembly task created in the period (default: the last 30
// days); DBS: only the completed ones, dateFrom and dateTo required.
net::HttpResponse WildberriesSimulator::ListOrders(const net::HttpRequest& req, bool dup,
                                                   bool dbs) {
  auto limit = QueryInt(req, "limit");
  auto next = QueryInt(req, "next");
  const int64_t now_s = ToUnixMillis(clock_.Now()) / 1000;
  auto date_from = req.QueryParam("dateFrom") || dbs ? QueryInt(req, "dateFrom")
                                                     : std::optional(now_s - 30 * 24 * 3600);
  auto date_to = req.QueryParam("dateTo") || dbs ? QueryInt(req, "dateTo") : std::optional(now_s);
  // "максимум 30 календарных дней одним запросом"
  if (!limit || *limit < 1 || *limit > 1000 || !next || *next < 0 || !date_from || !date_to ||
      *date_to < *date_from || *date_to - *date_from > 30 * 24 * 3600) {
    return IncorrectParameter();
  }
  int64_t after = *next;
  if (dup) after = std::max<int64_t>(0, after - 50);  // overlap the previous page
  std::lock_guard lock(mu_);
  simkit::JsonText out;  // a page of up to 1000 orders, written as text
  out.BeginObject().Key("orders").BeginArray();
  int64_t last = *next;
  for (const Order* o :
       PageOf(dbs ? dbs_orders_ : orders_, after, *date_from, *date_to, *limit, dbs)) {
    WriteOrder(out, *o, dbs, /*fresh=*/false);
    last = std::max(last, o->id);
  }
  out.EndArray().Member("next", last).EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

std::vector<const WildberriesSimulator::Order*> WildberriesSimulator::PageOf(
    const std::vector<Order>& list, int64_t after, int64_t from_s, int64_t to_s, int64_t limit,
    bool completed_only) const {
  const int64_t now = NowMs();
  const int64_t start_unix_ms = ToUnixMillis(start_);
  std::vector<const Order*> out;
  for (const auto& o : list) {
    if (o.id <= after) continue;
    if (o.created_ms > now) break;  // by id == by creation time
    int64_t created_s = (start_unix_ms + o.created_ms) / 1000;
    if (created_s < from_s || created_s > to_s) continue;
    if (completed_only && now < o.steps.back().at_ms) continue;
    out.push_back(&o);
    if (static_cast<int64_t>(out.size()) >= limit) break;
  }
  return out;
}

std::vector<const WildberriesSimulator::Order*> WildberriesSimulator::NewOf(
    const std::vector<Order>& list) const {
  const int64_t now = NowMs();
  std::vector<const Order*> out;
  for (const auto& o : list) {
    if (o.created_ms > now) break;
    const Step& s = StatusAt(o, now);
    if (std::string_view(s.supplier) == "new" && std::string_view(s.wb) == "waiting") {
      out.push_back(&o);
    }
  }
  return out;
}

net::HttpResponse WildberriesSimulator::NewOrders(bool dbs) {
  std::lock_guard lock(mu_);
  simkit::JsonText out;
  out.BeginObject().Key("orders").BeginArray();
  for (const Order* o : NewOf(dbs ? dbs_orders_ : orders_)) WriteOrder(out, *o, dbs, true);
  out.EndArray().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

net::HttpResponse WildberriesSimulator::Statuses(const json& body, bool dup, bool dbs) {
  const json* ids = JsonArray(body, "orders");
  if (ids == nullptr || ids->empty() || ids->size() > 1000) return IncorrectBody();
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  const std::vector<Order>& list = dbs ? dbs_orders_ : orders_;
  simkit::JsonText out;
  out.BeginObject().Key("orders").BeginArray();
  for (const json& idj : *ids) {
    auto id = AsInt(idj);
    if (!id) return IncorrectBody();
    const int64_t index = *id - (dbs ? 20'000'000 : 10'000'000);
    if (index < 0 || index >= static_cast<int64_t>(list.size())) continue;
    const Order& o = list[static_cast<size_t>(index)];
    if (o.created_ms > now) continue;
    const Step& s = StatusAt(o, now);
    for (int copy = dup ? 2 : 1; copy > 0; --copy) {
      out.BeginObject().Member("id", *id).Member("supplierStatus", s.supplier);
      out.Member("wbStatus", s.wb).EndObject();
    }
  }
  out.EndArray().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

net::HttpResponse WildberriesSimulator::Stocks(const simkit::SimRequest& r) {
  std::optional<int64_t> warehouse = ParseDecimalInt(r.params.at(0));
  if (!warehouse) return IncorrectParameter();
  if (std::find(options_.warehouses.begin(), options_.warehouses.end(), *warehouse) ==
      options_.warehouses.end()) {
    return WbError(404, "NotFound", "");
  }
  return r.http.method == "PUT" ? PutStocks(*warehouse, r.body) : GetStocks(*warehouse, r.body);
}

net::HttpResponse WildberriesSimulator::PutStocks(int64_t warehouse, const json& body) {
  const json* stocks = JsonArray(body, "stocks");
  if (stocks == nullptr || stocks->empty() || stocks->size() > 1000) return IncorrectBody();
  std::vector<std::pair<int, int64_t>> updates;
  json not_found = json::array(), too_big = json::array(), kgt_plus = json::array();
  for (const json& s : *stocks) {
    // "Названия параметров запроса не валидируются": an item without the
    // names is answered 204 like the others and changes nothing.
    if (!s.is_object()) return IncorrectBody();
    const json* amount_member = JsonMember(s, "amount");
    const json* chrt_member = JsonMember(s, "chrtId");
    const json* sku_member = JsonMember(s, "sku");
    if (amount_member == nullptr || (chrt_member == nullptr && sku_member == nullptr)) continue;
    auto amount = AsInt(*amount_member);
    if (!amount) return IncorrectBody();
    int product = 0;
    std::string sku;
    if (chrt_member != nullptr) {
      auto chrt = AsInt(*chrt_member);
      if (!chrt) return IncorrectBody();
      const int64_t c = *chrt - 300'000'000;
      if (c >= 1 && c <= options_.products) product = static_cast<int>(c);
      sku = product ? SimBarcode(product) : "";
    } else {
      auto text = AsString(*sku_member);
      if (!text) return IncorrectBody();
      sku = std::string(*text);
      product = ProductOfBarcode(sku, options_.products);
    }
    if (*amount < 0) return IncorrectBody();
    if (product == 0) {
      not_found.push_back({{"sku", sku}, {"amount", *amount}});
    } else if (*amount > 100000) {
      too_big.push_back({{"sku", sku}, {"amount", *amount}});
    } else if (options_.kgt_plus_products.count(product)) {
      kgt_plus.push_back({{"sku", sku}, {"amount", *amount}});
    } else {
      updates.emplace_back(product, *amount);
    }
  }
  if (!not_found.empty() || !too_big.empty() || !kgt_plus.empty()) {
    // StocksWarehouseError; nothing of the request is applied.
    json errors = json::array();
    if (!kgt_plus.empty()) {
      errors.push_back({{"code", "CargoWarehouseRestrictionKGTPlus"},
                        {"message",
                         "The selected warehouse is not suitable for goods with the "
                         "type \"CD+\". Upload the balances to the warehouse marked - CD+"},
                        {"data", kgt_plus}});
    }
    if (!not_found.empty()) {
      errors.push_back({{"code", "NotFound"}, {"message", "Not found"}, {"data", not_found}});
    }
    if (!too_big.empty()) {
      errors.push_back(
          {{"code", "UploadDataLimit"}, {"message", "Upload limit exceeded."}, {"data", too_big}});
    }
    return net::HttpResponse::Json(409, errors.dump());
  }
  std::lock_guard lock(mu_);
  for (const auto& [product, amount] : updates) stocks_[warehouse][product] = amount;
  net::HttpResponse r;
  r.status = 204;
  return r;
}

net::HttpResponse WildberriesSimulator::GetStocks(int64_t warehouse, const json& body) {
  const json* chrt_ids = JsonArray(body, "chrtIds");
  if (chrt_ids == nullptr) return IncorrectBody();
  std::vector<int> products;
  for (const json& c : *chrt_ids) {
    auto id = AsInt(c);
    if (!id) return IncorrectBody();
    const int64_t p = *id - 300'000'000;
    if (p >= 1 && p <= options_.products) products.push_back(static_cast<int>(p));
  }
  if (const json* skus = JsonArray(body, "skus")) {
    if (skus->size() > 1000) return IncorrectBody();
    for (const json& s : *skus) {
      auto sku = AsString(s);
      if (!sku) return IncorrectBody();
      if (int p = ProductOfBarcode(*sku, options_.products)) products.push_back(p);
    }
  }
  std::lock_guard lock(mu_);
  json stocks = json::array();
  for (int p : products) {
    int64_t amount = 0;
    auto w = stocks_.find(warehouse);
    if (w != stocks_.end() && w->second.count(p)) amount = w->second.at(p);
    stocks.push_back({{"chrtId", 300'000'000 + p}, {"sku", SimBarcode(p)}, {"amount", amount}});
  }
  return net::HttpResponse::Json(200, json{{"stocks", std::move(stocks)}}.dump());
}

net::HttpResponse WildberriesSimulator::UploadPrices(const net::HttpRequest& req,
                                                     const json& body) {
  const json* data = JsonArray(body, "data");
  if (data == nullptr) return WbTaskError(400, "Invalid data format");
  if (data->empty()) return WbTaskError(400, "Empty data");
  if (data->size() > 1000) {
    return WbTaskError(400, "Upload limit exceeded: You can upload a maximum of 1000 items");
  }
  std::set<int64_t> seen;
  std::vector<std::tuple<int64_t, std::optional<int64_t>, std::optional<int64_t>>> goods;
  int known = 0;
  for (const json& g : *data) {
    auto nm = JsonInt(g, "nmID");
    if (!nm) return WbTaskError(400, "Invalid item No.");
    if (!seen.insert(*nm).second) return WbTaskError(400, "Duplicate item Nos.");
    std::optional<int64_t> price, discount;
    if (JsonMember(g, "price") != nullptr) {
      price = JsonInt(g, "price");
      if (!price) return WbTaskError(400, "Price should be a whole number");
    }
    if (JsonMember(g, "discount") != nullptr) {
      discount = JsonInt(g, "discount");
      if (!discount || *discount < 0 || *discount > 99) {
        return WbTaskError(400, "Invalid discount value");
      }
    }
    if (!price && !discount) return WbTaskError(400, "Price and discount not specified");
    if (*nm > 100'000'000 && *nm <= 100'000'000 + options_.products) ++known;
    goods.emplace_back(*nm, price, discount);
  }
  if (known == 0) {
    return WbTaskError(400,
                       "All item Nos. are specified incorrectly, or the specified prices and "
                       "discounts are already set");
  }
  std::lock_guard lock(mu_);
  if (req.body == last_price_body_) {
    json answer = {{"data", {{"id", last_price_task_}, {"alreadyExists", true}}},
                   {"error", false},
                   {"errorText", "This task already exists"}};
    return net::HttpResponse::Json(208, answer.dump());
  }
  last_price_body_ = req.body;
  last_price_task_ = 1'000'000 + (++request_counter_);
  PriceTaskRecord task{NowMs(), {}};
  for (const auto& [nm, price, discount] : goods) {
    PriceTaskGood g{nm, price, discount, ""};
    if (nm <= 100'000'000 || nm > 100'000'000 + options_.products) {
      g.error = "Item not found";
    } else if (options_.price_item_errors > 0 && rng_.Uniform() < options_.price_item_errors) {
      g.error = kQuarantineText;
    } else {
      auto& pd = prices_[nm];
      if (price) pd.first = *price;
      if (discount) pd.second = *discount;
    }
    task.goods.push_back(std::move(g));
  }
  price_tasks_[last_price_task_] = std::move(task);
  json answer = {{"data", {{"id", last_price_task_}, {"alreadyExists", false}}},
                 {"error", false},
                 {"errorText", ""}};
  return net::HttpResponse::Json(200, answer.dump());
}

net::HttpResponse WildberriesSimulator::PriceTask(const net::HttpRequest& req, bool history,
                                                  bool goods) {
  auto id = QueryInt(req, "uploadID");
  int64_t limit = 0, offset = 0;
  if (goods) {
    auto l = QueryInt(req, "limit");
    auto o = req.QueryParam("offset") ? QueryInt(req, "offset") : int64_t{0};
    if (!l || *l < 1 || *l > 1000 || !o || *o < 0) id.reset();
    limit = l.value_or(0);
    offset = o.value_or(0);
  }
  if (!id) return WbTaskError(400, "Invalid request parameters");
  // A plain copy: GCC 12 at -O3 takes *id inside the json initializers
  // below for maybe-uninitialized (-Werror in the Release build).
  const int64_t upload_id = *id;
  std::lock_guard lock(mu_);
  auto it = price_tasks_.find(upload_id);
  const bool processed = it != price_tasks_.end() &&
                         NowMs() >= it->second.uploaded_ms + options_.price_task_delay.count();
  const bool listed = it != price_tasks_.end() && processed == history;
  json data = nullptr;
  if (listed && !goods) {
    const auto& t = it->second;
    int64_t ok = 0;
    for (const auto& g : t.goods) ok += g.error.empty() ? 1 : 0;
    int status = 1;
    if (history) status = ok == static_cast<int64_t>(t.goods.size()) ? 3 : ok == 0 ? 6 : 5;
    data = {{"uploadID", upload_id},
            {"status", status},
            {"uploadDate", FormatRfc3339(start_ + std::chrono::milliseconds(t.uploaded_ms))},
            {"activationDate", FormatRfc3339(start_ + std::chrono::milliseconds(t.uploaded_ms))},
            {"overAllGoodsNumber", t.goods.size()},
            {"successGoodsNumber", history ? ok : 0}};
  } else if (goods) {
    json rows = json::array();
    if (listed) {
      const auto& t = it->second;
      for (size_t k = static_cast<size_t>(offset);
           k < t.goods.size() && static_cast<int64_t>(rows.size()) < limit; ++k) {
        const auto& g = t.goods[k];
        int i = static_cast<int>(g.nm_id - 100'000'000);
        json row = {{"nmID", g.nm_id},
                    {"vendorCode", fmt::format("art-{}", i)},
                    {"sizeID", 300'000'000 + i},
                    {"techSizeName", "0"},
                    {"price", g.price.value_or(0)},
                    {"currencyIsoCode4217", "RUB"},
                    {"discount", g.discount.value_or(0)},
                    {"clubDiscount", 0}};
        if (history) {
          row["status"] = g.error.empty() ? 2 : 3;
          row["errorText"] = g.error;
        } else {
          row["status"] = 1;
          row["errorText"] = nullptr;
        }
        rows.push_back(std::move(row));
      }
    }
    if (history) {
      data = {{"uploadID", upload_id}, {"historyGoods", std::move(rows)}};
    } else {
      data = {{"uploadID", listed ? json(upload_id) : json(nullptr)},
              {"bufferGoods", listed ? std::move(rows) : json(nullptr)}};
    }
  }
  json answer = {{"data", std::move(data)}, {"error", false}, {"errorText", ""}};
  return net::HttpResponse::Json(200, answer.dump());
}

net::HttpResponse WildberriesSimulator::ListCards(const json& body) {
  static const json kEmpty = json::object();
  const json* settings_member = JsonObject(body, "settings");
  const json& settings = settings_member ? *settings_member : kEmpty;
  const json* cursor_member = JsonObject(settings, "cursor");
  const json& cursor = cursor_member ? *cursor_member : kEmpty;
  const int64_t limit = JsonInt(cursor, "limit").value_or(100);
  if (limit < 1 || limit > 100) return WbTaskError(400, "Invalid limit: at most 100");
  const json* sort = JsonObject(settings, "sort");
  const bool ascending = sort ? JsonBool(*sort, "ascending").value_or(false) : false;
  // Card i was updated (products - i) seconds before the world start: unique
  // updatedAt, so (updatedAt, nmID) orders cards totally.
  const int n = options_.products;
  auto updated_ms = [&](int i) { return ToUnixMillis(start_) - int64_t{n - i + 1} * 1000; };
  int64_t after_ms = -1;
  if (JsonString(cursor, "updatedAt")) {
    // Our own cursor values: find the card by nmID.
    const int64_t nm = JsonInt(cursor, "nmID").value_or(0);
    int i = static_cast<int>(nm - 100'000'000);
    if (i >= 1 && i <= n) after_ms = updated_ms(i);
  }
  json cards = json::array();
  int last = 0;
  for (int k = 0; k < n && static_cast<int64_t>(cards.size()) < limit; ++k) {
    int i = ascending ? k + 1 : n - k;
    if (after_ms >= 0 && (ascending ? updated_ms(i) <= after_ms : updated_ms(i) >= after_ms)) {
      continue;
    }
    std::string updated = FormatRfc3339(FromUnixMillis(updated_ms(i)));
    cards.push_back({{"nmID", 100'000'000 + i},
                     {"imtID", 200'000'000 + i},
                     {"nmUUID", fmt::format("00000000-0000-0000-0000-{:012d}", i)},
                     {"subjectID", 7771},
                     {"subjectName", "Товар"},
                     {"vendorCode", fmt::format("art-{}", i)},
                     {"brand", "Sim"},
                     {"title", fmt::format("Товар {}", i)},
                     {"sizes", json::array({{{"chrtID", 300'000'000 + i},
                                             {"techSize", "0"},
                                             {"wbSize", ""},
                                             {"skus", json::array({SimBarcode(i)})}}})},
                     {"createdAt", updated},
                     {"updatedAt", updated}});
    last = i;
  }
  json out_cursor = {{"total", cards.size()}};
  if (last) {
    out_cursor["updatedAt"] = FormatRfc3339(FromUnixMillis(updated_ms(last)));
    out_cursor["nmID"] = 100'000'000 + last;
  }
  return net::HttpResponse::Json(200,
                                 json{{"cards", std::move(cards)}, {"cursor", out_cursor}}.dump());
}

}  // namespace crmhub::adapters::wildberries
