// The Ozon simulator's product cards: POST /v3/product/info/list, read from
// the spec (ProductAPI_GetProductInfoList): «В теле запроса должен быть
// массив однотипных идентификаторов» (offer_id, product_id or sku: two
// kinds at once -> 400), «не больше 1000 товаров ... в сумме» (-> 400),
// items[] for the ones it knows (an unknown id is left out: the spec says
// nothing of a per-item error). Each card is a pure function of its index:
// offer_id "SKU-000001", product_id 100001, sku 200001, barcode
// "OZN" + 9 digits, updated_at one fixed time.

#include <fmt/format.h>

#include <string>

#include "adapters/ozon/ozon_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// "SKU-000042" -> 41; -1 for anything else.
int64_t OfferNumber(std::string_view offer) {
  if (offer.size() != 10 || offer.rfind("SKU-", 0) != 0) return -1;
  auto n = ParseDecimalInt(offer.substr(4));
  return n && *n >= 1 ? *n - 1 : -1;
}

}  // namespace

net::HttpResponse OzonSimulator::ProductInfoList(const json& body, bool) {
  // The index of each id asked for (-1: unknown), whichever kind was sent.
  std::vector<int64_t> asked;
  int kinds = 0;
  for (const char* kind : {"offer_id", "product_id", "sku"}) {
    const json* ids = JsonArray(body, kind);
    if (ids == nullptr || ids->empty()) continue;
    ++kinds;
    for (const json& id : *ids) {
      const std::optional<std::string> text = JsonScalarText(id);
      if (!text) return RpcError(400, 3, fmt::format("{}: expected strings or integers", kind));
      if (std::string_view(kind) == "offer_id") {
        asked.push_back(OfferNumber(*text));
      } else {
        const int64_t base = std::string_view(kind) == "sku" ? 200001 : 100001;
        const std::optional<int64_t> n = ParseDecimalInt(*text);
        asked.push_back(n ? *n - base : -1);
      }
    }
  }
  if (kinds > 1) {
    return RpcError(400, 3, "send identifiers of one kind: offer_id, product_id or sku");
  }
  if (asked.size() > 1000) return RpcError(400, 3, "at most 1000 products in one request");
  // The cards never change here: one fixed time (2023-11-14T22:13:20Z).
  const std::string updated = FormatTimestamp(SystemTime(std::chrono::seconds(1'700'000'000)),
                                              TimestampStyle::kRfc3339Millis, 0);
  json items = json::array();
  for (int64_t i : asked) {
    if (i < 0 || i >= options_.products) continue;
    items.push_back({{"id", 100001 + i},
                     {"offer_id", OfferId(i)},
                     {"sku", 200001 + i},
                     {"name", fmt::format("Simulated product {}", i + 1)},
                     {"barcodes", json::array({fmt::format("OZN{:09d}", i + 1)})},
                     {"currency_code", "RUB"},
                     {"price", fmt::format("{}.00", 100 + i % 900)},
                     {"old_price", ""},
                     {"vat", "0.2"},
                     {"description_category_id", 17028922},
                     {"type_id", 91565},
                     {"is_archived", false},
                     {"is_autoarchived", false},
                     {"created_at", updated},
                     {"updated_at", updated}});
  }
  return net::HttpResponse::Json(200, json{{"items", std::move(items)}}.dump());
}

}  // namespace crmhub::adapters::ozon
