// WildberriesAdapter::Pull: FBS orders and their status changes (see the
// design in adapter.h).

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adapters/wildberries/adapter.h"
#include "adapters/wildberries/orders_common.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

std::optional<int64_t> ParseRfc3339(const std::string& text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                  &consumed) != 6) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  int64_t t = static_cast<int64_t>(timegm(&tm));
  std::string_view rest = std::string_view(text).substr(static_cast<size_t>(consumed));
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      rest.remove_prefix(1);
    }
  }
  if (rest == "Z" || rest.empty()) return t;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    int64_t off = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    return t - off;
  }
  return std::nullopt;
}

int64_t CreatedSeconds(const json& order, int64_t fallback) {
  if (order.contains("createdAt") && order["createdAt"].is_string()) {
    return ParseRfc3339(order["createdAt"].get<std::string>()).value_or(fallback);
  }
  return fallback;
}

InboundEvent StatusEvent(const json& order, const OrderStatus& s, int64_t observed_ms,
                         std::string_view key_prefix) {
  json payload = order;
  payload["supplierStatus"] = s.supplier_status;
  payload["wbStatus"] = s.wb_status;
  payload["statusObservedMs"] = observed_ms;
  InboundEvent event;
  event.ordering_key = fmt::format("{}{}", key_prefix, s.id);
  event.idempotency_key =
      fmt::format("{}:{}:{}", event.ordering_key, s.supplier_status, s.wb_status);
  event.headers = {{"kind", "order"}};
  event.payload = payload.dump();
  return event;
}

Status ToStatus(const ApiError& e) {
  switch (e.kind) {
    case ApiError::Kind::kAuth: return Status::Unauthenticated("wildberries: " + e.message);
    case ApiError::Kind::kRejected: return Status::InvalidArgument("wildberries: " + e.message);
    default: return Status::Unavailable("wildberries: " + e.message);
  }
}

namespace {

struct OpenOrder {
  std::string supplier_status;
  std::string wb_status;
  int64_t created_s = 0;
};

// The persisted cursor:
// {"v":1, "seen_until":S, "scan":{"next":N,"from":S,"high":S} | null,
//  "open":{"<id>":["<supplierStatus>","<wbStatus>",createdS], ...}}
struct Cursor {
  int64_t seen_until = 0;  // newest createdAt fully scanned
  bool scanning = false;
  int64_t next = 0;
  int64_t from = 0;
  int64_t high = 0;  // newest createdAt seen in the current scan
  std::map<int64_t, OpenOrder> open;

  std::string Dump() const {
    json o = json::object();
    for (const auto& [id, s] : open) {
      o[std::to_string(id)] = json::array({s.supplier_status, s.wb_status, s.created_s});
    }
    json j = {{"v", 1}, {"seen_until", seen_until}, {"open", std::move(o)}};
    j["scan"] = scanning ? json{{"next", next}, {"from", from}, {"high", high}} : json(nullptr);
    return j.dump();
  }

  static Result<Cursor> Parse(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("v", 0) != 1) {
      return Status::InvalidArgument("wildberries: unreadable cursor");
    }
    Cursor c;
    c.seen_until = j.value("seen_until", int64_t{0});
    if (j.contains("scan") && j["scan"].is_object()) {
      c.scanning = true;
      c.next = j["scan"].value("next", int64_t{0});
      c.from = j["scan"].value("from", int64_t{0});
      c.high = j["scan"].value("high", int64_t{0});
    }
    if (j.contains("open") && j["open"].is_object()) {
      for (const auto& [key, v] : j["open"].items()) {
        if (!v.is_array() || v.size() != 3) continue;
        c.open[std::stoll(key)] = {v[0].get<std::string>(), v[1].get<std::string>(),
                                   v[2].get<int64_t>()};
      }
    }
    return c;
  }
};

}  // namespace

bool IsFinalWbStatus(std::string_view s) {
  // canceled_by_missed_call: DBS only.
  return s == "sold" || s == "canceled" || s == "canceled_by_client" ||
         s == "declined_by_client" || s == "defect" || s == "canceled_by_missed_call";
}

