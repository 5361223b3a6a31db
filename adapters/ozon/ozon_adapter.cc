// The Ozon adapter: construction, push notifications and the target (the
// source side is ozon_pull.cc).

#include "adapters/ozon/ozon_adapter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "adapters/kit/order_commands.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// Per-item error codes that clear up by themselves (tag Errors,
// /v2/products/stocks): the 30 s per product-warehouse limit, and products
// still being created or tagged. Everything else needs a person.
bool RetryableItemError(const std::string& code, const std::string& message) {
  return code == "TOO_MANY_REQUESTS" || code == "PRODUCT_HAS_NOT_BEEN_TAGGED_YET" ||
         code == "PRICE_IS_NOT_SENT" || code == "product_is_not_created" ||
         message == "Stock is updated too frequently";
}

DeliveryOutcome FromItem(const ItemResult* r) {
  if (r == nullptr) return DeliveryOutcome::Retry("ozon: the answer has no result for this item");
  if (r->updated && r->errors.empty()) return DeliveryOutcome::Ok();
  std::string text;
  bool retry = r->errors.empty();  // not updated and no reason: try again
  for (const auto& [code, message] : r->errors) {
    text += (text.empty() ? "" : "; ") + code + ": " + message;
    retry = retry || RetryableItemError(code, message);
  }
  if (text.empty()) text = "answered updated=false without errors";
  text = "ozon: " + text;
  return retry ? DeliveryOutcome::Retry(std::move(text)) : DeliveryOutcome::Fail(std::move(text));
}

// The result matching `matches`, else the one at `position` when the answer
// has one per item sent (Ozon echoes the ids, but say it did not).
template <typename Matches>
const ItemResult* FindResult(const std::vector<ItemResult>& results, size_t sent, size_t position,
                             Matches matches) {
  auto it = std::find_if(results.begin(), results.end(), matches);
  if (it != results.end()) return &*it;
  return results.size() == sent ? &results[position] : nullptr;
}

// What stocks and prices share. Of `items` (one per command; keys[i] names
// its product or pair) only the newest per key is sent, the older ones
// settled Ok as superseded (an absolute value newer than theirs is going);
// one its key's `limit` refuses is retried when it fits. The rest go in
// requests of at most `max`, none while `full()` gives an outcome (the
// request's own limit: then every item of it takes that outcome, before
// any key spends its slot), each item settled by the result `same` finds.
template <typename T, typename Full, typename Send, typename Same>
void SendNewest(const std::vector<T>& items, const std::vector<std::string>& keys,
                kit::KeyedLimit& limit, size_t max, SystemTime now, Full full, Send send, Same same,
                std::vector<DeliveryOutcome>& out) {
  for (const T& item : items) out[item.index] = DeliveryOutcome::Ok();
  const std::vector<size_t> newest = kit::LastPerKey(keys);
  for (size_t start = 0; start < newest.size(); start += max) {
    const size_t end = std::min(newest.size(), start + max);
    const std::optional<DeliveryOutcome> refused = full();
    std::vector<const T*> sent;
    for (size_t k = start; k < end; ++k) {
      const T& item = items[newest[k]];
      if (refused) {
        out[item.index] = *refused;
      } else if (std::optional<Duration> wait = limit.TryTake(keys[newest[k]])) {
        out[item.index] = DeliveryOutcome::Retry(
            fmt::format("ozon: {}: at most {} in {} s (local limit)", keys[newest[k]],
                        limit.limit(), limit.window().count() / 1000),
            now + std::chrono::duration_cast<SystemTime::duration>(*wait));
      } else {
        sent.push_back(&item);
      }
    }
    if (sent.empty()) continue;
    auto results = send(sent);
    for (size_t k = 0; k < sent.size(); ++k) {
      out[sent[k]->index] =
          !results.ok() ? results.error().ToOutcome()
                        : FromItem(FindResult(*results, sent.size(), k, [&](const ItemResult& r) {
                            return same(*sent[k], r);
                          }));
    }
  }
}

