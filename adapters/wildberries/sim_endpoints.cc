// WildberriesSim: the API endpoints (paths, parameters, limits and answers
// as in the contract files).

#include <algorithm>
#include <set>
#include <tuple>
#include <charconv>

#include <fmt/format.h>

#include "adapters/wildberries/sim.h"
#include "adapters/wildberries/sim_shapes.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

namespace {

std::optional<int64_t> ParseInt(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) return std::nullopt;
  return v;
}

// GoodHistory.errorText's documented example (price quarantine).
constexpr const char* kQuarantineText =
    "The new price is several times lower than the current price. Item has been moved to Price "
    "Quarantine";

net::HttpResponse IncorrectParameter() {
  return WbError(400, "IncorrectParameter", "Передан некорректный параметр");
}
net::HttpResponse IncorrectBody() {
  return WbError(400, "IncorrectRequestBody", "Некорректное тело запроса");
}

// Barcode -> product index, for SimBarcode(i) = "2" + 11 digits + check.
int ProductOfBarcode(const std::string& barcode, int products) {
  if (barcode.size() != 13 || barcode[0] != '2') return 0;
  int64_t i = 0;
  for (size_t k = 1; k < 12; ++k) {
    if (barcode[k] < '0' || barcode[k] > '9') return 0;
    i = i * 10 + (barcode[k] - '0');
  }
  if (i < 1 || i > products || SimBarcode(static_cast<int>(i)) != barcode) return 0;
  return static_cast<int>(i);
}

}  // namespace

WildberriesSim::Answer WildberriesSim::Route(const net::HttpRequest& req, simkit::Fault fault,
                                             const std::string& group) {
  const bool dup = fault == simkit::Fault::kDup;
  const bool apply = true;
  if (group == "orders") {
    if (req.method == "GET" && req.path == "/api/v3/orders") return ListOrders(req, dup);
    if (req.method == "GET" && req.path == "/api/v3/orders/new") return NewOrders();
    if (req.method == "POST" && req.path == "/api/v3/orders/status") return Statuses(req, dup);
  } else if (group == "dbs") {
    if (req.method == "GET" && req.path == "/api/v3/dbs/orders/new") return DbsNewOrders();
    if (req.method == "GET" && req.path == "/api/v3/dbs/orders") return DbsCompletedOrders(req, dup);
    if (req.method == "POST" && req.path == "/api/v3/dbs/orders/status") {
      return Statuses(req, dup, /*dbs=*/true);
    }
  } else if (group == "stocks") {
    std::optional<int64_t> warehouse =
        ParseInt(req.path.substr(std::string_view("/api/v3/stocks/").size()));
    if (!warehouse) return {IncorrectParameter()};
    if (std::find(options_.warehouses.begin(), options_.warehouses.end(), *warehouse) ==
        options_.warehouses.end()) {
      return {WbError(404, "NotFound", "")};
    }
    if (req.method == "PUT") return PutStocks(*warehouse, req, apply);
    if (req.method == "POST") return GetStocks(*warehouse, req);
  } else if (group == "prices") {
    if (req.method == "POST" && req.path == "/api/v2/upload/task") return UploadPrices(req, apply);
    if (req.method == "GET" && req.path == "/api/v2/history/tasks") return PriceTask(req, true, false);
    if (req.method == "GET" && req.path == "/api/v2/history/goods/task") {
      return PriceTask(req, true, true);
    }
    if (req.method == "GET" && req.path == "/api/v2/buffer/tasks") return PriceTask(req, false, false);
    if (req.method == "GET" && req.path == "/api/v2/buffer/goods/task") {
      return PriceTask(req, false, true);
    }
  } else if (group == "content") {
    if (req.method == "POST" && req.path == "/content/v2/get/cards/list") return ListCards(req);
  }
  return {WbError(404, "NotFound", "Не найдено")};
}

