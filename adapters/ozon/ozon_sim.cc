#include "adapters/ozon/ozon_sim.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <cstdio>
#include <set>

#include "adapters/ozon/ozon_client.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

constexpr const char* kStatuses[] = {"awaiting_packaging", "awaiting_deliver", "delivering",
                                     "delivered"};

net::HttpResponse RpcError(int http, int code, const std::string& message) {
  return net::HttpResponse::Json(
      http, json{{"code", code}, {"message", message}, {"details", json::array()}}.dump());
}

std::optional<SystemTime> TimeField(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return ParseOzonTime(it->get<std::string>());
}

std::string OfferId(int64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "SKU-%06lld", static_cast<long long>(index + 1));
  return buf;
}

int64_t ProductId(int64_t index) { return 100001 + index; }

}  // namespace

OzonSimulator::OzonSimulator(OzonSimOptions options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      steady_start_(clock.SteadyNow()),
      fault_rng_(options_.seed ^ 0x6f7a6f6e),
      all_limiter_(clock, options_.requests_per_second, std::chrono::seconds(1)),
      stocks_limiter_(clock, options_.stocks_per_minute, std::chrono::minutes(1)) {
  SystemTime start = clock.Now();
  simkit::SeededRng root(options_.seed);
  postings_.reserve(static_cast<size_t>(options_.orders));
  for (int i = 0; i < options_.orders; ++i) {
    simkit::SeededRng rng = root.Fork(static_cast<uint64_t>(i));
    SimPosting p;
    p.order_id = 50000000 + i;
    char number[48];
    std::snprintf(number, sizeof(number), "%08d-%04d-1", 50000000 + i, static_cast<int>(i % 10000));
    p.posting_number = number;
    p.created = start + options_.arrival_span * i / std::max(1, options_.orders);
    p.offer_index = rng.Int(0, std::max(1, options_.products) - 1);
    p.quantity = static_cast<int>(rng.Int(1, 3));
    SystemTime t = p.created;
    p.steps.emplace_back(t, kStatuses[0]);
    int64_t cancel_at = rng.Chance(0.1) ? rng.Int(1, 3) : -1;
    for (int s = 1; s < 4; ++s) {
      t += std::chrono::milliseconds(rng.Int(1, std::max<int64_t>(1, options_.step_delay.count())));
      if (s == cancel_at) {
        p.steps.emplace_back(t, "cancelled");
        break;
      }
      p.steps.emplace_back(t, kStatuses[s]);
    }
    // Drawn last, so the draws above (and a seed's FBS world) do not move.
    // FBO goes through the same statuses (the spec lists the same five).
    p.fbo = options_.fbo_share > 0 && rng.Chance(options_.fbo_share);
    postings_.push_back(std::move(p));
  }
}

OzonSimulator::~OzonSimulator() { Stop(); }

Status OzonSimulator::Start(const std::string& listen) {
  return server_.Start(listen, "ozon-sim", options_.io_threads,
                       [this](net::HttpRequest r, net::Responder respond) {
                         Handle(std::move(r), std::move(respond));
                       });
}

void OzonSimulator::Stop() { server_.Stop(); }

uint16_t OzonSimulator::port() const { return server_.port(); }

std::string OzonSimulator::base_url() const { return server_.base_url(); }

SystemTime OzonSimulator::AllFinalAt() const {
  SystemTime last{};
  for (const auto& p : postings_) last = std::max(last, p.steps.back().first);
  return last;
}

std::map<std::string, std::string> OzonSimulator::FinalStatuses() const {
  std::map<std::string, std::string> out;
  for (const auto& p : postings_) out[p.posting_number] = p.steps.back().second;
  return out;
}

std::set<std::string> OzonSimulator::FboPostings() const {
  std::set<std::string> out;
  for (const auto& p : postings_) {
    if (p.fbo) out.insert(p.posting_number);
  }
  return out;
}

std::map<std::string, int64_t> OzonSimulator::Stocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, int64_t> out;
  for (const auto& [k, v] : stocks_)
    out[std::to_string(k.first) + ":" + std::to_string(k.second)] = v;
  return out;
}