// A price field as Ozon takes it: a decimal with "." and at most two
// digits after it («до двух знаков после точки»). Strings must already be
// so; numbers are written so when they have at most two decimals. nullopt:
// absent; "": present but not such a decimal.
std::optional<std::string> DecimalText(const json& item, std::string_view key) {
  const json* v = JsonMember(item, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (std::optional<int64_t> n = AsInt(*v)) return *n >= 0 ? std::to_string(*n) : "";
  if (std::optional<double> x = v->is_number_float() ? JsonNumber(item, key) : std::nullopt) {
    const bool cents = *x >= 0 && std::abs(*x * 100 - std::round(*x * 100)) < 1e-6;
    return cents ? fmt::format("{:.2f}", *x) : "";
  }
  const std::string_view s = AsString(*v).value_or("");
  const size_t dot = s.find('.');
  auto digits = [](std::string_view d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string_view::npos;
  };
  const bool ok = digits(s.substr(0, dot)) && (dot == std::string_view::npos ||
                                               (digits(s.substr(dot + 1)) && s.size() - dot <= 3));
  return ok ? std::string(s) : "";
}

}  // namespace

std::vector<std::string> DefaultPushAllowIps() {
  return {"195.34.21.0/24", "185.73.192.0/22", "91.223.93.0/24"};
}

std::string_view PushStateToStatus(std::string_view state) {
  static constexpr std::pair<std::string_view, std::string_view> kTable[] = {
      {"posting_acceptance_in_progress", "acceptance_in_progress"},
      {"posting_created", "awaiting_packaging"},
      {"posting_awaiting_registration", "awaiting_registration"},
      {"posting_transferring_to_delivery", "awaiting_deliver"},
      {"posting_in_carriage", "awaiting_deliver"},
      {"posting_not_in_carriage", "awaiting_deliver"},
      {"posting_in_arbitration", "arbitration"},
      {"posting_in_client_arbitration", "client_arbitration"},
      {"posting_on_way_to_city", "delivering"},
      {"posting_transferred_to_courier_service", "delivering"},
      {"posting_in_courier_service", "delivering"},
      {"posting_on_way_to_pickup_point", "delivering"},
      {"posting_in_pickup_point", "delivering"},
      {"posting_conditionally_delivered", "delivering"},
      {"posting_driver_pick_up", "driver_pickup"},
      {"posting_delivered", "delivered"},
      {"posting_received", "delivered"},
      {"posting_canceled", "cancelled"},
      {"posting_not_in_sort_center", "not_accepted"},
  };
  for (const auto& [push, api] : kTable) {
    if (push == state) return api;
  }
  return {};
}

OzonAdapter::OzonAdapter(OzonConfig config, net::Transport transport, Clock& clock)
    : MarketplaceAdapter(config.id, "ozon"),
      config_(std::move(config)),
      clock_(clock),
      client_(config_.client, std::move(transport), clock),
      stock_pairs_(clock, 1, kStockPairInterval),
      prices_(clock, kPriceUpdatesPerHour, std::chrono::hours(1)) {}

std::string OzonAdapter::DescribeJson() const {
  json schemes = json::array();
  for (Scheme s : config_.schemes) schemes.push_back(SchemeName(s));
  return json{{"type", "ozon"},
              {"client_id", config_.client.client_id},
              {"schemes", std::move(schemes)},
              {"base_url", config_.client.base_url},
              {"rate_limit", config_.requests_per_second},
              {"stocks_rate_limit", config_.client.stocks_per_minute}}
      .dump();
}

// ---------------------------------------------------------------------------
// Push notifications.

