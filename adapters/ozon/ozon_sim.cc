#include "adapters/ozon/ozon_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

constexpr const char* kStatuses[] = {"awaiting_packaging", "awaiting_deliver", "delivering",
                                     "delivered"};
constexpr const char* kDefaultClientId = "123456";
constexpr const char* kDefaultApiKey = "sim-api-key";

int GrpcCode(int http) {
  switch (http) {
    case 400:
      return 3;  // INVALID_ARGUMENT
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 5;  // NOT_FOUND
    case 405:
      return 12;  // UNIMPLEMENTED
    case 429:
      return 8;  // RESOURCE_EXHAUSTED
    case 500:
      return 13;  // INTERNAL
    case 503:
      return 14;  // UNAVAILABLE
    default:
      return 2;  // UNKNOWN
  }
}

int64_t ProductId(int64_t index) { return 100001 + index; }

// "SKU-000042" -> 41; -1 for anything else.
int64_t OfferIndex(std::string_view offer) {
  if (offer.size() != 10 || offer.rfind("SKU-", 0) != 0) return -1;
  auto n = ParseDecimalInt(offer.substr(4));
  return n && *n >= 1 ? *n - 1 : -1;
}

// An account's credential: "CLIENT_ID:API_KEY", or a bare key of
// `client_id`.
std::pair<std::string, std::string> SplitCredential(const std::string& credential,
                                                    const std::string& client_id) {
  auto colon = credential.find(':');
  if (colon == std::string::npos) return {client_id, credential};
  return {credential.substr(0, colon), credential.substr(colon + 1)};
}

}  // namespace

net::HttpResponse OzonSimulator::RpcError(int http, int code, std::string_view message) {
  return net::HttpResponse::Json(
      http, json{{"code", code}, {"message", message}, {"details", json::array()}}.dump());
}

std::string OzonSimulator::OfferId(int64_t index) { return fmt::format("SKU-{:06d}", index + 1); }

std::string OzonSimOptions::client_id() const {
  if (auto it = account.find("client_id"); it != account.end()) return it->second;
  if (!credentials.empty() && credentials[0].find(':') != std::string::npos) {
    return credentials[0].substr(0, credentials[0].find(':'));
  }
  return kDefaultClientId;
}

std::string OzonSimOptions::api_key() const {
  if (credentials.empty()) return kDefaultApiKey;
  return SplitCredential(credentials[0], client_id()).second;
}

Status OzonSimOptions::Complete() const {
  if (client_id().empty()) return Status::InvalidArgument("ozon simulator: empty Client-Id");
  return Status::Ok();
}