std::string OzonSimulator::StateJson() const {
  SystemTime now = clock_.Now();
  json postings = json::array();
  for (const auto& p : postings_) {
    if (p.created > now) continue;
    std::string current;
    for (const auto& [t, s] : p.steps) {
      if (t <= now) current = s;
    }
    postings.push_back({{"posting_number", p.posting_number},
                        {"status", current},
                        {"final_status", p.steps.back().second},
                        {"scheme", p.fbo ? "fbo" : "fbs"}});
  }
  json stocks = json::object();
  for (const auto& [k, v] : Stocks()) stocks[k] = v;
  json prices = json::object();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : prices_) prices[k] = v;
  }
  return json{{"postings", std::move(postings)},
              {"stocks", std::move(stocks)},
              {"prices", std::move(prices)}}
      .dump();
}

void OzonSimulator::Handle(net::HttpRequest request, net::Responder respond) {
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
      respond(net::HttpResponse::Json(404, R"({"error":"not_found"})"));
    }
    return;
  }
  uint64_t seq = log_.Record(request, at_ms);
  auto finish = [&](net::HttpResponse r, simkit::Fault fault, std::string note) {
    log_.Complete(seq, r.status, fault, std::move(note));
    respond(std::move(r));
  };
  if (request.method != "POST")
    return finish(RpcError(405, 12, "Method Not Allowed"), simkit::Fault::kNone, "");
  // Auth first, as the real gateway does.
  auto client = request.headers.Get("Client-Id");
  auto key = request.headers.Get("Api-Key");
  if (!client || !key) {
    return finish(RpcError(401, 16, "Client-Id and Api-Key headers are required"),
                  simkit::Fault::kNone, "no auth");
  }
  if (*client != options_.client_id || !ConstantTimeEquals(*key, options_.api_key)) {
    return finish(RpcError(403, 7, "Invalid Api-Key, please check the key and try again"),
                  simkit::Fault::kNone, "bad auth");
  }
  if (options_.enforce_rate_limits) {
    bool limited = all_limiter_.TryAcquire().has_value();
    if (!limited && request.path == "/v2/products/stocks")
      limited = stocks_limiter_.TryAcquire().has_value();
    if (limited) {
      return finish(RpcError(429, 8, "You have reached request rate limit per second"),
                    simkit::Fault::kNone, "rate limited");
    }
  }
  simkit::Fault fault =
      options_.faults.empty() ? simkit::Fault::kNone : options_.faults.Pick(fault_rng_.Uniform());
  switch (fault) {
    case simkit::Fault::k429:
      return finish(RpcError(429, 8, "You have reached request rate limit per second"), fault,
                    "fault");
    case simkit::Fault::k500:
      return finish(RpcError(500, 13, "Internal error"), fault, "fault");
    case simkit::Fault::k503:
      return finish(RpcError(503, 14, "Circle is open"), fault, "fault");
    case simkit::Fault::kTimeout:
      log_.Complete(seq, 0, fault, "held");
      server_.held().AnswerLater(std::move(respond), RpcError(504, 4, "timeout"),
                         options_.faults.timeout_hold);
      return;
    default:
      break;
  }
  auto body = json::parse(request.body, nullptr, false);
  net::HttpResponse response = body.is_object()
                                   ? Route(request, body, fault == simkit::Fault::kDup)
                                   : RpcError(400, 3, "invalid request body: not a JSON object");
  if (fault == simkit::Fault::kMalformed && response.status == 200) {
    return finish(simkit::MalformedJson(response.body), fault, "fault");
  }
  if (fault == simkit::Fault::kSlow) {
    log_.Complete(seq, response.status, fault, "slow");
    server_.held().AnswerLater(std::move(respond), std::move(response), options_.faults.slow_delay);
    return;
  }
  finish(std::move(response), fault, "");
}