Result<WebhookResult> OzonAdapter::HandleWebhook(const net::HttpRequest& request) {
  CRMHUB_RETURN_IF_ERROR(config_.push.Check(request));
  WebhookResult result;
  auto error = [&](std::string message) {
    result.accepted = net::HttpResponse::Json(400, json{{"error",
                                                         {{"code", "ERROR_PARAMETER_VALUE_MISSED"},
                                                          {"message", message},
                                                          {"details", nullptr}}}}
                                                       .dump());
    return result;
  };
  Result<json> body = ParseJson(request.body);
  if (!body.ok()) return error("the body is not JSON: " + body.status().message());
  const std::string_view type = JsonString(*body, "message_type").value_or("");
  if (type.empty()) return error("message_type is missing or not a string");
  if (type == "TYPE_PING") {
    // The spec's example answers "2019-08-24T14:15:22Z": whole seconds, UTC.
    result.accepted = net::HttpResponse::Json(
        200, json{{"version", config_.app_version},
                  {"name", "crmhub"},
                  {"time", FormatTimestamp(clock_.Now(), TimestampStyle::kRfc3339Seconds,
                                           kUtcOffsetMinutes)}}
                 .dump());
    return result;
  }
  result.accepted = net::HttpResponse::Json(200, R"({"result":true})");
  std::string status;
  if (type == "TYPE_NEW_POSTING") {
    status = "new";  // no status in the message; the pull brings the posting's own
  } else if (type == "TYPE_POSTING_CANCELLED") {
    status = "cancelled";
  } else if (type == "TYPE_STATE_CHANGED") {
    const std::string_view state = JsonString(*body, "new_state").value_or("");
    if (state.empty()) return error("new_state is missing or not a string");
    status = PushStateToStatus(state);
    if (status.empty()) status = "push:" + std::string(state);
  } else {
    return result;  // other notification types are not consumed by crmhub
  }
  const std::string_view number = JsonString(*body, "posting_number").value_or("");
  if (number.empty()) return error("posting_number is missing or not a string");
  InboundEvent e;
  // Its own key space ("push:"): a push must not shadow the pulled posting
  // of the same status (the posting carries the order's data, the push only
  // the new state); the mapping rules turn it into a deal stage update.
  e.idempotency_key = fmt::format("push:{}:{}", number, status);
  e.ordering_key = std::string(number);
  e.kind = "order_push";
  e.headers = {{"ozon_message_type", std::string(type)}, {"ozon_status", status}};
  e.payload = request.body;
  result.events.push_back(std::move(e));
  return result;
}

// ---------------------------------------------------------------------------
// Target.

std::vector<DeliveryOutcome> OzonAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  std::vector<Stock> stocks;
  std::vector<Price> prices;
  std::vector<PostingCommand> postings;
  std::vector<ActCommand> acts;
  auto keep = [&](const kit::TargetCommand& c, auto read, auto& into) {
    if (read.ok()) {
      into.push_back(std::move(read).value());
    } else {  // a command Ozon would refuse, or one it cannot be: a dead letter
      out[c.index] =
          DeliveryOutcome::Fail(fmt::format("ozon: {}: {}", c.name, read.status().message()));
    }
  };
  for (const kit::TargetCommand& c : kit::ReadCommands(
           batch, {"set_stock", "set_price", kit::kShip, kit::kCancel, kCreateAct}, "ozon", out)) {
    if (c.name == kCreateAct) {
      Result<ActRequest> read = ReadActRequest(c.item, clock_.Now());
      if (read.ok()) {
        acts.push_back({c.index, c.attempt, std::move(*read)});
      } else {
        out[c.index] =
            DeliveryOutcome::Fail(fmt::format("ozon: {}: {}", c.name, read.status().message()));
      }
    } else if (c.name == "set_stock") {
      keep(c, ReadStock(c), stocks);
    } else if (c.name == "set_price") {
      keep(c, ReadPrice(c), prices);
    } else {
      keep(c, ReadPostingCommand(c), postings);
    }
  }
  if (!stocks.empty()) DeliverStocks(std::move(stocks), out);
  if (!prices.empty()) DeliverPrices(std::move(prices), out);
  if (!postings.empty()) DeliverPostings(std::move(postings), out);
  // After the ships of the batch: an act takes the postings packed by now.
  for (const ActCommand& a : acts) out[a.index] = DeliverAct(a.request, a.attempt);
  return out;
}

