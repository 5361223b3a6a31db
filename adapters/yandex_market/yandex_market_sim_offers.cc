// The simulator's offer endpoints: updateStocks, updateBusinessPrices and
// getDefaultPrices (yandex_market_sim.h).

#include <cmath>
#include <map>
#include <set>

#include "adapters/simkit/json_text.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

// The spec, as the simulator reads it.
constexpr size_t kSkusMax = 2000;          // UpdateStocksRequest.skus
constexpr int64_t kCountMax = 2000000000;  // UpdateStockItemDTO.count
constexpr size_t kOffersMax = 500;         // UpdateBusinessPricesRequest.offers
constexpr size_t kPriceIdsMax = 200;       // GetDefaultPricesRequest.offerIds
constexpr double kBestsellerMax = 1e8;     // UpdateBusinessPricesDTO.minimumForBestseller

net::HttpResponse Bad(std::string_view message) {
  return YandexMarketSimulator::Error(400, message);
}
net::HttpResponse Ok() { return net::HttpResponse::Json(200, R"({"status":"OK"})"); }

// CurrencyType's enum, as listed.
bool IsCurrency(const std::string& code) {
  static const std::string kEnum =
      "|RUR|USD|EUR|UAH|AUD|GBP|BYR|BYN|DKK|ISK|KZT|CAD|CNY|NOK|XDR|SGD|TRY|SEK|CHF|JPY|AZN|ALL|"
      "DZD|AOA|ARS|AMD|AFN|BHD|BGN|BOB|BWP|BND|BRL|BIF|HUF|VEF|KPW|VND|GMD|GHS|GNF|HKD|GEL|AED|EGP|"
      "ZMK|ILS|INR|IDR|JOD|IQD|IRR|YER|QAR|KES|KGS|COP|CDF|CRC|KWD|CUP|LAK|LVL|SLL|LBP|LYD|SZL|LTL|"
      "MUR|MRO|MKD|MWK|MGA|MYR|MAD|MXN|MZN|MDL|MNT|NPR|NGN|NIO|NZD|OMR|PKR|PYG|PEN|PLN|KHR|SAR|RON|"
      "SCR|SYP|SKK|SOS|SDG|SRD|TJS|THB|TWD|BDT|TZS|TND|TMM|UGX|UZS|UYU|PHP|DJF|XAF|XOF|HRK|CZK|CLP|"
      "LKR|EEK|ETB|RSD|ZAR|KRW|NAD|TL|UE|";
  return code.find('|') == std::string::npos && kEnum.find('|' + code + '|') != std::string::npos;
}

// A ShopSku as Market reads it: whitespace trimmed (x-transform: trim), then
// the pattern ^(?=.*\S.*)[^\x00-\x08\x0A-\x1f\x7f]{1,255}$ over characters.
std::optional<std::string> ReadSku(std::optional<std::string_view> raw) {
  const size_t first = raw ? raw->find_first_not_of(" \t") : std::string_view::npos;
  if (first == std::string_view::npos) return std::nullopt;
  const std::string_view sku = raw->substr(first, raw->find_last_not_of(" \t") - first + 1);
  size_t characters = 0;
  for (unsigned char c : sku) {
    if (c < 0x09 || (c > 0x09 && c < 0x20) || c == 0x7f) return std::nullopt;
    if ((c >> 6) != 2) ++characters;  // not a UTF-8 continuation byte
  }
  if (characters > 255) return std::nullopt;
  return std::string(sku);
}

}  // namespace

net::HttpResponse YandexMarketSimulator::UpdateStocks(const simkit::SimRequest& r) {
  const json* skus = JsonArray(r.body, "skus");
  if (skus == nullptr || skus->empty() || skus->size() > kSkusMax) {
    return Bad("skus: 1..2000 items required");
  }
  std::map<std::string, int64_t> updates;
  for (const json& s : *skus) {
    const std::optional<std::string> sku = ReadSku(JsonString(s, "sku"));
    if (!sku) return Bad("sku does not match ShopSku: " + s.dump().substr(0, 300));
    const json* items = JsonArray(s, "items");
    const std::optional<int64_t> count =
        items && items->size() == 1 ? JsonInt(items->front(), "count") : std::nullopt;
    if (!count || *count < 0 || *count > kCountMax) {
      return Bad("items: exactly one, count 0..2000000000: " + *sku);
    }
    if (!updates.emplace(*sku, *count).second) return Bad("sku twice in one request: " + *sku);
  }
  std::lock_guard lock(mu_);
  for (const auto& [sku, count] : updates) stocks_[sku] = count;
  return Ok();
}

