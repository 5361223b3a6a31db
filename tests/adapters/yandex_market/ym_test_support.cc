#include "tests/adapters/yandex_market/ym_test_support.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market::testing {

using nlohmann::json;

void RunCycle(YandexMarketAdapter& adapter, YandexMarketSimulator& sim, ManualClock& clock) {
  std::optional<std::string> cursor;
  int pulled_orders = 0;
  for (int i = 0;; ++i) {
    ASSERT_LT(i, 1000) << "the pull does not catch up";
    auto pulled = adapter.Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    pulled_orders += static_cast<int>(pulled->events.size());
    if (pulled->next_cursor) cursor = pulled->next_cursor;
    if (pulled->not_before) {
      clock.Advance(std::chrono::duration_cast<Duration>(*pulled->not_before - clock.Now()) +
                    std::chrono::milliseconds(1));
    } else if (!pulled->more) {
      break;
    }
  }
  EXPECT_GT(pulled_orders, 0);
  // Market's notification of an order, a while later: fetched at once.
  clock.Advance(std::chrono::seconds(10));
  const std::string first = sim.OrderStatuses(false).begin()->first;
  adapters::Hint hint;
  hint.payload = fmt::format(R"({{"notificationType":"ORDER_STATUS_UPDATED","campaignId":{},)"
                             R"("orderId":{},"updatedAt":"2025-01-01T00:00:00+03:00"}})",
                             adapter.client().options().campaign_id, first);
  ResolveResult resolved = adapter.Resolve(hint);
  EXPECT_TRUE(resolved.outcome.ok()) << resolved.outcome.error;
  EXPECT_EQ(resolved.events.size(), 1u);
  // Stocks: 2,500 commands, 100 skus twice, some written with spaces around.
  std::vector<adapters::Command> stocks;
  for (int i = 0; i < 2500; ++i) {
    const int n = i < 2400 ? i : i - 2400;
    const std::string sku =
        fmt::format("{}YM-{:06d}{}", n % 7 == 0 ? " " : "", n + 1, n % 11 == 0 ? "\t" : "");
    stocks.push_back(MakeCommand("set_stock", {{"sku", sku}, {"stock", i}}));
  }
  for (const DeliveryOutcome& o : adapter.Deliver(stocks)) EXPECT_TRUE(o.ok()) << o.error;
  // Prices: what the cabinet set on a few offers earlier is kept.
  for (int i = 1; i <= 5; ++i) {
    sim.SetPrice(fmt::format("YM-{:06d}", i), {json(1000), "RUR", json(3000), json(900)});
  }
  std::vector<adapters::Command> prices;
  for (int i = 0; i < 700; ++i) {
    json item = {{"offer_id", fmt::format("YM-{:06d}", i % 650 + 1)},
                 {"price", fmt::format("{}.50", 1000 + i)},
                 {"currency", i % 3 == 0 ? "RUB" : "RUR"}};
    if (i % 10 == 9) item["discount_base"] = 2000 + i;
    if (i % 10 == 8) item["minimum_for_bestseller"] = nullptr;
    prices.push_back(MakeCommand("set_price", item));
  }
  for (const DeliveryOutcome& o : adapter.Deliver(prices)) EXPECT_TRUE(o.ok()) << o.error;
  // Status writes: orders awaiting the seller shipped (40) and cancelled
  // (5), then one of the cancelled shipped: refused, a dead letter.
  std::vector<std::string> started;
  for (const auto& [id, status] : sim.OrderStatuses(false)) {
    if (status == "PROCESSING/STARTED") started.push_back(id);
  }
  ASSERT_GE(started.size(), 45u) << "the cycle needs orders awaiting the seller";
  std::vector<adapters::Command> statuses;
  for (size_t i = 0; i < 45; ++i) {
    statuses.push_back(MakeCommand(i < 40 ? "ship" : "cancel", {{"order_id", started[i]}}));
  }
  for (const DeliveryOutcome& o : adapter.Deliver(statuses)) EXPECT_TRUE(o.ok()) << o.error;
  auto illegal = adapter.Deliver(std::vector{MakeCommand("ship", {{"order_id", started[44]}})});
  EXPECT_EQ(illegal[0].kind, DeliveryOutcome::Kind::kFail) << illegal[0].error;
  // set_status: a shipped order the shop cannot fulfil after all.
  auto set = adapter.Deliver(std::vector{MakeCommand(
      "set_status",
      {{"order_id", started[0]}, {"status", "CANCELLED"}, {"substatus", "SHOP_FAILED"}})});
  EXPECT_TRUE(set[0].ok()) << set[0].error;
}

