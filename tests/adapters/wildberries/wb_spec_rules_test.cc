// What the Wildberries spec says outside its schemas, checked on what the
// adapter sent during a realistic cycle (FBS and DBS orders pulled, a stock
// push and a price push, through the simulator's request log):
//
//   * the prose rules (ProseFindings): item counts per request, the names a
//     stock item may carry, the deprecated barcode, value ranges, unique
//     ids, date windows, and the per-group request limits of the
//     descriptions' tables (a 409 counting as 10; the cancel method's own
//     100 a minute); supplies: a name of 1..128, «до 100 сборочных заданий»
//     per add, a supply delivered only with an order in it («есть хотя бы
//     одно сборочное задание»); an order WB cancelled is not cancelled
//     again, one WB added to a delivered supply not added again; the
//     returns report (12-reports.yaml): dateFrom and dateTo required,
//     YYYY-MM-DD, dateTo after dateFrom, «максимум за 31 день», 1 request a
//     minute after a burst of 10; the sales report (12-reports.yaml):
//     dateFrom required, RFC 3339 or a date, flag 0 or 1, 1 request a minute
//     (burst 1), and each dateFrom the lastChangeDate of a row already read
//     (the cursor never goes back); the DBS status writes (05-orders-dbs.yaml):
//     each method's own limit (a 409 counting as 10, 33 for receive and
//     reject), the Code body on receive and reject only, a write WB took
//     not sent again;
//   * deprecation: no (method, path) sent matches an operation the official
//     spec marks `deprecated: true` (tests/support/spec_operations.h).
//
// Each check is also fed input that breaks it, and must report it.

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/json_get.h"
#include "base/timestamp.h"
#include "tests/support/spec_operations.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kSpecs = std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/wildberries/";

// The API group of a path, by the limit tables (empty: none).
std::string GroupOf(std::string_view path) {
  // The DBS status writes: each method its own limit.
  if (path.rfind("/api/v3/dbs/orders/", 0) == 0) {
    for (const char* write : {"confirm", "deliver", "receive", "reject", "cancel"}) {
      if (path.ends_with(std::string("/") + write)) return std::string("dbs_") + write;
    }
  }
  if (path.rfind("/api/v3/dbs/", 0) == 0) return "dbs";
  if (path.rfind("/api/v3/orders/", 0) == 0 && path.ends_with("/cancel")) return "cancel";
  if (path.rfind("/api/v3/supplies", 0) == 0) return "orders";
  if (path.rfind("/api/marketplace/v3/supplies", 0) == 0) return "orders";
  if (path.rfind("/api/v3/orders", 0) == 0) return "orders";
  if (path.rfind("/api/v3/stocks/", 0) == 0) return "stocks";
  if (path.rfind("/api/v2/", 0) == 0) return "prices";
  if (path.rfind("/content/", 0) == 0) return "content";
  if (path == "/api/v1/analytics/goods-return") return "analytics";
  if (path == "/api/v1/supplier/sales") return "statistics";
  return "";
}

