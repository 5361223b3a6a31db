// WildberriesSimulator: the world model, its state and the Simulator
// interface. The API endpoints, the dialect and the routes are in
// wildberries_sim_endpoints.cc.

#include "adapters/wildberries/wildberries_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include "adapters/simkit/world.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

std::string SimBarcode(int product) {
  std::string digits = fmt::format("2{:011d}", product);
  int sum = 0;
  for (size_t i = 0; i < 12; ++i) sum += (digits[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return digits + static_cast<char>('0' + (10 - sum % 10) % 10);
}

Status WildberriesSimOptions::Complete() {
  for (const auto& [name, value] : extra) {
    if (name == "dbs-orders") {
      auto n = ParseDecimalInt(value);
      if (!n || *n < 0 || *n > 10'000'000) {
        return Status::InvalidArgument("--dbs-orders must be 0..10000000");
      }
      dbs_orders = static_cast<int>(*n);
    } else if (name == "price-item-errors") {
      if (!simkit::ParseProbability(value, &price_item_errors)) {
        return Status::InvalidArgument(
            fmt::format("--price-item-errors must be a share from 0 to 1, got \"{}\"", value));
      }
    }
  }
  return Status::Ok();
}

WildberriesSimulator::WildberriesSimulator(WildberriesSimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      clock_(clock),
      options_(std::move(options)),
      start_(simkit::WorldStart(options_, clock)),
      rng_(options_.seed),
      pipeline_(PipelineOptions(), clock) {
  BuildWorld();
}

std::string WildberriesSimulator::StateJson() const { return State().dump(); }

int64_t WildberriesSimulator::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now() - start_).count();
}

void WildberriesSimulator::BuildWorld() {
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
          path = {{"new", "waiting"},
                  {"confirm", "waiting"},
                  {"deliver", "waiting"},
                  {"receive", "sold"}};
        } else if (u < 0.80) {
          path = {{"new", "waiting"}, {"cancel", "canceled"}};
        } else if (u < 0.90) {
          path = {{"new", "waiting"}, {"new", "declined_by_client"}};
        } else {
          path = {{"new", "waiting"},
                  {"confirm", "waiting"},
                  {"deliver", "waiting"},
                  {"reject", "canceled_by_client"}};
        }
      } else if (u < 0.70) {
        path = {{"new", "waiting"},     {"confirm", "waiting"},           {"complete", "waiting"},
                {"complete", "sorted"}, {"complete", "ready_for_pickup"}, {"complete", "sold"}};
      } else if (u < 0.80) {
        path = {{"new", "waiting"}, {"cancel", "canceled"}};
      } else if (u < 0.88) {
        path = {{"new", "waiting"}, {"new", "declined_by_client"}};
      } else if (u < 0.95) {
        path = {{"new", "waiting"},
                {"confirm", "waiting"},
                {"complete", "waiting"},
                {"complete", "sorted"},
                {"complete", "ready_for_pickup"},
                {"complete", "canceled_by_client"}};
      } else {
        path = {{"new", "waiting"},
                {"confirm", "waiting"},
                {"complete", "waiting"},
                {"complete", "sorted"},
                {"complete", "defect"}};
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
  if (options_.await_seller) {
    for (Order& o : orders_) o.steps.resize(1);  // new/waiting
  }
  build(options_.dbs_orders, 20'000'000, true, dbs_orders_);
  if (options_.await_seller) {
    for (Order& o : dbs_orders_) o.steps.resize(1);  // new/waiting
  }
  CreateReturns();
}

const WildberriesSimulator::Step& WildberriesSimulator::StatusAt(const Order& o, int64_t t) const {
  const Step* s = &o.steps.front();
  for (const auto& step : o.steps) {
    if (step.at_ms <= t) s = &step;
  }
  return *s;
}

void WildberriesSimulator::WriteOrder(simkit::JsonText& out, const Order& o, bool dbs,
                                      bool fresh) const {
  const int64_t created_unix_ms = ToUnixMillis(start_) + o.created_ms;
  const int64_t price = 100'000 + (o.product % 97) * 1'000;  // kopecks
  out.BeginObject();
  if (dbs) {
    // OrderDBS: the buyer's address instead of WB offices.
    out.Key("address")
        .BeginObject()
        .Member("fullAddress", fmt::format("Москва, ул. Симуляторная, д. {}", o.id % 100))
        .Key("longitude")
        .Raw("37.6")
        .Key("latitude")
        .Raw("55.7")
        .EndObject();
    out.Member("finalPrice", price).Member("convertedFinalPrice", price);
  } else {
    out.Key("address").Raw("null");
    out.Key("offices").BeginArray().String("Коледино").EndArray().Member("officeId", 123);
  }
  out.Member("deliveryType", dbs ? "dbs" : "fbs")
      .Member("orderUid", fmt::format("{}_{}", o.id / 3, o.rid.substr(0, 16)))
      .Member("article", fmt::format("art-{}", o.product))
      .Member("colorCode", "")
      .Member("rid", o.rid)
      // The API's example has no fraction of a second.
      .Member("createdAt", FormatTimestamp(FromUnixMillis(created_unix_ms),
                                           TimestampStyle::kRfc3339Seconds, kUtcOffsetMinutes))
      .Key("skus")
      .BeginArray()
      .String(SimBarcode(o.product))
      .EndArray()
      .Member("id", o.id)
      .Member("warehouseId", o.warehouse)
      .Member("nmId", 100'000'000 + o.product)
      .Member("chrtId", 300'000'000 + o.product)
      .Member("price", price)
      .Member("convertedPrice", price)
      .Member("currencyCode", 643)
      .Member("convertedCurrencyCode", 643)
      .Member("cargoType", 1)
      .Member("comment", "")
      .Member("isZeroOrder", false)
      .Key("options")
      .BeginObject()
      .Member("isB2b", false)
      .EndObject();
  // scanPrice is left out of the lists: "shown after the actual acceptance
  // of the order" (and not nullable in Order).
  if (fresh) {
    out.Member("salePrice", price).Key("requiredMeta").BeginArray().EndArray();
    if (!dbs) {
      out.Member("finalPrice", price).Member("convertedFinalPrice", price);
      out.Key("scanPrice").Raw("null");  // "always null for this method"
      out.Key("optionalMeta").BeginArray().EndArray();
    }
  }
  out.EndObject();
}