Result<OzonAdapter::Stock> OzonAdapter::ReadStock(const kit::TargetCommand& c) const {
  // The CRM's SKU is the seller's article, Ozon's offer_id.
  Stock s{c.index,
          JsonScalarText(c.item, "offer_id").value_or(JsonScalarText(c.item, "sku").value_or("")),
          {}};
  s.item.product_id = JsonIntLoose(c.item, "product_id").value_or(0);
  s.item.warehouse_id = JsonIntLoose(c.item, "warehouse_id").value_or(0);
  const std::optional<int64_t> stock = JsonIntLoose(c.item, "stock");
  const auto& allowed = config_.warehouse_ids;
  if (s.offer_id.empty() && s.item.product_id <= 0) {
    return Status::InvalidArgument("needs sku, offer_id or product_id");
  }
  if (s.item.warehouse_id <= 0) return Status::InvalidArgument("needs a numeric warehouse_id");
  if (!stock || *stock < 0) return Status::InvalidArgument("needs an integer stock >= 0");
  if (*stock >= kStockLimit) {
    return Status::InvalidArgument("STOCK_TOO_BIG: Ozon takes a stock below 1,000,000");
  }
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), s.item.warehouse_id) == allowed.end()) {
    return Status::InvalidArgument(
        fmt::format("warehouse_id {} is not in this adapter's warehouse_ids", s.item.warehouse_id));
  }
  s.item.stock = *stock;
  return s;
}

Result<OzonAdapter::Price> OzonAdapter::ReadPrice(const kit::TargetCommand& c) {
  Price p{
      c.index,
      {.offer_id =
           JsonScalarText(c.item, "offer_id").value_or(JsonScalarText(c.item, "sku").value_or("")),
       .product_id = JsonIntLoose(c.item, "product_id").value_or(0)}};
  if (p.item.offer_id.empty() && p.item.product_id <= 0) {
    return Status::InvalidArgument("needs sku, offer_id or product_id");
  }
  const std::pair<const char*, std::string*> fields[] = {
      {"price", &p.item.price}, {"old_price", &p.item.old_price}, {"min_price", &p.item.min_price}};
  for (const auto& [name, field] : fields) {
    std::optional<std::string> text = DecimalText(c.item, name);
    if (text && text->empty()) {
      return Status::InvalidArgument(
          fmt::format("{} must be a decimal >= 0 with at most two digits after the point", name));
    }
    *field = text.value_or("");
  }
  if (p.item.price.empty()) return Status::InvalidArgument("needs price");
  // The currencies the spec lists for currency_code.
  static constexpr std::string_view kCurrencies[] = {"RUB", "BYN", "KZT", "EUR", "USD", "CNY"};
  if (const json* currency = JsonMember(c.item, "currency_code");
      currency && !currency->is_null()) {
    const std::string_view code = AsString(*currency).value_or("");
    if (std::find(std::begin(kCurrencies), std::end(kCurrencies), code) == std::end(kCurrencies)) {
      return Status::InvalidArgument("currency_code must be one of RUB, BYN, KZT, EUR, USD, CNY");
    }
    p.item.currency_code = std::string(code);
  }
  return p;
}

std::optional<net::ApiError> OzonAdapter::LoadCatalog() {
  std::map<std::string, std::string> loaded;
  std::string last_id;
  for (int page = 0; page < 10000; ++page) {
    auto products = client_.ListProducts(last_id, kMaxProductsPerPage);
    if (!products.ok()) return products.error();
    for (const auto& [offer, product] : products->items) {
      if (!offer.empty() && product > 0) loaded[offer] = std::to_string(product);
    }
    if (products->items.empty() || products->last_id.empty() || products->last_id == last_id) break;
    last_id = products->last_id;
  }
  catalog_.Replace(std::move(loaded));
  std::lock_guard<std::mutex> lock(catalog_mu_);
  catalog_loaded_ = clock_.SteadyNow();
  return std::nullopt;
}

