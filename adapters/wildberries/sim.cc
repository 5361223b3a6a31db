// WildberriesSim: world model, auth, limits, faults and the /__sim routes.
// The API endpoints themselves are in sim_endpoints.cc.

#include <algorithm>

#include <fmt/format.h>

#include "adapters/wildberries/sim.h"
#include "adapters/wildberries/sim_shapes.h"
#include "base/secret.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

std::string SimBarcode(int product) {
  std::string digits = fmt::format("2{:011d}", product);
  int sum = 0;
  for (size_t i = 0; i < 12; ++i) sum += (digits[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

WildberriesSim::WildberriesSim(boost::asio::io_context& io, Clock& clock, SimOptions options)
    : io_(io),
      clock_(clock),
      options_(std::move(options)),
      start_(options_.start.value_or(clock.Now())),
      rng_(options_.seed),
      rates_(clock),
      held_(io),
      faults_(options_.faults) {
  BuildWorld();
  net::HttpServerOptions server_options;
  server_options.server_header = "wildberries-sim";
  server_options.body_limit_bytes = 8 * 1024 * 1024;
  server_ = std::make_unique<net::HttpServer>(
      io_, server_options,
      [this](net::HttpRequest request, net::Responder respond) {
        Handle(std::move(request), std::move(respond));
      });
}

WildberriesSim::~WildberriesSim() { Stop(); }

Status WildberriesSim::Listen(const std::string& address) { return server_->Listen(address); }
uint16_t WildberriesSim::port() const { return server_->port(); }
std::string WildberriesSim::base_url() const {
  return fmt::format("http://127.0.0.1:{}", server_->port());
}

void WildberriesSim::Stop() {
  held_.Stop();
  if (server_) server_->Stop();
}

void WildberriesSim::SetFaults(simkit::FaultSpec faults) {
  std::lock_guard lock(mu_);
  faults_ = faults;
}

int64_t WildberriesSim::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - start_).count();
}

void WildberriesSim::BuildWorld() {
  const int64_t arrival_ms = std::max<int64_t>(1, options_.arrival.count());
  const int64_t life_ms = std::max<int64_t>(1, options_.lifetime.count());
  using Path = std::vector<std::pair<const char*, const char*>>;
  auto build = [&](int count, int64_t first_id, bool dbs, std::vector<Order>& out) {
    out.reserve(static_cast<size_t>(std::max(0, count)));
    for (int i = 0; i < count; ++i) {
      Order o;
      o.id = first_id + i;
      simkit::SeededRng r = rng_.Fork(static_cast<uint64_t>(o.id));
      o.product = static_cast<int>(r.Int(1, std::max(1, options_.products)));
      o.warehouse = options_.warehouses.empty()
                        ? 507
                        : options_.warehouses[static_cast<size_t>(
                              r.Int(0, static_cast<int64_t>(options_.warehouses.size()) - 1))];
      o.created_ms = arrival_ms * i / std::max(1, count);
      o.rid = fmt::format("{:016x}{:016x}", r.Next(), r.Next());
      // Scenario and its steps; each later step a random share of the lifetime.
      double u = r.Uniform();
      Path path;
      if (dbs) {
        // 05-orders-dbs.yaml: supplierStatus new, confirm, deliver, receive,
        // reject, cancel; wbStatus waiting until the buyer's outcome.
        if (u < 0.70) {
          path = {{"new", "waiting"}, {"confirm", "waiting"}, {"deliver", "waiting"},
                  {"receive", "sold"}};
        } else if (u < 0.80) {
          path = {{"new", "waiting"}, {"cancel", "canceled"}};
        } else if (u < 0.90) {
          path = {{"new", "waiting"}, {"new", "declined_by_client"}};
        } else {
          path = {{"new", "waiting"}, {"confirm", "waiting"}, {"deliver", "waiting"},
                  {"reject", "canceled_by_client"}};
        }
      } else if (u < 0.70) {
        path = {{"new", "waiting"}, {"confirm", "waiting"}, {"complete", "waiting"},
                {"complete", "sorted"}, {"complete", "ready_for_pickup"}, {"complete", "sold"}};
      } else if (u < 0.80) {
        path = {{"new", "waiting"}, {"cancel", "canceled"}};
      } else if (u < 0.88) {
        path = {{"new", "waiting"}, {"new", "declined_by_client"}};
      } else if (u < 0.95) {
        path = {{"new", "waiting"}, {"confirm", "waiting"}, {"complete", "waiting"},
                {"complete", "sorted"}, {"complete", "ready_for_pickup"},
                {"complete", "canceled_by_client"}};
      } else {
        path = {{"new", "waiting"}, {"confirm", "waiting"}, {"complete", "waiting"},
                {"complete", "sorted"}, {"complete", "defect"}};
      }
      std::vector<int64_t> offsets = {0};
      for (size_t k = 1; k < path.size(); ++k) offsets.push_back(r.Int(1, life_ms));
      std::sort(offsets.begin(), offsets.end());
      for (size_t k = 0; k < path.size(); ++k) {
        o.steps.push_back({o.created_ms + offsets[k], path[k].first, path[k].second});
      }
      out.push_back(std::move(o));
    }
  };
  build(options_.orders, 10'000'000, false, orders_);
  build(options_.dbs_orders, 20'000'000, true, dbs_orders_);
}

SystemTime WildberriesSim::EndTime() const {
  int64_t end = 0;
  for (const auto& o : orders_) end = std::max(end, o.steps.back().at_ms);
  for (const auto& o : dbs_orders_) end = std::max(end, o.steps.back().at_ms);
  return start_ + std::chrono::milliseconds(end);
}

const WildberriesSim::Step& WildberriesSim::StatusAt(const Order& o, int64_t t) const {
  const Step* s = &o.steps.front();
  for (const auto& step : o.steps) {
    if (step.at_ms <= t) s = &step;
  }
  return *s;
}

json WildberriesSim::OrderJson(const Order& o) const {
  const int64_t created_unix_ms = ToUnixMillis(start_) + o.created_ms;
  std::string created = FormatRfc3339(FromUnixMillis(created_unix_ms / 1000 * 1000));
  // FormatRfc3339 writes milliseconds; the API's example has none.
  if (auto dot = created.find('.'); dot != std::string::npos) created = created.substr(0, dot) + "Z";
  const int64_t price = 100'000 + (o.product % 97) * 1'000;  // kopecks
  // scanPrice is left out: "shown after the actual acceptance of the order"
  // (and not nullable in Order).
  return {
      {"address", nullptr},
      {"deliveryType", "fbs"},
      {"orderUid", fmt::format("{}_{}", o.id / 3, o.rid.substr(0, 16))},
      {"article", fmt::format("art-{}", o.product)},
      {"colorCode", ""},
      {"rid", o.rid},
      {"createdAt", created},
      {"offices", json::array({"Коледино"})},
      {"skus", json::array({SimBarcode(o.product)})},
      {"id", o.id},
      {"warehouseId", o.warehouse},
      {"officeId", 123},
      {"nmId", 100'000'000 + o.product},
      {"chrtId", 300'000'000 + o.product},
      {"price", price},
      {"convertedPrice", price},
      {"currencyCode", 643},
      {"convertedCurrencyCode", 643},
      {"cargoType", 1},
      {"comment", ""},
      {"isZeroOrder", false},
      {"options", {{"isB2b", false}}},
  };
}

json WildberriesSim::DbsOrderJson(const Order& o) const {
  json j = OrderJson(o);
  // OrderDBS: the buyer's address instead of WB offices.
  j.erase("offices");
  j.erase("officeId");
  j["deliveryType"] = "dbs";
  j["address"] = {{"fullAddress", fmt::format("Москва, ул. Симуляторная, д. {}", o.id % 100)},
                  {"longitude", 37.6},
                  {"latitude", 55.7}};
  j["finalPrice"] = j["price"];
  j["convertedFinalPrice"] = j["convertedPrice"];
  return j;
}

json WildberriesSim::OrdersStateJson(const std::vector<Order>& list, int64_t now,
                                     bool& all_final) const {
  json orders = json::array();
  for (const auto& o : list) {
    if (o.created_ms > now) {
      all_final = false;
      continue;
    }
    const Step& cur = StatusAt(o, now);
    const Step& fin = o.steps.back();
    bool is_final = cur.at_ms == fin.at_ms && cur.wb == fin.wb;
    all_final = all_final && is_final;
    orders.push_back({{"id", o.id},
                      {"rid", o.rid},
                      {"supplierStatus", cur.supplier},
                      {"wbStatus", cur.wb},
                      {"finalSupplierStatus", fin.supplier},
                      {"finalWbStatus", fin.wb},
                      {"final", is_final}});
  }
  return orders;
}

json WildberriesSim::StateJson() const {
  std::lock_guard lock(mu_);
  const int64_t now = NowMs();
  bool all_final = true;
  json orders = OrdersStateJson(orders_, now, all_final);
  json dbs_orders = OrdersStateJson(dbs_orders_, now, all_final);
  json stocks = json::object();
  for (const auto& [w, by_product] : stocks_) {
    json m = json::object();
    for (const auto& [p, amount] : by_product) m[SimBarcode(p)] = amount;
    stocks[std::to_string(w)] = std::move(m);
  }
  json prices = json::object();
  for (const auto& [nm, pd] : prices_) {
    prices[std::to_string(nm)] = {{"price", pd.first}, {"discount", pd.second}};
  }
  return {{"now", FormatRfc3339(clock_.Now())},
          {"orders_total", orders_.size()},
          {"orders_created", orders.size()},
          {"all_final", all_final},
          {"orders", std::move(orders)},
          {"dbs_orders", std::move(dbs_orders)},
          {"stocks", std::move(stocks)},
          {"prices", std::move(prices)}};
}

int64_t WildberriesSim::StockOf(int64_t warehouse, const std::string& barcode) const {
  std::lock_guard lock(mu_);
  auto w = stocks_.find(warehouse);
  if (w == stocks_.end()) return -1;
  // Barcode -> index: "2" + 11 digits + check digit.
  if (barcode.size() != 13) return -1;
  int product = std::atoi(barcode.substr(1, 11).c_str());
  if (SimBarcode(product) != barcode) return -1;
  auto it = w->second.find(product);
  return it == w->second.end() ? -1 : it->second;
}

namespace {

// The API group (rate-limit bucket) of a path, empty for unknown paths.
std::string GroupOf(const std::string& path) {
  if (path.rfind("/api/v3/orders", 0) == 0) return "orders";
  if (path.rfind("/api/v3/dbs/", 0) == 0) return "dbs";
  if (path.rfind("/api/v3/stocks/", 0) == 0) return "stocks";
  if (path.rfind("/api/v2/upload/task", 0) == 0) return "prices";
  if (path.rfind("/api/v2/history/", 0) == 0) return "prices";
  if (path.rfind("/api/v2/buffer/", 0) == 0) return "prices";
  if (path.rfind("/content/v2/", 0) == 0) return "content";
  return {};
}

simkit::RateLimit LimitOf(const std::string& group) {
  using std::chrono::milliseconds;
  if (group == "prices" || group == "content") return {milliseconds(600), 5};
  return {milliseconds(200), 20};
}

int64_t CeilSeconds(std::chrono::milliseconds ms) { return (ms.count() + 999) / 1000; }

}  // namespace

void WildberriesSim::Handle(net::HttpRequest req, net::Responder respond) {
  uint64_t seq = log_.Record(req, NowMs());
  auto finish = [&](net::HttpResponse r, simkit::Fault fault, std::string note) {
    log_.Complete(seq, r.status, fault, std::move(note));
    respond(std::move(r));
  };
  if (req.method == "GET" && req.path == "/__sim/requests") {
    uint64_t since = 0;
    if (auto s = req.QueryParam("since")) since = std::strtoull(s->c_str(), nullptr, 10);
    return finish(net::HttpResponse::Json(200, log_.ToJson(since)), simkit::Fault::kNone, "");
  }
  if (req.method == "GET" && req.path == "/__sim/state") {
    return finish(net::HttpResponse::Json(200, StateJson().dump()), simkit::Fault::kNone, "");
  }
  const std::string group = GroupOf(req.path);
  if (group.empty()) {
    return finish(WbError(404, "NotFound", "Not found"), simkit::Fault::kNone, "unknown path");
  }
  // Auth: the bare token in Authorization (HeaderApiKey).
  auto auth = req.headers.Get("Authorization");
  std::string token;
  bool authorized = false;
  if (auth) {
    for (const auto& t : options_.tokens) {
      if (ConstantTimeEquals(t, *auth)) {
        authorized = true;
        token = t;
      }
    }
  }
  if (!authorized) {
    return finish(WbAuthError(clock_.Now(), auth ? "token problem; token is malformed"
                                                 : "empty Authorization header"),
                  simkit::Fault::kNone, "unauthorized");
  }
  simkit::RateDecision rate;
  const std::string bucket = token + "/" + group;
  if (options_.enforce_rate_limits) {
    rate = rates_.Admit(bucket, LimitOf(group));
    if (!rate.allowed) {
      net::HttpResponse r = WbTooManyRequests(clock_.Now());
      r.headers.Set("X-Ratelimit-Retry", std::to_string(std::max<int64_t>(1, CeilSeconds(rate.retry_after))));
      r.headers.Set("X-Ratelimit-Limit", std::to_string(rate.limit));
      r.headers.Set("X-Ratelimit-Reset", std::to_string(CeilSeconds(rate.reset_after)));
      return finish(std::move(r), simkit::Fault::kNone, "rate limited");
    }
  }
  simkit::Fault fault;
  std::chrono::milliseconds slow_delay, timeout_hold;
  {
    std::lock_guard lock(mu_);
    fault = faults_.Pick(rng_.Uniform());
    slow_delay = faults_.slow_delay;
    timeout_hold = faults_.timeout_hold;
  }
  switch (fault) {
    case simkit::Fault::k429: {
      net::HttpResponse r = WbTooManyRequests(clock_.Now());
      r.headers.Set("X-Ratelimit-Retry", "1");
      r.headers.Set("X-Ratelimit-Limit", std::to_string(LimitOf(group).burst));
      r.headers.Set("X-Ratelimit-Reset", "1");
      return finish(std::move(r), fault, "injected");
    }
    case simkit::Fault::k500:
      return finish(WbError(500, "InternalServerError", "Внутренняя ошибка сервиса"), fault,
                    "injected");
    case simkit::Fault::k503:
      return finish(WbError(503, "ServiceUnavailable", "Сервис временно недоступен"), fault,
                    "injected");
    default:
      break;
  }
  Answer answer = Route(req, fault, group);
  if (answer.charge_409 && options_.enforce_rate_limits) rates_.Charge(bucket, LimitOf(group), 9);
  if (options_.enforce_rate_limits && answer.response.status < 300) {
    answer.response.headers.Set("X-Ratelimit-Remaining", std::to_string(rate.remaining));
    answer.response.headers.Set("X-Ratelimit-Limit", std::to_string(rate.limit));
  }
  if (fault == simkit::Fault::kMalformed && answer.response.status < 300) {
    answer.response = simkit::MalformedJson(answer.response.body);
  }
  if (fault == simkit::Fault::kTimeout || fault == simkit::Fault::kSlow) {
    log_.Complete(seq, 0, fault, fault == simkit::Fault::kSlow ? "slow answer" : "never answered");
    held_.AnswerLater(std::move(respond), std::move(answer.response),
                      fault == simkit::Fault::kSlow ? slow_delay : timeout_hold);
    return;
  }
  finish(std::move(answer.response), fault, fault == simkit::Fault::kNone ? "" : "injected");
}

}  // namespace crmhub::adapters::wildberries