namespace {

// A request's units of a limit, in a sliding window of the log's time.
class WindowCheck {
 public:
  WindowCheck(std::string name, int64_t limit, int64_t window_ms)
      : name_(std::move(name)), limit_(limit), window_ms_(window_ms) {}
  std::optional<std::string> Add(int64_t at_ms, int64_t units) {
    while (!taken_.empty() && taken_.front().first <= at_ms - window_ms_) {
      sum_ -= taken_.front().second;
      taken_.pop_front();
    }
    taken_.emplace_back(at_ms, units);
    sum_ += units;
    if (sum_ <= limit_) return std::nullopt;
    return fmt::format("{}: {} in a window, more than {}", name_, sum_, limit_);
  }

 private:
  std::string name_;
  int64_t limit_, window_ms_;
  std::deque<std::pair<int64_t, int64_t>> taken_;
  int64_t sum_ = 0;
};

size_t Characters(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool IsCurrencyType(const std::string& code) {
  static const std::set<std::string> kEnum = [] {
    std::set<std::string> out;
    std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) +
                     "/marketplaces/yandex-market/openapi/components/schemas/CurrencyType.yaml");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("  - ", 0) == 0) out.insert(line.substr(4));
    }
    return out;
  }();
  return kEnum.contains(code);
}

// "" when `item`'s ShopSku is fine, else why not.
std::string SkuProblem(const json& value) {
  if (!value.is_string()) return "not a string";
  const std::string sku = Trimmed(value.get<std::string>());
  if (sku.empty() || Characters(sku) > 255) return "not 1..255 characters after trimming";
  for (unsigned char c : sku) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return "a control character";
  }
  return "";
}

}  // namespace

