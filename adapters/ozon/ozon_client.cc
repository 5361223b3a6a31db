#include "adapters/ozon/ozon_client.h"

#include <utility>

#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

std::string OzonTime(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Millis, kUtcOffsetMinutes);
}

namespace {

net::ApiClientOptions ClientOptions(const OzonClientOptions& o) {
  net::ApiClientOptions options;
  // Errors are rpcStatus: ApiClient's default error text ("message") fits.
  options.dialect.system = "ozon";
  options.headers.Set("Client-Id", o.client_id);
  options.headers.Set("Api-Key", o.api_key.Reveal());
  options.timeout = o.timeout;
  return options;
}

json FbsListBody(const PostingQuery& query) {
  json filter = {{"since", OzonTime(query.since)}, {"to", OzonTime(query.to)}};
  if (query.changed_from && query.changed_to) {
    filter["last_changed_status_date"] = {{"from", OzonTime(*query.changed_from)},
                                          {"to", OzonTime(*query.changed_to)}};
  }
  // dir "ASC": the spec's example spells it upper-case, the description
  // lower-case; the field is a free string in the schema.
  return {{"dir", "ASC"}, {"filter", filter}, {"limit", query.limit}, {"offset", query.offset}};
}

json FboListBody(const PostingQuery& query) {
  // with.analytics_data: the answer then names the Ozon warehouse the
  // posting ships from, which the mapping keeps; financial_data is not
  // needed (products[] carry price and quantity).
  return {{"dir", "ASC"},
          {"filter", {{"since", OzonTime(query.since)}, {"to", OzonTime(query.to)}}},
          {"limit", query.limit},
          {"offset", query.offset},
          {"with", {{"analytics_data", true}, {"financial_data", false}}}};
}

json PricesBody(const std::vector<PriceItem>& items) {
  json prices = json::array();
  for (const PriceItem& item : items) {
    json p = {{"price", item.price}};
    if (!item.offer_id.empty()) {
      p["offer_id"] = item.offer_id;
    } else {
      p["product_id"] = item.product_id;
    }
    if (!item.old_price.empty()) p["old_price"] = item.old_price;
    if (!item.min_price.empty()) p["min_price"] = item.min_price;
    if (!item.currency_code.empty()) p["currency_code"] = item.currency_code;
    prices.push_back(std::move(p));
  }
  return {{"prices", std::move(prices)}};
}

// result[] of a stocks/prices answer: elements of another shape are skipped,
// members of another type read as absent.
std::vector<ItemResult> ParseItemResults(const json& body) {
  std::vector<ItemResult> out;
  const json* result = JsonArray(body, "result");
  if (result == nullptr) return out;
  for (const json& r : *result) {
    if (!r.is_object()) continue;
    ItemResult item;
    item.offer_id = JsonScalarText(r, "offer_id").value_or("");
    item.product_id = JsonIntLoose(r, "product_id").value_or(0);
    item.warehouse_id = JsonIntLoose(r, "warehouse_id").value_or(0);
    item.updated = JsonBool(r, "updated").value_or(false);
    if (const json* errors = JsonArray(r, "errors")) {
      for (const json& e : *errors) {
        item.errors.emplace_back(JsonScalarText(e, "code").value_or(""),
                                 JsonScalarText(e, "message").value_or(""));
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

OzonClient::OzonClient(OzonClientOptions options, net::Transport transport, const Clock& clock)
    : options_(std::move(options)),
      api_(ClientOptions(options_), std::move(transport), clock),
      stocks_window_(clock, options_.stocks_per_minute, std::chrono::minutes(1)) {}

json OzonClient::StocksBody(const std::vector<StockItem>& items) {
  // No quant_size: the schema still lists it as required but defines no
  // such property, and the News of 26 June 2025 say it was removed
  // («Удалили параметры stocks.quant_size из запроса»).
  json stocks = json::array();
  for (const StockItem& item : items) {
    stocks.push_back({{"product_id", item.product_id},
                      {"stock", item.stock},
                      {"warehouse_id", item.warehouse_id}});
  }
  return {{"stocks", std::move(stocks)}};
}

net::ApiResult<net::ApiAnswer> OzonClient::Post(std::string path, const json& body,
                                                net::ApiRequest::Expect expect,
                                                net::RateLimiter* limit) const {
  net::ApiRequest request;
  request.method = "POST";
  request.url = options_.base_url + path;
  request.body = body.dump();
  request.expect = expect;
  if (limit != nullptr) request.limits = {{limit, 1}};
  return api_.Call(std::move(request));
}

net::ApiResult<net::ApiAnswer> OzonClient::ListFbsPostings(const PostingQuery& query) const {
  return Post("/v3/posting/fbs/list", FbsListBody(query), net::ApiRequest::Expect::kAny);
}

net::ApiResult<net::ApiAnswer> OzonClient::ListFboPostings(const PostingQuery& query) const {
  return Post("/v2/posting/fbo/list", FboListBody(query), net::ApiRequest::Expect::kAny);
}

net::ApiResult<net::ApiAnswer> OzonClient::ListReturns(const ReturnsQuery& query) const {
  json body = {
      {"filter",
       {{"visual_status_change_moment",
         {{"time_from", OzonTime(query.changed_from)}, {"time_to", OzonTime(query.changed_to)}}}}},
      {"limit", query.limit}};
  if (query.last_id > 0) body["last_id"] = query.last_id;
  return Post("/v1/returns/list", body, net::ApiRequest::Expect::kJson);
}

net::ApiResult<std::vector<ItemResult>> OzonClient::UpdateStocks(
    const std::vector<StockItem>& items) {
  auto answer = Post("/v2/products/stocks", StocksBody(items), net::ApiRequest::Expect::kJson,
                     &stocks_window_);
  if (!answer.ok()) return answer.error();
  return ParseItemResults(answer->json);
}

net::ApiResult<std::vector<ItemResult>> OzonClient::UpdatePrices(
    const std::vector<PriceItem>& items) const {
  auto answer =
      Post("/v1/product/import/prices", PricesBody(items), net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  return ParseItemResults(answer->json);
}

net::ApiResult<ProductPage> OzonClient::ListProducts(const std::string& last_id, int limit) const {
  json body = {{"filter", {{"visibility", "ALL"}}}, {"last_id", last_id}, {"limit", limit}};
  auto answer = Post("/v3/product/list", body, net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  ProductPage page;
  const json* result = JsonObject(answer->json, "result");
  if (result == nullptr) {
    return net::ApiError{.kind = net::ApiError::Kind::kTransient,
                         .http_status = answer->status,
                         .message = "ozon: POST /v3/product/list: an answer without result"};
  }
  if (const json* items = JsonArray(*result, "items")) {
    for (const json& item : *items) {
      std::optional<std::string> offer = JsonScalarText(item, "offer_id");
      std::optional<int64_t> product = JsonIntLoose(item, "product_id");
      // Counted even when unusable, so a page of odd items still pages on.
      page.items.emplace_back(offer.value_or(""), product.value_or(0));
    }
  }
  page.last_id = std::string(JsonString(*result, "last_id").value_or(""));
  return page;
}

net::ApiResult<std::vector<kit::PulledCard>> OzonClient::ProductCards(
    const std::vector<int64_t>& product_ids) const {
  // The schema's product_id items are strings (format int64).
  json ids = json::array();
  for (int64_t id : product_ids) ids.push_back(std::to_string(id));
  auto answer = Post("/v3/product/info/list", json{{"product_id", std::move(ids)}},
                     net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* items = JsonArray(answer->json, "items");
  if (items == nullptr) {
    return net::ApiError{.kind = net::ApiError::Kind::kTransient,
                         .http_status = answer->status,
                         .message = "ozon: POST /v3/product/info/list: an answer without items"};
  }
  std::vector<kit::PulledCard> out;
  out.reserve(items->size());
  for (const json& item : *items) {
    kit::PulledCard c{.card = {}, .raw = item};
    if (!item.is_object()) {
      out.push_back(std::move(c));
      continue;
    }
    kit::ProductCard& card = c.card;
    card.sku = JsonScalarText(item, "offer_id").value_or("");
    const std::optional<int64_t> id = JsonIntLoose(item, "id");
    if (id && *id > 0) card.marketplace_id = std::to_string(*id);
    card.name = std::string(JsonString(item, "name").value_or(""));
    if (const json* barcodes = JsonArray(item, "barcodes")) {
      for (const json& b : *barcodes) {
        if (std::optional<std::string_view> text = AsString(b); text && !text->empty())
          card.barcodes.emplace_back(*text);
      }
    }
    card.archived = JsonBool(item, "is_archived") == true;
    if (std::optional<std::string_view> at = JsonString(item, "updated_at")) {
      Result<int64_t> ms = ParseTimestampMs(*at, kNoDefaultOffset);
      if (ms.ok()) card.updated_ms = *ms;
    }
    for (const auto& [from, to] :
         {std::pair{"sku", "ozon_sku"}, std::pair{"price", "price"},
          std::pair{"old_price", "old_price"}, std::pair{"currency_code", "currency_code"},
          std::pair{"vat", "vat"}, std::pair{"description_category_id", "description_category_id"},
          std::pair{"type_id", "type_id"}}) {
      if (std::optional<std::string> v = JsonScalarText(item, from); v && !v->empty())
        card.attributes[to] = *v;
    }
    out.push_back(std::move(c));
  }
  return out;
}

net::ApiResult<FbsPosting> OzonClient::GetFbsPosting(const std::string& posting_number) const {
  auto answer = Post("/v3/posting/fbs/get", json{{"posting_number", posting_number}},
                     net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const std::optional<std::string_view> status =
      result != nullptr ? JsonString(*result, "status") : std::nullopt;
  if (!status) {
    return net::ApiError{
        .kind = net::ApiError::Kind::kTransient,
        .http_status = answer->status,
        .message = "ozon: POST /v3/posting/fbs/get: an answer without result.status"};
  }
  FbsPosting posting{.posting_number = posting_number,
                     .status = std::string(*status),
                     .substatus = std::string(JsonString(*result, "substatus").value_or(""))};
  if (const json* products = JsonArray(*result, "products")) {
    for (const json& p : *products) {
      posting.products.push_back({.product_id = JsonIntLoose(p, "sku").value_or(0),
                                  .quantity = JsonIntLoose(p, "quantity").value_or(0)});
    }
  }
  return posting;
}

net::ApiResult<net::ApiAnswer> OzonClient::ShipFbsPosting(const std::string& posting_number,
                                                          const ShipPackages& packages) const {
  json list = json::array();
  for (const std::vector<ShipProduct>& package : packages) {
    json products = json::array();
    for (const ShipProduct& p : package) {
      products.push_back({{"product_id", p.product_id}, {"quantity", p.quantity}});
    }
    list.push_back({{"products", std::move(products)}});
  }
  return Post("/v4/posting/fbs/ship",
              json{{"packages", std::move(list)}, {"posting_number", posting_number}},
              net::ApiRequest::Expect::kJson);
}

net::ApiResult<net::ApiAnswer> OzonClient::CancelFbsPosting(const std::string& posting_number,
                                                            int64_t reason_id,
                                                            const std::string& message) const {
  json body = {{"cancel_reason_id", reason_id}, {"posting_number", posting_number}};
  if (!message.empty()) body["cancel_reason_message"] = message;
  auto answer = Post("/v2/posting/fbs/cancel", body, net::ApiRequest::Expect::kJson);
  if (answer.ok() && JsonBool(answer->json, "result") != true) {
    return net::ApiError{.kind = net::ApiError::Kind::kRejected,
                         .http_status = answer->status,
                         .message = "ozon: POST /v2/posting/fbs/cancel: answered result false"};
  }
  return answer;
}

namespace {

std::vector<std::string> Strings(const json& object, const char* member) {
  std::vector<std::string> out;
  if (const json* list = JsonArray(object, member)) {
    for (const json& v : *list) {
      if (std::optional<std::string_view> text = AsString(v); text && !text->empty())
        out.emplace_back(*text);
    }
  }
  return out;
}

net::ApiError Unreadable(int status, std::string_view what) {
  return net::ApiError{.kind = net::ApiError::Kind::kTransient,
                       .http_status = status,
                       .message = std::string("ozon: ") + std::string(what)};
}

}  // namespace

net::ApiResult<int64_t> OzonClient::CreateAct(int64_t delivery_method_id,
                                              const std::string& departure_date) const {
  json body = {{"delivery_method_id", delivery_method_id}};
  if (!departure_date.empty()) body["departure_date"] = departure_date;
  auto answer = Post("/v2/posting/fbs/act/create", body, net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const std::optional<int64_t> id = result != nullptr ? JsonIntLoose(*result, "id") : std::nullopt;
  if (!id || *id <= 0) {
    return Unreadable(answer->status,
                      "POST /v2/posting/fbs/act/create: an answer without result.id");
  }
  return *id;
}

net::ApiResult<ActStatus> OzonClient::CheckAct(int64_t id) const {
  auto answer =
      Post("/v2/posting/fbs/act/check-status", json{{"id", id}}, net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* result = JsonObject(answer->json, "result");
  const std::optional<std::string_view> status =
      result != nullptr ? JsonString(*result, "status") : std::nullopt;
  if (!status || status->empty()) {
    return Unreadable(answer->status,
                      "POST /v2/posting/fbs/act/check-status: an answer without result.status");
  }
  return ActStatus{.status = std::string(*status),
                   .added = Strings(*result, "added_to_act"),
                   .removed = Strings(*result, "removed_from_act"),
                   .has_postings_for_next_carriage =
                       JsonBool(*result, "has_postings_for_next_carriage") == true};
}

net::ApiResult<std::vector<std::string>> OzonClient::ActPostings(int64_t id) const {
  auto answer =
      Post("/v2/posting/fbs/act/get-postings", json{{"id", id}}, net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* result = JsonArray(answer->json, "result");
  if (result == nullptr) {
    return Unreadable(answer->status,
                      "POST /v2/posting/fbs/act/get-postings: an answer without result");
  }
  std::vector<std::string> out;
  for (const json& p : *result) {
    const std::optional<std::string_view> number =
        p.is_object() ? JsonString(p, "posting_number") : std::nullopt;
    if (number && !number->empty()) out.emplace_back(*number);
  }
  return out;
}

net::ApiResult<std::vector<ActSummary>> OzonClient::ListActs(const std::string& date_from,
                                                             const std::string& date_to,
                                                             int limit) const {
  auto answer =
      Post("/v2/posting/fbs/act/list",
           json{{"filter", {{"date_from", date_from}, {"date_to", date_to}}}, {"limit", limit}},
           net::ApiRequest::Expect::kJson);
  if (!answer.ok()) return answer.error();
  const json* result = JsonArray(answer->json, "result");
  if (result == nullptr) {
    return Unreadable(answer->status, "POST /v2/posting/fbs/act/list: an answer without result");
  }
  std::vector<ActSummary> out;
  for (const json& a : *result) {
    if (!a.is_object()) continue;
    out.push_back({.id = JsonIntLoose(a, "id").value_or(0),
                   .delivery_method_id = JsonIntLoose(a, "delivery_method_id").value_or(0),
                   .status = std::string(JsonString(a, "status").value_or("")),
                   .departure_date = JsonScalarText(a, "departure_date").value_or(""),
                   .created_at = JsonScalarText(a, "created_at").value_or("")});
  }
  return out;
}

}  // namespace crmhub::adapters::ozon
