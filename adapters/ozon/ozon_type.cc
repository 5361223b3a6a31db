// The Ozon adapter's config keys (declared once) and factory.

#include <algorithm>
#include <utility>

#include "adapters/ozon/ozon_adapter.h"
#include "net/upstream.h"

namespace crmhub::adapters::ozon {

namespace {

using config::Key;
using config::Type;

struct OzonKeys : config::KeySet {
  Key<Type::kString> client_id = Declare<Type::kString>(
      {.name = "client_id",
       .description = "The seller's Client-Id (Ozon cabinet: Settings -> Seller API), sent as the "
                      "Client-Id header on every request.",
       .required = true});
  Key<Type::kSecret> api_key_file = Declare<Type::kSecret>(
      {.name = "api_key_file",
       .description = "File (or systemd credential) holding the Api-Key, sent as the Api-Key "
                      "header. Never logged.",
       .required = true});
  Key<Type::kUrl> base_url = Declare<Type::kUrl>(
      {.name = "base_url",
       .default_value = "\"https://api-seller.ozon.ru\"",
       .description = "Seller API root. Change only for a simulator or a proxy."});
  Key<Type::kDuration> poll_interval = Declare<Type::kDuration>(
      {.name = "poll_interval",
       .default_value = "\"60s\"",
       .description = "Pause between pull rounds (a pass over each of `schemes`) once caught up."});
  Key<Type::kStringList> schemes = Declare<Type::kStringList>(
      {.name = "schemes",
       .default_value = "[\"fbs\", \"fbo\"]",
       .description = "Posting schemes pulled, each with its own cursor: \"fbs\" "
                      "(/v3/posting/fbs/list, incremental by status-change time) and \"fbo\" "
                      "(/v2/posting/fbo/list, which has no change-time filter: every pass "
                      "re-reads the postings of order_lookback). Leave out a scheme the seller "
                      "does not use."});
  Key<Type::kInt> page_size =
      Declare<Type::kInt>({.name = "page_size",
                           .default_value = std::to_string(kMaxPostingsPerPage),
                           .description = "Postings per page (the spec's limit: 1..1000).",
                           .min = 1,
                           .max = kMaxPostingsPerPage});
  Key<Type::kDuration> overlap = Declare<Type::kDuration>(
      {.name = "overlap",
       .default_value = "\"10m\"",
       .description = "How far each pass re-reads before the last watermark (status changes "
                      "recorded late); repeats are absorbed by the queue's dedup."});
  Key<Type::kDuration> order_lookback = Declare<Type::kDuration>(
      {.name = "order_lookback",
       .default_value = "\"30d\"",
       .description = "Postings created this far back are watched for status changes "
                      "(filter.since; the spec allows at most one year). Also where the first "
                      "pull starts."});
  Key<Type::kInt> rate_limit = Declare<Type::kInt>(
      {.name = "rate_limit",
       .default_value = std::to_string(kRequestsPerSecond),
       .description = "Most requests per second to this Client-Id, all methods (Ozon: 50); the "
                      "token bucket of the account's upstream \"ozon:<id>\" (metrics "
                      "crmhub_upstream_*{upstream=\"ozon:<id>\"}, circuit breaker).",
       .min = 1,
       .max = 1000});
  Key<Type::kInt> stocks_rate_limit = Declare<Type::kInt>(
      {.name = "stocks_rate_limit",
       .default_value = std::to_string(kStocksPerMinute),
       .description = "Most /v2/products/stocks requests per minute (Ozon: 80).",
       .min = 1,
       .max = 1000});
  Key<Type::kDuration> request_timeout = Declare<Type::kDuration>(
      {.name = "request_timeout",
       .default_value = "\"30s\"",
       .description = "Whole-exchange timeout of one Seller API request."});
  Key<Type::kDuration> catalog_refresh = Declare<Type::kDuration>(
      {.name = "catalog_refresh",
       .default_value = "\"5m\"",
       .description = "Least time between reloads of the offer_id -> product_id catalogue "
                      "(/v3/product/list) when a stock command names an unknown offer_id."});
  Key<Type::kBool> returns = Declare<Type::kBool>(
      {.name = "returns",
       .default_value = "true",
       .description = "Pull the FBS and FBO returns (/v1/returns/list, by status change time, "
                      "from order_lookback ago, then incrementally with `overlap`) after each "
                      "round of postings, as `return` entities linked to their posting."});
  Key<Type::kBool> products = Declare<Type::kBool>(
      {.name = "products",
       .default_value = "true",
       .description = "Pull the product cards (/v3/product/list + /v3/product/info/list) after "
                      "the returns, a whole pass at most once per products_interval, as "
                      "`product` entities (sku: the offer_id); they also resolve the SKUs of "
                      "stock commands."});
  Key<Type::kBool> reports = Declare<Type::kBool>(
      {.name = "reports",
       .default_value = "true",
       .description = "Pull the monthly realization report (/v2/finance/realization) after the "
                      "product cards, each month over and not yet read, a pass at most once per "
                      "reports_interval, as `report` entities, one per row."});
  Key<Type::kDuration> reports_interval = Declare<Type::kDuration>(
      {.name = "reports_interval",
       .default_value = "\"24h\"",
       .description = "Least time from the end of one pass over the realization report to the "
                      "start of the next (a month's report comes by the 5th of the next)."});
  Key<Type::kDuration> products_interval = Declare<Type::kDuration>(
      {.name = "products_interval",
       .default_value = "\"1h\"",
       .description = "Least time from the end of one pass over the product cards to the "
                      "start of the next."});
  Key<Type::kIdList> warehouse_ids = Declare<Type::kIdList>(
      {.name = "warehouse_ids",
       .default_value = "[]",
       .description = "Ozon warehouse ids stock commands may target; others are dead-lettered. "
                      "Empty: any."});
  kit::PushAuthKeys push{*this, "Ozon", DefaultPushAllowIps()};
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const OzonKeys keys;
  OzonConfig c;
  c.id = section.id();
  c.client.client_id = keys.client_id.Get(section);
  if (c.client.client_id.empty()) return keys.client_id.ErrorAt(section, "must not be empty");
  c.client.api_key = keys.api_key_file.Get(section);
  if (c.client.api_key.empty())
    return keys.api_key_file.ErrorAt(section, "the secret file is empty");
  c.client.base_url = keys.base_url.Get(section);
  c.schemes.clear();
  for (const std::string& name : keys.schemes.Get(section)) {
    auto scheme = ParseScheme(name);
    if (!scheme) return keys.schemes.ErrorAt(section, "unknown scheme \"" + name + "\" (fbs, fbo)");
    if (std::find(c.schemes.begin(), c.schemes.end(), *scheme) != c.schemes.end()) {
      return keys.schemes.ErrorAt(section, "\"" + name + "\" is listed twice");
    }
    c.schemes.push_back(*scheme);
  }
  if (c.schemes.empty()) return keys.schemes.ErrorAt(section, "name at least one scheme");
  c.requests_per_second = keys.rate_limit.Get(section);
  c.client.stocks_per_minute = keys.stocks_rate_limit.Get(section);
  c.client.timeout = keys.request_timeout.Get(section);
  c.poll_interval = keys.poll_interval.Get(section);
  c.page_size = static_cast<int>(keys.page_size.Get(section));
  c.overlap = keys.overlap.Get(section);
  c.order_lookback = keys.order_lookback.Get(section);
  c.returns = keys.returns.Get(section);
  c.products = keys.products.Get(section);
  c.products_interval = keys.products_interval.Get(section);
  c.reports = keys.reports.Get(section);
  c.reports_interval = keys.reports_interval.Get(section);
  if (c.order_lookback > std::chrono::hours(24 * 365)) {
    return keys.order_lookback.ErrorAt(section, "Ozon allows a period of at most one year");
  }
  c.catalog_refresh = keys.catalog_refresh.Get(section);
  c.warehouse_ids = keys.warehouse_ids.Get(section);
  auto push = kit::ReadPushAuth(section, keys.push);
  if (!push.ok()) return push.status();
  c.push = std::move(push).value();
  if (context.clock == nullptr) return Status::Internal("ozon: no clock in the context");
  // One net::Upstream per account, "ozon:<id>": the crmhub_upstream_*
  // metrics, the circuit breaker and the 50 requests/s bucket (burst 1, so
  // no second ever holds more than the documented 50).
  net::UpstreamOptions upstream;
  upstream.rate_limit = net::RateLimit::PerSecond(static_cast<double>(c.requests_per_second), 1);
  net::Transport transport = net::MakeUpstreamTransport(
      "ozon:" + c.id, context.http, *context.clock, context.metrics, {{"", upstream}});
  return std::unique_ptr<Adapter>(
      new OzonAdapter(std::move(c), std::move(transport), *context.clock));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "ozon",
                     .description = "Ozon Seller API: FBS and FBO postings in (pull "
                                    "/v3/posting/fbs/list and /v2/posting/fbo/list + push "
                                    "notifications at /hooks/<id>), stock (/v2/products/stocks) "
                                    "and prices (/v1/product/import/prices) out; FBS ship "
                                    "(/v4/posting/fbs/ship), cancel (/v2/posting/fbs/cancel) "
                                    "and create_act (/v2/posting/fbs/act/create).",
                     .keys = OzonKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::ozon