WildberriesSim::Answer WildberriesSim::ListOrders(const net::HttpRequest& req, bool dup) {
  auto limit = ParseInt(req.QueryParam("limit"));
  auto next = ParseInt(req.QueryParam("next"));
  if (!limit || *limit < 1 || *limit > 1000 || !next || *next < 0) return {IncorrectParameter()};
  const int64_t now_s = ToUnixMillis(clock_.Now()) / 1000;
  int64_t date_from = now_s - 30 * 24 * 3600;
  int64_t date_to = now_s;
  if (req.QueryParam("dateFrom")) {
    auto v = ParseInt(req.QueryParam("dateFrom"));
    if (!v) return {IncorrectParameter()};
    date_from = *v;
  }
  if (req.QueryParam("dateTo")) {
    auto v = ParseInt(req.QueryParam("dateTo"));
    if (!v) return {IncorrectParameter()};
    date_to = *v;
  }
  // "максимум 30 календарных дней одним запросом"
  if (date_to < date_from || date_to - date_from > 30 * 24 * 3600) return {IncorrectParameter()};
  int64_t after = *next;
  if (dup) after = std::max<int64_t>(0, after - 50);  // overlap the previous page
  std::lock_guard lock(mu_);
  json orders = json::array();
  int64_t last = *next;
  for (const Order* o : PageOf(orders_, after, date_from, date_to, *limit, false)) {
    orders.push_back(OrderJson(*o));
    last = std::max(last, o->id);
  }
  return {net::HttpResponse::Json(200, json{{"next", last}, {"orders", std::move(orders)}}.dump())};
}

std::vector<const WildberriesSim::Order*> WildberriesSim::PageOf(const std::vector<Order>& list,
                                                                 int64_t after, int64_t from_s,
                                                                 int64_t to_s, int64_t limit,
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

std::vector<const WildberriesSim::Order*> WildberriesSim::NewOf(const std::vector<Order>& list) const {
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

WildberriesSim::Answer WildberriesSim::NewOrders() {
  std::lock_guard lock(mu_);
  json orders = json::array();
  for (const Order* o : NewOf(orders_)) {
    json j = OrderJson(*o);
    j["finalPrice"] = j["price"];
    j["convertedFinalPrice"] = j["convertedPrice"];
    j["salePrice"] = j["price"];
    j["scanPrice"] = nullptr;  // "always null for this method"
    j["requiredMeta"] = json::array();
    j["optionalMeta"] = json::array();
    orders.push_back(std::move(j));
  }
  return {net::HttpResponse::Json(200, json{{"orders", std::move(orders)}}.dump())};
}

WildberriesSim::Answer WildberriesSim::Statuses(const net::HttpRequest& req, bool dup, bool dbs) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("orders") ||
      !body["orders"].is_array() || body["orders"].empty() || body["orders"].size() > 1000) {
    return {IncorrectBody()};
  }
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  json out = json::array();
  for (const auto& idj : body["orders"]) {
    if (!idj.is_number_integer()) return {IncorrectBody()};
    int64_t id = idj.get<int64_t>();
    const std::vector<Order>& list = dbs ? dbs_orders_ : orders_;
    int64_t index = id - (dbs ? 20'000'000 : 10'000'000);
    if (index < 0 || index >= static_cast<int64_t>(list.size())) continue;
    const Order& o = list[static_cast<size_t>(index)];
    if (o.created_ms > now) continue;
    const Step& s = StatusAt(o, now);
    json entry = {{"id", id}, {"supplierStatus", s.supplier}, {"wbStatus", s.wb}};
    if (dup) out.push_back(entry);
    out.push_back(std::move(entry));
  }
  return {net::HttpResponse::Json(200, json{{"orders", std::move(out)}}.dump())};
}

WildberriesSim::Answer WildberriesSim::DbsNewOrders() {
  std::lock_guard lock(mu_);
  json orders = json::array();
  for (const Order* o : NewOf(dbs_orders_)) {
    json j = DbsOrderJson(*o);
    j["salePrice"] = j["price"];
    j["requiredMeta"] = json::array();
    orders.push_back(std::move(j));
  }
  return {net::HttpResponse::Json(200, json{{"orders", std::move(orders)}}.dump())};
}