OzonSimulator::OzonSimulator(OzonSimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      pipeline_(PipelineOptions(), clock) {
  BuildWorld();
  std::lock_guard lock(postings_mu_);
  lost_act_answers_ = options_.lost_act_answers;
}

void OzonSimulator::BuildWorld() {
  std::lock_guard lock(postings_mu_);
  simkit::CreateOrders(options_, clock_, [this](int i, SystemTime created, simkit::SeededRng& rng) {
    SimPosting p;
    p.order_id = 50000000 + i;
    p.posting_number = fmt::format("{:08d}-{:04d}-1", 50000000 + i, i % 10000);
    p.created = created;
    p.offer_index = rng.Int(0, std::max(1, options_.products) - 1);
    p.quantity = static_cast<int>(rng.Int(1, 3));
    for (const simkit::WalkStep& s : simkit::Walk(rng, p.created, 4, options_.lifetime / 3,
                                                  std::chrono::milliseconds(1), 0.1)) {
      p.steps.emplace_back(
          s.at, s.status == simkit::WalkStep::kCancelled ? "cancelled" : kStatuses[s.status]);
    }
    // Drawn last, so the draws above (and a seed's FBS world) do not move.
    // FBO goes through the same statuses (the spec lists the same five).
    p.fbo = options_.fbo_share > 0 && rng.Chance(options_.fbo_share);
    if (options_.await_seller && !p.fbo) p.steps.resize(1);  // awaiting_packaging
    all_final_at_ = std::max(all_final_at_, p.steps.back().first);
    postings_.push_back(std::move(p));
  });
  CreateReturnsLocked();
}

simkit::SimPipeline::Options OzonSimulator::PipelineOptions() {
  using Route = simkit::SimPipeline::Route;
  using Limit = simkit::SimPipeline::Limit;
  simkit::SimPipeline::Options o = CommonOptions(options_, 0x6f7a6f6e);
  o.dialect.server_header = "ozon-sim";
  o.dialect.auth_headers = {"Client-Id", "Api-Key"};
  std::vector<std::string> credentials = options_.credentials;
  if (credentials.empty()) credentials.push_back(options_.api_key());
  for (const std::string& c : credentials) {
    auto [client, key] = SplitCredential(c, options_.client_id());
    o.dialect.accepted.push_back({client + ":" + key, client});
  }
  o.dialect.unauthorized = [](bool missing) {
    return missing ? RpcError(401, 16, "Client-Id and Api-Key headers are required")
                   : RpcError(403, 7, "Invalid Api-Key, please check the key and try again");
  };
  o.dialect.error = [](int status, std::string_view message) {
    return RpcError(status, GrpcCode(status), message);
  };
  o.dialect.throttled = [](const simkit::LimitRefusal&) {
    return RpcError(429, 8, "You have reached request rate limit per second");
  };
  o.limits = {Limit::Window("all", options_.requests_per_second, std::chrono::seconds(1)),
              Limit::Window("stocks", options_.stocks_per_minute, std::chrono::minutes(1))};
  // Every route is a POST with a JSON body; the lists also see the "dup" fault.
  auto route = [this](std::string path, std::vector<std::string> limits,
                      net::HttpResponse (OzonSimulator::*handler)(const json&, bool)) {
    return Route{.method = "POST",
                 .path = std::move(path),
                 .limits = std::move(limits),
                 .json_body = true,
                 .handler = [this, handler](const simkit::SimRequest& r) {
                   return (this->*handler)(r.body, r.dup);
                 }};
  };
  o.routes = {route("/v3/posting/fbs/list", {"all"}, &OzonSimulator::FbsList),
              route("/v2/posting/fbo/list", {"all"}, &OzonSimulator::FboList),
              route("/v2/products/stocks", {"all", "stocks"}, &OzonSimulator::UpdateStocks),
              route("/v1/product/import/prices", {"all"}, &OzonSimulator::Prices),
              route("/v3/product/list", {"all"}, &OzonSimulator::ProductList),
              route("/v3/product/info/list", {"all"}, &OzonSimulator::ProductInfoList),
              route("/v3/posting/fbs/get", {"all"}, &OzonSimulator::GetPosting),
              route("/v4/posting/fbs/ship", {"all"}, &OzonSimulator::Ship),
              route("/v2/posting/fbs/cancel", {"all"}, &OzonSimulator::Cancel),
              route("/v2/posting/fbs/act/create", {"all"}, &OzonSimulator::CreateAct),
              route("/v2/posting/fbs/act/check-status", {"all"}, &OzonSimulator::CheckAct),
              route("/v2/posting/fbs/act/get-postings", {"all"}, &OzonSimulator::ActPostings),
              route("/v2/posting/fbs/act/list", {"all"}, &OzonSimulator::ActList),
              route("/v1/returns/list", {"all"}, &OzonSimulator::ReturnsList)};
  o.routes.push_back(route("/v2/finance/realization", {"all"}, &OzonSimulator::Realization));
  return o;
}

std::map<std::string, std::string> OzonSimulator::OrderStatuses(bool final_only) const {
  const SystemTime now = clock_.Now();
  std::map<std::string, std::string> out;
  std::lock_guard lock(postings_mu_);
  for (const auto& p : postings_) {
    if (final_only) {
      out[p.posting_number] = p.steps.back().second;
    } else if (p.created <= now) {
      out[p.posting_number] = p.steps[StepOf(p, now)].second;
    }
  }
  return out;
}

std::vector<json> OzonSimulator::StockCommandItems(int n, int64_t stock) const {
  std::vector<json> items;
  for (int i = 0; i < n; ++i) {
    items.push_back(
        {{"offer_id", OfferId(i)}, {"warehouse_id", options_.warehouse_id}, {"stock", stock}});
  }
  return items;
}

int64_t OzonSimulator::StockItemsAt(int n, int64_t stock) const {
  std::lock_guard lock(mu_);
  int64_t held = 0;
  for (int i = 0; i < n; ++i) {
    auto it = stocks_.find({ProductId(i), options_.warehouse_id});
    held += it != stocks_.end() && it->second == stock ? 1 : 0;
  }
  return held;
}

simkit::AdapterWiring OzonSimulator::Wiring() const {
  return {
      .type = "ozon",
      .keys = fmt::format("client_id = {}\nbase_url = {}\n",
                          simkit::TomlString(options_.client_id()), simkit::TomlString(base_url())),
      // The adapter's own pacing of the 50 requests/s (the key's maximum).
      .unthrottled_keys = "rate_limit = 1000\n",
      .lookback_key = "order_lookback",
      .secrets = {{"api_key_file", options_.api_key()}},
      .orders_method = "POST",
      .orders_path = "/v3/posting/fbs/list"};
}

std::set<std::string> OzonSimulator::FboPostings() const {
  std::set<std::string> out;
  std::lock_guard lock(postings_mu_);
  for (const auto& p : postings_) {
    if (p.fbo) out.insert(p.posting_number);
  }
  return out;
}

std::map<std::string, int64_t> OzonSimulator::Stocks() const {
  std::lock_guard lock(mu_);
  std::map<std::string, int64_t> out;
  for (const auto& [k, v] : stocks_) out[fmt::format("{}:{}", k.first, k.second)] = v;
  return out;
}

std::string OzonSimulator::StateJson() const {
  const SystemTime now = clock_.Now();
  json postings = json::array();
  {
    std::lock_guard lock(postings_mu_);
    for (const auto& p : postings_) {
      if (p.created > now) continue;
      const size_t step = StepOf(p, now);
      postings.push_back({{"posting_number", p.posting_number},
                          {"status", p.steps[step].second},
                          {"final_status", p.steps.back().second},
                          {"scheme", p.fbo ? "fbo" : "fbs"}});
    }
  }
  json returns = json::array();
  {
    std::lock_guard lock(postings_mu_);
    for (const SimReturn& r : returns_) {
      if (r.steps.front().first > now) continue;
      returns.push_back(
          {{"id", r.id},
           {"posting_number", postings_[r.posting].posting_number},
           {"status",
            r.steps[simkit::StepAt(r.steps, now, [](const auto& s) { return s.first; })].second}});
    }
  }
  json acts = json::array();
  for (const SimAct& a : Acts()) acts.push_back({{"id", a.id}, {"postings", a.postings}});
  json stocks = json::object();
  for (const auto& [k, v] : Stocks()) stocks[k] = v;
  json prices = json::object();
  {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : prices_) prices[k] = v;
  }
  return json{{"postings", std::move(postings)},
              {"returns", std::move(returns)},
              {"acts", std::move(acts)},
              {"stocks", std::move(stocks)},
              {"prices", std::move(prices)}}
      .dump();
}

