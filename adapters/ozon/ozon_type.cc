// The Ozon adapter's config schema and factory.

#include <algorithm>
#include <utility>

#include "adapters/ozon/ozon_adapter.h"
#include "net/http_client.h"

namespace crmhub::adapters::ozon {

using config::KeySpec;
using config::Type;

namespace {

std::vector<KeySpec> Keys() {
  std::vector<KeySpec> keys = {
      {.name = "client_id",
       .type = Type::kString,
       .description = "The seller's Client-Id (Ozon cabinet: Settings -> Seller API), sent as the "
                      "Client-Id header on every request.",
       .required = true},
      {.name = "api_key_file",
       .type = Type::kSecret,
       .description = "File (or systemd credential) holding the Api-Key, sent as the Api-Key "
                      "header. Never logged.",
       .required = true},
      {.name = "base_url",
       .type = Type::kString,
       .default_value = "\"https://api-seller.ozon.ru\"",
       .description = "Seller API root. Change only for a simulator or a proxy."},
      {.name = "poll_interval",
       .type = Type::kDuration,
       .default_value = "\"60s\"",
       .description = "Pause between pull rounds (a pass over each of `schemes`) once caught "
                      "up."},
      {.name = "schemes",
       .type = Type::kStringList,
       .default_value = "[\"fbs\", \"fbo\"]",
       .description = "Posting schemes pulled, each with its own cursor: \"fbs\" "
                      "(/v3/posting/fbs/list, incremental by status-change time) and \"fbo\" "
                      "(/v2/posting/fbo/list, which has no change-time filter: every pass "
                      "re-reads the postings of order_lookback). Leave out a scheme the seller "
                      "does not use."},
      {.name = "page_size",
       .type = Type::kInt,
       .default_value = "1000",
       .description = "Postings per page (the spec's limit: 1..1000).",
       .min = 1,
       .max = 1000},
      {.name = "overlap",
       .type = Type::kDuration,
       .default_value = "\"10m\"",
       .description = "How far each pass re-reads before the last watermark (status changes "
                      "recorded late); repeats are absorbed by the queue's dedup."},
      {.name = "order_lookback",
       .type = Type::kDuration,
       .default_value = "\"30d\"",
       .description = "Postings created this far back are watched for status changes "
                      "(filter.since; the spec allows at most one year). Also where the first "
                      "pull starts."},
      {.name = "rate_limit",
       .type = Type::kInt,
       .default_value = "50",
       .description = "Most requests per second to this Client-Id, all methods (Ozon: 50); the "
                      "token bucket of the account's upstream \"ozon:<id>\" (metrics "
                      "crmhub_upstream_*{upstream=\"ozon:<id>\"}, circuit breaker).",
       .min = 1,
       .max = 1000},
      {.name = "stocks_rate_limit",
       .type = Type::kInt,
       .default_value = "80",
       .description = "Most /v2/products/stocks requests per minute (Ozon: 80).",
       .min = 1,
       .max = 1000},
      {.name = "request_timeout",
       .type = Type::kDuration,
       .default_value = "\"30s\"",
       .description = "Whole-exchange timeout of one Seller API request."},
      {.name = "catalog_refresh",
       .type = Type::kDuration,
       .default_value = "\"5m\"",
       .description = "Least time between reloads of the offer_id -> product_id catalogue "
                      "(/v3/product/list) when a stock command names an unknown offer_id."},
      {.name = "warehouse_ids",
       .type = Type::kStringList,
       .default_value = "[]",
       .description = "Ozon warehouse ids stock commands may target; others are dead-lettered. "
                      "Empty: any."},
  };
  config::KeySet push_keys;
  kit::PushAuthKeys push(push_keys, "Ozon", DefaultPushAllowIps());
  keys.insert(keys.end(), push_keys.specs().begin(), push_keys.specs().end());
  return keys;
}

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  OzonConfig c;
  c.id = section.id();
  c.client.client_id = section.GetString("client_id");
  if (c.client.client_id.empty()) return section.ErrorAt("client_id", "must not be empty");
  c.client.api_key = section.GetSecret("api_key_file");
  if (c.client.api_key.empty()) return section.ErrorAt("api_key_file", "the secret file is empty");
  c.client.base_url = section.GetString("base_url");
  if (c.client.base_url.rfind("http://", 0) != 0 && c.client.base_url.rfind("https://", 0) != 0) {
    return section.ErrorAt("base_url", "must start with http:// or https://");
  }
  c.schemes.clear();
  for (const auto& name : section.GetStringList("schemes")) {
    auto scheme = ParseScheme(name);
    if (!scheme) return section.ErrorAt("schemes", "unknown scheme \"" + name + "\" (fbs, fbo)");
    if (std::find(c.schemes.begin(), c.schemes.end(), *scheme) != c.schemes.end()) {
      return section.ErrorAt("schemes", "\"" + name + "\" is listed twice");
    }
    c.schemes.push_back(*scheme);
  }
  if (c.schemes.empty()) return section.ErrorAt("schemes", "name at least one scheme");
  c.client.requests_per_second = section.GetInt("rate_limit");
  c.client.stocks_per_minute = section.GetInt("stocks_rate_limit");
  c.client.timeout = section.GetDuration("request_timeout");
  c.poll_interval = section.GetDuration("poll_interval");
  c.page_size = static_cast<int>(section.GetInt("page_size"));
  c.overlap = section.GetDuration("overlap");
  c.order_lookback = section.GetDuration("order_lookback");
  if (c.order_lookback > std::chrono::hours(24 * 365)) {
    return section.ErrorAt("order_lookback", "Ozon allows a period of at most one year");
  }
  c.catalog_refresh = section.GetDuration("catalog_refresh");
  for (const auto& w : section.GetStringList("warehouse_ids")) {
    try {
      size_t used = 0;
      c.warehouse_ids.push_back(std::stoll(w, &used));
      if (used != w.size()) throw std::invalid_argument(w);
    } catch (const std::exception&) {
      return section.ErrorAt("warehouse_ids", "not a numeric warehouse id: \"" + w + "\"");
    }
  }
  config::KeySet push_keys;
  auto push = kit::ReadPushAuth(section, kit::PushAuthKeys(push_keys, "Ozon", DefaultPushAllowIps()));
  if (!push.ok()) return push.status();
  c.push = std::move(push).value();
  if (context.clock == nullptr) return Status::Internal("ozon: no clock in the context");
  // One net::Upstream per account, named like Yandex Market's
  // ("yandex-market:<id>:..."): the crmhub_upstream_* metrics, the circuit
  // breaker and the 50 requests/s bucket.
  Transport transport =
      MakeUpstreamTransport("ozon:" + c.id, context.http, *context.clock,
                            static_cast<double>(c.client.requests_per_second), context.metrics);
  return std::unique_ptr<Adapter>(
      new OzonAdapter(std::move(c), std::move(transport), *context.clock));
}

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "ozon";
  t.schema.description =
      "Ozon Seller API: FBS and FBO postings in (pull /v3/posting/fbs/list and "
      "/v2/posting/fbo/list + push notifications at /hooks/<id>), stock (/v2/products/stocks) and prices (/v1/product/import/prices) out.";
  t.schema.keys = Keys();
  t.factory = Build;
  return t;
}

}  // namespace crmhub::adapters::ozon
