// The Yandex Market adapter's config schema and factory.

#include <utility>

#include "adapters/yandex_market/adapter.h"
#include "net/http_client.h"

namespace crmhub::adapters::yandex_market {

using config::KeySpec;
using config::Type;

namespace {

std::vector<KeySpec> Keys() {
  std::vector<KeySpec> keys = {
      {.name = "api_key_file",
       .type = Type::kSecret,
       .description = "File (or systemd credential) holding the Partner API key, sent as the "
                      "Api-Key header on every request. Never logged.",
       .required = true},
      {.name = "campaign_id",
       .type = Type::kInt,
       .description = "The campaign (shop) id: orders and stocks are per campaign. Several "
                      "shops: one [adapters.<id>] section each.",
       .required = true,
       .min = 1},
      {.name = "business_id",
       .type = Type::kInt,
       .default_value = "0",
       .description = "The business (cabinet) id, for prices "
                      "(/v2/businesses/{businessId}/offer-prices/updates). 0: set_price "
                      "commands are dead-lettered.",
       .min = 0},
      {.name = "base_url",
       .type = Type::kString,
       .default_value = "\"https://api.partner.market.yandex.ru\"",
       .description = "Partner API root. Change only for a simulator or a proxy."},
      {.name = "poll_interval",
       .type = Type::kDuration,
       .default_value = "\"60s\"",
       .description = "Pause between pull passes over getOrders once caught up."},
      {.name = "page_size",
       .type = Type::kInt,
       .default_value = "50",
       .description = "Orders per page (getOrders limit: 1..50).",
       .min = 1,
       .max = 50},
      {.name = "overlap",
       .type = Type::kDuration,
       .default_value = "\"10m\"",
       .description = "How far each pass re-reads before the last watermark (updates recorded "
                      "late); repeats are absorbed by the queue's dedup."},
      {.name = "lookback",
       .type = Type::kDuration,
       .default_value = "\"30d\"",
       .description = "Where the first pull starts (updatedAt); Market returns no orders "
                      "delivered or cancelled more than 30 days ago."},
      {.name = "orders_rate_limit",
       .type = Type::kInt,
       .default_value = "9000",
       .description = "Most getOrders requests per hour (Market: 10,000 per hour, 6 in "
                      "parallel; the default keeps a margin).",
       .min = 1,
       .max = 10000},
      {.name = "stocks_rate_limit",
       .type = Type::kInt,
       .default_value = "100000",
       .description = "Most skus per minute sent to updateStocks (Market: 100,000).",
       .min = 1,
       .max = 100000},
      {.name = "prices_rate_limit",
       .type = Type::kInt,
       .default_value = "10000",
       .description = "Most offers per minute sent to offer-prices/updates (Market: 10,000).",
       .min = 1,
       .max = 10000},
      {.name = "request_timeout",
       .type = Type::kDuration,
       .default_value = "\"10s\"",
       .description = "Whole-exchange timeout of one Partner API request (Market's own "
                      "timeout is 10 s)."},
  };
  config::KeySet push_keys;
  kit::PushAuthKeys push(push_keys, "Yandex Market", DefaultPushAllowIps());
  keys.insert(keys.end(), push_keys.specs().begin(), push_keys.specs().end());
  return keys;
}

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  YmConfig c;
  c.id = section.id();
  c.client.api_key = section.GetSecret("api_key_file");
  if (c.client.api_key.empty()) return section.ErrorAt("api_key_file", "the secret file is empty");
  c.client.campaign_id = section.GetInt("campaign_id");
  c.client.business_id = section.GetInt("business_id");
  c.client.base_url = section.GetString("base_url");
  if (c.client.base_url.rfind("http://", 0) != 0 && c.client.base_url.rfind("https://", 0) != 0) {
    return section.ErrorAt("base_url", "must start with http:// or https://");
  }
  c.client.stock_skus_per_minute = section.GetInt("stocks_rate_limit");
  c.client.price_offers_per_minute = section.GetInt("prices_rate_limit");
  c.client.timeout = section.GetDuration("request_timeout");
  c.poll_interval = section.GetDuration("poll_interval");
  c.page_size = static_cast<int>(section.GetInt("page_size"));
  c.overlap = section.GetDuration("overlap");
  c.lookback = section.GetDuration("lookback");
  config::KeySet push_keys;
  auto push = kit::ReadPushAuth(section, kit::PushAuthKeys(push_keys, "Yandex Market", DefaultPushAllowIps()));
  if (!push.ok()) return push.status();
  c.push = std::move(push).value();
  if (context.clock == nullptr) return Status::Internal("yandex-market: no clock in the context");
  Transport transport = MakeUpstreamTransport(
      "yandex-market:" + c.id, context.http, *context.clock,
      static_cast<double>(section.GetInt("orders_rate_limit")), context.metrics);
  return std::unique_ptr<Adapter>(
      new YmAdapter(std::move(c), std::move(transport), *context.clock));
}

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "yandex-market";
  t.schema.description =
      "Yandex Market Partner API, one campaign: orders in (pull getOrders + API notifications "
      "at /hooks/<id>), stock (updateStocks) and prices (updateBusinessPrices) out.";
  t.schema.keys = Keys();
  t.factory = Build;
  return t;
}

}  // namespace crmhub::adapters::yandex_market
