#include "adapters/ozon/ozon_client.h"

#include <cstdio>
#include <ctime>
#include <utility>

#include "net/upstream.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

std::string FormatOzonTime(SystemTime t) {
  auto ms = ToUnixMillis(t);
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int64_t frac = ms - static_cast<int64_t>(secs) * 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::optional<SystemTime> ParseOzonTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff...]Z
  if (text.size() < 20) return std::nullopt;
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &mon, &day, &hour, &min, &sec) !=
      6) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t millis = 0;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    for (++pos; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos, ++digits) {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z')) return std::nullopt;
  return FromUnixMillis(static_cast<int64_t>(timegm(&tm)) * 1000 + millis);
}

OzonClient::OzonClient(OzonClientOptions options, Transport transport, const Clock& clock)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      stocks_limiter_(clock, options_.stocks_per_minute, std::chrono::minutes(1)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
}

json OzonClient::FbsListBody(const FbsListQuery& query) {
  json filter = {{"since", FormatOzonTime(query.since)}, {"to", FormatOzonTime(query.to)}};
  if (query.changed_from || query.changed_to) {
    json changed = json::object();
    if (query.changed_from) changed["from"] = FormatOzonTime(*query.changed_from);
    if (query.changed_to) changed["to"] = FormatOzonTime(*query.changed_to);
    filter["last_changed_status_date"] = changed;
  }
  // dir "ASC": the spec's example spells it upper-case, the description
  // lower-case; the field is a free string in the schema.
  return {{"dir", "ASC"}, {"filter", filter}, {"limit", query.limit}, {"offset", query.offset}};
}

json OzonClient::FboListBody(const FboListQuery& query) {
  // with.analytics_data: the answer then names the Ozon warehouse the
  // posting ships from (analytics_data.warehouse_id/_name), which the
  // mapping keeps; financial_data is not needed (products carry the price).
  return {{"dir", "ASC"},
          {"filter", {{"since", FormatOzonTime(query.since)}, {"to", FormatOzonTime(query.to)}}},
          {"limit", query.limit},
          {"offset", query.offset},
          {"with", {{"analytics_data", true}, {"financial_data", false}}}};
}

json OzonClient::StocksBody(const std::vector<StockItem>& items) {
  json stocks = json::array();
  for (const auto& item : items) {
    json s = {{"product_id", item.product_id},
              {"stock", item.stock},
              {"warehouse_id", item.warehouse_id},
              // The schema lists quant_size as required (its description says
              // it is being retired); 1 means "an ordinary product, not a
              // quant" (SIZE_REQUIRED_FOR_NOT_UNIQUE_OFFER_ID in «Частые ошибки»).
              {"quant_size", 1}};
    if (!item.offer_id.empty()) s["offer_id"] = item.offer_id;
    stocks.push_back(std::move(s));
  }
  return {{"stocks", std::move(stocks)}};
}

json OzonClient::PricesBody(const std::vector<PriceItem>& items) {
  json prices = json::array();
  for (const auto& item : items) {
    json p = {{"offer_id", item.offer_id}, {"price", item.price}};
    if (item.product_id != 0) p["product_id"] = item.product_id;
    if (!item.old_price.empty()) p["old_price"] = item.old_price;
    if (!item.min_price.empty()) p["min_price"] = item.min_price;
    if (!item.currency_code.empty()) p["currency_code"] = item.currency_code;
    prices.push_back(std::move(p));
  }
  return {{"prices", std::move(prices)}};
}

ApiReply OzonClient::ListFbsPostings(const FbsListQuery& query) {
  return Post("/v3/posting/fbs/list", FbsListBody(query), nullptr, Answer::kText);
}

ApiReply OzonClient::ListFboPostings(const FboListQuery& query) {
  return Post("/v2/posting/fbo/list", FboListBody(query), nullptr, Answer::kText);
}

ApiReply OzonClient::UpdateStocks(const std::vector<StockItem>& items) {
  return Post("/v2/products/stocks", StocksBody(items), &stocks_limiter_);
}

ApiReply OzonClient::UpdatePrices(const std::vector<PriceItem>& items) {
  return Post("/v1/product/import/prices", PricesBody(items), nullptr);
}

ApiReply OzonClient::ListProducts(const std::string& last_id, int limit) {
  json body = {{"filter", {{"visibility", "ALL"}}}, {"last_id", last_id}, {"limit", limit}};
  return Post("/v3/product/list", body, nullptr);
}

