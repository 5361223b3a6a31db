#include "adapters/yandex_market/client.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <memory>
#include <utility>

#include "net/upstream.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

constexpr auto kMsk = std::chrono::hours(3);  // the spec's dates are UTC+03:00

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::tm BrokenDown(SystemTime t) {
  auto secs = static_cast<std::time_t>(ToUnixMillis(t) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

}  // namespace

std::string FormatIsoMsk(SystemTime t) {
  std::tm tm = BrokenDown(t + kMsk);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d+03:00", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatMarketTime(SystemTime t) {
  std::tm tm = BrokenDown(t + kMsk);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%02d-%02d-%04d %02d:%02d:%02d", tm.tm_mday, tm.tm_mon + 1,
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<SystemTime> ParseMarketTime(std::string_view text) {
  if (text.size() != 19) return std::nullopt;
  std::string s(text);
  int day, mon, year, hour, min, sec;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%2d-%2d-%4d %2d:%2d:%2d%c", &day, &mon, &year, &hour, &min, &sec,
                  &tail) != 6) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return FromUnixMillis(static_cast<int64_t>(timegm(&tm)) * 1000) - kMsk;
}

std::optional<SystemTime> ParseIsoTime(std::string_view text) {
  if (text.size() < 20) return std::nullopt;
  std::string s(text);
  int year, mon, day, hour, min, sec;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &mon, &day, &hour, &min, &sec) !=
      6) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    int digits = 0;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos) {
      if (digits++ < 3) millis = millis * 10 + (s[pos] - '0');
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_min = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return FromUnixMillis(static_cast<int64_t>(timegm(&tm)) * 1000 + millis -
                        offset_min * 60 * 1000);
}

ItemBudget::ItemBudget(const Clock& clock, int64_t items, std::chrono::milliseconds window)
    : clock_(clock), items_(items), window_(window) {}

std::optional<std::chrono::milliseconds> ItemBudget::TryTake(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_.SteadyNow();
  while (!taken_.empty() && taken_.front().first + window_ <= now) {
    in_window_ -= taken_.front().second;
    taken_.pop_front();
  }
  if (in_window_ + n <= items_) {
    taken_.emplace_back(now, n);
    in_window_ += n;
    return std::nullopt;
  }
  // Wait until enough old entries leave the window.
  int64_t need = in_window_ + n - items_;
  for (const auto& [at, count] : taken_) {
    need -= count;
    if (need <= 0) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(at + window_ - now);
    }
  }
  return window_;  // n alone exceeds the budget: the caller must split
}

YmClient::YmClient(ClientOptions options, Transport transport, const Clock& clock)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      clock_(clock),
      stock_budget_(clock, options_.stock_skus_per_minute, std::chrono::minutes(1)),
      price_budget_(clock, options_.price_offers_per_minute, std::chrono::minutes(1)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
}

std::string YmClient::OrdersTarget(const OrdersQuery& query) const {
  std::string target = "/v2/campaigns/" + std::to_string(options_.campaign_id) + "/orders";
  target += "?updatedAtFrom=" + UrlEncode(FormatIsoMsk(query.updated_from));
  target += "&updatedAtTo=" + UrlEncode(FormatIsoMsk(query.updated_to));
  target += "&limit=" + std::to_string(query.limit);
  if (!query.page_token.empty()) target += "&pageToken=" + UrlEncode(query.page_token);
  return target;
}

json YmClient::StocksBody(const std::vector<StockItem>& items) {
  json skus = json::array();
  // updatedAt is optional ("the current time is used"): not sent.
  for (const auto& item : items) {
    skus.push_back({{"sku", item.sku}, {"items", json::array({{{"count", item.count}}})}});
  }
  return {{"skus", std::move(skus)}};
}

json YmClient::PricesBody(const std::vector<PriceItem>& items) {
  json offers = json::array();
  for (const auto& item : items) {
    // BasePriceDTO.value is a JSON number; the decimal text is parsed
    // as-is (validated by the adapter).
    json value = json::parse(item.value, nullptr, false);
    offers.push_back(
        {{"offerId", item.offer_id},
         {"price", {{"value", std::move(value)}, {"currencyId", item.currency}}}});
  }
  return {{"offers", std::move(offers)}};
}

ApiReply YmClient::GetOrders(const OrdersQuery& query) {
  return Send(Group::kOrders, "GET", OrdersTarget(query), "");
}

