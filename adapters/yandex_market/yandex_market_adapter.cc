#include "adapters/yandex_market/yandex_market_adapter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "adapters/kit/chunked_send.h"
#include "adapters/kit/command_fields.h"
#include "adapters/kit/cursor_pass.h"
#include "adapters/kit/order_commands.h"
#include "adapters/kit/unreadable_record.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

// CurrencyType (components/schemas/CurrencyType.yaml): RUR, not RUB.
constexpr std::string_view kCurrencyTypes =
    " RUR USD EUR UAH AUD GBP BYR BYN DKK ISK KZT CAD CNY NOK XDR SGD TRY SEK CHF JPY AZN ALL DZD"
    " AOA ARS AMD AFN BHD BGN BOB BWP BND BRL BIF HUF VEF KPW VND GMD GHS GNF HKD GEL AED EGP ZMK"
    " ILS INR IDR JOD IQD IRR YER QAR KES KGS COP CDF CRC KWD CUP LAK LVL SLL LBP LYD SZL LTL MUR"
    " MRO MKD MWK MGA MYR MAD MXN MZN MDL MNT NPR NGN NIO NZD OMR PKR PYG PEN PLN KHR SAR RON SCR"
    " SYP SKK SOS SDG SRD TJS THB TWD BDT TZS TND TMM UGX UZS UYU PHP DJF XAF XOF HRK CZK CLP LKR"
    " EEK ETB RSD ZAR KRW NAD TL UE ";

bool IsCurrencyType(std::string_view code) {
  return !code.empty() && code.find(' ') == std::string_view::npos &&
         kCurrencyTypes.find(" " + std::string(code) + " ") != std::string_view::npos;
}

}  // namespace

std::vector<std::string> DefaultPushAllowIps() {
  // "Receiving notifications": check each request against these ranges.
  return {"5.45.207.0/25", "141.8.142.0/25", "5.255.253.0/25"};
}

std::string PullCursor::ToJson() const {
  return fmt::format(
      R"({{"v":2,"watermark":{},"window_to":{},"page_token":{},)"
      R"("returns":{{"watermark":{},"window_to":{},"page_token":{}}},"products":{},"phase":"{}"}})",
      watermark_ms, window_to_ms, json(page_token).dump(), returns.watermark_ms,
      returns.window_to_ms, json(returns.page_token).dump(), products.ToObject().dump(),
      in_products  ? "products"
      : in_returns ? "returns"
                   : "orders");
}

std::optional<PullCursor> PullCursor::Parse(std::string_view text) {
  Result<json> j = ParseJson(text);
  std::optional<int64_t> v = j.ok() ? JsonInt(*j, "v") : std::nullopt;
  std::optional<int64_t> watermark = j.ok() ? JsonInt(*j, "watermark") : std::nullopt;
  if (!watermark || (v != 1 && v != 2)) return std::nullopt;
  PullCursor c{.watermark_ms = *watermark};
  if (v == 2) {
    c.window_to_ms = JsonInt(*j, "window_to").value_or(0);
    c.page_token = std::string(JsonString(*j, "page_token").value_or(""));
    if (!kit::ReadCursorPass(*j, "returns", c.returns) ||
        !kit::ReadCursorPass(*j, "products", c.products)) {
      return std::nullopt;
    }
    c.in_returns = JsonString(*j, "phase") == "returns";
    c.in_products = JsonString(*j, "phase") == "products";
  }
  return c;
}

