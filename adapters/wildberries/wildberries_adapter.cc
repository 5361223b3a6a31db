// WildberriesAdapter: construction, the cursor, Pull (FBS and DBS orders)
// and Deliver's dispatch. Stocks are in wildberries_stocks.cc, prices in
// wildberries_prices.cc.

#include "adapters/wildberries/wildberries_adapter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <deque>

#include "adapters/kit/command_fields.h"
#include "adapters/kit/cursor_pass.h"
#include "adapters/kit/order_commands.h"
#include "adapters/kit/returns_pass.h"
#include "adapters/kit/unreadable_record.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::wildberries {
namespace {

using nlohmann::json;

// dateFrom is kept an hour inside the API's 30-day period.
constexpr int64_t kOldestS = kMaxPeriod.count() - 3600;
// One Pull does at most this many DBS requests.
constexpr int kDbsRequestsPerPull = 4;

// The upstreams of an account are "wildberries:<id>:<group>".
WildberriesConfig Named(WildberriesConfig config) {
  config.client.upstream_name = "wildberries:" + config.id;
  return config;
}

int64_t UnixSeconds(SystemTime t) { return ToUnixMillis(t) / 1000; }
int64_t Seconds(std::chrono::milliseconds d) { return d.count() / 1000; }

// An order's createdAt (RFC 3339) in Unix seconds; nullopt if unreadable.
std::optional<int64_t> CreatedSeconds(std::string_view text) {
  Result<int64_t> ms = ParseTimestampMs(text, kUtcOffsetMinutes);
  return ms.ok() ? std::optional(*ms / 1000) : std::nullopt;
}

}  // namespace

bool IsFinalWbStatus(std::string_view s) {
  // canceled_by_missed_call: DBS only.
  return s == "sold" || s == "canceled" || s == "canceled_by_client" || s == "declined_by_client" ||
         s == "defect" || s == "canceled_by_missed_call";
}

std::optional<int64_t> CommandInt(const json& item, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (const json* v = JsonMember(item, name); v != nullptr && !v->is_null())
      return AsIntLoose(*v);
  }
  return std::nullopt;
}

// The persisted cursor (a format older versions wrote too):
// {"v":1, "seen_until":S, "scan":{"next":N,"from":S,"high":S} | null,
//  "open":{"<id>":["<supplierStatus>","<wbStatus>",createdS], ...},
//  "dbs":{"due_ms", "stage": "new"|"status"|"done", "after", "from", "to",
//         "next", "done_until", "open":{"<id>":[sup, wb, createdS, order]},
//         "closed":{"<id>":createdS}}}
struct WildberriesAdapter::Cursor {
  struct Followed {
    std::string supplier_status, wb_status;  // empty: not emitted yet (DBS)
    int64_t created_s = 0;
    json order;  // DBS only: no DBS method returns an order in progress by id
  };
  using Open = std::map<int64_t, Followed>;
  struct Scan {
    int64_t next = 0, from = 0, high = 0;  // high: the newest createdAt seen
  };

  bool started = false;    // the first FBS page was asked for
  int64_t seen_until = 0;  // newest createdAt fully scanned
  std::optional<Scan> scan;
  Open open;
  kit::CatalogPass products;  // the product cards' pass
  kit::ReturnsPass returns;   // the returns report's pass (page token: the next request's from, ms)
  kit::ReportPass reports;    // the sales report's pass (position: the last lastChangeDate)
  struct {
    int64_t due_ms = 0;  // the next cycle starts at
    std::string stage = "new";
    int64_t after = 0;                   // status: the last id asked
    int64_t from = 0, to = 0, next = 0;  // done: the period and the page
    int64_t done_until = 0;              // dateTo of the last complete read
    Open open;
    std::map<int64_t, int64_t> closed;  // id -> createdAt: final status emitted
  } dbs;