net::HttpResponse OzonSimulator::Route(const net::HttpRequest& request, const json& body,
                                       bool dup) {
  if (request.path == "/v3/posting/fbs/list") return FbsList(body, dup);
  if (request.path == "/v2/posting/fbo/list") return FboList(body, dup);
  if (request.path == "/v2/products/stocks") return Stocks(body);
  if (request.path == "/v1/product/import/prices") return Prices(body);
  if (request.path == "/v3/product/list") return ProductList(body);
  return RpcError(404, 5, "Not Found");
}

void OzonSimulator::AppendPosting(simkit::JsonText& out, const SimPosting& p, size_t step) const {
  const std::string& status = p.steps[step].second;
  const bool cancelled = status == "cancelled";
  SystemTime delivering{};
  for (const auto& [t, s] : p.steps) {
    if (s == "delivering") delivering = t;
  }
  out.BeginObject()
      .Member("posting_number", p.posting_number)
      .Member("order_id", p.order_id)
      .Member("order_number", std::to_string(p.order_id) + "-0001")
      .Member("status", status)
      .Member("substatus", cancelled ? "posting_canceled" : "posting_created")
      .Member("in_process_at", FormatOzonTime(p.created))
      .Member("shipment_date", FormatOzonTime(p.created + std::chrono::hours(24)))
      .Member("tracking_number", "")
      .Member("tpl_integration_type", "ozon")
      .Member("is_express", false)
      .Member("is_multibox", false)
      .Member("multi_box_qty", 1)
      .Member("parent_posting_number", "");
  out.Key("delivery_method")
      .BeginObject()
      .Member("id", int64_t{21321684811000})
      .Member("name", "Ozon Логистика самостоятельно")
      .Member("tpl_provider", "Ozon Логистика")
      .Member("tpl_provider_id", 24)
      .Member("warehouse", "Склад 22")
      .Member("warehouse_id", options_.warehouse_id)
      .EndObject();
  out.Key("cancellation")
      .BeginObject()
      .Member("cancel_reason", cancelled ? "Покупатель отменил заказ" : "")
      .Member("cancel_reason_id", cancelled ? 402 : 0)
      .Member("cancellation_initiator", cancelled ? "Клиент" : "")
      .Member("cancellation_type", cancelled ? "client" : "")
      .Member("cancelled_after_ship", cancelled && step > 1)
      .Member("affect_cancellation_rating", false)
      .EndObject();
  const std::string offer = OfferId(p.offer_index);
  out.Key("products")
      .BeginArray()
      .BeginObject()
      .Member("name", "Товар " + offer)
      .Member("offer_id", offer)
      .Member("price", std::to_string(100 + p.offer_index % 900) + ".00")
      .Member("quantity", p.quantity)
      .Member("sku", 200001 + p.offer_index)
      .Member("currency_code", "RUB")
      .EndObject()
      .EndArray();
  if (delivering != SystemTime{} && step >= 2) {
    out.Member("delivering_date", FormatOzonTime(delivering));
  }
  out.EndObject();
}

struct OzonSimulator::ListQuery {
  SystemTime since, to;
  int64_t limit = 0;
  int64_t offset = 0;
  std::optional<std::string> status;
  bool desc = false;
};

std::optional<net::HttpResponse> OzonSimulator::ParseListQuery(const json& body,
                                                               const char* period_error,
                                                               ListQuery& query) const {
  if (!body.contains("filter") || !body["filter"].is_object())
    return RpcError(400, 3, "filter is required");
  const json& filter = body["filter"];
  auto since = TimeField(filter, "since");
  auto to = TimeField(filter, "to");
  if (!since || !to) return RpcError(400, 3, "filter.since and filter.to are required (date-time)");
  if (*to - *since > std::chrono::hours(24 * 366)) return RpcError(400, 3, period_error);
  if (!body.contains("limit") || !body["limit"].is_number_integer() || !body.contains("offset") ||
      !body["offset"].is_number_integer()) {
    return RpcError(400, 3, "limit and offset are required");
  }
  query.since = *since;
  query.to = *to;
  query.limit = body["limit"].get<int64_t>();
  query.offset = body["offset"].get<int64_t>();
  if (query.limit < 1 || query.limit > 1000)
    return RpcError(400, 3, "limit must be between 1 and 1000");
  if (query.offset < 0) return RpcError(400, 3, "offset must not be negative");
  if (query.offset > 20000) return RpcError(400, 3, "MAX_OFFSET_EXCEEDED");
  if (auto s = filter.find("status");
      s != filter.end() && s->is_string() && !s->get<std::string>().empty()) {
    query.status = s->get<std::string>();
  }
  query.desc = body.contains("dir") && body["dir"].is_string() &&
               (body["dir"] == "desc" || body["dir"] == "DESC");
  return std::nullopt;
}