bool OzonSimulator::AdmitLocked(const std::string& key, int64_t limit,
                                std::chrono::seconds window) {
  const auto now = clock_.SteadyNow();
  auto& times = updates_[key];
  while (!times.empty() && now - times.front() >= window) times.pop_front();
  if (static_cast<int64_t>(times.size()) >= limit) return false;
  times.push_back(now);
  return true;
}

net::HttpResponse OzonSimulator::UpdateStocks(const json& body, bool) {
  const json* stocks = JsonArray(body, "stocks");
  if (stocks == nullptr) return RpcError(400, 3, "stocks is required");
  if (stocks->empty() || stocks->size() > 100) {
    return RpcError(400, 3, "stocks: from 1 to 100 items per request");
  }
  json result = json::array();
  std::lock_guard lock(mu_);
  for (const json& s : *stocks) {
    const int64_t product = JsonInt(s, "product_id").value_or(0);
    const int64_t warehouse = JsonInt(s, "warehouse_id").value_or(0);
    const std::string offer(JsonString(s, "offer_id").value_or(""));
    const int64_t stock = JsonInt(s, "stock").value_or(-1);
    // offer_id wins when both are given (spec).
    const int64_t index = !offer.empty() ? OfferIndex(offer) : product - 100001;
    const bool known = index >= 0 && index < options_.products;
    json item = {{"offer_id", known ? OfferId(index) : offer},
                 {"product_id", known ? ProductId(index) : product},
                 {"warehouse_id", warehouse},
                 {"updated", false},
                 {"errors", json::array()}};
    auto error = [&](const char* code, const char* message) {
      item["errors"].push_back({{"code", code}, {"message", message}});
    };
    if (!known) {
      error("NOT_FOUND_ERROR", "Product not found");
    } else if (warehouse != options_.warehouse_id) {
      error("WAREHOUSE_NOT_FOUND", "Warehouse not found");
    } else if (stock < 0 || stock >= 1000000) {
      error("STOCK_TOO_BIG", "Stock value is too big");
    } else if (!AdmitLocked(fmt::format("stock:{}:{}", index, warehouse), 1,
                            std::chrono::seconds(30))) {  // «только 1 раз в 30 секунд»
      error("TOO_MANY_REQUESTS", "Stock is updated too frequently");
    } else {
      stocks_[{ProductId(index), warehouse}] = stock;
      item["updated"] = true;
    }
    result.push_back(std::move(item));
  }
  return net::HttpResponse::Json(200, json{{"result", std::move(result)}}.dump());
}