YandexMarketAdapter::YandexMarketAdapter(YandexMarketConfig config, net::Transport transport,
                                         Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      client_(config_.client, std::move(transport), clock) {}

std::string YandexMarketAdapter::DescribeJson() const {
  const YandexMarketClientOptions& o = config_.client;
  return json{
      {"campaign_id", o.campaign_id}, {"business_id", o.business_id}, {"base_url", o.base_url}}
      .dump();
}

InboundEvent YandexMarketAdapter::OrderEvent(const OrderRecord& order, size_t index) const {
  const std::optional<int64_t> id = ParseDecimalInt(order.order_id);
  Result<int64_t> updated_ms = ParseTimestampMs(order.update_date, kNoDefaultOffset);
  std::string error;
  if (order.json.empty()) {
    error = fmt::format("orders[{}] of a page is not a JSON object", index);
  } else if (!id || *id <= 0) {
    error = "orderId is not a positive integer";
  } else if (order.status.empty() || order.substatus.empty()) {
    error = "status and substatus are required";
  } else if (!order.update_date.empty() && !updated_ms.ok()) {
    error = "updateDate is not an ISO 8601 date-time with an offset";
  }
  if (!error.empty()) {
    return kit::UnreadableRecord(ParseJson(order.json).value_or(json()), "yandex-market: " + error,
                                 "order");
  }
  InboundEvent e;
  e.kind = "order";
  e.idempotency_key = fmt::format("{}:{}:{}:{}", *id, order.status, order.substatus,
                                  updated_ms.ok() ? std::to_string(*updated_ms) : "");
  e.ordering_key = std::to_string(*id);
  e.headers = {{"ym_status", order.status}, {"ym_substatus", order.substatus}};
  if (updated_ms.ok()) e.headers.emplace_back("ym_updated_at", order.update_date);
  e.payload = order.json;
  return e;
}

Result<PullResult> YandexMarketAdapter::Pull(const std::optional<std::string>& cursor) {
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  PullCursor c{.watermark_ms = now_ms - config_.lookback.count()};
  if (cursor && !cursor->empty()) {
    std::optional<PullCursor> parsed = PullCursor::Parse(*cursor);
    if (!parsed) return Status::InvalidArgument("unreadable yandex-market cursor: " + *cursor);
    c = std::move(*parsed);
  }
  if (c.in_products && config_.products) return PullProducts(std::move(c), now_ms);
  c.in_products = false;
  if (c.in_returns) return PullReturns(std::move(c), now_ms);
  // The spec caps no update window; a pass spans at most the creation
  // range the request can name, which is all a longer one could return.
  const int64_t max_window = std::chrono::milliseconds(kMaxCreationRange).count();
  const int64_t overlap = config_.overlap.count();
  if (c.window_to_ms == 0) {
    // Whole seconds: the bounds are sent with second precision, and the
    // watermark must be exactly the bound Market applied.
    c.window_to_ms = std::min(now_ms, c.watermark_ms - overlap + max_window) / 1000 * 1000;
    c.page_token.clear();
  }
  net::ApiResult<OrdersPage> page = client_.GetBusinessOrders(
      {.updated_from =
           FromUnixMillis(std::max(c.watermark_ms - overlap, c.window_to_ms - max_window)),
       .updated_to = FromUnixMillis(c.window_to_ms),
       .page_token = c.page_token,
       .limit = config_.page_size});
  if (!page.ok() && page.error().kind == net::ApiError::Kind::kThrottled) {
    if (page.error().not_before) return PullResult{.not_before = page.error().not_before};
  }
  if (!page.ok()) return page.error().ToStatus();
  PullResult result;
  result.events.reserve(page->orders.size());
  for (size_t i = 0; i < page->orders.size(); ++i) {
    result.events.push_back(OrderEvent(page->orders[i], i));
  }
  if (!page->next_page_token.empty() && !page->orders.empty()) {
    c.page_token = std::move(page->next_page_token);
    result.more = true;
  } else {
    // Pass complete: everything before window_to is durable once these are.
    // The returns' pass comes next, at once.
    c.watermark_ms = c.window_to_ms;
    c.window_to_ms = 0;
    c.page_token.clear();
    c.in_returns = true;
    result.more = true;
  }
  result.next_cursor = c.ToJson();
  return result;
}

InboundEvent YandexMarketAdapter::ReturnEvent(const ReturnRecord& r, size_t index) const {
  const std::optional<int64_t> id = ParseDecimalInt(r.id);
  const std::optional<int64_t> order = ParseDecimalInt(r.order_id);
  Result<int64_t> updated_ms = ParseTimestampMs(r.update_date, kNoDefaultOffset);
  std::string error;
  if (r.json.empty()) {
    error = fmt::format("returns[{}] of a page is not a JSON object", index);
  } else if (!id || *id <= 0 || !order || *order <= 0) {
    error = "id and orderId must be positive integers";
  } else if (!r.update_date.empty() && !updated_ms.ok()) {
    error = "updateDate is not an ISO 8601 date-time with an offset";
  }
  if (!error.empty()) {
    return kit::UnreadableRecord(ParseJson(r.json).value_or(json()), "yandex-market: " + error,
                                 "return");
  }
  InboundEvent e;
  e.kind = "return";
  e.idempotency_key = fmt::format("return:{}:{}:{}:{}", *id, r.shipment_status, r.refund_status,
                                  updated_ms.ok() ? std::to_string(*updated_ms) : "");
  e.ordering_key = std::to_string(*order);
  e.headers = {{"ym_shipment_status", r.shipment_status}, {"ym_refund_status", r.refund_status}};
  e.payload = r.json;
  return e;
}

Result<PullResult> YandexMarketAdapter::PullReturns(PullCursor c, int64_t now_ms) {
  PullCursor::Pass& pass = c.returns;
  const PullCursor::Pass::Range range =
      pass.Begin(now_ms, config_.lookback.count(), config_.overlap.count());
  auto day = [](int64_t ms) {
    return FormatTimestamp(FromUnixMillis(ms), TimestampStyle::kRfc3339Seconds,
                           kMoscowOffsetMinutes)
        .substr(0, 10);
  };
  const int64_t kDayMs = 24 * 3600 * 1000;
  net::ApiResult<ReturnsPage> page = client_.GetReturns({.from_date = day(range.from_ms),
                                                         .to_date = day(range.to_ms + kDayMs),
                                                         .page_token = pass.page_token});
  if (!page.ok() && page.error().kind == net::ApiError::Kind::kThrottled) {
    if (page.error().not_before) return PullResult{.not_before = page.error().not_before};
  }
  if (!page.ok()) return page.error().ToStatus();
  PullResult result;
  for (size_t i = 0; i < page->returns.size(); ++i) {
    result.events.push_back(ReturnEvent(page->returns[i], i));
  }
  if (pass.After(std::move(page->next_page_token), page->returns.empty())) {
    result.more = true;
  } else {
    c.in_returns = false;
    // Still behind on orders (the window cap cut their pass short): go on.
    result.more = now_ms - c.watermark_ms > config_.poll_interval.count();
    // The catalogue's pass, when due, at once.
    if (config_.products && c.products.Due(now_ms)) {
      c.in_products = true;
      result.more = true;
    }
  }
  result.next_cursor = c.ToJson();
  return result;
}

Result<PullResult> YandexMarketAdapter::PullProducts(PullCursor c, int64_t now_ms) {
  net::ApiResult<OfferMappingsPage> page =
      client_.GetOfferMappings(c.products.page_token, config_.products_page_size);
  if (!page.ok() && page.error().kind == net::ApiError::Kind::kThrottled &&
      page.error().not_before) {
    return PullResult{.not_before = page.error().not_before};
  }
  if (!page.ok()) return page.error().ToStatus();
  PullResult result;
  kit::QueueCards(page->cards, "yandex-market", "getOfferMappings offerMappings", catalog_,
                  result.events);
  if (!c.products.After(std::move(page->next_page_token), page->cards.empty(), now_ms,
                        config_.products_interval.count())) {
    c.in_products = false;
    result.more = now_ms - c.watermark_ms > config_.poll_interval.count();
  } else {
    result.more = true;
  }
  result.next_cursor = c.ToJson();
  return result;
}

std::string YandexMarketAdapter::UnknownOffer(std::string_view command,
                                              const std::string& sku) const {
  if (catalog_.size() == 0 || catalog_.Find(sku)) return "";
  return fmt::format("yandex-market: {}: {}", command,
                     kit::UnknownSku("yandex-market", "Yandex Market", sku, "getOfferMappings",
                                     "an offerId Market has"));
}

net::HttpResponse YandexMarketAdapter::Accepted() const {
  return net::HttpResponse::Json(
      200, json{{"version", "1.0"},
                {"name", "crmhub"},
                {"time", FormatTimestamp(clock_.Now(), TimestampStyle::kRfc3339Seconds,
                                         kMoscowOffsetMinutes)}}
               .dump());
}

Result<WebhookResult> YandexMarketAdapter::HandleWebhook(const net::HttpRequest& request) {
  CRMHUB_RETURN_IF_ERROR(config_.push.Check(request));
  WebhookResult result;
  result.accepted = Accepted();
  auto wrong_format = [&result](std::string message) {
    result.accepted = net::HttpResponse::Json(
        400,
        json{{"error", {{"type", "WRONG_EVENT_FORMAT"}, {"message", std::move(message)}}}}.dump());
    return result;
  };
  Result<json> body = ParseJson(request.body);
  const std::optional<std::string_view> type =
      body.ok() ? JsonString(*body, "notificationType") : std::nullopt;
  if (!type) return wrong_format("expected a JSON object with a notificationType string");
  static const std::set<std::string_view> kOrderTypes = {"ORDER_CREATED", "ORDER_STATUS_UPDATED",
                                                         "ORDER_CANCELLED", "ORDER_UPDATED",
                                                         "ORDER_CANCELLATION_REQUEST"};
  if (!kOrderTypes.contains(*type)) return result;  // PING, chats, returns...
  const std::optional<int64_t> id = JsonIntLoose(*body, "orderId");
  if (!id || *id <= 0) return wrong_format("orderId must be a positive integer");
  if (auto campaign = JsonIntLoose(*body, "campaignId");
      campaign && *campaign != config_.client.campaign_id) {
    return result;  // another shop's: its own adapter hears of it
  }
  std::string time;  // the event's: one of these, by its type
  for (const char* key : {"updatedAt", "createdAt", "cancelledAt"}) {
    time += JsonScalarText(*body, key).value_or("");
  }
  InboundEvent e;
  e.kind = "order_hint";
  e.resolve = true;
  e.idempotency_key =
      fmt::format("hint:{}:{}:{}:{}:{}", *type, *id, JsonScalarText(*body, "status").value_or(""),
                  JsonScalarText(*body, "substatus").value_or(""), time);
  e.ordering_key = std::to_string(*id);
  e.headers = {{"ym_notification", std::string(*type)}};
  e.payload = request.body;
  result.events.push_back(std::move(e));
  return result;
}

ResolveResult YandexMarketAdapter::Resolve(const Hint& hint) {
  Result<json> body = ParseJson(hint.payload);
  const std::optional<int64_t> id = body.ok() ? JsonIntLoose(*body, "orderId") : std::nullopt;
  if (!id || *id <= 0) {
    return {DeliveryOutcome::Fail("yandex-market: a notification without an orderId"), {}};
  }
  net::ApiResult<OrdersPage> page = client_.GetBusinessOrders({.order_ids = {*id}});
  if (!page.ok()) return {page.error().ToOutcome(), {}};
  ResolveResult resolved{DeliveryOutcome::Ok(), {}};
  for (const OrderRecord& order : page->orders) {
    if (ParseDecimalInt(order.order_id) == id) resolved.events.push_back(OrderEvent(order, 0));
  }
  if (resolved.events.empty()) {
    resolved.outcome = DeliveryOutcome::Retry(
        fmt::format("yandex-market: getBusinessOrders does not return order {} (yet)", *id));
  }
  return resolved;
}

std::vector<DeliveryOutcome> YandexMarketAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  std::vector<kit::TargetCommand> stocks, prices, statuses;
  for (kit::TargetCommand& c : kit::ReadCommands(
           batch, {"set_stock", "set_price", kit::kShip, kit::kCancel, kit::kSetStatus},
           "yandex-market", out)) {
    (c.name == "set_stock"   ? stocks
     : c.name == "set_price" ? prices
                             : statuses)
        .push_back(std::move(c));
  }
  if (!stocks.empty()) DeliverStocks(stocks, out);
  if (!prices.empty()) DeliverPrices(prices, out);
  if (!statuses.empty()) DeliverStatuses(statuses, out);
  return out;
}