namespace {

// The page [offset, offset + limit) of `hits` as a JSON array, each hit
// written by `append`, with the "dup" fault's repeated postings.
template <typename Hit, typename Append>
std::string Page(const std::vector<Hit>& hits, int64_t offset, int64_t limit, bool dup,
                 size_t& end, Append append) {
  size_t begin = std::min(hits.size(), static_cast<size_t>(offset));
  end = std::min(hits.size(), begin + static_cast<size_t>(limit));
  simkit::JsonText out;
  out.BeginArray();
  for (size_t k = begin; k < end; ++k) append(out, hits[k]);
  // Duplicated data: the first few postings of the page appear twice.
  if (dup) {
    for (size_t k = begin; k < std::min(end, begin + 3); ++k) append(out, hits[k]);
  }
  out.EndArray();
  return out.Take();
}

}  // namespace

net::HttpResponse OzonSimulator::FbsList(const json& body, bool dup) {
  ListQuery q;
  if (auto error = ParseListQuery(body, "period must not exceed one year", q)) return *error;
  const json& filter = body["filter"];
  std::optional<SystemTime> changed_from, changed_to;
  if (auto c = filter.find("last_changed_status_date"); c != filter.end() && c->is_object()) {
    changed_from = TimeField(*c, "from");
    changed_to = TimeField(*c, "to");
  }
  SystemTime now = clock_.Now();
  struct Hit {
    SystemTime changed;
    size_t index;
    size_t step;
  };
  std::vector<Hit> hits;
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    if (p.fbo || p.created > now || p.created < q.since || p.created > q.to) continue;
    size_t step = 0;
    while (step + 1 < p.steps.size() && p.steps[step + 1].first <= now) ++step;
    SystemTime changed = p.steps[step].first;
    if (changed_from && changed < *changed_from) continue;
    if (changed_to && changed > *changed_to) continue;
    if (q.status && p.steps[step].second != *q.status) continue;
    hits.push_back({changed, i, step});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.changed != b.changed ? a.changed < b.changed : a.index < b.index;
  });
  if (q.desc) std::reverse(hits.begin(), hits.end());
  size_t end = 0;
  std::string postings = Page(
      hits, q.offset, q.limit, dup, end,
      [&](simkit::JsonText& out, const Hit& h) { AppendPosting(out, postings_[h.index], h.step); });
  simkit::JsonText answer;
  answer.BeginObject().Key("result").BeginObject().Key("postings").Raw(postings);
  answer.Member("has_next", end < hits.size()).EndObject().EndObject();
  return net::HttpResponse::Json(200, answer.Take());
}

net::HttpResponse OzonSimulator::FboList(const json& body, bool dup) {
  ListQuery q;
  // The spec names this error for the FBO list: "Если период больше года,
  // вернётся ошибка PERIOD_IS_TOO_LONG".
  if (auto error = ParseListQuery(body, "PERIOD_IS_TOO_LONG", q)) return *error;
  json with = body.contains("with") && body["with"].is_object() ? body["with"] : json::object();
  SystemTime now = clock_.Now();
  struct Hit {
    size_t index;
    size_t step;
  };
  // postings_ is in creation order: the answer is sorted by creation.
  std::vector<Hit> hits;
  for (size_t i = 0; i < postings_.size(); ++i) {
    const SimPosting& p = postings_[i];
    if (!p.fbo || p.created > now || p.created < q.since || p.created > q.to) continue;
    size_t step = 0;
    while (step + 1 < p.steps.size() && p.steps[step + 1].first <= now) ++step;
    if (q.status && p.steps[step].second != *q.status) continue;
    hits.push_back({i, step});
  }
  if (q.desc) std::reverse(hits.begin(), hits.end());
  size_t end = 0;
  std::string postings =
      Page(hits, q.offset, q.limit, dup, end, [&](simkit::JsonText& out, const Hit& h) {
        AppendFboPosting(out, postings_[h.index], h.step, with);
      });
  simkit::JsonText answer;
  answer.BeginObject().Key("result").Raw(postings).EndObject();
  return net::HttpResponse::Json(200, answer.Take());
}