std::vector<ItemResult> OzonClient::ParseItemResults(const json& body) {
  std::vector<ItemResult> out;
  auto result = body.find("result");
  if (result == body.end() || !result->is_array()) return out;
  for (const auto& r : *result) {
    if (!r.is_object()) continue;
    ItemResult item;
    if (auto v = r.find("offer_id"); v != r.end() && v->is_string()) item.offer_id = *v;
    if (auto v = r.find("product_id"); v != r.end() && v->is_number_integer()) item.product_id = *v;
    if (auto v = r.find("warehouse_id"); v != r.end() && v->is_number_integer()) {
      item.warehouse_id = *v;
    }
    if (auto v = r.find("updated"); v != r.end() && v->is_boolean()) item.updated = *v;
    if (auto errors = r.find("errors"); errors != r.end() && errors->is_array()) {
      for (const auto& e : *errors) {
        if (!e.is_object()) continue;
        std::string code =
            e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
        std::string message = e.contains("message") && e["message"].is_string()
                                  ? e["message"].get<std::string>()
                                  : "";
        item.errors.emplace_back(std::move(code), std::move(message));
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

ApiReply OzonClient::Post(const std::string& path, const json& body, WindowLimiter* extra,
                          Answer answer) {
  ApiReply reply;
  // The per-second limit of all methods is the transport's (net::Upstream).
  std::optional<std::chrono::milliseconds> wait;
  if (extra != nullptr) wait = extra->TryAcquire();
  if (wait) {
    reply.status =
        Status::ResourceExhausted("local rate limit for " + path + " (Ozon's documented limit)");
    reply.retryable = true;
    reply.not_before = clock_.Now() + *wait;
    return reply;
  }
  net::OutboundRequest request;
  request.method = "POST";
  request.url = options_.base_url + path;
  request.headers.Set("Client-Id", options_.client_id);
  request.headers.Set("Api-Key", options_.api_key.Reveal());
  request.headers.Set("Content-Type", "application/json");
  request.body = body.dump();
  request.timeout = options_.timeout;
  auto result = transport_(std::move(request));
  if (!result.ok()) {
    reply.status = result.status().WithContext(path);
    reply.retryable = true;
    return reply;
  }
  auto& response = *result;
  reply.http_status = response.status;
  if (response.status == 200 && answer == Answer::kText) {
    // Validated where it is split (malformed: the same retryable error).
    reply.text = std::move(response.body);
    return reply;
  }
  auto parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status == 200) {
    if (parsed.is_discarded() || !parsed.is_object()) {
      reply.status = Status::Unavailable(path + ": malformed JSON in a 200 answer");
      reply.retryable = true;
      return reply;
    }
    reply.body = std::move(parsed);
    return reply;
  }
  // rpcStatus {"code", "message", "details"}.
  std::string message = "HTTP " + std::to_string(response.status);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    message += ": " + parsed["message"].get<std::string>();
  }
  message = path + ": " + message;
  if (response.status == 429 || response.status == 408 || response.status >= 500) {
    reply.status =
        response.status == 429 ? Status::ResourceExhausted(message) : Status::Unavailable(message);
    reply.retryable = true;
    if (auto ra = response.headers.Get("Retry-After")) {
      reply.not_before = net::ParseRetryAfter(*ra, clock_.Now());
    }
    return reply;
  }
  if (response.status == 401) {
    reply.status = Status::Unauthenticated(message);
  } else if (response.status == 403) {
    reply.status = Status::PermissionDenied(message);
  } else {
    reply.status = Status::InvalidArgument(message);
  }
  return reply;
}

Transport MakeUpstreamTransport(const std::string& name, net::HttpClient* http,
                                const Clock& clock, double requests_per_second,
                                MetricsRegistry* metrics, Duration max_wait) {
  if (http == nullptr) {
    return [](net::OutboundRequest) -> net::OutboundResult {
      return Status::FailedPrecondition("no HTTP client (check-config)");
    };
  }
  net::UpstreamOptions options;
  // Burst 1: tokens 1/rate apart, so no second ever holds more than the
  // documented 50 (a larger burst would let up to burst + rate through).
  if (requests_per_second > 0) options.rate_limit = net::RateLimit::PerSecond(requests_per_second, 1);
  options.max_wait = max_wait;
  auto upstream = std::make_shared<net::Upstream>(name, *http, clock, options, metrics);
  return [upstream](net::OutboundRequest request) { return upstream->Call(std::move(request)); };
}

}  // namespace crmhub::adapters::ozon
