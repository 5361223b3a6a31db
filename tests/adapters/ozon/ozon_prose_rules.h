#pragma once
// The rules ozon-seller-api.swagger.json states only in prose (operation
// descriptions, tags Process and Errors, the News), checked on what a
// simulator was sent: Prism validates the schemas, these are the rest.
// Read from the spec here, apart from the adapter's constants and the
// simulator's, so that a rule one of them got wrong is seen.
//
//   /v2/products/stocks        «За один запрос можно изменить наличие для 100
//                              пар товар-склад», «до 80 запросов в минуту»,
//                              a pair «только 1 раз в 30 секунд», stock
//                              «меньше миллиона» (STOCK_TOO_BIG), offer_id or
//                              product_id «используйте только один из
//                              параметров» (the schema requires product_id),
//                              no quant_size (News, 26 June 2025)
//   /v1/product/import/prices  1..1000 items, «не больше 10 раз в час» per
//                              product, one of offer_id / product_id (never an
//                              empty offer_id), prices «до двух знаков после
//                              точки», currency_code one of six
//   posting lists              limit 1..1000, the period «не больше одного
//                              года», FBO offset <= 20000 (MAX_OFFSET_EXCEEDED)
//   /v4/posting/fbs/ship       posting_number, packages of products each
//                              with product_id (Ozon's SKU) and a quantity > 0;
//                              a posting shipped (200) is not shipped again
//   /v2/posting/fbs/cancel     a cancel_reason_id the spec lists as a seller's
//                              available one (352, 400, 402; 401 and 666 are
//                              not available), «Если значение параметра
//                              cancel_reason_id — 402, заполните поле
//                              cancel_reason_message»; a posting cancelled
//                              (200) is not cancelled again
//   /v3/posting/fbs/get        posting_number
//   /v1/returns/list           limit «Максимальное значение — 500» (required),
//                              «Используйте только один фильтр в запросе:
//                              logistic_return_date, storage_tariffication_
//                              start_date или visual_status_change_moment»,
//                              posting_numbers «не больше 50», last_id a
//                              return id (> 0) when sent
//   /v3/product/list           limit «Минимум — 1, максимум — 1000»; last_id
//                              «При первом запросе оставьте это поле пустым»,
//                              then the last_id of the answer before
//   /v3/product/info/list      «массив однотипных идентификаторов» (offer_id,
//                              product_id or sku: one of them), «не больше
//                              1000 товаров ... в сумме»
//   /v2/posting/fbs/act/create delivery_method_id (required, > 0), a
//                              departure_date a date-time when sent; «Чтобы
//                              сформировать и получить документы, переведите
//                              отправление в статус awaiting_deliver»: not
//                              before a posting was shipped (200); and, as
//                              for ship, an act Ozon took (200) for a method
//                              and departure day is not created again
//   act/check-status,          id (required, > 0: «Номер задания ... из
//   act/get-postings           метода /v2/posting/fbs/act/create»)
//   /v2/posting/fbs/act/list   limit (required, > 0), filter.date_from and
//                              filter.date_to (required)
//   /v2/finance/realization    month and year required (the month 1..12), a
//                              monthly report («Отчёт о реализации ... за
//                              месяц»): a month Ozon answered (200) is not
//                              asked for again
//   every request              «не больше 50 запросов в секунду» (tag Process)
//
// Each item in a request counts; a pair or a product counts as updated by a
// request Ozon answered 200 (a refused one updated nothing).

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/request_log.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon::testing {

// Most entries of `times` (ms, ascending) in any `window_ms`.
inline size_t MostInWindow(const std::vector<int64_t>& times, int64_t window_ms) {
  size_t most = 0;
  for (size_t i = 0, j = 0; i < times.size(); ++i) {
    while (times[i] - times[j] >= window_ms) ++j;
    most = std::max(most, i - j + 1);
  }
  return most;
}

inline bool PriceDecimal(const nlohmann::json& v) {
  if (!v.is_string()) return false;
  const std::string s = v.get<std::string>();
  const size_t dot = s.find('.');
  auto digits = [](const std::string& d) {
    return !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
  };
  return digits(s.substr(0, dot)) &&
         (dot == std::string::npos || (digits(s.substr(dot + 1)) && s.size() - dot - 1 <= 2));
}

// One line per broken rule: "#<seq> POST /v2/products/stocks: <rule>".
inline std::vector<std::string> ProseViolations(const std::vector<simkit::LoggedRequest>& log) {
  using nlohmann::json;
  std::vector<std::string> out;
  std::vector<int64_t> all, stocks_requests;
  std::map<std::string, std::vector<int64_t>> pair_updates, price_updates;
  std::set<std::string> shipped, cancelled;  // postings Ozon took a ship / cancel of
  std::set<std::string> acts;                // "<method>:<departure day>" Ozon took
  std::set<int64_t> realized;                // realization months Ozon answered, yyyymm
  for (const simkit::LoggedRequest& r : log) {
    auto report = [&](const std::string& rule) {
      out.push_back(fmt::format("#{} {} {}: {}", r.seq, r.method, r.path, rule));
    };
    all.push_back(r.at_ms);
    const json body = json::parse(r.body, nullptr, false);
    if (!body.is_object()) {
      report("the body is not a JSON object");
      continue;
    }
    if (r.path == "/v2/products/stocks") {
      stocks_requests.push_back(r.at_ms);
      const json items = body.value("stocks", json());
      if (!items.is_array() || items.empty() || items.size() > 100) {
        report("1..100 product-warehouse pairs per request");
      }
      std::set<std::string> pairs;
      for (const json& item : items.is_array() ? items : json::array()) {
        if (item.contains("quant_size")) report("quant_size was removed (News, 26 June 2025)");
        if (item.contains("offer_id")) report("only one of offer_id and product_id (product_id)");
        if (!item.value("product_id", json()).is_number_integer()) report("product_id is required");
        const json stock = item.value("stock", json());
        if (!stock.is_number_integer() || stock.get<int64_t>() < 0 ||
            stock.get<int64_t>() >= 1'000'000) {
          report("stock below 1,000,000 (STOCK_TOO_BIG)");
        }
        const std::string pair = item.value("product_id", json()).dump() + ":" +
                                 item.value("warehouse_id", json()).dump();
        if (!pairs.insert(pair).second) report("pair " + pair + " twice in one request");
        if (r.status == 200) pair_updates[pair].push_back(r.at_ms);
      }
    } else if (r.path == "/v1/product/import/prices") {
      const json items = body.value("prices", json());
      if (!items.is_array() || items.empty() || items.size() > 1000) {
        report("1..1000 prices per request");
      }
      std::set<std::string> products;
      for (const json& item : items.is_array() ? items : json::array()) {
        const bool offer = item.contains("offer_id"), product = item.contains("product_id");
        if (offer == product) report("exactly one of offer_id and product_id");
        if (offer && item.value("offer_id", json()) == "") report("an empty offer_id");
        const std::string id =
            offer ? item.value("offer_id", json()).dump() : item.value("product_id", json()).dump();
        if (!products.insert(id).second) report("product " + id + " twice in one request");
        if (!PriceDecimal(item.value("price", json())))
          report("price: a decimal, two digits at most");
        for (const char* key : {"old_price", "min_price"}) {
          if (item.contains(key) && !PriceDecimal(item[key])) {
            report(std::string(key) + ": a decimal, two digits at most");
          }
        }
        static const std::set<std::string> kCurrencies = {"RUB", "BYN", "KZT", "EUR", "USD", "CNY"};
        if (item.contains("currency_code") &&
            !kCurrencies.count(item.value("currency_code", json()).is_string()
                                   ? item["currency_code"].get<std::string>()
                                   : "")) {
          report("currency_code one of RUB, BYN, KZT, EUR, USD, CNY");
        }
        if (r.status == 200) price_updates[id].push_back(r.at_ms);
      }
    } else if (r.path == "/v4/posting/fbs/ship") {
      const json number = body.value("posting_number", json());
      if (!number.is_string() || number.get<std::string>().empty())
        report("posting_number is required");
      const json packages = body.value("packages", json());
      bool products_ok = packages.is_array() && !packages.empty();
      for (const json& package : packages.is_array() ? packages : json::array()) {
        const json products = package.is_object() ? package.value("products", json()) : json();
        products_ok = products_ok && products.is_array() && !products.empty();
        for (const json& p : products.is_array() ? products : json::array()) {
          const json id = p.is_object() ? p.value("product_id", json()) : json();
          const json quantity = p.is_object() ? p.value("quantity", json()) : json();
          products_ok = products_ok && id.is_number_integer() && id.get<int64_t>() > 0 &&
                        quantity.is_number_integer() && quantity.get<int64_t>() > 0;
        }
      }
      if (!products_ok) report("packages of products, each with product_id (SKU) and quantity > 0");
      if (number.is_string() && !shipped.insert(number.get<std::string>()).second) {
        report("posting " + number.get<std::string>() + " shipped again after Ozon took it");
      }
      if (r.status != 200 && number.is_string()) shipped.erase(number.get<std::string>());
    } else if (r.path == "/v2/posting/fbs/cancel") {
      const json number = body.value("posting_number", json());
      const json reason = body.value("cancel_reason_id", json());
      if (!reason.is_number_integer() || (reason != 352 && reason != 400 && reason != 402)) {
        report("cancel_reason_id one of the seller's available reasons (352, 400, 402)");
      }
      if (reason == 402 && body.value("cancel_reason_message", "").empty()) {
        report("cancel_reason_message is required with cancel_reason_id 402");
      }
      if (number.is_string() && !cancelled.insert(number.get<std::string>()).second) {
        report("posting " + number.get<std::string>() + " cancelled again after Ozon took it");
      }
      if (r.status != 200 && number.is_string()) cancelled.erase(number.get<std::string>());
    } else if (r.path == "/v2/posting/fbs/act/create") {
      const json method = body.value("delivery_method_id", json());
      if (!method.is_number_integer() || method.get<int64_t>() <= 0) {
        report("delivery_method_id is required");
      }
      const json departure = body.value("departure_date", json());
      if (body.contains("departure_date") &&
          (!departure.is_string() ||
           !ParseTimestamp(departure.get<std::string>(), kNoDefaultOffset))) {
        report("departure_date: a date-time");
      }
      if (shipped.empty()) report("an act before any posting was shipped (awaiting_deliver)");
      const std::string act =
          method.dump() + ":" +
          (departure.is_string() ? departure.get<std::string>().substr(0, 10) : std::string());
      if (!acts.insert(act).second) report("act " + act + " created again after Ozon took it");
      if (r.status != 200) acts.erase(act);
    } else if (r.path == "/v2/posting/fbs/act/check-status" ||
               r.path == "/v2/posting/fbs/act/get-postings") {
      const json id = body.value("id", json());
      if (!id.is_number_integer() || id.get<int64_t>() <= 0) report("the act's id is required");
    } else if (r.path == "/v2/posting/fbs/act/list") {
      const json limit = body.value("limit", json());
      if (!limit.is_number_integer() || limit.get<int64_t>() <= 0) report("act list limit > 0");
      const json filter = body.value("filter", json());
      if (!filter.is_object() || !filter.value("date_from", json()).is_string() ||
          !filter.value("date_to", json()).is_string()) {
        report("act list filter.date_from and date_to are required");
      }
    } else if (r.path == "/v3/posting/fbs/get") {
      const json number = body.value("posting_number", json());
      if (!number.is_string() || number.get<std::string>().empty())
        report("posting_number is required");
    } else if (r.path == "/v3/product/list") {
      const json limit = body.value("limit", json());
      if (!limit.is_number_integer() || limit.get<int64_t>() < 1 || limit.get<int64_t>() > 1000) {
        report("product list limit 1..1000");
      }
      if (body.contains("last_id") && !body["last_id"].is_string())
        report("product list last_id: the text of the answer before");
    } else if (r.path == "/v3/product/info/list") {
      size_t kinds = 0, ids = 0;
      for (const char* key : {"offer_id", "product_id", "sku"}) {
        const json list = body.value(key, json());
        if (list.is_array() && !list.empty()) {
          ++kinds;
          ids += list.size();
        }
      }
      if (kinds != 1) report("product info: identifiers of one kind");
      if (ids > 1000) report("product info: 1000 products at most");
    } else if (r.path == "/v2/finance/realization") {
      const json month = body.value("month", json()), year = body.value("year", json());
      if (!month.is_number_integer() || !year.is_number_integer() || month.get<int64_t>() < 1 ||
          month.get<int64_t>() > 12) {
        report("realization: month 1..12 and year required");
      } else if (r.status == 200 &&
                 !realized.insert(year.get<int64_t>() * 100 + month.get<int64_t>()).second) {
        report("realization: a month read again after Ozon answered it");
      }
    } else if (r.path == "/v1/returns/list") {
      const json limit = body.value("limit", json());
      if (!limit.is_number_integer() || limit.get<int64_t>() < 1 || limit.get<int64_t>() > 500) {
        report("returns limit 1..500");
      }
      const json filter = body.value("filter", json::object());
      int time_filters = 0;
      for (const char* key : {"logistic_return_date", "storage_tariffication_start_date",
                              "visual_status_change_moment"}) {
        time_filters += filter.is_object() && filter.contains(key) ? 1 : 0;
      }
      if (time_filters > 1) report("only one time filter in a returns request");
      const json numbers = filter.is_object() ? filter.value("posting_numbers", json()) : json();
      if (numbers.is_array() && numbers.size() > 50) report("posting_numbers: 50 at most");
      if (body.contains("last_id") &&
          (!body["last_id"].is_number_integer() || body["last_id"].get<int64_t>() <= 0)) {
        report("last_id: the id of the last return read");
      }
    } else if (r.path == "/v3/posting/fbs/list" || r.path == "/v2/posting/fbo/list") {
      const json limit = body.value("limit", json()), offset = body.value("offset", json());
      if (!limit.is_number_integer() || limit.get<int64_t>() < 1 || limit.get<int64_t>() > 1000) {
        report("limit 1..1000");
      }
      if (!offset.is_number_integer() || offset.get<int64_t>() < 0) report("offset >= 0");
      if (r.path == "/v2/posting/fbo/list" && offset.is_number_integer() &&
          offset.get<int64_t>() > 20000) {
        report("offset <= 20000 (MAX_OFFSET_EXCEEDED)");
      }
      const json filter = body.value("filter", json::object());
      auto since = ParseTimestamp(filter.value("since", ""), kNoDefaultOffset);
      auto to = ParseTimestamp(filter.value("to", ""), kNoDefaultOffset);
      if (!since || !to || *to < *since || *to - *since > std::chrono::hours(24 * 366)) {
        report("a period since..to of at most a year");
      }
    }
  }
  if (MostInWindow(all, 1000) > 50) out.push_back("more than 50 requests in a second");
  if (MostInWindow(stocks_requests, 60'000) > 80) {
    out.push_back("more than 80 /v2/products/stocks requests in a minute");
  }
  for (const auto& [pair, times] : pair_updates) {
    if (MostInWindow(times, 30'000) > 1)
      out.push_back("pair " + pair + " updated twice within 30 s");
  }
  for (const auto& [product, times] : price_updates) {
    if (MostInWindow(times, 3'600'000) > 10) {
      out.push_back("the price of " + product + " updated more than 10 times in an hour");
    }
  }
  return out;
}

}  // namespace crmhub::adapters::ozon::testing