  static Result<Cursor> Parse(std::string_view text) {
    Result<json> j = ParseJson(text);
    if (!j.ok() || JsonInt(*j, "v") != 1) {
      return Status::InvalidArgument("wildberries: unreadable cursor");
    }
    Cursor c;
    c.started = true;
    c.seen_until = JsonInt(*j, "seen_until").value_or(0);
    if (const json* s = JsonObject(*j, "scan")) {
      c.scan = Scan{JsonInt(*s, "next").value_or(0), JsonInt(*s, "from").value_or(0),
                    JsonInt(*s, "high").value_or(0)};
    }
    ReadOpen(*j, c.open);
    if (!kit::ReadCursorPass(*j, "products", c.products)) {
      return Status::InvalidArgument("wildberries: unreadable cursor (products)");
    }
    if (!kit::ReadCursorPass(*j, "returns", c.returns)) {
      return Status::InvalidArgument("wildberries: unreadable cursor (returns)");
    }
    if (!kit::ReadCursorPass(*j, "reports", c.reports)) {
      return Status::InvalidArgument("wildberries: unreadable cursor (reports)");
    }
    if (const json* d = JsonObject(*j, "dbs")) {
      c.dbs.due_ms = JsonInt(*d, "due_ms").value_or(0);
      c.dbs.stage = std::string(JsonString(*d, "stage").value_or("new"));
      c.dbs.after = JsonInt(*d, "after").value_or(0);
      c.dbs.from = JsonInt(*d, "from").value_or(0);
      c.dbs.to = JsonInt(*d, "to").value_or(0);
      c.dbs.next = JsonInt(*d, "next").value_or(0);
      c.dbs.done_until = JsonInt(*d, "done_until").value_or(0);
      ReadOpen(*d, c.dbs.open);
      if (const json* closed = JsonObject(*d, "closed")) {
        for (const auto& [key, v] : closed->items()) {
          auto id = ParseDecimalInt(key);
          if (id && AsInt(v)) c.dbs.closed[*id] = *AsInt(v);
        }
      }
    }
    return c;
  }
  // "open": id -> [supplierStatus, wbStatus, createdS(, order)].
  static void ReadOpen(const json& j, Open& open) {
    const json* o = JsonObject(j, "open");
    if (o == nullptr) return;
    for (const auto& [key, v] : o->items()) {
      auto id = ParseDecimalInt(key);
      if (!id || !v.is_array() || v.size() < 3) continue;
      Followed f{std::string(AsString(v[0]).value_or("")), std::string(AsString(v[1]).value_or("")),
                 AsInt(v[2]).value_or(0), v.size() > 3 ? v[3] : json()};
      open.emplace(*id, std::move(f));
    }
  }
  static json DumpOpen(const Open& open, bool with_order) {
    json o = json::object();
    for (const auto& [id, f] : open) {
      json v = json::array({f.supplier_status, f.wb_status, f.created_s});
      if (with_order) v.push_back(f.order);
      o[std::to_string(id)] = std::move(v);
    }
    return o;
  }
  std::string Dump() const {
    json j = {{"v", 1}, {"seen_until", seen_until}, {"open", DumpOpen(open, false)}};
    j["scan"] = scan ? json{{"next", scan->next}, {"from", scan->from}, {"high", scan->high}}
                     : json(nullptr);
    json closed = json::object();
    for (const auto& [id, created] : dbs.closed) closed[std::to_string(id)] = created;
    j["dbs"] = {{"due_ms", dbs.due_ms},
                {"stage", dbs.stage},
                {"after", dbs.after},
                {"from", dbs.from},
                {"to", dbs.to},
                {"next", dbs.next},
                {"done_until", dbs.done_until},
                {"open", DumpOpen(dbs.open, true)},
                {"closed", std::move(closed)}};
    j["products"] = products.ToObject();
    j["returns"] = returns.ToObject();
    j["reports"] = reports.ToObject();
    return j.dump();
  }