void OzonSimulator::AppendFboPosting(simkit::JsonText& out, const SimPosting& p, size_t step,
                                     const json& with) const {
  const std::string& status = p.steps[step].second;
  const std::string offer = OfferId(p.offer_index);
  out.BeginObject()
      .Member("order_id", p.order_id)
      .Member("order_number", std::to_string(p.order_id) + "-0001")
      .Member("posting_number", p.posting_number)
      .Member("status", status)
      .Member("cancel_reason_id", status == "cancelled" ? 402 : 0)
      .Member("created_at", FormatOzonTime(p.created))
      .Member("in_process_at", FormatOzonTime(p.created));
  out.Key("products")
      .BeginArray()
      .BeginObject()
      .Member("sku", 200001 + p.offer_index)
      .Member("name", "Товар " + offer)
      .Member("quantity", p.quantity)
      .Member("offer_id", offer)
      .Member("price", std::to_string(100 + p.offer_index % 900) + ".00")
      .Member("is_marketplace_buyout", false)
      .Key("digital_codes").BeginArray().EndArray()
      .Member("currency_code", "RUB")
      .EndObject()
      .EndArray();
  out.Key("additional_data").BeginArray().EndArray();
  auto asked = [&](const char* key) { return with.value(key, false) == true; };
  if (asked("analytics_data")) {
    out.Key("analytics_data")
        .BeginObject()
        .Member("city", "Ростов-на-Дону")
        .Member("delivery_type", "PVZ")
        .Member("is_premium", false)
        .Member("payment_type_group_name", "Карты оплаты")
        .Member("warehouse_id", options_.fbo_warehouse_id)
        .Member("warehouse_name", "РОСТОВ-НА-ДОНУ_РФЦ")
        .Member("is_legal", false)
        .EndObject();
  }
  if (asked("financial_data")) {
    out.Key("financial_data")
        .BeginObject()
        .Member("cluster_from", "")
        .Member("cluster_to", "")
        .Key("products").BeginArray().EndArray()
        .EndObject();
  }
  if (asked("legal_info")) {
    out.Key("legal_info")
        .BeginObject()
        .Member("company_name", "")
        .Member("inn", "")
        .Member("kpp", "")
        .EndObject();
  }
  out.EndObject();
}

