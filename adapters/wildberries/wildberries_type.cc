// The "wildberries" adapter type: its keys, declared once, and the factory.

#include <fmt/format.h>

#include "adapters/wildberries/wildberries_adapter.h"

namespace crmhub::adapters::wildberries {
namespace {

using config::Key;
using config::Type;

// <group>_rate_interval and <group>_rate_burst: our pacing of one API group.
struct PaceKeys {
  PaceKeys(config::KeySet& set, Group group)
      : PaceKeys(set, GroupName(group), "API group", DefaultPace(group),
                 kDocumentedLimits[static_cast<size_t>(group)]) {}
  // `name`'s pacing ("cancel": the cancel method's own limit).
  PaceKeys(config::KeySet& set, std::string_view name, std::string_view what, Pace ours,
           Pace documented)
      : interval(set.Declare<Type::kDuration>(
            {.name = fmt::format("{}_rate_interval", name),
             .default_value = fmt::format("\"{}ms\"", ours.interval.count()),
             .description =
                 fmt::format("Client-side pacing of the {} {}: one request per interval after a "
                             "burst (documented: {} ms, burst {}).",
                             name, what, documented.interval.count(), documented.burst)})),
        burst(set.Declare<Type::kInt>(
            {.name = fmt::format("{}_rate_burst", name),
             .default_value = std::to_string(ours.burst),
             .description = fmt::format("Burst of the {} {}'s pacing.", name, what),
             .min = 1,
             .max = 100})) {}
  Key<Type::kDuration> interval;
  Key<Type::kInt> burst;
};

struct WildberriesKeys : config::KeySet {
  Key<Type::kSecret> token = Declare<Type::kSecret>(
      {.name = "token_file",
       .description = "The seller's WB API token (a file path, or a systemd credential name). "
                      "Sent as \"Authorization: <token>\" on every request. The token's "
                      "categories must cover Marketplace (orders, stocks), Prices and Content.",
       .required = true});
  Key<Type::kUrl> marketplace_url = Declare<Type::kUrl>(
      {.name = "marketplace_url",
       .default_value = "\"https://marketplace-api.wildberries.ru\"",
       .description = "Base URL of the Marketplace API (FBS and DBS orders, stocks)."});
  Key<Type::kUrl> content_url = Declare<Type::kUrl>(
      {.name = "content_url",
       .default_value = "\"https://content-api.wildberries.ru\"",
       .description = "Base URL of the Content API (product cards: a set_stock barcode's "
                      "chrtID)."});
  Key<Type::kUrl> prices_url =
      Declare<Type::kUrl>({.name = "prices_url",
                           .default_value = "\"https://discounts-prices-api.wildberries.ru\"",
                           .description = "Base URL of the Prices and Discounts API."});
  Key<Type::kUrl> analytics_url = Declare<Type::kUrl>(
      {.name = "analytics_url",
       .default_value = "\"https://seller-analytics-api.wildberries.ru\"",
       .description = "Base URL of the seller analytics API (the returns report, "
                      "/api/v1/analytics/goods-return)."});
  Key<Type::kUrl> statistics_url =
      Declare<Type::kUrl>({.name = "statistics_url",
                           .default_value = "\"https://statistics-api.wildberries.ru\"",
                           .description = "Base URL of the statistics API (the sales report, "
                                          "/api/v1/supplier/sales)."});
  Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval",
       .default_value = "\"30s\"",
       .description = "Pause between two scans of the FBS orders (pages within a scan follow "
                      "each other without pause, paced by the rate limits); a DBS cycle runs at "
                      "most this often."});
  Key<Type::kIdList> warehouses = Declare<Type::kIdList>(
      {.name = "warehouses",
       .default_value = "[]",
       .description = "Seller warehouse ids (warehouseId) that set_stock may write to; a "
                      "command for another warehouse fails. Empty: any."});
  Key<Type::kBool> dbs = Declare<Type::kBool>(
      {.name = "dbs",
       .default_value = "true",
       .description = fmt::format(
           "Poll DBS orders (delivery by the seller, /api/v3/dbs/...). Set false for a seller "
           "without DBS; while true, a 401/403 from the DBS methods is logged, shown in the "
           "adapter status and tried again every {} minutes without stopping FBS.",
           kDbsAuthPause.count())});
  Key<Type::kInt> orders_page_size =
      Declare<Type::kInt>({.name = "orders_page_size",
                           .default_value = std::to_string(kMaxOrdersPerRequest),
                           .description = "limit of GET /api/v3/orders (the API allows 1..1000).",
                           .min = 1,
                           .max = kMaxOrdersPerRequest});
  Key<Type::kDuration> lookback = Declare<Type::kDuration>(
      {.name = "lookback",
       .default_value = "\"72h\"",
       .description = "On the first run, how far back to read orders (at most 30 days, the "
                      "API's maximum period)."});
  Key<Type::kDuration> late_margin = Declare<Type::kDuration>(
      {.name = "late_margin",
       .default_value = "\"10m\"",
       .description = "Each scan also re-reads orders created this long before the newest "
                      "order seen, so orders that show up late in the list are not missed."});
  Key<Type::kInt> max_open_orders = Declare<Type::kInt>(
      {.name = "max_open_orders",
       .default_value = "50000",
       .description = "Most orders whose status is still followed (kept in the cursor); "
                      "beyond it the oldest are no longer followed.",
       .min = 100,
       .max = 1000000});
  Key<Type::kDuration> cards_refresh = Declare<Type::kDuration>(
      {.name = "cards_refresh",
       .default_value = "\"15m\"",
       .description = "A set_stock barcode (sku) is sent as its size's chrtID, read from the "
                      "product cards; a barcode on no card starts a new read of the cards at "
                      "most this often (until then it fails)."});
  Key<Type::kBool> products = Declare<Type::kBool>(
      {.name = "products",
       .default_value = "true",
       .description = "Pull the product cards (/content/v2/get/cards/list, its cursor) between "
                      "two FBS scans, a whole pass at most once per products_interval, as "
                      "`product` entities (sku: the vendorCode); they also resolve the SKUs of "
                      "stock and price commands."});
  Key<Type::kDuration> products_interval = Declare<Type::kDuration>(
      {.name = "products_interval",
       .default_value = "\"1h\"",
       .description = "Least time from the end of one pass over the product cards to the "
                      "start of the next."});
  Key<Type::kBool> returns = Declare<Type::kBool>(
      {.name = "returns",
       .default_value = "true",
       .description = "Pull the returns report (/api/v1/analytics/goods-return) between two FBS "
                      "scans, a pass at most once per returns_interval, as `return` entities "
                      "linked to their orders (the token needs the Analytics category)."});
  Key<Type::kDuration> returns_interval = Declare<Type::kDuration>(
      {.name = "returns_interval",
       .default_value = "\"10m\"",
       .description = "Least time from the start of one pass over the returns report to the "
                      "start of the next (the report allows 1 request a minute)."});
  Key<Type::kBool> reports = Declare<Type::kBool>(
      {.name = "reports",
       .default_value = "true",
       .description = "Pull the sales report (/api/v1/supplier/sales, by its lastChangeDate "
                      "cursor) between two FBS scans, a pass at most once per "
                      "reports_interval, as `report` entities, one per sale or return row (the "
                      "token needs the Statistics category)."});
  Key<Type::kDuration> reports_interval = Declare<Type::kDuration>(
      {.name = "reports_interval",
       .default_value = "\"24h\"",
       .description = "Least time from the end of one pass over the sales report to the start "
                      "of the next (WB updates it every 30 minutes and allows 1 request a "
                      "minute)."});
  Key<Type::kDuration> returns_window = Declare<Type::kDuration>(
      {.name = "returns_window",
       .default_value = "\"720h\"",
       .description = "How far back each pass over the returns report reads (whole days; the "
                      "first pass too), so that a return's later statuses are seen while it is "
                      "inside it. The report allows 31 days a request; a longer range (a "
                      "daemon stopped for weeks) is read 31 days a request."});
  Key<Type::kDuration> request_timeout =
      Declare<Type::kDuration>({.name = "request_timeout",
                                .default_value = "\"30s\"",
                                .description = "Deadline of one HTTP exchange with WB."});
  PaceKeys orders{*this, Group::kOrders};
  PaceKeys dbs_pace{*this, Group::kDbs};
  PaceKeys stocks{*this, Group::kStocks};
  PaceKeys prices{*this, Group::kPrices};
  PaceKeys content{*this, Group::kContent};
  PaceKeys analytics{*this, Group::kAnalytics};
  PaceKeys cancel{*this, "cancel", "method (PATCH /api/v3/orders/{orderId}/cancel)",
                  WildberriesClientOptions().cancel_pacing, kDocumentedCancelLimit};
  PaceKeys dbs_status{*this, "dbs_status",
                      "methods (PATCH /api/v3/dbs/orders/{orderId}/confirm, deliver, receive, "
                      "reject, cancel: one bucket for the five)",
                      WildberriesClientOptions().dbs_status_pacing, kDocumentedDbsStatusLimit};
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const WildberriesKeys keys;
  WildberriesConfig c;
  c.id = section.id();
  c.client.token = keys.token.Get(section);
  if (c.client.token.empty()) return keys.token.ErrorAt(section, "the token file is empty");
  c.client.marketplace_url = keys.marketplace_url.Get(section);
  c.client.content_url = keys.content_url.Get(section);
  c.client.prices_url = keys.prices_url.Get(section);
  c.client.analytics_url = keys.analytics_url.Get(section);
  c.client.statistics_url = keys.statistics_url.Get(section);
  c.client.timeout = keys.request_timeout.Get(section);
  for (const auto& [group, pace] : {std::pair{Group::kOrders, &keys.orders},
                                    {Group::kDbs, &keys.dbs_pace},
                                    {Group::kStocks, &keys.stocks},
                                    {Group::kPrices, &keys.prices},
                                    {Group::kContent, &keys.content},
                                    {Group::kAnalytics, &keys.analytics}}) {
    Pace& p = c.client.pacing[static_cast<size_t>(group)];
    p = {pace->interval.Get(section), pace->burst.Get(section)};
    if (p.interval.count() <= 0) return pace->interval.ErrorAt(section, "must be more than 0");
  }
  c.client.cancel_pacing = {keys.cancel.interval.Get(section), keys.cancel.burst.Get(section)};
  if (c.client.cancel_pacing.interval.count() <= 0) {
    return keys.cancel.interval.ErrorAt(section, "must be more than 0");
  }
  c.client.dbs_status_pacing = {keys.dbs_status.interval.Get(section),
                                keys.dbs_status.burst.Get(section)};
  if (c.client.dbs_status_pacing.interval.count() <= 0) {
    return keys.dbs_status.interval.ErrorAt(section, "must be more than 0");
  }
  const std::vector<int64_t> warehouses = keys.warehouses.Get(section);
  c.warehouses.insert(warehouses.begin(), warehouses.end());
  c.poll_interval = keys.poll_interval.Get(section);
  c.dbs = keys.dbs.Get(section);
  c.orders_page_size = static_cast<int>(keys.orders_page_size.Get(section));
  c.lookback = keys.lookback.Get(section);
  if (c.lookback > kMaxPeriod) {
    return keys.lookback.ErrorAt(section, "at most 30 days (the API's maximum period)");
  }
  c.late_margin = keys.late_margin.Get(section);
  c.max_open_orders = static_cast<size_t>(keys.max_open_orders.Get(section));
  c.cards_refresh = keys.cards_refresh.Get(section);
  c.products = keys.products.Get(section);
  c.products_interval = keys.products_interval.Get(section);
  c.returns = keys.returns.Get(section);
  c.returns_interval = keys.returns_interval.Get(section);
  c.returns_window = keys.returns_window.Get(section);
  c.reports = keys.reports.Get(section);
  c.reports_interval = keys.reports_interval.Get(section);
  if (c.returns_window < std::chrono::hours(24)) {
    return keys.returns_window.ErrorAt(section, "at least 24h (the report is read by days)");
  }
  if (context.clock == nullptr) return Status::Internal("wildberries: no clock in the context");
  return std::unique_ptr<Adapter>(std::make_unique<WildberriesAdapter>(
      std::move(c), context.http, *context.clock, context.metrics));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "wildberries",
                     .description = "Wildberries seller account: FBS and DBS orders and their "
                                    "statuses in; set_stock (by chrtID), set_price, ship (FBS "
                                    "supplies; DBS: in delivery), cancel and set_status (DBS "
                                    "confirm, deliver, receive, reject, cancel) commands out "
                                    "(Marketplace, Prices and Content APIs).",
                     .keys = WildberriesKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::wildberries