  // An order asked about: its JSON text as WB sent it, and for DBS orders
  // followed from the cursor, the record kept there.
  struct Record {
    std::string_view text;
    std::optional<int64_t> created_s;
    const json* kept = nullptr;
  };
  // Emits an event for each status in `statuses` that changed since the
  // last one seen for that id; final statuses leave `followed` (into
  // `closed` when given), others stay (with the record when `keep_order`).
  static void Apply(const std::vector<OrderStatus>& statuses,
                    const std::map<int64_t, Record>& records, Open& followed, bool keep_order,
                    std::map<int64_t, int64_t>* closed, std::string_view prefix, SystemTime now,
                    PullResult& result) {
    const int64_t observed_ms = ToUnixMillis(now);
    for (const OrderStatus& s : statuses) {
      auto rec = records.find(s.id);
      if (rec == records.end()) continue;  // WB answered for an id we did not ask about
      const Record& order = rec->second;
      auto it = followed.find(s.id);
      if (it != followed.end() && it->second.supplier_status == s.supplier_status &&
          it->second.wb_status == s.wb_status) {
        continue;  // unchanged
      }
      InboundEvent& e = result.events.emplace_back();
      e.ordering_key = fmt::format("{}{}", prefix, s.id);
      e.idempotency_key = fmt::format("{}:{}:{}", e.ordering_key, s.supplier_status, s.wb_status);
      e.kind = "order";
      e.payload = Payload(order.text, s, observed_ms);
      const int64_t created = order.created_s.value_or(UnixSeconds(now));
      if (IsFinalWbStatus(s.wb_status)) {
        if (it != followed.end()) followed.erase(it);
        if (closed != nullptr) (*closed)[s.id] = created;
      } else {
        json kept;  // a copy first: order.kept may be this very entry
        if (keep_order) kept = order.kept ? *order.kept : ParseJson(order.text).value_or(json());
        followed[s.id] = {s.supplier_status, s.wb_status, created, std::move(kept)};
      }
    }
  }
  // The order's own text with the members the rules read added at its end:
  // "supplierStatus", "wbStatus", "statusObservedMs". (Not an object: a
  // cursor's DBS entry without its record; the members alone.)
  static std::string Payload(std::string_view order, const OrderStatus& s, int64_t observed_ms) {
    const bool object = order.size() >= 2 && order.front() == '{' && order.back() == '}';
    std::string out(object ? order.substr(0, order.size() - 1) : "{");
    while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
    if (out.empty() || out.back() != '{') out += ',';
    out += fmt::format(R"("supplierStatus":{},"wbStatus":{},"statusObservedMs":{}}})",
                       json(s.supplier_status).dump(), json(s.wb_status).dump(), observed_ms);
    return out;
  }
  // Drops the oldest (by createdAt) beyond `cap`.
  static void Bound(Open& followed, size_t cap) {
    if (followed.size() <= cap) return;
    std::vector<std::pair<int64_t, int64_t>> by_age;  // created, id
    for (const auto& [id, f] : followed) by_age.emplace_back(f.created_s, id);
    std::sort(by_age.begin(), by_age.end());
    for (size_t i = 0; i < by_age.size() - cap; ++i) followed.erase(by_age[i].second);
  }
};

WildberriesAdapter::WildberriesAdapter(WildberriesConfig config, net::Transport transport,
                                       Clock& clock, MetricsRegistry* metrics)
    : config_(Named(std::move(config))),
      clock_(clock),
      client_(config_.client, std::move(transport), clock, metrics) {}

WildberriesAdapter::WildberriesAdapter(WildberriesConfig config, net::HttpClient* http,
                                       Clock& clock, MetricsRegistry* metrics)
    : WildberriesAdapter(config,
                         WildberriesClient::MakeTransport(Named(config).client.upstream_name, http,
                                                          clock, metrics),
                         clock, metrics) {}

std::string WildberriesAdapter::DescribeJson() const {
  std::lock_guard lock(describe_mu_);
  return describe_.dump();
}

std::vector<DeliveryOutcome> WildberriesAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size(), DeliveryOutcome::Ok());
  std::vector<kit::TargetCommand> stocks, prices;
  std::vector<OrderCommand> orders;
  std::vector<DbsCommand> dbs;
  for (kit::TargetCommand& c : kit::ReadCommands(
           batch, {"set_stock", "set_price", kit::kShip, kit::kCancel, kit::kSetStatus},
           "wildberries", out)) {
    const std::optional<Scheme> scheme = CommandScheme(c.item);
    if ((c.name == kit::kShip || c.name == kit::kCancel || c.name == kit::kSetStatus) &&
        (!scheme || (c.name == kit::kSetStatus && scheme == Scheme::kFbs &&
                     JsonMember(c.item, "delivery_type") != nullptr))) {
      out[c.index] = DeliveryOutcome::Fail(
          "wildberries: " + c.name + ": delivery_type must be \"fbs\", \"dbs\" or \"edbs\"" +
          (c.name == kit::kSetStatus ? " (set_status is for DBS orders only)" : "") + ", got " +
          kit::QuoteMember(c.item, "delivery_type"));
      continue;
    }
    if (c.name == kit::kSetStatus ||
        ((c.name == kit::kShip || c.name == kit::kCancel) && scheme == Scheme::kDbs)) {
      Result<DbsCommand> d = ReadDbsCommand(c);
      if (d.ok()) {
        dbs.push_back(std::move(*d));
      } else {  // a command WB would refuse: a dead letter
        out[c.index] =
            DeliveryOutcome::Fail("wildberries: " + c.name + ": " + d.status().message());
      }
      continue;
    }
    if (c.name == kit::kShip || c.name == kit::kCancel) {
      Result<OrderCommand> o = ReadOrderCommand(c);
      if (o.ok()) {
        orders.push_back(std::move(*o));
      } else {  // a command WB would refuse: a dead letter
        out[c.index] =
            DeliveryOutcome::Fail("wildberries: " + c.name + ": " + o.status().message());
      }
      continue;
    }
    (c.name == "set_stock" ? stocks : prices).push_back(std::move(c));
  }
  if (!stocks.empty()) DeliverStocks(stocks, out);
  if (!prices.empty()) DeliverPrices(batch, prices, out);
  if (!orders.empty()) DeliverOrders(std::move(orders), out);
  if (!dbs.empty()) DeliverDbsOrders(std::move(dbs), out);
  return out;
}