net::HttpResponse OzonSimulator::Prices(const json& body, bool) {
  const json* prices = JsonArray(body, "prices");
  if (prices == nullptr) return RpcError(400, 3, "prices is required");
  if (prices->empty() || prices->size() > 1000)
    return RpcError(400, 3, "prices: from 1 to 1000 items per request");
  json result = json::array();
  std::lock_guard lock(mu_);
  for (const json& p : *prices) {
    // offer_id wins when both are given, as for stocks (the spec's
    // example sends "offer_id": "" beside a product_id: that one is absent).
    const std::string offer(JsonString(p, "offer_id").value_or(""));
    const int64_t index =
        !offer.empty() ? OfferIndex(offer) : JsonInt(p, "product_id").value_or(0) - 100001;
    const bool known = index >= 0 && index < options_.products;
    json item = {{"offer_id", known ? OfferId(index) : offer},
                 {"product_id", known ? ProductId(index) : 0},
                 {"updated", false},
                 {"errors", json::array()}};
    auto error = [&](const char* code, const char* message) {
      item["errors"].push_back({{"code", code}, {"message", message}});
    };
    const std::string price(JsonString(p, "price").value_or(""));
    if (!known) {
      error("NOT_FOUND_ERROR", "Product not found");
    } else if (price.empty()) {
      error("INVALID_PRICE", "price is required");
    } else if (price.front() == '-') {
      error("price_negative", "Price is negative");
    } else if (!AdmitLocked(fmt::format("price:{}", index), options_.price_updates_per_hour,
                            std::chrono::hours(1))) {
      // The spec names no error code for this; the simulator's own.
      error("TOO_MANY_REQUESTS", "The price is updated too frequently");
    } else {
      prices_[OfferId(index)] = price;
      item["updated"] = true;
    }
    result.push_back(std::move(item));
  }
  return net::HttpResponse::Json(200, json{{"result", std::move(result)}}.dump());
}

net::HttpResponse OzonSimulator::ProductList(const json& body, bool) {
  const int64_t limit = JsonInt(body, "limit").value_or(100);
  if (limit < 1 || limit > 1000) return RpcError(400, 3, "limit must be between 1 and 1000");
  const int64_t start = ParseDecimalInt(JsonString(body, "last_id").value_or("0")).value_or(0);
  json items = json::array();
  const int64_t end = std::min<int64_t>(options_.products, std::max<int64_t>(0, start) + limit);
  for (int64_t i = std::max<int64_t>(0, start); i < end; ++i) {
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

simkit::SimulatorType OzonSimulatorType() {
  return {.name = "ozon",
          .description =
              "Ozon Seller API: FBS and FBO postings, stocks, prices "
              "(--tokens CLIENT_ID:API_KEY)",
          .account_keys = {"client_id"},
          .url_key = "base_url",
          .create = simkit::Create<OzonSimulator, OzonSimOptions>};
}

}  // namespace crmhub::adapters::ozon
