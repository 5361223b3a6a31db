// The "wildberries" adapter type: config schema and factory.

#include <charconv>

#include <fmt/format.h>

#include "adapters/wildberries/adapter.h"

namespace crmhub::adapters::wildberries {
namespace {

using config::KeySpec;
using config::Type;

std::vector<KeySpec> Keys() {
  std::vector<KeySpec> keys = {
      {.name = "token_file", .type = Type::kSecret,
       .description = "The seller's WB API token (a file path, or a systemd credential name). "
                      "Sent as \"Authorization: <token>\" on every request. The token's "
                      "categories must cover Marketplace (orders, stocks), Prices and Content.",
       .required = true},
      {.name = "marketplace_url", .type = Type::kString,
       .default_value = "\"https://marketplace-api.wildberries.ru\"",
       .description = "Base URL of the Marketplace API (FBS orders, stocks)."},
      {.name = "content_url", .type = Type::kString,
       .default_value = "\"https://content-api.wildberries.ru\"",
       .description = "Base URL of the Content API (product cards)."},
      {.name = "prices_url", .type = Type::kString,
       .default_value = "\"https://discounts-prices-api.wildberries.ru\"",
       .description = "Base URL of the Prices and Discounts API."},
      {.name = "poll_interval", .type = Type::kDuration, .default_value = "\"30s\"",
       .description = "Pause between two scans of the FBS orders (pages within a scan follow "
                      "each other without pause, paced by the rate limits)."},
      {.name = "warehouses", .type = Type::kStringList, .default_value = "[]",
       .description = "Seller warehouse ids (warehouseId) that set_stock may write to; a "
                      "command for another warehouse fails. Empty: any."},
      {.name = "orders_page_size", .type = Type::kInt, .default_value = "1000",
       .description = "limit of GET /api/v3/orders (the API allows 1..1000).", .min = 1,
       .max = 1000},
      {.name = "lookback", .type = Type::kDuration, .default_value = "\"72h\"",
       .description = "On the first run, how far back to read orders (at most 30 days, the "
                      "API's maximum period)."},
      {.name = "late_margin", .type = Type::kDuration, .default_value = "\"10m\"",
       .description = "Each scan also re-reads orders created this long before the newest "
                      "order seen, so orders that show up late in the list are not missed."},
      {.name = "max_open_orders", .type = Type::kInt, .default_value = "50000",
       .description = "Most orders whose status is still followed (kept in the cursor); "
                      "beyond it the oldest are no longer followed.",
       .min = 100, .max = 1000000},
      {.name = "request_timeout", .type = Type::kDuration, .default_value = "\"30s\"",
       .description = "Deadline of one HTTP exchange with WB."},
  };
  // Pacing per API group: WB states "period / limit / interval / burst" per
  // operation; the defaults keep a margin under them.
  struct Group {
    const char* name;
    const char* interval;
    const char* burst;
    const char* doc;
  };
  for (const Group& g : {Group{"orders", "\"220ms\"", "10", "FBS assembly tasks: 300/min, 200 ms, burst 20"},
                         Group{"stocks", "\"220ms\"", "10", "stocks: 300/min, 200 ms, burst 20"},
                         Group{"prices", "\"660ms\"", "3", "prices: 10 per 6 s, 600 ms, burst 5"},
                         Group{"content", "\"660ms\"", "3", "content: 100/min, 600 ms, burst 5"}}) {
    keys.push_back({.name = fmt::format("{}_rate_interval", g.name), .type = Type::kDuration,
                    .default_value = g.interval,
                    .description = fmt::format(
                        "Client-side pacing of the {} API group: one request per interval after "
                        "a burst (documented: {}).", g.name, g.doc)});
    keys.push_back({.name = fmt::format("{}_rate_burst", g.name), .type = Type::kInt,
                    .default_value = g.burst,
                    .description = fmt::format("Burst of the {} API group's pacing.", g.name),
                    .min = 1, .max = 100});
  }
  return keys;
}

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  AdapterOptions o;
  o.id = section.id();
  o.client.token = section.GetSecret("token_file");
  if (o.client.token.empty()) return section.ErrorAt("token_file", "the token file is empty");
  for (const char* key : {"marketplace_url", "content_url", "prices_url"}) {
    std::string url = section.GetString(key);
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      return section.ErrorAt(key, "must be an http(s) URL");
    }
  }
  o.client.marketplace_url = section.GetString("marketplace_url");
  o.client.content_url = section.GetString("content_url");
  o.client.prices_url = section.GetString("prices_url");
  o.client.timeout = section.GetDuration("request_timeout");
  o.poll_interval = section.GetDuration("poll_interval");
  for (const std::string& w : section.GetStringList("warehouses")) {
    int64_t id = 0;
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), id);
    if (ec != std::errc() || p != w.data() + w.size() || id <= 0) {
      return section.ErrorAt("warehouses", fmt::format("\"{}\" is not a warehouse id", w));
    }
    o.warehouses.insert(id);
  }
  o.orders_page_size = static_cast<int>(section.GetInt("orders_page_size"));
  o.lookback = section.GetDuration("lookback");
  if (o.lookback > std::chrono::hours(24 * 30)) {
    return section.ErrorAt("lookback", "at most 30 days (the API's maximum period)");
  }
  o.late_margin = section.GetDuration("late_margin");
  o.max_open_orders = static_cast<size_t>(section.GetInt("max_open_orders"));
  const std::pair<const char*, ApiGroup> groups[] = {{"orders", ApiGroup::kOrders},
                                                      {"stocks", ApiGroup::kStocks},
                                                      {"prices", ApiGroup::kPrices},
                                                      {"content", ApiGroup::kContent}};
  for (const auto& [name, group] : groups) {
    GroupLimit limit;
    limit.interval = section.GetDuration(fmt::format("{}_rate_interval", name));
    limit.burst = section.GetInt(fmt::format("{}_rate_burst", name));
    if (limit.interval.count() <= 0) {
      return section.ErrorAt(fmt::format("{}_rate_interval", name), "must be more than 0");
    }
    o.client.limits[group] = limit;
  }
  if (context.clock == nullptr) return Status::Internal("wildberries: no clock in the context");
  return std::unique_ptr<Adapter>(
      std::make_unique<WildberriesAdapter>(std::move(o), context.http, *context.clock,
                                           context.metrics));
}

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "wildberries";
  t.schema.description =
      "Wildberries seller account: FBS orders and their statuses in; set_stock and set_price "
      "commands out (Marketplace, Prices and Content APIs).";
  t.schema.keys = Keys();
  t.factory = Build;
  return t;
}

namespace {
ClientOptions NamedClient(const AdapterOptions& options) {
  ClientOptions c = options.client;
  c.upstream_name = "wildberries:" + options.id;
  return c;
}
}  // namespace

WildberriesAdapter::WildberriesAdapter(AdapterOptions options, net::HttpClient* http, Clock& clock,
                                       MetricsRegistry* metrics)
    : options_(std::move(options)),
      clock_(clock),
      client_(http, clock, NamedClient(options_), metrics) {}


}  // namespace crmhub::adapters::wildberries