Result<PullResult> WildberriesAdapter::Pull(const std::optional<std::string>& text) {
  Cursor c;
  if (text && !text->empty()) {
    Result<Cursor> parsed = Cursor::Parse(*text);
    if (!parsed.ok()) return parsed.status();
    c = std::move(parsed).value();
  }
  // DBS between two FBS scans (and never before the first): an FBS scan is
  // not split, and the first Pull of a new account is FBS.
  if (config_.dbs && c.started && !c.scan && c.dbs.due_ms <= ToUnixMillis(clock_.Now())) {
    PullResult result = PullDbs(c);
    result.next_cursor = c.Dump();
    result.more = !result.not_before.has_value();  // FBS (or the rest of the cycle) next
    return result;
  }
  // The returns' pass, between two FBS scans too, when due.
  if (config_.returns && c.started && !c.scan && ReturnsDue(c)) return PullReturns(c);
  // The sales report's pass, between two FBS scans too, when due.
  if (config_.reports && c.started && !c.scan && ReportsDue(c.reports)) {
    Result<PullResult> r = PullReports(c.reports);
    if (r.ok() && !r->next_cursor) r->next_cursor = c.Dump();
    return r;
  }
  // The product cards' pass, between two FBS scans too, when due.
  if (config_.products && c.started && !c.scan && c.products.Due(ToUnixMillis(clock_.Now()))) {
    return PullProducts(c);
  }
  Result<PullResult> fbs = PullFbs(c);
  // A scan's end with a pass due: the pass follows at once, in this round.
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  if (fbs.ok() && !fbs->more && !fbs->not_before && config_.products && !c.scan &&
      (c.products.in_pass || now_ms >= c.products.next_ms)) {
    fbs->more = true;
  }
  if (fbs.ok() && !fbs->more && !fbs->not_before && config_.returns && !c.scan && ReturnsDue(c)) {
    fbs->more = true;
  }
  if (fbs.ok() && !fbs->more && !fbs->not_before && config_.reports && !c.scan &&
      ReportsDue(c.reports)) {
    fbs->more = true;
  }
  return fbs;
}

bool WildberriesAdapter::ReturnsDue(const Cursor& c) const {
  const SystemTime now = clock_.Now();
  if (now < returns_paused_until_) return false;
  const kit::ReturnsPass& pass = c.returns;
  const bool due = pass.window_to_ms != 0 || pass.watermark_ms == 0 ||
                   ToUnixMillis(now) >= pass.watermark_ms + config_.returns_interval.count();
  // 1 request a minute: a pass waits for the limiter instead of holding up FBS.
  return due && !client_.Peek(Group::kAnalytics, 1).has_value();
}