net::HttpResponse YandexMarketSimulator::UpdatePrices(const simkit::SimRequest& r) {
  const json* offers = JsonArray(r.body, "offers");
  if (offers == nullptr || offers->empty() || offers->size() > kOffersMax) {
    return Bad("offers: 1..500 items required");
  }
  std::map<std::string, SimPrice> updates;
  for (const json& o : *offers) {
    const std::optional<std::string> id = ReadSku(JsonString(o, "offerId"));
    const json* price = JsonObject(o, "price");
    if (!id || price == nullptr) return Bad("offerId (ShopSku) and price are required");
    const std::string currency(JsonString(*price, "currencyId").value_or(""));
    const std::optional<double> v = JsonNumber(*price, "value"),
                                b = JsonNumber(*price, "discountBase"),
                                m = JsonNumber(*price, "minimumForBestseller");
    if (!(v > 0) || !IsCurrency(currency)) {
      return Bad("price.value > 0 and a CurrencyType currencyId are required: " + *id);
    }
    // DiscountBase: a whole number; "a discount of 5 to 99%".
    if (JsonMember(*price, "discountBase") &&
        !(b > 0 && std::floor(*b) == *b && *v <= *b * 0.95 + 1e-9 && *v >= *b * 0.01 - 1e-9)) {
      return Bad("discountBase must be a whole number with a 5..99% discount: " + *id);
    }
    if (JsonMember(*price, "minimumForBestseller") && !(m > 0 && *m <= kBestsellerMax)) {
      return Bad("minimumForBestseller must be in (0, 100000000]: " + *id);
    }
    // The whole price is replaced: what is left out is deleted.
    SimPrice p{*JsonMember(*price, "value"), currency,
               b ? *JsonMember(*price, "discountBase") : json(),
               m ? *JsonMember(*price, "minimumForBestseller") : json()};
    if (!updates.emplace(*id, std::move(p)).second)
      return Bad("offerId twice in one request: " + *id);
  }
  std::lock_guard lock(mu_);
  for (auto& [id, p] : updates) prices_[id] = std::move(p);
  return Ok();
}

net::HttpResponse YandexMarketSimulator::GetDefaultPrices(const simkit::SimRequest& r) {
  const net::HttpRequest& request = r.http;
  Result<json> body = ParseJson(request.body.empty() ? "{}" : request.body);
  if (!body.ok() || !body->is_object()) return Bad("the body must be a JSON object");
  std::optional<std::set<std::string>> wanted;
  if (const json* ids = JsonMember(*body, "offerIds"); ids && !ids->is_null()) {
    wanted.emplace();
    if (!ids->is_array() || ids->empty() || ids->size() > kPriceIdsMax)
      return Bad("offerIds: 1..200");
    for (const json& id : *ids) {
      std::optional<std::string> sku = ReadSku(AsString(id));
      if (!sku || !wanted->insert(*sku).second) return Bad("offerIds: distinct ShopSkus");
    }
  }
  const int64_t limit = std::min<int64_t>(
      500, ParseDecimalInt(request.QueryParam("limit").value_or("250")).value_or(250));
  const int64_t offset =
      ParseDecimalInt(request.QueryParam("pageToken").value_or("p0").substr(1)).value_or(0);
  if (limit < 1 || offset < 0) return Bad("limit >= 1 and a pageToken from the last answer");
  simkit::JsonText out;
  out.BeginObject().Member("status", "OK").Key("result").BeginObject().Key("offers").BeginArray();
  int64_t index = 0;
  std::lock_guard lock(mu_);
  for (const auto& [id, p] : prices_) {
    if ((wanted && !wanted->contains(id)) || index++ < offset || index > offset + limit) continue;
    out.BeginObject().Member("offerId", id).Key("price").BeginObject();
    out.Key("value").Raw(p.value.dump()).Member("currencyId", p.currency);
    if (!p.discount_base.is_null()) out.Key("discountBase").Raw(p.discount_base.dump());
    if (!p.minimum_for_bestseller.is_null()) {
      out.Key("minimumForBestseller").Raw(p.minimum_for_bestseller.dump());
    }
    out.EndObject().EndObject();
  }
  out.EndArray().Key("paging").BeginObject();
  if (index > offset + limit) out.Member("nextPageToken", "p" + std::to_string(offset + limit));
  out.EndObject().EndObject().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::yandex_market