WildberriesSim::Answer WildberriesSim::DbsCompletedOrders(const net::HttpRequest& req, bool dup) {
  auto limit = ParseInt(req.QueryParam("limit"));
  auto next = ParseInt(req.QueryParam("next"));
  auto date_from = ParseInt(req.QueryParam("dateFrom"));
  auto date_to = ParseInt(req.QueryParam("dateTo"));
  if (!limit || *limit < 1 || *limit > 1000 || !next || *next < 0 || !date_from || !date_to ||
      *date_to < *date_from || *date_to - *date_from > 30 * 24 * 3600) {
    return {IncorrectParameter()};
  }
  int64_t after = *next;
  if (dup) after = std::max<int64_t>(0, after - 50);  // overlap the previous page
  std::lock_guard lock(mu_);
  json orders = json::array();
  int64_t last = *next;
  for (const Order* o : PageOf(dbs_orders_, after, *date_from, *date_to, *limit, true)) {
    orders.push_back(DbsOrderJson(*o));
    last = std::max(last, o->id);
  }
  return {net::HttpResponse::Json(200, json{{"next", last}, {"orders", std::move(orders)}}.dump())};
}

WildberriesSim::Answer WildberriesSim::PutStocks(int64_t warehouse, const net::HttpRequest& req,
                                                 bool apply) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("stocks") ||
      !body["stocks"].is_array() || body["stocks"].empty() || body["stocks"].size() > 1000) {
    return {IncorrectBody()};
  }
  std::vector<std::pair<int, int64_t>> updates;
  json not_found = json::array(), too_big = json::array();
  for (const auto& s : body["stocks"]) {
    if (!s.is_object() || !s.contains("amount") || !s["amount"].is_number_integer()) {
      return {IncorrectBody()};
    }
    int64_t amount = s["amount"].get<int64_t>();
    int product = 0;
    std::string sku;
    if (s.contains("chrtId") && s["chrtId"].is_number_integer()) {
      int64_t c = s["chrtId"].get<int64_t>() - 300'000'000;
      if (c >= 1 && c <= options_.products) product = static_cast<int>(c);
      sku = product ? SimBarcode(product) : "";
    } else if (s.contains("sku") && s["sku"].is_string()) {
      sku = s["sku"].get<std::string>();
      product = ProductOfBarcode(sku, options_.products);
    } else {
      return {IncorrectBody()};
    }
    if (amount < 0) return {IncorrectBody()};
    if (product == 0) {
      not_found.push_back({{"sku", sku}, {"amount", amount}});
    } else if (amount > 100000) {
      too_big.push_back({{"sku", sku}, {"amount", amount}});
    } else {
      updates.emplace_back(product, amount);
    }
  }
  if (!not_found.empty() || !too_big.empty()) {
    // StocksWarehouseError; nothing of the request is applied.
    json errors = json::array();
    if (!not_found.empty()) {
      errors.push_back({{"code", "NotFound"}, {"message", "Not found"}, {"data", not_found}});
    }
    if (!too_big.empty()) {
      errors.push_back(
          {{"code", "UploadDataLimit"}, {"message", "Upload limit exceeded."}, {"data", too_big}});
    }
    return {net::HttpResponse::Json(409, errors.dump()), /*charge_409=*/true};
  }
  if (apply) {
    std::lock_guard lock(mu_);
    for (const auto& [product, amount] : updates) stocks_[warehouse][product] = amount;
  }
  net::HttpResponse r;
  r.status = 204;
  return {std::move(r)};
}