// The report takes whole days (dateFrom, dateTo; "dateTo should be greater
// dateFrom", at most 31 days apart). The spec names no time zone for them;
// they are read as Moscow days, WB's time where a date carries none (the
// statistics methods' own note). A pass reads [its start - returns_window,
// its start] (kit::ReturnsPass with no lookback and the window as overlap):
// the spec does not say which of a return's dates the period selects, so
// each pass re-reads the whole window and a return's later statuses are seen
// while it is inside. A longer range is read 31 days a request, the page
// token the next request's start (ms; its day is read again).
Result<PullResult> WildberriesAdapter::PullReturns(Cursor& c) {
  const SystemTime now = clock_.Now();
  const int64_t now_ms = ToUnixMillis(now);
  constexpr int64_t kDayMs = 24 * 3600 * 1000;
  kit::ReturnsPass& pass = c.returns;
  const kit::ReturnsPass::Range range = pass.Begin(now_ms, 0, config_.returns_window.count());
  int64_t from_ms = range.from_ms;
  if (!pass.page_token.empty()) from_ms = ParseDecimalInt(pass.page_token).value_or(from_ms);
  from_ms = std::min(from_ms, range.to_ms - kDayMs);  // dateTo after dateFrom
  // Under 31 days of ms: the days are at most 31 apart.
  const int64_t to_ms = std::min(range.to_ms, from_ms + kMaxReturnsDays * kDayMs - 1);
  auto day = [](int64_t ms) {
    return FormatTimestamp(FromUnixMillis(ms), TimestampStyle::kRfc3339Seconds,
                           kMoscowOffsetMinutes)
        .substr(0, 10);
  };
  PullResult result;
  auto rows = client_.GoodsReturns(day(from_ms), day(to_ms));
  if (!rows.ok()) {
    PauseReport(rows.error(), returns_paused_until_, "returns", "Analytics");
    result.more = true;  // FBS next; the cursor as it was
    return result;
  }
  for (size_t i = 0; i < rows->size(); ++i) {
    const json& row = (*rows)[i];
    const std::optional<int64_t> order = JsonInt(row, "orderId");
    const std::optional<std::string_view> srid = JsonString(row, "srid");
    const std::optional<std::string_view> status = JsonString(row, "status");
    std::string error;
    if (!row.is_object()) {
      error = fmt::format("report[{}] is not a JSON object", i);
    } else if (!order || *order <= 0 || !srid || srid->empty()) {
      error = "orderId must be a positive integer and srid a non-empty string";
    } else if (!status || status->empty()) {
      error = "status must be a non-empty string";
    }
    if (!error.empty()) {
      result.events.push_back(
          kit::UnreadableRecord(row, "wildberries: goods-return: " + error, "return"));
      continue;
    }
    InboundEvent& e = result.events.emplace_back();
    e.kind = "return";
    e.idempotency_key =
        fmt::format("return:{}:{}:{}", *srid, *status, JsonInt(row, "isStatusActive").value_or(-1));
    e.ordering_key = std::to_string(*order);
    json payload = row;
    payload["statusObservedMs"] = now_ms;
    // The row's one item as an array: the rules iterate arrays only.
    if (const json* barcode = JsonMember(row, "barcode"); barcode && barcode->is_string()) {
      json item = {{"barcode", *barcode}};
      for (const char* key : {"nmId", "techSize"}) {
        if (const json* v = JsonMember(row, key)) item[key] = *v;
      }
      payload["items"] = json::array({std::move(item)});
    }
    e.payload = payload.dump();
  }
  const std::string next = to_ms < range.to_ms ? std::to_string(to_ms) : "";
  // The pass's next request, or the cards' pass when due; else FBS at the
  // next poll.
  result.more = pass.After(next, false) || (config_.products && c.products.Due(now_ms));
  result.next_cursor = c.Dump();
  std::lock_guard lock(describe_mu_);
  describe_["returns"] = {{"watermark_ms", pass.watermark_ms}, {"last_error", ""}};
  return result;
}

Result<PullResult> WildberriesAdapter::PullProducts(Cursor& c) {
  // The pass's page token: the cursor of the page before, "<updatedAt> <nmID>".
  CardsCursor at;
  if (const std::string& token = c.products.page_token; !token.empty()) {
    const size_t space = token.rfind(' ');
    at.updated_at = token.substr(0, space);
    at.nm_id = space == std::string::npos
                   ? 0
                   : ParseDecimalInt(std::string_view(token).substr(space + 1)).value_or(0);
  }
  PullResult result;
  auto page = client_.ListCards(at, kMaxCardsPage);
  if (!page.ok()) {
    if (page.error().kind != ApiError::Kind::kThrottled) return page.error().ToStatus();
    result.not_before = page.error().not_before;  // the cursor as it was
    return result;
  }
  kit::QueueCards(page->products, "wildberries", "/content/v2/get/cards/list cards", nm_of_sku_,
                  result.events);
  IndexCards(page->products);
  // "Повторяйте пункты 2 и 3, пока значение total в ответе не станет меньше
  // чем значение limit в запросе."
  const bool last = page->total < kMaxCardsPage || page->cursor == at;
  const std::string next =
      last ? "" : fmt::format("{} {}", page->cursor.updated_at, page->cursor.nm_id);
  c.products.After(next, page->cards == 0, ToUnixMillis(clock_.Now()),
                   config_.products_interval.count());
  result.next_cursor = c.Dump();
  result.more = true;  // the pass's next page, or FBS
  return result;
}

