// The Yandex Market adapter's config keys (declared once) and factory.

#include <utility>

#include "adapters/yandex_market/yandex_market_adapter.h"
#include "net/upstream.h"

namespace crmhub::adapters::yandex_market {

namespace {

using config::Type;

struct YandexMarketKeys : config::KeySet {
  config::Key<Type::kSecret> api_key_file = Declare<Type::kSecret>(
      {.name = "api_key_file",
       .description = "File (or systemd credential) holding the Partner API key, sent as the "
                      "Api-Key header on every request. Never logged.",
       .required = true});
  config::Key<Type::kInt> campaign_id = Declare<Type::kInt>(
      {.name = "campaign_id",
       .description = "The campaign (shop) id: its orders are pulled and its stocks set. Several "
                      "shops: one [adapters.<id>] section each.",
       .required = true,
       .min = 1});
  config::Key<Type::kInt> business_id = Declare<Type::kInt>(
      {.name = "business_id",
       .description = "The business (cabinet) id: orders are read with getBusinessOrders "
                      "(/v1/businesses/{businessId}/orders, filtered to campaign_id) and prices "
                      "set for the business (/v2/businesses/{businessId}/offer-prices/updates).",
       .required = true,
       .min = 1});
  config::Key<Type::kUrl> base_url = Declare<Type::kUrl>(
      {.name = "base_url",
       .default_value = "\"https://api.partner.market.yandex.ru\"",
       .description = "Partner API root. Change only for a simulator or a proxy."});
  config::Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval",
       .default_value = "\"60s\"",
       .description = "Pause between pull passes over getBusinessOrders once caught up (API "
                      "notifications bring orders in between)."});
  config::Key<Type::kInt> page_size =
      Declare<Type::kInt>({.name = "page_size",
                           .default_value = "50",
                           .description = "Orders per page (getBusinessOrders limit: 1..50).",
                           .min = 1,
                           .max = kMaxOrdersPerPage});
  config::Key<Type::kDuration> overlap = Declare<Type::kDuration>(
      {.name = "overlap",
       .default_value = "\"10m\"",
       .description = "How far each pass re-reads before the last watermark (updates recorded "
                      "late); repeats are absorbed by the queue's dedup."});
  config::Key<Type::kDuration> lookback = Declare<Type::kDuration>(
      {.name = "lookback",
       .default_value = "\"30d\"",
       .description = "Where the first pull starts (updateDate). Orders created more than 30 "
                      "days before are not returned (getBusinessOrders' creation dates)."});
  config::Key<Type::kBool> products = Declare<Type::kBool>(
      {.name = "products",
       .default_value = "true",
       .description = "Pull the catalogue (getOfferMappings) after the returns, a whole pass at "
                      "most once per products_interval, as `product` entities (sku: the "
                      "offerId); once read, stock and price commands naming no offer of it are "
                      "dead-lettered."});
  config::Key<Type::kDuration> products_interval = Declare<Type::kDuration>(
      {.name = "products_interval",
       .default_value = "\"1h\"",
       .description = "Least time from the end of one pass over the catalogue to the start of "
                      "the next."});
  config::Key<Type::kInt> orders_rate_limit = Declare<Type::kInt>(
      {.name = "orders_rate_limit",
       .default_value = "9000",
       .description = "Most getBusinessOrders requests per hour, pulls and notifications "
                      "together (Market: 10,000 per hour, 6 in parallel; the default keeps a "
                      "margin).",
       .min = 1,
       .max = kOrdersPerHour});
  config::Key<Type::kInt> stocks_rate_limit = Declare<Type::kInt>(
      {.name = "stocks_rate_limit",
       .default_value = "100000",
       .description = "Most skus per minute sent to updateStocks (Market: 100,000).",
       .min = 1,
       .max = kStockSkusPerMinute});
  config::Key<Type::kInt> prices_rate_limit = Declare<Type::kInt>(
      {.name = "prices_rate_limit",
       .default_value = "10000",
       .description = "Most offers per minute sent to offer-prices/updates (Market: 10,000).",
       .min = 1,
       .max = kPriceOffersPerMinute});
  config::Key<Type::kDuration> request_timeout = Declare<Type::kDuration>(
      {.name = "request_timeout",
       .default_value = "\"10s\"",
       .description = "Whole-exchange timeout of one Partner API request (Market's own "
                      "timeout is 10 s)."});
  kit::PushAuthKeys push{*this, "Yandex Market", DefaultPushAllowIps()};
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const YandexMarketKeys keys;
  YandexMarketConfig c;
  c.id = section.id();
  c.client = {.base_url = keys.base_url.Get(section),
              .api_key = keys.api_key_file.Get(section),
              .campaign_id = keys.campaign_id.Get(section),
              .business_id = keys.business_id.Get(section),
              .timeout = keys.request_timeout.Get(section),
              .orders_per_hour = keys.orders_rate_limit.Get(section),
              .stock_skus_per_minute = keys.stocks_rate_limit.Get(section),
              .price_offers_per_minute = keys.prices_rate_limit.Get(section)};
  if (c.client.api_key.empty())
    return keys.api_key_file.ErrorAt(section, "the secret file is empty");
  c.poll_interval = keys.poll_interval.Get(section);
  c.page_size = static_cast<int>(keys.page_size.Get(section));
  c.overlap = keys.overlap.Get(section);
  c.lookback = keys.lookback.Get(section);
  c.products = keys.products.Get(section);
  c.products_interval = keys.products_interval.Get(section);
  Result<kit::PushAuth> push = kit::ReadPushAuth(section, keys.push);
  if (!push.ok()) return push.status();
  c.push = std::move(push).value();
  if (context.clock == nullptr) return Status::Internal("yandex-market: no clock in the context");
  // "yandex-market:<id>:orders" and ":offers": breaker and metrics per API
  // group; the limits are the client's own (never blocking).
  net::Transport transport =
      net::MakeUpstreamTransport("yandex-market:" + c.id, context.http, *context.clock,
                                 context.metrics, {{"orders", {}}, {"offers", {}}});
  return std::unique_ptr<Adapter>(
      new YandexMarketAdapter(std::move(c), std::move(transport), *context.clock));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "yandex-market",
                     .description = "Yandex Market Partner API, one campaign: orders in (pull "
                                    "getBusinessOrders + API notifications at "
                                    "/hooks/<id>/notification), stock (updateStocks) and prices "
                                    "(updateBusinessPrices) out.",
                     .keys = YandexMarketKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::yandex_market