void YandexMarketAdapter::DeliverStocks(const std::vector<kit::TargetCommand>& commands,
                                        std::vector<DeliveryOutcome>& out) const {
  std::vector<StockItem> items;
  std::vector<size_t> where;
  std::vector<std::string> skus;
  for (const kit::TargetCommand& c : commands) {
    Result<std::string> sku = kit::TrimmedText(c.item, "sku", kMaxSkuChars);
    const std::optional<int64_t> stock = JsonInt(c.item, "stock");
    if (!sku.ok()) {
      out[c.index] = DeliveryOutcome::Fail("yandex-market: set_stock: " + sku.status().message());
    } else if (std::string unknown = UnknownOffer("set_stock", *sku); !unknown.empty()) {
      out[c.index] = DeliveryOutcome::Fail(std::move(unknown));
    } else if (!stock || *stock < 0 || *stock > kMaxStockCount) {
      out[c.index] = DeliveryOutcome::Fail(
          fmt::format("yandex-market: set_stock: stock must be an integer 0..{}, got {}",
                      kMaxStockCount, kit::QuoteMember(c.item, "stock")));
    } else {
      items.push_back({*sku, *stock});
      where.push_back(c.index);
      skus.push_back(std::move(*sku));  // distinct after trimming: " A" is "A"
    }
  }
  kit::SendChunks(
      items, where, skus, kMaxStocksPerRequest,
      [this](const std::vector<StockItem>& r) { return client_.UpdateStocks(r); }, out);
}