net::HttpResponse OzonSimulator::Stocks(const json& body) {
  if (!body.contains("stocks") || !body["stocks"].is_array())
    return RpcError(400, 3, "stocks is required");
  const json& stocks = body["stocks"];
  if (stocks.empty() || stocks.size() > 100) {
    return RpcError(400, 3, "stocks: from 1 to 100 items per request");
  }
  auto now = clock_.SteadyNow();
  json result = json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : stocks) {
    int64_t product = s.value("product_id", int64_t{0});
    int64_t warehouse = s.value("warehouse_id", int64_t{0});
    std::string offer =
        s.contains("offer_id") && s["offer_id"].is_string() ? s["offer_id"].get<std::string>() : "";
    int64_t stock = s.value("stock", int64_t{-1});
    // offer_id wins when both are given (spec).
    int64_t index = -1;
    if (!offer.empty() && offer.size() == 10 && offer.rfind("SKU-", 0) == 0) {
      index = std::strtoll(offer.c_str() + 4, nullptr, 10) - 1;
    } else if (offer.empty()) {
      index = product - 100001;
    }
    json item = {{"offer_id", index >= 0 ? OfferId(index) : offer},
                 {"product_id", product},
                 {"warehouse_id", warehouse},
                 {"updated", false},
                 {"errors", json::array()}};
    auto error = [&](const char* code, const char* message) {
      item["errors"].push_back({{"code", code}, {"message", message}});
    };
    if (index < 0 || index >= options_.products) {
      error("NOT_FOUND_ERROR", "Product not found");
    } else if (warehouse != options_.warehouse_id) {
      error("WAREHOUSE_NOT_FOUND", "Warehouse not found");
    } else if (stock < 0 || stock >= 1000000) {
      error("STOCK_TOO_BIG", "Stock value is too big");
    } else {
      item["product_id"] = ProductId(index);
      auto key = std::make_pair(ProductId(index), warehouse);
      auto last = stock_updated_.find(key);
      if (last != stock_updated_.end() && now - last->second < std::chrono::seconds(30)) {
        error("TOO_MANY_REQUESTS", "Stock is updated too frequently");
      } else {
        stocks_[key] = stock;
        stock_updated_[key] = now;
        item["updated"] = true;
      }
    }
    result.push_back(std::move(item));
  }
  return net::HttpResponse::Json(200, json{{"result", std::move(result)}}.dump());
}

net::HttpResponse OzonSimulator::Prices(const json& body) {
  if (!body.contains("prices") || !body["prices"].is_array())
    return RpcError(400, 3, "prices is required");
  const json& prices = body["prices"];
  if (prices.empty() || prices.size() > 1000)
    return RpcError(400, 3, "prices: from 1 to 1000 items per request");
  json result = json::array();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& p : prices) {
    std::string offer =
        p.contains("offer_id") && p["offer_id"].is_string() ? p["offer_id"].get<std::string>() : "";
    int64_t index =
        offer.rfind("SKU-", 0) == 0 ? std::strtoll(offer.c_str() + 4, nullptr, 10) - 1 : -1;
    json item = {{"offer_id", offer},
                 {"product_id", index >= 0 ? ProductId(index) : 0},
                 {"updated", false},
                 {"errors", json::array()}};
    std::string price =
        p.contains("price") && p["price"].is_string() ? p["price"].get<std::string>() : "";
    if (index < 0 || index >= options_.products) {
      item["errors"].push_back({{"code", "NOT_FOUND"}, {"message", "Product not found"}});
    } else if (price.empty()) {
      item["errors"].push_back({{"code", "INVALID_PRICE"}, {"message", "price is required"}});
    } else {
      prices_[offer] = price;
      item["updated"] = true;
    }
    result.push_back(std::move(item));
  }
  return net::HttpResponse::Json(200, json{{"result", std::move(result)}}.dump());
}

net::HttpResponse OzonSimulator::ProductList(const json& body) {
  int64_t limit = body.value("limit", int64_t{100});
  if (limit < 1 || limit > 1000) return RpcError(400, 3, "limit must be between 1 and 1000");
  std::string last_id = body.contains("last_id") && body["last_id"].is_string()
                            ? body["last_id"].get<std::string>()
                            : "";
  int64_t start = last_id.empty() ? 0 : std::strtoll(last_id.c_str(), nullptr, 10);
  json items = json::array();
  int64_t end = std::min<int64_t>(options_.products, start + limit);
  for (int64_t i = start; i < end; ++i) {
    items.push_back({{"product_id", ProductId(i)},
                     {"offer_id", OfferId(i)},
                     {"archived", false},
                     {"has_fbo_stocks", false},
                     {"has_fbs_stocks", true},
                     {"is_discounted", false}});
    // "quants" (an object in the spec) is left out: the simulator has no quants.
  }
  json result = {{"items", std::move(items)},
                 {"last_id", end < options_.products ? std::to_string(end) : ""},
                 {"total", options_.products}};
  return net::HttpResponse::Json(200, json{{"result", std::move(result)}}.dump());
}

}  // namespace crmhub::adapters::ozon