Result<PullResult> WildberriesAdapter::PullFbs(Cursor& c) {
  const SystemTime now = clock_.Now();
  const int64_t now_s = UnixSeconds(now);
  const int64_t margin_s = Seconds(config_.late_margin);
  if (!c.started) {
    c.started = true;
    c.seen_until = now_s - Seconds(config_.lookback);
  }
  PullResult result;
  // Two requests per page (list + statuses): start only when both can go, so
  // a page is rarely fetched without its statuses.
  if (auto wait = client_.Peek(Group::kOrders, 2)) {
    result.not_before = wait;
    return result;
  }
  if (!c.scan) {
    int64_t from = c.seen_until - margin_s;
    for (const auto& [id, o] : c.open) from = std::min(from, o.created_s);
    if (from < now_s - kOldestS) {
      from = now_s - kOldestS;
      std::erase_if(c.open, [&](const auto& kv) { return kv.second.created_s < from; });
    }
    c.scan = Cursor::Scan{0, from, c.seen_until};
  }
  // A throttled request leaves the cursor as it was; others fail the Pull.
  auto failed = [&](const ApiError& e) -> Result<PullResult> {
    if (e.kind != ApiError::Kind::kThrottled) return e.ToStatus();
    result.not_before = e.not_before;
    return result;
  };
  auto page = client_.Orders(Scheme::kFbs, config_.orders_page_size, c.scan->next, c.scan->from,
                             std::nullopt);
  if (!page.ok()) return failed(page.error());

  std::vector<int64_t> wanted;
  std::map<int64_t, Cursor::Record> by_id;
  for (const OrderRecord& order : page->orders) {
    if (by_id.count(order.id)) continue;  // the page repeats itself
    // An unreadable createdAt counts as new: its status is asked for.
    const std::optional<int64_t> created = CreatedSeconds(order.created_at);
    if (created) c.scan->high = std::max(c.scan->high, *created);
    if (!c.open.count(order.id) && created && *created < c.seen_until - margin_s) {
      continue;  // seen in an earlier scan, final
    }
    by_id[order.id] = {order.text, created};
    wanted.push_back(order.id);
  }
  if (!wanted.empty()) {
    auto statuses = client_.Statuses(Scheme::kFbs, wanted);
    if (!statuses.ok()) return failed(statuses.error());
    Cursor::Apply(*statuses, by_id, c.open, false, nullptr, "", now, result);
  }
  Cursor::Bound(c.open, config_.max_open_orders);
  if (static_cast<int>(page->orders.size()) < config_.orders_page_size) {
    c.seen_until = std::max(c.seen_until, c.scan->high);  // a short page ends the scan
    c.scan.reset();
  } else {
    c.scan->next = page->next;
    result.more = true;
  }
  result.next_cursor = c.Dump();
  std::lock_guard lock(describe_mu_);
  describe_["account"] = config_.id;
  describe_["open_orders"] = c.open.size();
  describe_["seen_until"] = c.seen_until;
  describe_["scanning"] = c.scan.has_value();
  return result;
}