WildberriesSim::Answer WildberriesSim::GetStocks(int64_t warehouse, const net::HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("chrtIds") ||
      !body["chrtIds"].is_array()) {
    return {IncorrectBody()};
  }
  std::vector<int> products;
  for (const auto& c : body["chrtIds"]) {
    if (!c.is_number_integer()) return {IncorrectBody()};
    int64_t p = c.get<int64_t>() - 300'000'000;
    if (p >= 1 && p <= options_.products) products.push_back(static_cast<int>(p));
  }
  if (body.contains("skus") && body["skus"].is_array()) {
    if (body["skus"].size() > 1000) return {IncorrectBody()};
    for (const auto& s : body["skus"]) {
      if (!s.is_string()) return {IncorrectBody()};
      int p = ProductOfBarcode(s.get<std::string>(), options_.products);
      if (p) products.push_back(p);
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
  return {net::HttpResponse::Json(200, json{{"stocks", std::move(stocks)}}.dump())};
}

WildberriesSim::Answer WildberriesSim::UploadPrices(const net::HttpRequest& req, bool apply) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("data") ||
      !body["data"].is_array()) {
    return {WbTaskError(400, "Invalid data format")};
  }
  const json& data = body["data"];
  if (data.empty()) return {WbTaskError(400, "Empty data")};
  if (data.size() > 1000) {
    return {WbTaskError(400, "Upload limit exceeded: You can upload a maximum of 1000 items")};
  }
  std::set<int64_t> seen;
  std::vector<std::tuple<int64_t, std::optional<int64_t>, std::optional<int64_t>>> goods;
  int known = 0;
  for (const auto& g : data) {
    if (!g.is_object() || !g.contains("nmID") || !g["nmID"].is_number_integer()) {
      return {WbTaskError(400, "Invalid item No.")};
    }
    int64_t nm = g["nmID"].get<int64_t>();
    if (!seen.insert(nm).second) return {WbTaskError(400, "Duplicate item Nos.")};
    std::optional<int64_t> price, discount;
    if (g.contains("price")) {
      if (!g["price"].is_number_integer()) return {WbTaskError(400, "Price should be a whole number")};
      price = g["price"].get<int64_t>();
    }
    if (g.contains("discount")) {
      if (!g["discount"].is_number_integer() || g["discount"].get<int64_t>() < 0 ||
          g["discount"].get<int64_t>() > 99) {
        return {WbTaskError(400, "Invalid discount value")};
      }
      discount = g["discount"].get<int64_t>();
    }
    if (!price && !discount) return {WbTaskError(400, "Price and discount not specified")};
    if (nm > 100'000'000 && nm <= 100'000'000 + options_.products) ++known;
    goods.emplace_back(nm, price, discount);
  }
  if (known == 0) {
    return {WbTaskError(400, "All item Nos. are specified incorrectly, or the specified prices and "
                             "discounts are already set")};
  }
  std::lock_guard lock(mu_);
  if (req.body == last_price_body_) {
    json answer = {{"data", {{"id", last_price_task_}, {"alreadyExists", true}}},
                   {"error", false},
                   {"errorText", "This task already exists"}};
    return {net::HttpResponse::Json(208, answer.dump())};
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
    } else if (apply) {
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
  return {net::HttpResponse::Json(200, answer.dump())};
}

WildberriesSim::Answer WildberriesSim::PriceTask(const net::HttpRequest& req, bool history,
                                                 bool goods) {
  auto id = ParseInt(req.QueryParam("uploadID"));
  int64_t limit = 0, offset = 0;
  if (goods) {
    auto l = ParseInt(req.QueryParam("limit"));
    auto o = req.QueryParam("offset") ? ParseInt(req.QueryParam("offset")) : int64_t{0};
    if (!l || *l < 1 || *l > 1000 || !o || *o < 0) id.reset();
    limit = l.value_or(0);
    offset = o.value_or(0);
  }
  if (!id) return {WbTaskError(400, "Invalid request parameters")};
  // A plain copy: GCC 12 at -O3 takes *id inside the json initializers
  // below for maybe-uninitialized (-Werror in the Release build).
  const int64_t upload_id = *id;
  std::lock_guard lock(mu_);
  auto it = price_tasks_.find(upload_id);
  const bool processed =
      it != price_tasks_.end() && NowMs() >= it->second.uploaded_ms + options_.price_task_delay.count();
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
  return {net::HttpResponse::Json(200, answer.dump())};
}

WildberriesSim::Answer WildberriesSim::ListCards(const net::HttpRequest& req) {
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    net::HttpResponse r = net::HttpResponse::Text(400, "Request body can not be decoded");
    return {std::move(r)};
  }
  json settings = body.value("settings", json::object());
  json cursor = settings.value("cursor", json::object());
  int64_t limit = cursor.value("limit", int64_t{100});
  if (limit < 1 || limit > 100) return {WbTaskError(400, "Invalid limit: at most 100")};
  bool ascending = settings.value("sort", json::object()).value("ascending", false);
  // Card i was updated (products - i) seconds before the world start: unique
  // updatedAt, so (updatedAt, nmID) orders cards totally.
  const int n = options_.products;
  auto updated_ms = [&](int i) { return ToUnixMillis(start_) - int64_t{n - i + 1} * 1000; };
  int64_t after_ms = -1;
  if (cursor.contains("updatedAt") && cursor["updatedAt"].is_string()) {
    // Our own cursor values: find the card by nmID.
    int64_t nm = cursor.value("nmID", int64_t{0});
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
  return {net::HttpResponse::Json(200, json{{"cards", std::move(cards)}, {"cursor", out_cursor}}.dump())};
}

}  // namespace crmhub::adapters::wildberries