std::vector<std::string> ProseViolations(const std::vector<simkit::LoggedRequest>& log) {
  std::vector<std::string> out;
  static const std::regex kStocks(R"(/v2/campaigns/\d+/offers/stocks)");
  static const std::regex kPrices(R"(/v2/businesses/\d+/offer-prices/updates)");
  static const std::regex kPriceReads(R"(/v2/businesses/\d+/offer-prices)");
  static const std::regex kOrders(R"(/v1/businesses/\d+/orders)");
  WindowCheck stock_rate("updateStocks skus a minute", 100000, 60000);
  WindowCheck price_rate("updateBusinessPrices offers a minute", 10000, 60000);
  WindowCheck read_rate("getDefaultPrices offers a minute", 5000, 60000);
  WindowCheck order_rate("getBusinessOrders requests an hour", 10000, 3600000);
  WindowCheck status_rate("updateOrderStatuses orders an hour", 10000, 3600000);
  WindowCheck returns_rate("getReturns requests an hour", 5000, 3600000);
  static const std::regex kReturns(R"(/v2/campaigns/\d+/returns)");
  static const std::regex kMappings(R"(/v2/businesses/\d+/offer-mappings)");
  WindowCheck mappings_rate("getOfferMappings requests a minute", 100, 60000);
  static const std::regex kStatuses(R"(/v2/campaigns/\d+/orders/status-update)");
  for (const simkit::LoggedRequest& r : log) {
    const std::string where = r.method + " " + r.path + ": ";
    auto report = [&](const std::string& rule) { out.push_back(where + rule); };
    const json body = json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
    // Distinct values of `array`'s items at `key` (after `norm`).
    auto distinct = [&](const json& array, const char* key, const char* rule) {
      std::set<std::string> seen;
      for (const json& item : array) {
        const json v = key ? (item.is_object() ? item.value(key, json()) : json()) : item;
        if (v.is_string() && !seen.insert(Trimmed(v.get<std::string>())).second) {
          report(rule + (": " + v.dump()));
        }
      }
    };
    if (r.method == "PUT" && std::regex_match(r.path, kStocks)) {
      const json skus = body.is_object() ? body.value("skus", json::array()) : json::array();
      if (skus.empty() || skus.size() > 2000) report("skus: 1..2000");
      distinct(skus, "sku", "sku twice in one request (after trimming)");
      for (const json& s : skus) {
        if (auto p = SkuProblem(s.value("sku", json())); !p.empty()) report("sku: " + p);
        const json items = s.value("items", json::array());
        const json count = items.size() == 1 ? items[0].value("count", json()) : json();
        if (!count.is_number_integer() || count.get<int64_t>() < 0 ||
            count.get<int64_t>() > 2000000000) {
          report("one item with a count 0..2000000000: " + s.dump());
        }
      }
      if (auto v = stock_rate.Add(r.at_ms, static_cast<int64_t>(skus.size()))) report(*v);
    } else if (r.method == "POST" && std::regex_match(r.path, kPrices)) {
      const json offers = body.is_object() ? body.value("offers", json::array()) : json::array();
      if (offers.empty() || offers.size() > 500) report("offers: 1..500");
      distinct(offers, "offerId", "offerId twice in one request");
      for (const json& o : offers) {
        if (auto p = SkuProblem(o.value("offerId", json())); !p.empty()) report("offerId: " + p);
        const json price = o.value("price", json::object());
        const double value = price.value("value", 0.0);
        if (!IsCurrencyType(price.value("currencyId", ""))) {
          report("currencyId not a CurrencyType: " + price.dump());
        }
        if (price.contains("discountBase")) {
          const double base =
              price["discountBase"].is_number() ? price["discountBase"].get<double>() : 0;
          const double discount = base > 0 ? 1 - value / base : 0;
          if (base <= 0 || std::floor(base) != base)
            report("discountBase not a whole number: " + price.dump());
          else if (discount < 0.05 - 1e-9 || discount > 0.99 + 1e-9) {
            report("discountBase not a 5..99% discount: " + price.dump());
          }
        }
        if (price.contains("minimumForBestseller") &&
            !(price["minimumForBestseller"].is_number() &&
              price["minimumForBestseller"].get<double>() > 0 &&
              price["minimumForBestseller"].get<double>() <= 1e8)) {
          report("minimumForBestseller not in (0, 100000000]: " + price.dump());
        }
      }
      if (auto v = price_rate.Add(r.at_ms, static_cast<int64_t>(offers.size()))) report(*v);
    } else if (r.method == "POST" && std::regex_match(r.path, kPriceReads)) {
      const json ids = body.is_object() ? body.value("offerIds", json()) : json();
      if (ids.is_array() && (ids.empty() || ids.size() > 200)) report("offerIds: 1..200");
      if (ids.is_array()) distinct(ids, nullptr, "offerId twice in one request");
      if (auto v =
              read_rate.Add(r.at_ms, ids.is_array() ? static_cast<int64_t>(ids.size()) : 250)) {
        report(*v);
      }
    } else if (r.method == "POST" && std::regex_match(r.path, kMappings)) {
      // limit: PageLimit100Truncate (a larger one is cut to 100: a page
      // shorter than asked); a page_token only with no offerIds («задать
      // фильтр — в этом случае результаты возвращаются постранично»).
      const std::string query = "&" + r.query;
      const size_t at = query.find("&limit=");
      if (at != std::string::npos) {
        const std::string value = query.substr(at + 7, query.find('&', at + 1) - at - 7);
        const std::optional<int64_t> limit = ParseDecimalInt(value);
        if (!limit || *limit < 1 || *limit > 100) report("getOfferMappings limit 1..100");
      }
      const json ids = body.is_object() ? body.value("offerIds", json()) : json();
      if (ids.is_array() && ids.size() > 200) report("getOfferMappings offerIds: 200 at most");
      if (ids.is_array() && !ids.empty() && query.find("page_token=") != std::string::npos)
        report("getOfferMappings: a page_token with offerIds (they are not paged)");
      if (auto v = mappings_rate.Add(r.at_ms, 1)) report(*v);
    } else if (r.method == "GET" && std::regex_match(r.path, kReturns)) {
      // from_date / to_date are deprecated parameters (fromDate / toDate).
      for (const char* old : {"from_date=", "to_date="}) {
        if (("&" + r.query).find(std::string("&") + old) != std::string::npos) {
          report(std::string("deprecated parameter ") + old + " sent");
        }
      }
      if (auto v = returns_rate.Add(r.at_ms, 1)) report(*v);
    } else if (r.method == "POST" && std::regex_match(r.path, kStatuses)) {
      const json orders = body.is_object() ? body.value("orders", json::array()) : json::array();
      if (orders.empty() || orders.size() > 30) report("orders: 1..30");
      std::set<json> ids;
      for (const json& o : orders) {
        if (!o.is_object()) continue;
        // Each change the description documents names both (a status and
        // the substatus: READY_TO_SHIP, or the cancel reason).
        if (!o.contains("substatus")) report("an order without a substatus: " + o.dump());
        // The pairs the descriptions document a seller sending: READY_TO_SHIP
        // and SHOP_FAILED (updateOrderStatuses), USER_UNREACHABLE
        // (OrderSubstatusType, with its conditions), PROCESSING/STARTED (a
        // LaaS draft's confirmation).
        static const std::set<std::pair<std::string, std::string>> kDocumented = {
            {"PROCESSING", "READY_TO_SHIP"},
            {"CANCELLED", "SHOP_FAILED"},
            {"CANCELLED", "USER_UNREACHABLE"},
            {"PROCESSING", "STARTED"}};
        const std::pair<std::string, std::string> pair = {
            std::string(JsonString(o, "status").value_or("")),
            std::string(JsonString(o, "substatus").value_or(""))};
        if (o.contains("substatus") && !kDocumented.contains(pair)) {
          report("a status/substatus the spec does not document for a seller: " + o.dump());
        }
        if (!ids.insert(o.value("id", json())).second) {
          report("order twice in one request (which write wins is unstated): " + o.dump());
        }
      }
      if (auto v = status_rate.Add(r.at_ms, static_cast<int64_t>(orders.size()))) report(*v);
    } else if (r.method == "POST" && std::regex_match(r.path, kOrders)) {
      if (!body.is_object()) report("the request body is required");
      const json dates = body.is_object() ? body.value("dates", json::object()) : json::object();
      auto day = [&](const char* key) {
        return ParseTimestamp(dates.value(key, std::string()), kMoscowOffsetMinutes);
      };
      if (day("creationDateFrom") && day("creationDateTo") &&
          *day("creationDateTo") - *day("creationDateFrom") > std::chrono::hours(24 * 30)) {
        report("creationDateFrom..creationDateTo more than 30 days apart");
      }
      if (body.is_object() && body.contains("orderIds")) {
        const json ids = body["orderIds"];
        std::set<json> seen(ids.begin(), ids.end());
        if (ids.empty() || ids.size() > 50 || seen.size() != ids.size()) {
          report("orderIds: 1..50 distinct");
        }
      }
      if (auto v = order_rate.Add(r.at_ms, 1)) report(*v);
    }
  }
  return out;
}

}  // namespace crmhub::adapters::yandex_market::testing
