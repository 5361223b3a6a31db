#include "adapters/yandex_market/yandex_market_client.h"

#include <utility>

#include "base/json_get.h"
#include "base/json_list.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

std::string MoscowTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
}

// Market's error dialect.
net::ApiDialect Dialect() {
  net::ApiDialect d;
  d.system = "yandex-market";
  d.throttle_statuses = {420};
  // Retry-After when sent; X-RateLimit-Resource-Until: partner docs,
  // "Restrictions on requests" (an RFC 822 date on a spent resource limit).
  d.throttle_headers = {
      {"Retry-After"},
      {"X-RateLimit-Resource-Until", net::ApiDialect::ThrottleHeader::Format::kHttpDate}};
  d.throttle_pause = kParallelLimitPause;
  d.error_text = [](const json& body) {
    std::string out;
    if (const json* errors = JsonArray(body, "errors")) {
      for (const json& e : *errors) {
        out += (out.empty() ? "" : "; ") + std::string(JsonString(e, "code").value_or("")) + ": " +
               std::string(JsonString(e, "message").value_or(""));
      }
    }
    return out;
  };
  return d;
}

// An answer without what the operation returns: kTransient (as an
// unreadable one).
net::ApiError Malformed(int status, std::string_view what) {
  return {.http_status = status, .message = "yandex-market: " + std::string(what)};
}

net::ApiClientOptions ApiOptions(const YandexMarketClientOptions& o) {
  net::ApiClientOptions api{.dialect = Dialect(), .timeout = o.timeout};
  api.headers.Set("Api-Key", o.api_key.Reveal());
  api.headers.Set("Accept", "application/json");
  return api;
}

json StocksBody(const std::vector<StockItem>& items) {
  json skus = json::array();
  // updatedAt is optional ("the current time is used"): not sent.
  for (const auto& item : items) {
    skus.push_back({{"sku", item.sku}, {"items", json::array({{{"count", item.count}}})}});
  }
  return {{"skus", std::move(skus)}};
}

json PricesBody(const std::vector<PriceItem>& items) {
  json offers = json::array();
  for (const auto& item : items) {
    json price = {{"value", item.value}, {"currencyId", item.currency}};
    if (!item.discount_base.is_null()) price["discountBase"] = item.discount_base;
    if (!item.minimum_for_bestseller.is_null()) {
      price["minimumForBestseller"] = item.minimum_for_bestseller;
    }
    offers.push_back({{"offerId", item.offer_id}, {"price", std::move(price)}});
  }
  return {{"offers", std::move(offers)}};
}

}  // namespace