json WildberriesSimulator::OrdersStateJson(const std::vector<Order>& list, int64_t now,
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
                      {"warehouseId", o.warehouse},
                      {"supplierStatus", cur.supplier},
                      {"wbStatus", cur.wb},
                      {"finalSupplierStatus", fin.supplier},
                      {"finalWbStatus", fin.wb},
                      {"final", is_final}});
    if (o.id >= 20'000'000) orders.back()["buyerCode"] = BuyerCode(o.id);
  }
  return orders;
}

json WildberriesSimulator::State() const {
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
  return {{"now", FormatRfc3339(clock_.Now())}, {"orders_total", orders_.size()},
          {"orders_created", orders.size()},    {"all_final", all_final},
          {"orders", std::move(orders)},        {"dbs_orders", std::move(dbs_orders)},
          {"stocks", std::move(stocks)},        {"prices", std::move(prices)}};
}

int64_t WildberriesSimulator::StockOf(int64_t warehouse, const std::string& barcode) const {
  std::lock_guard lock(mu_);
  auto w = stocks_.find(warehouse);
  if (w == stocks_.end()) return -1;
  // Barcode -> index: "2" + 11 digits + check digit.
  const auto product = barcode.size() == 13 ? ParseDecimalInt(barcode.substr(1, 11)) : std::nullopt;
  if (!product || SimBarcode(static_cast<int>(*product)) != barcode) return -1;
  auto it = w->second.find(static_cast<int>(*product));
  return it == w->second.end() ? -1 : it->second;
}

SystemTime WildberriesSimulator::AllFinalAt() const {
  std::lock_guard lock(mu_);
  int64_t end = 0;
  for (const auto& o : orders_) end = std::max(end, o.steps.back().at_ms);
  for (const auto& o : dbs_orders_) end = std::max(end, o.steps.back().at_ms);
  for (const auto& r : returns_) end = std::max(end, r.steps.back());
  return start_ + std::chrono::milliseconds(end);
}

std::map<std::string, std::string> WildberriesSimulator::OrderStatuses(bool final_only) const {
  const int64_t now = NowMs();
  std::map<std::string, std::string> out;
  std::lock_guard lock(mu_);
  for (const std::vector<Order>* list : {&orders_, &dbs_orders_}) {
    for (const Order& o : *list) {
      if (!final_only && o.created_ms > now) continue;
      const Step& s = final_only ? o.steps.back() : StatusAt(o, now);
      out[std::to_string(o.id)] = fmt::format("{}/{}", s.supplier, s.wb);
    }
  }
  return out;
}

std::vector<json> WildberriesSimulator::StockCommandItems(int n, int64_t stock) const {
  const int64_t warehouse = options_.warehouses.empty() ? 507 : options_.warehouses.front();
  std::vector<json> items;
  for (int p = 1; p <= n; ++p) {
    // The size (chrtID, which order records carry) and its barcode.
    items.push_back({{"chrt_id", 300'000'000 + p},
                     {"sku", SimBarcode(p)},
                     {"warehouse_id", warehouse},
                     {"amount", stock}});
  }
  return items;
}

int64_t WildberriesSimulator::StockItemsAt(int n, int64_t stock) const {
  const int64_t warehouse = options_.warehouses.empty() ? 507 : options_.warehouses.front();
  int64_t held = 0;
  for (int p = 1; p <= n; ++p) held += StockOf(warehouse, SimBarcode(p)) == stock ? 1 : 0;
  return held;
}

simkit::AdapterWiring WildberriesSimulator::Wiring() const {
  const std::string url = simkit::TomlString(base_url());
  return {.type = "wildberries",
          .keys = fmt::format(
              "marketplace_url = {0}\ncontent_url = {0}\nprices_url = {0}\nanalytics_url = {0}\n"
              "statistics_url = {0}\n",
              url),
          // 1 ms a request for the orders group (the documented 200 ms would
          // cap a benchmark at 5 pages a second).
          .unthrottled_keys = "orders_rate_interval = \"1ms\"\norders_rate_burst = 100\n",
          .lookback_key = "lookback",
          .secrets = {{"token_file", options_.credentials.empty() ? std::string("sim-token")
                                                                  : options_.credentials[0]}},
          .orders_method = "GET",
          .orders_path = "/api/v3/orders"};
}

simkit::SimulatorType WildberriesSimulatorType() {
  return {.name = "wildberries",
          .description = "Wildberries seller API: FBS and DBS orders, stocks, price tasks, cards",
          .url_key = "marketplace_url",
          .extra_options = {{"dbs-orders",
                             "DBS orders the world creates besides the FBS ones "
                             "(default 0)"},
                            {"price-item-errors",
                             "share of goods a price upload task rejects, "
                             "0..1 (default 0)"}},
          .create = simkit::Create<WildberriesSimulator, WildberriesSimOptions>};
}

}  // namespace crmhub::adapters::wildberries
