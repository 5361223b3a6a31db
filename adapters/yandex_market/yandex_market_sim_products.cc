// The simulator's catalogue: POST /v2/businesses/{businessId}/offer-mappings
// (getOfferMappings), read from the spec: the body is optional («не
// передавать тело запроса, чтобы получить список всех товаров в каталоге»),
// or names offerIds (those only, no paging); pages by the query's
// page_token / pageToken («Передавайте значение выходного параметра
// nextPageToken»), limit 1..100 (PageLimit100Truncate: a larger one is cut
// to 100, default 50). Each offer is a pure function of its index: offerId
// "YM-000001", name, vendor, barcodes ["YM" + 11 digits], and a mapping
// to marketSku 500000001...; archived false.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/yandex_market/yandex_market_sim.h"
#include "base/json_get.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

constexpr int64_t kMappingsPageDefault = 50, kMappingsPageMax = 100;

json Mapping(int64_t i) {
  const std::string offer = fmt::format("YM-{:06d}", i + 1);
  return {{"offer",
           {{"offerId", offer},
            {"name", "Товар " + offer},
            {"vendor", "Sim"},
            {"vendorCode", fmt::format("V-{}", i + 1)},
            {"barcodes", json::array({fmt::format("YM{:011d}", i + 1)})},
            {"archived", false}}},
          {"mapping",
           {{"marketSku", 500000001 + i},
            {"marketSkuName", "Товар " + offer},
            {"marketCategoryId", 91491},
            {"marketCategoryName", "Смартфоны"}}}};
}

// "YM-000042" -> 41; -1 for anything else.
int64_t IndexOf(std::string_view offer) {
  if (offer.size() != 9 || offer.rfind("YM-", 0) != 0) return -1;
  const std::optional<int64_t> n = ParseDecimalInt(offer.substr(3));
  return n && *n >= 1 ? *n - 1 : -1;
}

}  // namespace

net::HttpResponse YandexMarketSimulator::GetOfferMappings(const simkit::SimRequest& r) {
  const int64_t n = options_.catalogue;
  json mappings = json::array();
  json result = json::object();
  Result<json> body = ParseJson(r.http.body.empty() ? "{}" : r.http.body);
  if (!body.ok() || !body->is_object()) return Error(400, "the body must be a JSON object");
  if (const json* ids = JsonArray(*body, "offerIds"); ids && !ids->empty()) {
    if (ids->size() > 200) return Error(400, "offerIds: at most 200");
    for (const json& id : *ids) {
      const int64_t i = IndexOf(AsString(id).value_or(""));
      if (i >= 0 && i < n) mappings.push_back(Mapping(i));
    }
  } else {
    auto param = [&r](const char* name, const char* alias) {
      return r.http.QueryParam(name).value_or(r.http.QueryParam(alias).value_or(""));
    };
    const std::string token = param("page_token", "pageToken");
    const int64_t after = token.empty() ? 0 : ParseDecimalInt(token).value_or(-1);
    const std::string limit_text = r.http.QueryParam("limit").value_or("");
    const int64_t limit =
        limit_text.empty() ? kMappingsPageDefault : ParseDecimalInt(limit_text).value_or(0);
    if (after < 0 || after > n || limit < 1) {
      return Error(400, "limit >= 1 and a page_token of the last answer");
    }
    const int64_t end = std::min(n, after + std::min(limit, kMappingsPageMax));
    for (int64_t i = after; i < end; ++i) mappings.push_back(Mapping(i));
    if (end < n) result["paging"] = {{"nextPageToken", std::to_string(end)}};
  }
  result["offerMappings"] = std::move(mappings);
  return net::HttpResponse::Json(200, json{{"status", "OK"}, {"result", std::move(result)}}.dump());
}

}  // namespace crmhub::adapters::yandex_market