ApiReply YmClient::UpdateStocks(const std::vector<StockItem>& items) {
  if (auto wait = stock_budget_.TryTake(static_cast<int64_t>(items.size()))) {
    ApiReply reply;
    reply.status = Status::ResourceExhausted("local limit: updateStocks skus per minute");
    reply.retryable = true;
    reply.not_before = clock_.Now() + *wait;
    return reply;
  }
  return Send(Group::kOffers, "PUT",
              "/v2/campaigns/" + std::to_string(options_.campaign_id) + "/offers/stocks",
              StocksBody(items).dump());
}

ApiReply YmClient::UpdatePrices(const std::vector<PriceItem>& items) {
  if (auto wait = price_budget_.TryTake(static_cast<int64_t>(items.size()))) {
    ApiReply reply;
    reply.status = Status::ResourceExhausted("local limit: offer-prices offers per minute");
    reply.retryable = true;
    reply.not_before = clock_.Now() + *wait;
    return reply;
  }
  return Send(Group::kOffers, "POST",
              "/v2/businesses/" + std::to_string(options_.business_id) + "/offer-prices/updates",
              PricesBody(items).dump());
}

ApiReply YmClient::Send(Group group, std::string method, const std::string& target,
                        std::string body) {
  ApiReply reply;
  std::string path = target.substr(0, target.find('?'));
  net::OutboundRequest request;
  request.method = std::move(method);
  request.url = options_.base_url + target;
  request.headers.Set("Api-Key", options_.api_key.Reveal());
  request.headers.Set("Accept", "application/json");
  if (!body.empty()) request.headers.Set("Content-Type", "application/json");
  request.body = std::move(body);
  request.timeout = options_.timeout;
  auto result = transport_(group, std::move(request));
  if (!result.ok()) {
    reply.status = result.status().WithContext(path);
    reply.retryable = true;
    return reply;
  }
  const auto& response = *result;
  reply.http_status = response.status;
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
  // ApiErrorResponse {"status":"ERROR","errors":[{"code","message"}]}.
  std::string message = path + ": HTTP " + std::to_string(response.status);
  if (parsed.is_object() && parsed.contains("errors") && parsed["errors"].is_array()) {
    for (const auto& e : parsed["errors"]) {
      if (!e.is_object()) continue;
      message += " " + e.value("code", std::string()) + ": " + e.value("message", std::string());
    }
  }
  if (response.status == 420 || response.status == 429) {
    reply.status = Status::ResourceExhausted(message);
    reply.retryable = true;
    if (auto ra = response.headers.Get("Retry-After")) {
      reply.not_before = net::ParseRetryAfter(*ra, clock_.Now());
    }
    if (!reply.not_before) {
      // A spent resource limit says until when (partner API docs,
      // "Restrictions on requests": X-RateLimit-Resource-Until, an RFC 822
      // date, on every answer).
      if (auto until = response.headers.Get("X-RateLimit-Resource-Until")) {
        reply.not_before = net::ParseRetryAfter(*until, clock_.Now());
      }
    }
    if (!reply.not_before) {
      // A 420 without it is the parallel-requests limit ("Hit rate limit of
      // 4 parallel requests"), free again as soon as a request ends: a
      // short pause, not the minute that used to stall a pull for nothing.
      reply.not_before = clock_.Now() + kParallelLimitPause;
    }
    return reply;
  }
  if (response.status == 408 || response.status >= 500) {
    reply.status = Status::Unavailable(message);
    reply.retryable = true;
    return reply;
  }
  if (response.status == 401) {
    reply.status = Status::Unauthenticated(message);
  } else if (response.status == 403) {
    reply.status = Status::PermissionDenied(message);
  } else if (response.status == 404) {
    reply.status = Status::NotFound(message);
  } else {
    reply.status = Status::InvalidArgument(message);
  }
  return reply;
}

Transport MakeUpstreamTransport(const std::string& name, net::HttpClient* http,
                                const Clock& clock, double orders_per_hour,
                                MetricsRegistry* metrics) {
  if (http == nullptr) {
    return [](Group, net::OutboundRequest) -> net::OutboundResult {
      return Status::FailedPrecondition("no HTTP client (check-config)");
    };
  }
  net::UpstreamOptions orders_options;
  if (orders_per_hour > 0) {
    // Burst 6: getOrders' parallel-limit-value.
    orders_options.rate_limit = net::RateLimit::PerSecond(orders_per_hour / 3600.0, 6);
  }
  auto orders = std::make_shared<net::Upstream>(name + ":orders", *http, clock, orders_options,
                                                metrics);
  auto offers = std::make_shared<net::Upstream>(name + ":offers", *http, clock,
                                                net::UpstreamOptions{}, metrics);
  return [orders, offers](Group group, net::OutboundRequest request) {
    return (group == Group::kOrders ? orders : offers)->Call(std::move(request));
  };
}

}  // namespace crmhub::adapters::yandex_market