Result<PullResult> WildberriesAdapter::PullFbs(const std::optional<std::string>& cursor_text) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  const int64_t margin_s =
      std::chrono::duration_cast<std::chrono::seconds>(options_.late_margin).count();
  Cursor c;
  if (cursor_text && !cursor_text->empty()) {
    auto parsed = Cursor::Parse(*cursor_text);
    if (!parsed.ok()) return parsed.status();
    c = std::move(parsed).value();
  } else {
    c.seen_until =
        now_s - std::chrono::duration_cast<std::chrono::seconds>(options_.lookback).count();
  }

  PullResult result;
  // Two requests per page (list + statuses): start only when both can go, so
  // a page is rarely fetched without being able to ask for its statuses.
  if (auto wait = client_.Peek(ApiGroup::kOrders, 2)) {
    result.not_before = *wait;
    return result;
  }

  if (!c.scanning) {
    int64_t from = c.seen_until - margin_s;
    for (const auto& [id, o] : c.open) from = std::min(from, o.created_s);
    const int64_t oldest_allowed = now_s - kMaxPeriodS + kPeriodSafetyS;
    if (from < oldest_allowed) {
      from = oldest_allowed;
      std::erase_if(c.open, [&](const auto& kv) { return kv.second.created_s < oldest_allowed; });
    }
    c.scanning = true;
    c.next = 0;
    c.from = from;
    c.high = c.seen_until;
  }

  auto page = client_.GetOrders(options_.orders_page_size, c.next, c.from, std::nullopt);
  if (!page.ok()) {
    if (page.error.kind == ApiError::Kind::kThrottled) {
      result.not_before = page.error.not_before;
      return result;
    }
    return ToStatus(page.error);
  }

  std::vector<int64_t> wanted;
  std::map<int64_t, const json*> by_id;
  for (const json& order : page.value->orders) {
    int64_t id = order["id"].get<int64_t>();
    if (by_id.count(id)) continue;  // the page repeats itself
    int64_t created = CreatedSeconds(order, 0);
    c.high = std::max(c.high, created);
    bool is_open = c.open.count(id) > 0;
    bool maybe_new = created >= c.seen_until - margin_s;
    if (!is_open && !maybe_new) continue;  // seen in an earlier scan and final
    by_id[id] = &order;
    wanted.push_back(id);
  }

  std::vector<OrderStatus> statuses;
  if (!wanted.empty()) {
    auto st = client_.GetStatuses(wanted);
    if (!st.ok()) {
      if (st.error.kind == ApiError::Kind::kThrottled) {
        result.not_before = st.error.not_before;
        return result;
      }
      return ToStatus(st.error);
    }
    statuses = std::move(st.value).value();
  }

  const int64_t observed_ms = ToUnixMillis(clock_.Now());
  for (const OrderStatus& s : statuses) {
    auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;  // WB answered for an id we did not ask about
    const json& order = *it->second;
    auto open_it = c.open.find(s.id);
    if (open_it != c.open.end() && open_it->second.supplier_status == s.supplier_status &&
        open_it->second.wb_status == s.wb_status) {
      continue;  // unchanged
    }
    result.events.push_back(StatusEvent(order, s, observed_ms, ""));
    if (IsFinalWbStatus(s.wb_status)) {
      if (open_it != c.open.end()) c.open.erase(open_it);
    } else {
      c.open[s.id] = {s.supplier_status, s.wb_status, CreatedSeconds(order, now_s)};
    }
  }
  // Bound the open set: drop the oldest (by createdAt) beyond the cap.
  DropOldest(c.open, options_.max_open_orders);

  const bool short_page = static_cast<int>(page.value->orders.size()) < options_.orders_page_size;
  if (short_page) {
    c.scanning = false;
    c.seen_until = std::max(c.seen_until, c.high);
    result.more = false;
  } else {
    c.next = page.value->next;
    result.more = true;
  }
  result.next_cursor = c.Dump();
  {
    std::lock_guard lock(describe_mu_);
    last_describe_ = json{{"account", options_.id},
                          {"open_orders", c.open.size()},
                          {"seen_until", c.seen_until},
                          {"scanning", c.scanning}}
                         .dump();
  }
  return result;
}

}  // namespace crmhub::adapters::wildberries