void OzonAdapter::ResolveProducts(std::vector<Stock>& stocks, std::vector<DeliveryOutcome>& out) {
  auto lookup = [&](const std::string& offer) -> std::optional<int64_t> {
    std::optional<std::string> id = catalog_.Find(offer);
    return id ? ParseDecimalInt(*id) : std::nullopt;
  };
  std::optional<net::ApiError> load_error;
  if (std::any_of(stocks.begin(), stocks.end(),
                  [&](const Stock& s) { return s.item.product_id <= 0 && !lookup(s.offer_id); })) {
    bool stale;
    {
      std::lock_guard<std::mutex> lock(catalog_mu_);
      stale = !catalog_loaded_ || clock_.SteadyNow() - *catalog_loaded_ >= config_.catalog_refresh;
    }
    if (stale) load_error = LoadCatalog();
  }
  std::erase_if(stocks, [&](Stock& s) {
    if (s.item.product_id > 0) return false;
    if (std::optional<int64_t> product = lookup(s.offer_id)) {
      s.item.product_id = *product;
      return false;
    }
    if (load_error) {
      DeliveryOutcome o = load_error->ToOutcome();
      o.error = "catalogue: " + o.error;
      out[s.index] = std::move(o);
    } else {
      out[s.index] = DeliveryOutcome::Fail(
          kit::UnknownSku("ozon", "Ozon", s.offer_id, "/v3/product/list", "product_id"));
    }
    return true;
  });
}

void OzonAdapter::DeliverStocks(std::vector<Stock> stocks, std::vector<DeliveryOutcome>& out) {
  ResolveProducts(stocks, out);
  std::vector<std::string> keys;  // one update per product x warehouse every 30 s
  for (const Stock& s : stocks) {
    keys.push_back(
        fmt::format("product {} at warehouse {}", s.item.product_id, s.item.warehouse_id));
  }
  const SystemTime now = clock_.Now();
  // The 80 a minute before a pair's slot is spent.
  auto full = [&]() -> std::optional<DeliveryOutcome> {
    const Duration wait = client_.StocksWait();
    if (wait <= Duration(0)) return std::nullopt;
    return DeliveryOutcome::Retry(
        "ozon: POST /v2/products/stocks: 80 requests a minute (local limit)",
        now + std::chrono::duration_cast<SystemTime::duration>(wait));
  };
  auto send = [&](const std::vector<const Stock*>& sent) {
    std::vector<StockItem> items;
    for (const Stock* s : sent) items.push_back(s->item);
    return client_.UpdateStocks(items);
  };
  auto same = [](const Stock& s, const ItemResult& r) {
    return r.product_id == s.item.product_id && r.warehouse_id == s.item.warehouse_id;
  };
  SendNewest(stocks, keys, stock_pairs_, kMaxStocksPerRequest, now, full, send, same, out);
}

void OzonAdapter::DeliverPrices(std::vector<Price> prices, std::vector<DeliveryOutcome>& out) {
  std::vector<std::string> keys;  // 10 updates per product an hour
  for (const Price& p : prices) {
    keys.push_back(p.item.offer_id.empty()
                       ? fmt::format("the price of product {}", p.item.product_id)
                       : "the price of offer " + p.item.offer_id);
  }
  auto never_full = [] { return std::optional<DeliveryOutcome>(); };
  auto send = [&](const std::vector<const Price*>& sent) {
    std::vector<PriceItem> items;
    for (const Price* p : sent) items.push_back(p->item);
    return client_.UpdatePrices(items);
  };
  auto same = [](const Price& p, const ItemResult& r) {
    return p.item.offer_id.empty() ? r.product_id == p.item.product_id
                                   : r.offer_id == p.item.offer_id;
  };
  SendNewest(prices, keys, prices_, kMaxPricesPerRequest, clock_.Now(), never_full, send, same,
             out);
}

}  // namespace crmhub::adapters::ozon