// DBS (05-orders-dbs.yaml) differs from FBS: GET /api/v3/dbs/orders lists
// only completed orders, so an order in progress is known from
// GET /api/v3/dbs/orders/new and then followed by id, its record kept in the
// cursor until its status is final. A cycle, at most once per poll_interval:
//   new    GET /api/v3/dbs/orders/new: unseen orders join "open"
//   status POST /api/v3/dbs/orders/status for the open ids, 1000 a request
//   done   GET /api/v3/dbs/orders (dateFrom = now - lookback, dateTo = the
//          cycle's start), page by page; the listed orders not yet seen
//          final get their statuses (orders confirmed before a cycle saw them
//          new and finished later).
PullResult WildberriesAdapter::PullDbs(Cursor& c) {
  auto& d = c.dbs;
  PullResult result;
  const SystemTime now = clock_.Now();
  const int64_t now_s = UnixSeconds(now);
  std::optional<ApiError> error;
  // The statuses of `ids` (orders in `records`) applied; false when failed.
  auto ask = [&](const std::vector<int64_t>& ids,
                 const std::map<int64_t, Cursor::Record>& records) {
    auto st = client_.Statuses(Scheme::kDbs, ids);
    if (!st.ok()) error = st.error();
    if (st.ok()) Cursor::Apply(*st, records, d.open, true, &d.closed, "dbs-", now, result);
    return st.ok();
  };
  for (int requests = 0; requests < kDbsRequestsPerPull && !error;) {
    std::vector<int64_t> ids;
    std::map<int64_t, Cursor::Record> records;
    std::deque<std::string> texts;  // of the followed orders asked about (stable)
    if (d.stage == "new") {
      ++requests;
      auto fresh = client_.NewOrders(Scheme::kDbs);
      if (!fresh.ok()) {
        error = fresh.error();
        break;
      }
      for (json& order : *fresh) {
        auto id = JsonInt(order, "id");
        if (!id) continue;  // an order we could not follow
        auto [it, inserted] = d.open.try_emplace(*id);
        auto created = JsonString(order, "createdAt");
        if (inserted) it->second.created_s = CreatedSeconds(created.value_or("")).value_or(now_s);
        it->second.order = std::move(order);
      }
      d.stage = "status";
      d.after = 0;
    } else if (d.stage == "status") {
      for (auto it = d.open.upper_bound(d.after);
           it != d.open.end() && ids.size() < static_cast<size_t>(kMaxOrdersPerRequest); ++it) {
        ids.push_back(it->first);
        texts.push_back(it->second.order.dump());
        records[it->first] = {texts.back(), it->second.created_s, &it->second.order};
      }
      if (ids.empty()) {
        d.from = std::max(now_s - Seconds(config_.lookback), now_s - kOldestS);
        d.to = now_s;
        // Orders created before the period are not listed any more.
        std::erase_if(d.closed, [&](const auto& e) { return e.second < d.from - 24 * 3600; });
        d.next = 0;
        d.stage = "done";
        continue;
      }
      ++requests;
      if (!ask(ids, records)) break;
      d.after = ids.back();
    } else {
      ++requests;
      auto page = client_.Orders(Scheme::kDbs, config_.orders_page_size, d.next, d.from, d.to);
      if (!page.ok()) {
        error = page.error();
        break;
      }
      for (const OrderRecord& order : page->orders) {
        if (d.closed.count(order.id)) continue;  // its final status is out already
        if (records.emplace(order.id, Cursor::Record{order.text, CreatedSeconds(order.created_at)})
                .second) {
          ids.push_back(order.id);  // pages may repeat
        }
      }
      if (!ids.empty()) {
        ++requests;
        if (!ask(ids, records)) break;
      }
      if (static_cast<int>(page->orders.size()) < config_.orders_page_size) {
        d.done_until = d.to;
        d.stage = "new";
        d.due_ms = ToUnixMillis(now + config_.poll_interval);
        break;  // the cycle is complete
      }
      d.next = page->next;
    }
  }
  if (error && error->kind == ApiError::Kind::kThrottled) {
    result.not_before = error->not_before.value_or(now);
  } else if (error) {
    // The stage is kept and tried again later; FBS goes on meanwhile.
    const bool auth = error->kind == ApiError::Kind::kAuth;
    d.due_ms = ToUnixMillis(now + (auth ? std::max<Duration>(kDbsAuthPause, config_.poll_interval)
                                        : Duration(config_.poll_interval)));
    spdlog::warn("{}: DBS orders: {}{}", config_.id, error->message,
                 auth ? " (set dbs = false for a seller without DBS); FBS goes on" : "");
  }
  // A dropped closed id only costs its final status again, which the queue drops.
  Cursor::Bound(d.open, config_.max_open_orders);
  while (d.closed.size() > config_.max_open_orders) d.closed.erase(d.closed.begin());
  std::lock_guard lock(describe_mu_);
  describe_["dbs"] = {{"open_orders", d.open.size()},
                      {"closed_orders", d.closed.size()},
                      {"stage", d.stage},
                      {"done_until", d.done_until},
                      {"last_error", error && !result.not_before ? error->message : ""}};
  return result;
}

}  // namespace crmhub::adapters::wildberries
