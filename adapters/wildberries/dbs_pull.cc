// WildberriesAdapter::Pull: FBS orders (orders_pull.cc) and DBS orders
// (here, 05-orders-dbs.yaml) share the adapter's one cursor; the DBS state
// lives under its "dbs" key and only moves when the runtime persists the
// cursor, i.e. after the events are durable.
//
// DBS differs from FBS: GET /api/v3/dbs/orders lists only *completed*
// orders, so an order in progress is known from GET /api/v3/dbs/orders/new
// (while it is new) and then followed by id with POST
// /api/v3/dbs/orders/status; its record (needed in every event, since the
// CRM replaces an entity's fields) is kept in the cursor until its status is
// final. A DBS cycle, at most once per poll_interval, is:
//   new    GET /api/v3/dbs/orders/new: unseen orders join "open"
//   status POST /api/v3/dbs/orders/status for the open ids, 1000 per request
//   done   GET /api/v3/dbs/orders (dateFrom = now - lookback, dateTo = the
//          cycle's start) page by page; the statuses of the listed orders not
//          yet seen final ("closed", ids kept while in the period) in one POST
//          per page: catches orders that were confirmed before a cycle saw
//          them new (so never "open") and finished later. The spec does not
//          say which date the period filters by; if it is createdAt, such an
//          order is missed when it finishes more than `lookback` after it was
//          created.
// Events: idempotency key "dbs-<id>:<supplierStatus>:<wbStatus>", ordering
// key "dbs-<id>", payload = the order as WB sent it (deliveryType "dbs") plus
// supplierStatus, wbStatus, statusObservedMs, as for FBS.
// A cycle starts between two FBS scans (the first Pull of an account is FBS).
// A DBS failure other than throttling or auth does not stop the FBS pull:
// the cycle stays at its stage and is tried again after poll_interval
// (DescribeJson shows the error); a 401/403 fails the Pull like FBS's.

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "adapters/wildberries/adapter.h"
#include "adapters/wildberries/orders_common.h"

namespace crmhub::adapters::wildberries {

using nlohmann::json;

namespace {

constexpr int kMaxStatusIds = 1000;  // POST /api/v3/dbs/orders/status maxItems
constexpr int kRequestsPerPull = 4;  // one Pull does at most this many DBS requests

}  // namespace

struct WildberriesAdapter::DbsCursor {
  struct Open {
    std::string supplier_status, wb_status;  // empty: not emitted yet
    int64_t created_s = 0;
    json order;
  };
  int64_t due_ms = 0;         // next cycle starts at (Unix ms)
  std::string stage = "new";  // new -> status -> done -> new
  int64_t after = 0;          // status: the last id asked
  int64_t from = 0, to = 0, next = 0;  // done: the period and the page
  int64_t done_until = 0;     // dateTo of the last complete read; 0: never
  std::map<int64_t, Open> open;
  std::map<int64_t, int64_t> closed;  // id -> createdAt (s): final status emitted