void YandexMarketAdapter::DeliverPrices(const std::vector<kit::TargetCommand>& commands,
                                        std::vector<DeliveryOutcome>& out) const {
  struct Command {
    size_t index;
    PriceItem item;
    bool keep_base, keep_minimum;  // left out of the command: read Market's back
  };
  std::vector<Command> valid;
  for (const kit::TargetCommand& c : commands) {
    auto fail = [&](const std::string& why) {
      out[c.index] = DeliveryOutcome::Fail("yandex-market: set_price: " + why);
    };
    // offer_id, or the CRM's SKU (which is the offerId).
    Result<std::string> offer = kit::TrimmedText(
        c.item, JsonMember(c.item, "offer_id") != nullptr ? "offer_id" : "sku", kMaxSkuChars);
    const json value = kit::NumberOrText(c.item, "price");
    const json* currency_member = JsonMember(c.item, "currency");
    std::string currency(currency_member ? AsString(*currency_member).value_or("?") : "RUR");
    if (currency == "RUB") currency = "RUR";  // ISO 4217's code; Market's enum says RUR
    const json* base = JsonMember(c.item, "discount_base");
    const json* minimum = JsonMember(c.item, "minimum_for_bestseller");
    // -1: absent or not a number (both must be > 0).
    const double base_v = base ? kit::AsNumber(*base).value_or(-1) : -1;
    const double minimum_v = minimum ? kit::AsNumber(*minimum).value_or(-1) : -1;
    if (!offer.ok()) {
      fail(offer.status().message());
    } else if (std::string unknown = UnknownOffer("set_price", *offer); !unknown.empty()) {
      out[c.index] = DeliveryOutcome::Fail(std::move(unknown));
    } else if (!(kit::AsNumber(value).value_or(0) > 0)) {
      fail("price must be a number > 0, got " + kit::QuoteMember(c.item, "price"));
    } else if (!IsCurrencyType(currency)) {
      fail("currency " + kit::QuoteMember(c.item, "currency") +
           " is not a Market CurrencyType (RUR, USD, ...)");
    } else if (base && !base->is_null() && !(base_v > 0 && std::floor(base_v) == base_v)) {
      fail("discount_base must be a whole number > 0 (or null), got " +
           kit::QuoteMember(c.item, "discount_base"));
    } else if (minimum && !minimum->is_null() &&
               !(minimum_v > 0 && minimum_v <= kMaxMinimumForBestseller)) {
      fail("minimum_for_bestseller must be a number in (0, 100000000] (or null), got " +
           kit::QuoteMember(c.item, "minimum_for_bestseller"));
    } else {
      valid.push_back({c.index,
                       {std::move(*offer), value, currency,
                        base_v > 0 ? json(static_cast<int64_t>(base_v)) : json(),
                        minimum_v > 0 ? *minimum : json()},
                       base == nullptr,
                       minimum == nullptr});
    }
  }
  // Market's current values of what the commands leave out, <= 200 offers a
  // request; an offer whose values cannot be read is not sent (it would
  // delete them).
  std::set<std::string> read_set;
  for (const Command& c : valid) {
    if (c.keep_base || c.keep_minimum) read_set.insert(c.item.offer_id);
  }
  const std::vector<std::string> reads(read_set.begin(), read_set.end());
  std::map<std::string, PriceItem> current;
  std::map<std::string, DeliveryOutcome> unread;
  for (size_t from = 0; from < reads.size(); from += kMaxPriceReadsPerRequest) {
    const std::vector<std::string> ids(
        reads.begin() + from,
        reads.begin() + std::min(reads.size(), from + kMaxPriceReadsPerRequest));
    auto answer = client_.GetDefaultPrices(ids);
    for (const std::string& id : ids) {
      if (!answer.ok()) {
        unread.emplace(id, answer.error().ToOutcome());
      } else if (auto it = answer->find(id); it != answer->end()) {
        current[id] = it->second;
      }
    }
  }
  std::vector<PriceItem> items;
  std::vector<size_t> where;
  std::vector<std::string> offers;
  for (Command& c : valid) {
    if (auto it = unread.find(c.item.offer_id); it != unread.end()) {
      out[c.index] = it->second;
      continue;
    }
    const PriceItem& now = current[c.item.offer_id];
    if (c.keep_base) c.item.discount_base = now.discount_base;
    if (c.keep_minimum) c.item.minimum_for_bestseller = now.minimum_for_bestseller;
    // DiscountBase (prose): "a discount of 5 to 99%".
    if (const std::optional<double> base = kit::AsNumber(c.item.discount_base)) {
      const double discount = 1 - kit::AsNumber(c.item.value).value_or(0) / *base;
      if (discount < 0.05 - 1e-9 || discount > 0.99 + 1e-9) {
        out[c.index] = DeliveryOutcome::Fail(fmt::format(
            "yandex-market: set_price: price {} with discount_base {} is a {:.1f}% discount; "
            "Market takes 5..99% (send discount_base, or null to remove it)",
            c.item.value.dump(), c.item.discount_base.dump(), discount * 100));
        continue;
      }
    }
    offers.push_back(c.item.offer_id);
    items.push_back(std::move(c.item));
    where.push_back(c.index);
  }
  kit::SendChunks(
      items, where, offers, kMaxPricesPerRequest,
      [this](const std::vector<PriceItem>& r) { return client_.UpdatePrices(r); }, out);
}

}  // namespace crmhub::adapters::yandex_market