// The spec's "Период | Лимит | Интервал | Всплеск" rows, read here from the
// descriptions (not from the adapter's constants).
net::RateLimit DocumentedLimit(const std::string& group) {
  if (group == "prices" || group == "content") return net::RateLimit::Every(milliseconds(600), 5);
  if (group == "cancel") return net::RateLimit::Every(milliseconds(600), 20);
  // The DBS status writes: "1 минута | 100 запросов | 600 миллисекунд | 20".
  if (group.rfind("dbs_", 0) == 0) return net::RateLimit::Every(milliseconds(600), 20);
  // goods-return: "1 минута | 1 запрос | 1 минута | 10 запросов".
  if (group == "analytics") return net::RateLimit::Every(milliseconds(60'000), 10);
  // supplier/sales: "1 минута | 1 запрос | 1 минута | 1 запрос".
  if (group == "statistics") return net::RateLimit::Every(milliseconds(60'000), 1);
  return net::RateLimit::Every(milliseconds(200), 20);
}

// One line per rule a request of `log` breaks: "<seq> <method> <path>: <rule>".
// `start`: the wall time of the log's at_ms 0.
std::vector<std::string> ProseFindings(const std::vector<simkit::LoggedRequest>& log,
                                       SystemTime start) {
  std::vector<std::string> out;
  ManualClock clock;  // replays the arrival times through the documented buckets
  std::map<std::string, std::unique_ptr<net::TokenBucket>> buckets;
  int64_t at = 0;
  std::map<std::string, std::set<int64_t>> supply_orders;  // orders WB added, by supply
  std::set<int64_t> delivered_orders;                      // in a supply WB closed
  std::set<std::string> cancelled;                         // cancel paths WB took
  std::optional<int64_t> sales_from;                       // the last sales dateFrom, ms
  std::set<std::string> dbs_written;                       // DBS status writes WB took
  for (const simkit::LoggedRequest& r : log) {
    auto add = [&](const std::string& rule) {
      out.push_back(fmt::format("{} {} {}: {}", r.seq, r.method, r.path, rule));
    };
    Result<json> parsed = ParseJson(r.body);
    const json body = parsed.ok() ? std::move(parsed).value() : json();
    const std::string group = GroupOf(r.path);
    if (!group.empty()) {
      clock.Advance(milliseconds(std::max<int64_t>(0, r.at_ms - at)));
      at = std::max(at, r.at_ms);
      auto& bucket = buckets[group];
      if (!bucket) bucket = std::make_unique<net::TokenBucket>(clock, DocumentedLimit(group));
      if (bucket->TryTake()) add("over the documented request limit of its group");
      // "Один запрос с кодом ответа 409 учитывается как 10 запросов" (receive
      // and reject: «как 33 запроса»).
      if (r.status == 409) bucket->Charge(group == "dbs_receive" || group == "dbs_reject" ? 32 : 9);
    }
    if (r.method == "PUT" && r.path.rfind("/api/v3/stocks/", 0) == 0) {
      const json* stocks = JsonArray(body, "stocks");
      if (stocks == nullptr || stocks->empty() || stocks->size() > 1000) add("1..1000 stocks");
      std::set<int64_t> chrt_ids;
      for (const json& s : stocks ? *stocks : json::array()) {
        // "Названия параметров запроса не валидируются": another name is
        // answered 204 and the stock is not updated.
        for (const auto& [name, v] : s.items()) {
          if (name == "sku") add("sku (the barcode) is deprecated: \"Параметр будет отключен\"");
          if (name != "chrtId" && name != "amount" && name != "sku") add("unknown name " + name);
        }
        auto chrt = JsonInt(s, "chrtId");
        auto amount = JsonInt(s, "amount");
        if (!chrt) add("an item without an integer chrtId");
        if (!amount || *amount < 0 || *amount > 100000) add("amount must be 0..100000");
        // The spec is silent on repeats; we never send one.
        if (chrt && !chrt_ids.insert(*chrt).second) add("chrtId twice in one request");
      }
    }
    if (r.method == "POST" && r.path == "/api/v3/supplies") {
      const json* name = JsonMember(body, "name");
      const std::optional<std::string_view> text = name ? AsString(*name) : std::nullopt;
      const size_t chars =
          text ? static_cast<size_t>(std::count_if(
                     text->begin(), text->end(),
                     [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }))
               : 0;
      if (name != nullptr && (!text || chars == 0 || chars > 128)) {
        add("a supply's name of 1..128 characters");
      }
    }
    if (r.method == "PATCH" && r.path.rfind("/api/marketplace/v3/supplies/", 0) == 0 &&
        r.path.ends_with("/orders")) {
      const json* ids = JsonArray(body, "orders");
      if (ids == nullptr || ids->empty() || ids->size() > 100) {
        add("\"до 100 сборочных заданий\" per add");
      }
      std::set<int64_t> seen;
      for (const json& v : ids ? *ids : json::array()) {
        const std::optional<int64_t> id = AsInt(v);
        if (!id) add("an order id that is not an integer");
        if (id && !seen.insert(*id).second) add("an order twice in one add");
        if (id && delivered_orders.contains(*id))
          add("an order added again after its supply was delivered");
      }
      const std::string supply = r.path.substr(29, r.path.size() - 29 - 7);
      if (r.status == 204) {
        for (int64_t id : seen) supply_orders[supply].insert(id);
      }
    }
    if (r.method == "PATCH" && r.path.rfind("/api/v3/supplies/", 0) == 0 &&
        r.path.ends_with("/deliver")) {
      const std::string supply = r.path.substr(17, r.path.size() - 17 - 8);
      if (supply_orders[supply].empty()) {
        add("a supply delivered without an order (\"есть хотя бы одно сборочное задание\")");
      }
      if (r.status == 204) {
        delivered_orders.insert(supply_orders[supply].begin(), supply_orders[supply].end());
      }
    }
    if (r.method == "PATCH" && GroupOf(r.path) == "cancel") {
      if (cancelled.contains(r.path)) add("an order cancelled again after WB cancelled it");
      if (r.status == 204) cancelled.insert(r.path);
    }
    if (r.method == "PATCH" && group.rfind("dbs_", 0) == 0) {
      // receive and reject: the Code body (requestBody required); the
      // others take none.
      if (group == "dbs_receive" || group == "dbs_reject") {
        const std::optional<std::string_view> code =
            body.is_object() ? JsonString(body, "code") : std::nullopt;
        if (!code || code->empty()) add("receive and reject send {\"code\": the buyer's code}");
      } else if (!r.body.empty()) {
        add("confirm, deliver and cancel take no body");
      }
      // A write WB took is not sent again (a redelivery reads first).
      if (dbs_written.contains(r.path)) add("a DBS status write sent again after WB took it");
      if (r.status == 204) dbs_written.insert(r.path);
    }
    if (r.method == "POST" && r.path == "/api/v2/upload/task") {
      const json* data = JsonArray(body, "data");
      if (data == nullptr || data->empty() || data->size() > 1000) {
        add("\"Максимум 1 000 товаров\" per upload");
      }
      std::set<int64_t> nm_ids;
      for (const json& g : data ? *data : json::array()) {
        auto nm = JsonInt(g, "nmID");
        if (nm && !nm_ids.insert(*nm).second) add("\"Duplicate item Nos.\"");
        if (JsonMember(g, "price") == nullptr && JsonMember(g, "discount") == nullptr) {
          add("\"Цена и скидка не могут быть пустыми одновременно\"");
        }
      }
    }
    if (r.method == "GET" && (r.path == "/api/v3/orders" || r.path == "/api/v3/dbs/orders")) {
      net::HttpRequest q;
      q.query = r.query;
      auto param = [&](const char* name) {
        auto v = q.QueryParam(name);
        return v ? ParseDecimalInt(*v) : std::nullopt;
      };
      const int64_t now_s = ToUnixMillis(start + milliseconds(r.at_ms)) / 1000;
      auto from = param("dateFrom");
      auto to = param("dateTo");
      if (r.path == "/api/v3/dbs/orders" && (!from || !to)) add("dateFrom and dateTo required");
      if (from && to.value_or(now_s) - *from > 30 * 24 * 3600) {
        add("\"максимум 30 календарных дней одним запросом\"");
      }
    }
    if (r.path == "/api/v1/analytics/goods-return") {
      net::HttpRequest q;
      q.query = r.query;
      auto day = [&](const char* name) -> std::optional<int64_t> {
        const std::string v = q.QueryParam(name).value_or("");
        if (v.size() != 10) return std::nullopt;
        Result<int64_t> ms = ParseTimestampMs(v, kMoscowOffsetMinutes);
        return ms.ok() ? std::optional(*ms) : std::nullopt;
      };
      const auto from = day("dateFrom"), to = day("dateTo");
      if (!from || !to) {
        add("dateFrom and dateTo required, YYYY-MM-DD");
      } else if (*to <= *from) {
        add("\"dateTo should be greater dateFrom\"");
      } else if (*to - *from > 31LL * 24 * 3600 * 1000) {
        add("\"Можно получить отчёт максимум за 31 день\"");
      }
    }
    if (r.path == "/api/v1/supplier/sales") {
      net::HttpRequest q;
      q.query = r.query;
      const std::optional<std::string> from = q.QueryParam("dateFrom");
      Result<int64_t> from_ms = ParseTimestampMs(from.value_or(""), kMoscowOffsetMinutes);
      const std::optional<std::string> flag = q.QueryParam("flag");
      if (!from || !from_ms.ok()) {
        add("sales: dateFrom required, RFC 3339 or a date");
      } else {
        // "Во втором и далее запросе в параметре dateFrom используйте полное
        // значение поля lastChangeDate из последней строки ответа".
        if (sales_from && *from_ms < *sales_from) add("sales: dateFrom goes back");
        sales_from = *from_ms;
      }
      if (flag && *flag != "0" && *flag != "1") add("sales: flag 0 or 1");
    }
    if (r.path == "/content/v2/get/cards/list") {
      const json* settings = JsonObject(body, "settings");
      const json* cursor = settings ? JsonObject(*settings, "cursor") : nullptr;
      if (!cursor || JsonInt(*cursor, "limit").value_or(101) > 100) {
        add("cards limit at most 100 (\"больше 100 ... используйте пагинацию\")");
      }
      // "Скопируйте "updatedAt": "***", "nmID": *** из cursor ответа и
      // вставьте в cursor запроса": the next page names both, or neither.
      if (cursor && JsonMember(*cursor, "updatedAt") != nullptr &&
          !JsonInt(*cursor, "nmID").has_value()) {
        add("cards cursor: updatedAt and nmID of the answer before, together");
      }
    }
  }
  return out;
}

adapters::Command MakeCommand(std::string command, json item, int64_t id) {
  adapters::Command m;
  m.key = std::to_string(id);
  m.name = std::move(command);
  m.payload = item.dump();
  return m;
}

// What the adapter sent in a realistic cycle, and when the log started.
struct Cycle {
  std::vector<simkit::LoggedRequest> log;
  SystemTime start;
};

// Delivers `pending` as the runtime would: batches of max_batch, retries at
// their not_before (the clock moved there), until all are settled.
void DeliverAll(WildberriesAdapter& adapter, ManualClock& clock,
                std::vector<adapters::Command> pending) {
  for (int round = 0; round < 200 && !pending.empty(); ++round) {
    std::vector<adapters::Command> next;
    SystemTime wake = clock.Now() + seconds(60);
    for (size_t at = 0; at < pending.size(); at += adapter.max_batch()) {
      std::span<const adapters::Command> batch(
          pending.data() + at, std::min(pending.size() - at, size_t(adapter.max_batch())));
      auto out = adapter.Deliver(batch);
      for (size_t k = 0; k < batch.size(); ++k) {
        if (out[k].kind != DeliveryOutcome::Kind::kRetry) continue;
        next.push_back(batch[k]);
        wake = std::min(wake, out[k].not_before.value_or(clock.Now() + seconds(1)));
      }
    }
    pending = std::move(next);
    clock.Advance(std::max<Duration>(wake - clock.Now(), milliseconds(1)));
  }
  EXPECT_TRUE(pending.empty());
}

const Cycle& RealisticCycle() {
  static const Cycle cycle = [] {
    WildberriesSimOptions so;
    so.orders = 300;
    so.dbs_orders = 60;
    so.products = 1500;
    so.arrival = seconds(30);
    so.lifetime = seconds(30);
    so.kgt_plus_products = {77};
    World w(so);
    const SystemTime start = w.clock.Now();
    WildberriesConfig o = OptionsFor(*w.sim);
    o.orders_page_size = 100;
    WildberriesAdapter adapter(o, w.http.get(), w.clock);
    PullDriver driver;
    for (int i = 0; i < 40; ++i) driver.Step(adapter, w.clock);
    // A stock push over two warehouses: sizes by chrtID, some by barcode
    // only, a few sent twice (the newer wins), one "KGT+" good refused.
    std::vector<adapters::Command> stocks;
    for (int p = 1; p <= 1200; ++p) {
      json item = {{"warehouse_id", p % 3 ? 507 : 508}, {"amount", p % 40}};
      if (p % 5) item["chrt_id"] = 300'000'000 + p;
      if (p % 2 || !item.contains("chrt_id")) item["sku"] = SimBarcode(p);
      stocks.push_back(MakeCommand("set_stock", item, p));
      if (p % 100 == 0) stocks.push_back(MakeCommand("set_stock", item, 10'000 + p));
    }

    // Order commands, on orders the world has not moved yet: five shipped
    // (a supply per warehouse), three cancelled, then all of them delivered
    // again (redeliveries: read first, nothing sent twice).
    std::vector<adapters::Command> orders;
    const std::map<std::string, std::string> now = w.sim->OrderStatuses(false);
    for (const auto& [key, p] : driver.events) {
      const int64_t id = p["id"].get<int64_t>();
      if (orders.size() == 8 || id >= 20'000'000 || now.at(std::to_string(id)) != "new/waiting") {
        continue;
      }
      if (std::any_of(orders.begin(), orders.end(), [&](const adapters::Command& m) {
            return m.payload.find(std::to_string(id)) != std::string::npos;
          })) {
        continue;
      }
      orders.push_back(
          orders.size() < 5
              ? MakeCommand("ship", {{"order_id", id}, {"warehouse_id", p["warehouseId"]}}, id)
              : MakeCommand("cancel", {{"order_id", id}}, id));
    }
    // DBS commands on DBS orders the world has not moved yet: a confirm, a
    // ship (confirm + deliver), a cancel; then delivered again (read first).
    std::vector<adapters::Command> dbs;
    for (const auto& [key, p] : driver.events) {
      const int64_t id = p["id"].get<int64_t>();
      if (dbs.size() == 3 || id < 20'000'000 || now.at(std::to_string(id)) != "new/waiting" ||
          std::any_of(dbs.begin(), dbs.end(), [&](const adapters::Command& m) {
            return m.payload.find(std::to_string(id)) != std::string::npos;
          })) {
        continue;
      }
      const json item = {{"order_id", id}, {"delivery_type", "dbs"}};
      dbs.push_back(dbs.empty()
                        ? MakeCommand("set_status", {{"order_id", id}, {"status", "confirm"}}, id)
                    : dbs.size() == 1 ? MakeCommand("ship", item, id)
                                      : MakeCommand("cancel", item, id));
    }
    EXPECT_EQ(dbs.size(), 3u);
    // At once (DeliverAll would move the world a minute on): each Ok.
    for (int attempt : {1, 2}) {
      for (adapters::Command& m : dbs) m.attempt = attempt;
      for (const DeliveryOutcome& out : adapter.Deliver(dbs)) EXPECT_TRUE(out.ok()) << out.error;
    }
    EXPECT_EQ(orders.size(), 8u);
    DeliverAll(adapter, w.clock, orders);
    for (adapters::Command& m : orders) m.attempt = 2;
    DeliverAll(adapter, w.clock, orders);
    DeliverAll(adapter, w.clock, stocks);
    // A price push with repeated nmIDs.
    std::vector<adapters::Command> prices;
    for (int p = 1; p <= 1100; ++p) {
      json item = {{"nm_id", 100'000'000 + (p % 1050) + 1}, {"price", 1000 + p}};
      if (p % 4 == 0) item["discount"] = p % 30;
      prices.push_back(MakeCommand("set_price", item, 20'000 + p));
    }
    DeliverAll(adapter, w.clock, prices);
    const SystemTime until = w.sim->AllFinalAt() + seconds(30);
    while (w.clock.Now() < until && driver.pulls < 3000) driver.Step(adapter, w.clock);
    EXPECT_EQ(LatestStatuses(driver.events).size(), 360u)
        << driver.pulls << " pulls, " << driver.errors << " errors, clock "
        << ToUnixMillis(w.clock.Now()) - ToUnixMillis(start) << " ms; dbs "
        << std::count_if(driver.events.begin(), driver.events.end(),
                         [](const auto& e) { return e.second.value("id", 0) >= 20'000'000; });
    // The product cards' pass (1500 cards, 15 pages), by the same account
    // with cards on, then a stock named by the CRM's SKU (a card's
    // vendorCode) resolved by them.
    o.products = true;
    WildberriesAdapter with_cards(o, w.http.get(), w.clock);
    for (int i = 0; i < 100 && driver.products < 1500; ++i) driver.Step(with_cards, w.clock);
    EXPECT_EQ(driver.products, 1500);
    DeliverAll(with_cards, w.clock,
               {MakeCommand("set_stock",
                            {{"sku", "art-1300"}, {"warehouse_id", 507}, {"amount", 3}}, 30'000)});
    EXPECT_EQ(w.sim->StockOf(507, SimBarcode(1300)), 3);
    // The returns report's pass, by the same account with returns on.
    o.returns = true;
    WildberriesAdapter with_returns(o, w.http.get(), w.clock);
    for (int i = 0; i < 20 && driver.returns.empty(); ++i) driver.Step(with_returns, w.clock);
    EXPECT_FALSE(driver.returns.empty());
    // The sales report's pass, by the same account with reports on.
    o.reports = true;
    WildberriesAdapter with_reports(o, w.http.get(), w.clock);
    for (int i = 0; i < 20 && driver.reports.empty(); ++i) driver.Step(with_reports, w.clock);
    EXPECT_FALSE(driver.reports.empty());
    return Cycle{w.sim->log().Snapshot(), start};
  }();
  return cycle;
}

TEST(WildberriesSpecRulesTest, TheCycleKeepsEveryProseRule) {
  const Cycle& cycle = RealisticCycle();
  // Not vacuous: each kind of request the rules look at was sent.
  std::set<std::string> sent;
  for (const auto& r : cycle.log) sent.insert(r.method + " " + r.path);
  for (const char* call :
       {"PUT /api/v3/stocks/507", "PUT /api/v3/stocks/508", "POST /api/v2/upload/task",
        "POST /api/v3/supplies", "PATCH /api/v3/supplies/WB-GI-1000001/deliver",
        "PATCH /api/marketplace/v3/supplies/WB-GI-1000001/orders", "GET /api/v3/orders",
        "GET /api/v3/dbs/orders", "POST /content/v2/get/cards/list", "GET /api/v2/history/tasks",
        "GET /api/v1/analytics/goods-return", "GET /api/v1/supplier/sales"}) {
    EXPECT_TRUE(sent.count(call)) << call;
  }
  // The DBS status writes: a confirm (twice: the ship's too), a deliver, a
  // cancel.
  std::map<std::string, int> dbs_writes;
  for (const auto& r : cycle.log) {
    if (r.method == "PATCH" && r.path.rfind("/api/v3/dbs/orders/", 0) == 0) {
      ++dbs_writes[r.path.substr(r.path.rfind('/') + 1)];
    }
  }
  EXPECT_EQ(dbs_writes,
            (std::map<std::string, int>{{"confirm", 2}, {"deliver", 1}, {"cancel", 1}}));
  const std::vector<std::string> findings = ProseFindings(cycle.log, cycle.start);
  std::string all;
  for (const auto& f : findings) all += f + "\n";
  EXPECT_TRUE(findings.empty()) << all;
}

// The test of the test: a log that breaks each rule.
TEST(WildberriesSpecRulesTest, TheProseCheckerReportsEachBrokenRule) {
  std::vector<simkit::LoggedRequest> log;
  auto add = [&](std::string method, std::string path, std::string query, json body, int64_t at_ms,
                 int status = 204) {
    simkit::LoggedRequest r;
    r.seq = log.size() + 1;
    r.method = std::move(method);
    r.path = std::move(path);
    r.query = std::move(query);
    r.body = body.is_null() ? "" : body.dump();
    r.at_ms = at_ms;
    r.status = status;
    log.push_back(std::move(r));
  };
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back({{"chrtId", i + 1}, {"amount", 1}});
  add("PUT", "/api/v3/stocks/507", "", {{"stocks", many}}, 0);
  add("PUT", "/api/v3/stocks/507", "", {{"stocks", {{{"sku", "2000000000015"}, {"amount", 1}}}}},
      10'000);
  add("PUT", "/api/v3/stocks/507", "",
      {{"stocks", {{{"chrtId", 1}, {"amount", 100001}}, {{"chrtId", 1}, {"amount", 1}}}}}, 20'000);
  add("PUT", "/api/v3/stocks/507", "", {{"stocks", {{{"chrtID", 1}, {"amount", 1}}}}}, 30'000);
  add("POST", "/api/v2/upload/task", "", {{"data", {{{"nmID", 1}, {"price", 5}}, {{"nmID", 1}}}}},
      40'000, 200);
  add("GET", "/api/v3/orders", "limit=10&next=0&dateFrom=0", nullptr, 50'000, 200);
  add("GET", "/api/v3/dbs/orders", "limit=10&next=0&dateFrom=100", nullptr, 60'000, 200);
  add("POST", "/content/v2/get/cards/list", "", {{"settings", {{"cursor", {{"limit", 101}}}}}},
      70'000, 200);
  for (int i = 0; i < 25; ++i) add("GET", "/api/v3/orders/new", "", nullptr, 80'000, 200);
  // A 409 costs 10: 2 + 10 + 9 = 21 > 20 at once.
  add("PUT", "/api/v3/stocks/508", "", {{"stocks", {{{"chrtId", 2}, {"amount", 1}}}}}, 90'000);
  add("PUT", "/api/v3/stocks/508", "", {{"stocks", {{{"chrtId", 3}, {"amount", 1}}}}}, 90'000, 409);
  for (int i = 0; i < 9; ++i) {
    add("PUT", "/api/v3/stocks/508", "", {{"stocks", {{{"chrtId", 4}, {"amount", 1}}}}}, 90'000);
  }
  add("PUT", "/api/v3/stocks/508", "", {{"stocks", {{{"chrtId", 5}, {"amount", 1}}}}}, 90'000);

  // Supplies and cancels (at 100 s, one request a second apart).
  add("POST", "/api/v3/supplies", "", {{"name", std::string(129, 'x')}}, 100'000, 201);  // 46
  add("PATCH", "/api/v3/supplies/WB-GI-1/deliver", "", nullptr, 101'000, 409);           // 47
  json ids = json::array();
  for (int i = 0; i < 101; ++i) ids.push_back(10'000'000 + i);
  add("PATCH", "/api/marketplace/v3/supplies/WB-GI-2/orders", "", {{"orders", ids}}, 102'000,
      409);  // 48
  add("PATCH", "/api/marketplace/v3/supplies/WB-GI-2/orders", "", {{"orders", {7, 7}}},
      103'000);                                                            // 49
  add("PATCH", "/api/v3/supplies/WB-GI-2/deliver", "", nullptr, 104'000);  // 50
  add("PATCH", "/api/marketplace/v3/supplies/WB-GI-3/orders", "", {{"orders", {7}}},
      105'000);                                                        // 51
  add("PATCH", "/api/v3/orders/5/cancel", "", nullptr, 106'000);       // 52
  add("PATCH", "/api/v3/orders/5/cancel", "", nullptr, 107'000, 409);  // 53
  for (int i = 0; i < 22; ++i)
    add("PATCH", "/api/v3/orders/" + std::to_string(100 + i) + "/cancel", "", nullptr, 200'000);
  add("POST", "/content/v2/get/cards/list", "",
      {{"settings", {{"cursor", {{"limit", 100}, {"updatedAt", "2023-12-06T11:17:00.96577Z"}}}}}},
      300'000, 200);  // 76
  // The returns report (from 400 s).
  const std::string report = "/api/v1/analytics/goods-return";
  add("GET", report, "dateFrom=2026-01-01", nullptr, 400'000, 400);                    // 77
  add("GET", report, "dateFrom=2026-01-01&dateTo=2026-02-10", nullptr, 401'000, 400);  // 78
  add("GET", report, "dateFrom=2026-01-02&dateTo=2026-01-02", nullptr, 402'000, 400);  // 79
  add("GET", report, "dateFrom=2026-01-01&dateTo=2026-02-01", nullptr, 403'000, 200);  // 80
  for (int i = 0; i < 6; ++i) {  // 81..86: the burst of 10 spent at 86; 87 over
    add("GET", report, "dateFrom=2026-01-01&dateTo=2026-01-31", nullptr, 404'000, 200);
  }
  add("GET", report, "dateFrom=2026-01-01&dateTo=2026-01-31", nullptr, 404'000, 429);  // 87
  // The sales report (from 500 s, a minute apart but where a rule says not).
  const std::string sales = "/api/v1/supplier/sales";
  add("GET", sales, "flag=0", nullptr, 500'000, 400);                               // 88
  add("GET", sales, "dateFrom=yesterday", nullptr, 560'000, 400);                   // 89
  add("GET", sales, "dateFrom=2026-01-05T10:00:00&flag=2", nullptr, 620'000, 400);  // 90
  add("GET", sales, "dateFrom=2026-01-05T10:00:00&flag=0", nullptr, 680'000, 200);  // 91
  add("GET", sales, "dateFrom=2026-01-06T10:00:00&flag=0", nullptr, 681'000, 429);  // 92
  add("GET", sales, "dateFrom=2026-01-04T10:00:00&flag=0", nullptr, 800'000, 200);  // 93
  // DBS status writes (from 900 s).
  add("PATCH", "/api/v3/dbs/orders/7/confirm", "", {{"code", "1"}}, 900'000);      // 94
  add("PATCH", "/api/v3/dbs/orders/7/receive", "", json::object(), 901'000, 400);  // 95
  add("PATCH", "/api/v3/dbs/orders/7/confirm", "", nullptr, 902'000, 409);         // 96
  add("PATCH", "/api/v3/dbs/orders/8/reject", "", {{"code", "1"}}, 903'000, 409);  // 97: 33
  add("PATCH", "/api/v3/dbs/orders/9/reject", "", {{"code", "1"}}, 903'000, 409);  // 98: over
  const std::vector<std::string> f = ProseFindings(log, FromUnixMillis(40LL * 24 * 3600 * 1000));
  std::string all;
  for (const auto& line : f) all += line + "\n";
  auto reported = [&](const std::string& text) { return all.find(text) != std::string::npos; };
  EXPECT_TRUE(reported("1 PUT /api/v3/stocks/507: 1..1000 stocks")) << all;
  EXPECT_TRUE(reported("2 PUT /api/v3/stocks/507: sku (the barcode) is deprecated")) << all;
  EXPECT_TRUE(reported("2 PUT /api/v3/stocks/507: an item without an integer chrtId")) << all;
  EXPECT_TRUE(reported("3 PUT /api/v3/stocks/507: amount must be 0..100000")) << all;
  EXPECT_TRUE(reported("3 PUT /api/v3/stocks/507: chrtId twice in one request")) << all;
  EXPECT_TRUE(reported("4 PUT /api/v3/stocks/507: unknown name chrtID")) << all;
  EXPECT_TRUE(reported("5 POST /api/v2/upload/task: \"Duplicate item Nos.\"")) << all;
  EXPECT_TRUE(reported("5 POST /api/v2/upload/task: \"Цена и скидка")) << all;
  EXPECT_TRUE(reported("6 GET /api/v3/orders: \"максимум 30 календарных дней")) << all;
  EXPECT_TRUE(reported("7 GET /api/v3/dbs/orders: dateFrom and dateTo required")) << all;
  EXPECT_TRUE(reported("8 POST /content/v2/get/cards/list: cards limit at most 100")) << all;
  EXPECT_TRUE(reported("29 GET /api/v3/orders/new: over the documented request limit")) << all;
  EXPECT_FALSE(reported("28 GET /api/v3/orders/new: over")) << all;  // 20 + 0 refilled
  EXPECT_TRUE(reported("45 PUT /api/v3/stocks/508: over the documented request limit")) << all;
  EXPECT_FALSE(reported("44 PUT /api/v3/stocks/508: over")) << all;
  EXPECT_TRUE(reported("46 POST /api/v3/supplies: a supply's name of 1..128")) << all;
  EXPECT_TRUE(
      reported("47 PATCH /api/v3/supplies/WB-GI-1/deliver: a supply delivered without an order"))
      << all;
  EXPECT_TRUE(reported("48 PATCH /api/marketplace/v3/supplies/WB-GI-2/orders: \"до 100")) << all;
  EXPECT_TRUE(reported("49 PATCH /api/marketplace/v3/supplies/WB-GI-2/orders: an order twice"))
      << all;
  EXPECT_FALSE(reported("50 PATCH")) << all;  // WB-GI-2 got order 7
  EXPECT_TRUE(
      reported("51 PATCH /api/marketplace/v3/supplies/WB-GI-3/orders: an order added again"))
      << all;
  EXPECT_TRUE(reported("53 PATCH /api/v3/orders/5/cancel: an order cancelled again")) << all;
  EXPECT_TRUE(reported("74 PATCH /api/v3/orders/120/cancel: over the documented request limit"))
      << all;
  EXPECT_FALSE(reported("73 PATCH /api/v3/orders/119/cancel: over")) << all;
  EXPECT_TRUE(reported("76 POST /content/v2/get/cards/list: cards cursor: updatedAt and nmID"))
      << all;
  EXPECT_TRUE(reported("77 GET /api/v1/analytics/goods-return: dateFrom and dateTo required"))
      << all;
  EXPECT_TRUE(reported("78 GET /api/v1/analytics/goods-return: \"Можно получить отчёт")) << all;
  EXPECT_TRUE(reported("79 GET /api/v1/analytics/goods-return: \"dateTo should be greater")) << all;
  EXPECT_FALSE(reported("80 GET")) << all;  // 31 days: inside
  EXPECT_FALSE(reported("86 GET")) << all;
  EXPECT_TRUE(reported("87 GET /api/v1/analytics/goods-return: over the documented request limit"))
      << all;
  EXPECT_TRUE(reported("88 GET /api/v1/supplier/sales: sales: dateFrom required")) << all;
  EXPECT_TRUE(reported("89 GET /api/v1/supplier/sales: sales: dateFrom required")) << all;
  EXPECT_TRUE(reported("90 GET /api/v1/supplier/sales: sales: flag 0 or 1")) << all;
  EXPECT_FALSE(reported("91 GET")) << all;
  EXPECT_TRUE(reported("92 GET /api/v1/supplier/sales: over the documented request limit")) << all;
  EXPECT_TRUE(reported("93 GET /api/v1/supplier/sales: sales: dateFrom goes back")) << all;
  EXPECT_TRUE(reported("94 PATCH /api/v3/dbs/orders/7/confirm: confirm, deliver and cancel take"))
      << all;
  EXPECT_TRUE(reported("95 PATCH /api/v3/dbs/orders/7/receive: receive and reject send")) << all;
  EXPECT_TRUE(reported("96 PATCH /api/v3/dbs/orders/7/confirm: a DBS status write sent again"))
      << all;
  EXPECT_FALSE(reported("97 PATCH")) << all;
  EXPECT_TRUE(reported("98 PATCH /api/v3/dbs/orders/9/reject: over the documented request limit"))
      << all;
}

// The (method, path) pairs of `log`, once each.
std::vector<std::pair<std::string, std::string>> CallsOf(
    const std::vector<simkit::LoggedRequest>& log) {
  std::set<std::pair<std::string, std::string>> calls;
  for (const auto& r : log) calls.emplace(r.method, r.path);
  return {calls.begin(), calls.end()};
}

std::vector<std::string> Specs(const std::string& orders_fbs) {
  return {kSpecs + "02-products.yaml", orders_fbs, kSpecs + "05-orders-dbs.yaml",
          kSpecs + "12-reports.yaml"};
}

TEST(WildberriesSpecRulesTest, NoOperationTheCycleCallsIsDeprecated) {
  const auto calls = CallsOf(RealisticCycle().log);
  EXPECT_GE(calls.size(), 10u);  // orders, statuses, DBS x3, stocks x2 warehouses, prices x2, cards
  auto operations = crmhub::testing::LoadSpecOperations(Specs(kSpecs + "03-orders-fbs.yaml"));
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  const crmhub::testing::CallFindings f = crmhub::testing::CheckCalls(*operations, calls);
  for (const auto& d : f.deprecated) ADD_FAILURE() << "calls a deprecated operation: " << d;
  for (const auto& u : f.unknown) ADD_FAILURE() << "calls an operation the spec lacks: " << u;
}

// The test of the test: in a copy of the FBS spec whose statuses operation
// is marked deprecated, the same calls are reported.
TEST(WildberriesSpecRulesTest, TheDeprecationCheckReportsACalledDeprecatedOperation) {
  std::ifstream in(kSpecs + "03-orders-fbs.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string spec = text.str();
  const size_t path = spec.find("\n  /api/v3/orders/status:\n");
  ASSERT_NE(path, std::string::npos);
  const size_t post = spec.find("\n    post:\n", path);
  ASSERT_NE(post, std::string::npos);
  spec.insert(post + std::string("\n    post:\n").size(), "      deprecated: true\n");
  const auto dir = std::filesystem::temp_directory_path() / "crmhub-wb-deprecation-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "03-orders-fbs.yaml") << spec;
  auto operations =
      crmhub::testing::LoadSpecOperations(Specs((dir / "03-orders-fbs.yaml").string()));
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(operations.ok()) << operations.status().ToString();
  const crmhub::testing::CallFindings f =
      crmhub::testing::CheckCalls(*operations, CallsOf(RealisticCycle().log));
  ASSERT_EQ(f.deprecated.size(), 1u);
  EXPECT_EQ(f.deprecated[0].rfind("POST /api/v3/orders/status", 0), 0u) << f.deprecated[0];
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