  static DbsCursor Parse(const json& j) {
    DbsCursor c;
    if (!j.is_object()) return c;
    c.due_ms = j.value("due_ms", int64_t{0});
    c.stage = j.value("stage", std::string("new"));
    c.after = j.value("after", int64_t{0});
    c.from = j.value("from", int64_t{0});
    c.to = j.value("to", int64_t{0});
    c.next = j.value("next", int64_t{0});
    c.done_until = j.value("done_until", int64_t{0});
    if (j.contains("open") && j["open"].is_object()) {
      for (const auto& [key, v] : j["open"].items()) {
        if (!v.is_array() || v.size() != 4) continue;
        c.open[std::stoll(key)] = {v[0].get<std::string>(), v[1].get<std::string>(),
                                   v[2].get<int64_t>(), v[3]};
      }
    }
    if (j.contains("closed") && j["closed"].is_object()) {
      for (const auto& [key, v] : j["closed"].items()) c.closed[std::stoll(key)] = v.get<int64_t>();
    }
    return c;
  }
  json Dump() const {
    json o = json::object();
    for (const auto& [id, e] : open) {
      o[std::to_string(id)] = json::array({e.supplier_status, e.wb_status, e.created_s, e.order});
    }
    json cl = json::object();
    for (const auto& [id, created] : closed) cl[std::to_string(id)] = created;
    return {{"due_ms", due_ms}, {"stage", stage},   {"after", after},
            {"from", from},     {"to", to},         {"next", next},
            {"done_until", done_until}, {"open", std::move(o)}, {"closed", std::move(cl)}};
  }
};

Result<PullResult> WildberriesAdapter::Pull(const std::optional<std::string>& cursor_text) {
  json whole = json::object();
  if (cursor_text && !cursor_text->empty()) {
    whole = json::parse(*cursor_text, nullptr, false);
    if (whole.is_discarded() || !whole.is_object()) {
      return Status::InvalidArgument("wildberries: unreadable cursor");
    }
  }
  json dbs = whole.contains("dbs") ? whole["dbs"] : json(nullptr);
  whole.erase("dbs");
  const bool fbs_started = !whole.empty();
  const int64_t now_ms = ToUnixMillis(clock_.Now());

  // Between two FBS scans (and not before the first): the FBS scan is not
  // split, and the first Pull of a new account is FBS.
  const bool fbs_between_scans = fbs_started && whole.value("scan", json()).is_null();
  if (fbs_between_scans && DbsCursor::Parse(dbs).due_ms <= now_ms) {
    DbsCursor d = DbsCursor::Parse(dbs);
    Result<PullResult> pulled = PullDbs(d);
    if (!pulled.ok()) return pulled.status();
    PullResult result = std::move(pulled).value();
    whole["dbs"] = d.Dump();
    result.next_cursor = whole.dump();
    result.more = !result.not_before.has_value();  // FBS (or the rest of the cycle) next
    return result;
  }

  auto result = PullFbs(fbs_started ? std::optional<std::string>(whole.dump()) : std::nullopt);
  if (result.ok() && result->next_cursor) {
    json next = json::parse(*result->next_cursor);
    if (!dbs.is_null()) next["dbs"] = std::move(dbs);
    result->next_cursor = next.dump();
  }
  return result;
}

Result<PullResult> WildberriesAdapter::PullDbs(DbsCursor& d) {
  PullResult result;
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  const int64_t observed_ms = ToUnixMillis(clock_.Now());
  std::string error;
  Status auth;

  // Emits the statuses that changed; `records` has the order of every id asked.
  auto apply = [&](const std::vector<OrderStatus>& statuses,
                   const std::map<int64_t, const json*>& records) {
    for (const OrderStatus& s : statuses) {
      auto rec = records.find(s.id);
      if (rec == records.end()) continue;  // not asked about
      const json order = *rec->second;     // a copy: `open` may drop it below
      auto it = d.open.find(s.id);
      if (it != d.open.end() && it->second.supplier_status == s.supplier_status &&
          it->second.wb_status == s.wb_status) {
        continue;
      }
      result.events.push_back(StatusEvent(order, s, observed_ms, "dbs-"));
      if (IsFinalWbStatus(s.wb_status)) {
        if (it != d.open.end()) d.open.erase(it);
        d.closed[s.id] = CreatedSeconds(order, now_s);
      } else {
        d.open[s.id] = {s.supplier_status, s.wb_status, CreatedSeconds(order, now_s), order};
      }
    }
  };
  // Records why a request failed: throttled (not_before), auth, other.
  auto failed = [&](const ApiError& e) {
    if (e.kind == ApiError::Kind::kThrottled) {
      result.not_before = e.not_before ? e.not_before : std::optional(clock_.Now());
    } else if (e.kind == ApiError::Kind::kAuth) {
      auth = ToStatus(e);  // the account's token: FBS fails the same way
    } else {
      error = ToStatus(e).ToString();
    }
  };

  // Statuses of `ids` (orders in `records`) applied; false when they failed.
  auto ask = [&](const std::vector<int64_t>& ids, const std::map<int64_t, const json*>& records) {
    auto st = client_.GetDbsStatuses(ids);
    if (!st.ok()) {
      failed(st.error);
      return false;
    }
    apply(*st.value, records);
    return true;
  };

  for (int requests = 0;
       requests < kRequestsPerPull && error.empty() && auth.ok() && !result.not_before;) {
    if (d.stage == "new") {
      ++requests;
      auto fresh = client_.GetDbsNewOrders();
      if (!fresh.ok()) {
        failed(fresh.error);
        break;
      }
      for (const json& order : *fresh.value) {
        if (!order.contains("id") || !order["id"].is_number_integer()) continue;
        const int64_t id = order["id"].get<int64_t>();
        auto [it, inserted] = d.open.try_emplace(id);
        if (inserted) it->second.created_s = CreatedSeconds(order, now_s);
        it->second.order = order;
      }
      d.stage = "status";
      d.after = 0;
    } else if (d.stage == "status") {
      std::vector<int64_t> ids;
      std::map<int64_t, const json*> records;
      for (auto it = d.open.upper_bound(d.after);
           it != d.open.end() && ids.size() < static_cast<size_t>(kMaxStatusIds); ++it) {
        ids.push_back(it->first);
        records[it->first] = &it->second.order;
      }
      if (ids.empty()) {
        const int64_t lookback_s =
            std::chrono::duration_cast<std::chrono::seconds>(options_.lookback).count();
        d.from = std::max(now_s - lookback_s, now_s - kMaxPeriodS + kPeriodSafetyS);
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
    } else {  // "done"
      ++requests;
      auto page = client_.GetDbsOrders(options_.orders_page_size, d.next, d.from, d.to);
      if (!page.ok()) {
        failed(page.error);
        break;
      }
      std::vector<int64_t> ids;
      std::map<int64_t, const json*> records;
      for (const json& order : page.value->orders) {
        const int64_t id = order["id"].get<int64_t>();
        if (d.closed.count(id)) continue;  // its final status is out already
        if (records.emplace(id, &order).second) ids.push_back(id);  // pages may repeat
      }
      if (!ids.empty()) {
        ++requests;
        if (!ask(ids, records)) break;
      }
      if (static_cast<int>(page.value->orders.size()) < options_.orders_page_size) {
        d.done_until = d.to;
        d.stage = "new";
        d.due_ms = ToUnixMillis(clock_.Now() + options_.poll_interval);
        break;  // the cycle is complete
      }
      d.next = page.value->next;
    }
  }
  if (!auth.ok()) return auth;
  if (!error.empty()) {
    // Keep the stage; come back after poll_interval (FBS goes on meanwhile).
    d.due_ms = ToUnixMillis(clock_.Now() + options_.poll_interval);
  }
  // Bound the followed orders: drop the oldest beyond the cap. (A dropped
  // closed id only costs its final status again, which the queue drops.)
  DropOldest(d.open, options_.max_open_orders);
  while (d.closed.size() > options_.max_open_orders) d.closed.erase(d.closed.begin());
  {
    std::lock_guard lock(describe_mu_);
    dbs_describe_ = json{{"open_orders", d.open.size()},
                         {"closed_orders", d.closed.size()},
                         {"stage", d.stage},
                         {"done_until", d.done_until},
                         {"last_error", error}};
  }
  return result;
}

std::string WildberriesAdapter::DescribeJson() const {
  std::lock_guard lock(describe_mu_);
  json j = json::parse(last_describe_, nullptr, false);
  if (!j.is_object()) j = json::object();
  if (!dbs_describe_.is_null()) j["dbs"] = dbs_describe_;
  return j.dump();
}

}  // namespace crmhub::adapters::wildberries