YandexMarketClient::YandexMarketClient(YandexMarketClientOptions options, net::Transport transport,
                                       const Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      api_(ApiOptions(options_), std::move(transport), clock),
      // Never above the hourly limit in any window, up to the parallel
      // limit at once.
      orders_limit_(
          clock, net::RateLimit::PerSecond(static_cast<double>(options_.orders_per_hour) / 3600.0,
                                           kOrdersParallel)),
      stock_limit_(clock, options_.stock_skus_per_minute, std::chrono::minutes(1)),
      price_limit_(clock, options_.price_offers_per_minute, std::chrono::minutes(1)),
      price_read_limit_(clock, kPriceReadsPerMinute, std::chrono::minutes(1)),
      status_limit_(clock, kStatusOrdersPerHour, std::chrono::hours(1)),
      returns_limit_(clock, kReturnsPerHour, std::chrono::hours(1)),
      offer_mappings_limit_(clock, kOfferMappingsPerMinute, std::chrono::minutes(1)) {}

std::string YandexMarketClient::Url(std::string_view owner, int64_t id,
                                    std::string_view tail) const {
  return options_.base_url + std::string(owner) + std::to_string(id) + std::string(tail);
}

net::ApiResult<net::ApiAnswer> YandexMarketClient::Call(net::ApiRequest request) const {
  net::ApiResult<net::ApiAnswer> answer = api_.Call(std::move(request));
  if (!answer.ok() && answer.error().http_status == 423) {
    answer.error().kind = net::ApiError::Kind::kAuth;  // see the header
  }
  return answer;
}

json YandexMarketClient::OrdersBody(const OrdersQuery& query) const {
  // The creation dates, always sent: left out, creationDateFrom defaults to
  // 30 days ago and creationDateTo to today, which is exclusive by the
  // spec's letter (today's orders would be left out). So: the 30 days up to
  // the end of the Moscow day the pass (or the call) ends in.
  const SystemTime end = query.updated_to.value_or(clock_.Now());
  json dates = {{"creationDateFrom",
                 MoscowTime(end + std::chrono::days(1) - kMaxCreationRange).substr(0, 10)},
                {"creationDateTo", MoscowTime(end + std::chrono::days(1)).substr(0, 10)}};
  if (query.updated_from) dates["updateDateFrom"] = MoscowTime(*query.updated_from);
  if (query.updated_to) dates["updateDateTo"] = MoscowTime(*query.updated_to);
  json body = {{"campaignIds", json::array({options_.campaign_id})}, {"dates", std::move(dates)}};
  if (!query.order_ids.empty()) body["orderIds"] = query.order_ids;
  return body;
}

net::ApiResult<OrdersPage> YandexMarketClient::GetBusinessOrders(const OrdersQuery& query) const {
  std::string url =
      Url("/v1/businesses/", options_.business_id, "/orders?limit=") + std::to_string(query.limit);
  if (!query.page_token.empty()) url += "&pageToken=" + net::UrlEncode(query.page_token);
  auto answer = Call({.method = "POST",
                      .url = std::move(url),
                      .body = OrdersBody(query).dump(),
                      .group = "orders",
                      .limits = {{&orders_limit_, 1}},
                      .expect = net::ApiRequest::Expect::kAny});
  if (!answer.ok()) return answer.error();
  // The records' own text, no tree built and dumped again per order.
  static constexpr std::string_view kPath[] = {"orders"};
  static constexpr std::string_view kKeys[] = {"orderId", "status", "substatus", "updateDate"};
  const std::string& body = answer->body;
  Result<JsonList> list = JsonDepthWithin(body, kMaxJsonDepth)
                              ? SplitJsonList(body, kPath, kKeys)
                              : Status::InvalidArgument("nested too deep");
  if (!list.ok() || !list->found) {
    return Malformed(answer->status, "getBusinessOrders: an answer without an orders array (" +
                                         (list.ok() ? "" : list.status().message()) + ")");
  }
  OrdersPage page;
  for (const JsonListElement& e : list->elements) {
    page.orders.push_back(
        {std::string(e.text), e.fields[0], e.fields[1], e.fields[2], e.fields[3]});
  }
  // paging sits beside the orders; without them (only orders lie between the
  // first and the last) the answer is a few bytes to parse.
  const auto& all = list->elements;
  std::string rest = body;
  if (!all.empty() && !all.front().text.empty() && !all.back().text.empty()) {
    const char* end = all.back().text.data() + all.back().text.size();
    rest = body.substr(0, all.front().text.data() - body.data()) + body.substr(end - body.data());
  }
  Result<json> parsed = ParseJson(rest);
  if (const json* paging = parsed.ok() ? JsonObject(*parsed, "paging") : nullptr) {
    page.next_page_token = std::string(JsonString(*paging, "nextPageToken").value_or(""));
  }
  return page;
}

net::ApiResult<ReturnsPage> YandexMarketClient::GetReturns(const ReturnsQuery& query) const {
  std::string url =
      Url("/v2/campaigns/", options_.campaign_id, "/returns?limit=") + std::to_string(query.limit);
  if (!query.from_date.empty()) url += "&fromDate=" + query.from_date;
  if (!query.to_date.empty()) url += "&toDate=" + query.to_date;
  if (!query.page_token.empty()) url += "&pageToken=" + net::UrlEncode(query.page_token);
  auto answer = Call({.method = "GET",
                      .url = std::move(url),
                      .group = "orders",
                      .limits = {{&returns_limit_, 1}},
                      .expect = net::ApiRequest::Expect::kAny});
  if (!answer.ok()) return answer.error();
  static constexpr std::string_view kPath[] = {"result", "returns"};
  static constexpr std::string_view kKeys[] = {"id", "orderId", "updateDate", "shipmentStatus",
                                               "refundStatus"};
  const std::string& body = answer->body;
  Result<JsonList> list = JsonDepthWithin(body, kMaxJsonDepth)
                              ? SplitJsonList(body, kPath, kKeys)
                              : Status::InvalidArgument("nested too deep");
  if (!list.ok() || !list->found) {
    return Malformed(answer->status, "getReturns: an answer without result.returns (" +
                                         (list.ok() ? "" : list.status().message()) + ")");
  }
  ReturnsPage page;
  for (const JsonListElement& e : list->elements) {
    page.returns.push_back(
        {std::string(e.text), e.fields[0], e.fields[1], e.fields[2], e.fields[3], e.fields[4]});
  }
  // Returns are few (a page of 100 at most): the paging is read from a tree.
  Result<json> parsed = ParseJson(body);
  const json* result = parsed.ok() ? JsonObject(*parsed, "result") : nullptr;
  if (const json* paging = result ? JsonObject(*result, "paging") : nullptr) {
    page.next_page_token = std::string(JsonString(*paging, "nextPageToken").value_or(""));
  }
  return page;
}

net::ApiResult<OfferMappingsPage> YandexMarketClient::GetOfferMappings(
    const std::string& page_token, int limit) const {
  std::string url = Url("/v2/businesses/", options_.business_id, "/offer-mappings?limit=") +
                    std::to_string(limit);
  if (!page_token.empty()) url += "&page_token=" + net::UrlEncode(page_token);
  auto answer = Call({.method = "POST",
                      .url = std::move(url),
                      .group = "offers",
                      .limits = {{&offer_mappings_limit_, 1}}});
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const json* mappings = result ? JsonArray(*result, "offerMappings") : nullptr;
  if (mappings == nullptr) {
    return Malformed(answer->status, "getOfferMappings: an answer without result.offerMappings");
  }
  OfferMappingsPage page;
  for (const json& m : *mappings) {
    kit::PulledCard c{.card = {}, .raw = m};
    const json* offer = JsonObject(m, "offer");
    if (offer != nullptr) {
      c.card.sku = std::string(JsonString(*offer, "offerId").value_or(""));
      c.card.marketplace_id = c.card.sku;
      c.card.name = std::string(JsonString(*offer, "name").value_or(""));
      c.card.archived = JsonBool(*offer, "archived") == true;
      if (const json* barcodes = JsonArray(*offer, "barcodes")) {
        for (const json& b : *barcodes) {
          if (auto text = AsString(b); text && !text->empty()) c.card.barcodes.emplace_back(*text);
        }
      }
      for (const auto& [from, to] :
           {std::pair{"vendor", "vendor"}, {"vendorCode", "vendor_code"}}) {
        if (auto v = JsonScalarText(*offer, from); v && !v->empty()) c.card.attributes[to] = *v;
      }
    }
    if (const json* mapping = JsonObject(m, "mapping")) {
      for (const auto& [from, to] : {std::pair{"marketSku", "market_sku"},
                                     {"marketSkuName", "market_sku_name"},
                                     {"marketCategoryId", "market_category_id"},
                                     {"marketCategoryName", "market_category_name"}}) {
        if (auto v = JsonScalarText(*mapping, from); v && !v->empty()) c.card.attributes[to] = *v;
      }
    }
    page.cards.push_back(std::move(c));
  }
  if (const json* paging = JsonObject(*result, "paging")) {
    page.next_page_token = std::string(JsonString(*paging, "nextPageToken").value_or(""));
  }
  return page;
}

net::ApiResult<std::vector<OrderStatusAnswer>> YandexMarketClient::UpdateOrderStatuses(
    const std::vector<OrderStatusChange>& changes) const {
  json orders = json::array();
  for (const OrderStatusChange& c : changes) {
    json order = {{"id", c.order_id}, {"status", c.status}};
    if (!c.substatus.empty()) order["substatus"] = c.substatus;
    orders.push_back(std::move(order));
  }
  auto answer = Call({.method = "POST",
                      .url = Url("/v2/campaigns/", options_.campaign_id, "/orders/status-update"),
                      .body = json{{"orders", std::move(orders)}}.dump(),
                      .group = "orders",
                      .limits = {{&status_limit_, static_cast<int64_t>(changes.size())}}});
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const json* updated = result ? JsonArray(*result, "orders") : nullptr;
  if (updated == nullptr) {
    return Malformed(answer->status, "updateOrderStatuses: an answer without result.orders");
  }
  std::vector<OrderStatusAnswer> out;
  for (const json& o : *updated) {
    const std::optional<int64_t> id = JsonIntLoose(o, "id");
    if (!id) continue;
    out.push_back({.order_id = *id,
                   .status = JsonScalarText(o, "status").value_or(""),
                   .substatus = JsonScalarText(o, "substatus").value_or(""),
                   .updated = JsonString(o, "updateStatus") == "OK",
                   .error = std::string(JsonString(o, "errorDetails").value_or(""))});
  }
  return out;
}

net::ApiResult<net::ApiAnswer> YandexMarketClient::UpdateStocks(
    const std::vector<StockItem>& items) const {
  return Call({.method = "PUT",
               .url = Url("/v2/campaigns/", options_.campaign_id, "/offers/stocks"),
               .body = StocksBody(items).dump(),
               .group = "offers",
               .limits = {{&stock_limit_, static_cast<int64_t>(items.size())}}});
}

net::ApiResult<net::ApiAnswer> YandexMarketClient::UpdatePrices(
    const std::vector<PriceItem>& items) const {
  return Call({.method = "POST",
               .url = Url("/v2/businesses/", options_.business_id, "/offer-prices/updates"),
               .body = PricesBody(items).dump(),
               .group = "offers",
               .limits = {{&price_limit_, static_cast<int64_t>(items.size())}}});
}

net::ApiResult<std::map<std::string, PriceItem>> YandexMarketClient::GetDefaultPrices(
    const std::vector<std::string>& offer_ids) const {
  // limit defaults to 250 (PageLimit500Truncate): one page holds the <= 200
  // offers asked for.
  auto answer = Call({.method = "POST",
                      .url = Url("/v2/businesses/", options_.business_id, "/offer-prices"),
                      .body = json{{"offerIds", offer_ids}}.dump(),
                      .group = "offers",
                      .limits = {{&price_read_limit_, static_cast<int64_t>(offer_ids.size())}}});
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const json* offers = result ? JsonArray(*result, "offers") : nullptr;
  if (offers == nullptr) {
    return Malformed(answer->status, "getDefaultPrices: an answer without result.offers");
  }
  std::map<std::string, PriceItem> out;
  for (const json& offer : *offers) {
    std::optional<std::string_view> id = JsonString(offer, "offerId");
    const json* price = JsonObject(offer, "price");
    if (!id || price == nullptr) continue;
    PriceItem& current = out[std::string(*id)];
    // Only positive numbers are values Market could have accepted.
    if (JsonNumber(*price, "discountBase") > 0)
      current.discount_base = *JsonMember(*price, "discountBase");
    if (JsonNumber(*price, "minimumForBestseller") > 0) {
      current.minimum_for_bestseller = *JsonMember(*price, "minimumForBestseller");
    }
  }
  return out;
}

}  // namespace crmhub::adapters::yandex_market
