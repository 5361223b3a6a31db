// The simulator's returns: created for some delivered orders, served by
// getReturns (GET /v2/campaigns/{campaignId}/returns), read from the spec
// (paths/v2_campaigns_campaignId_returns.yaml, ReturnDTO,
// PagedReturnsDTO), never from the adapter.

#include <fmt/format.h>

#include <algorithm>

#include "adapters/simkit/json_text.h"
#include "adapters/simkit/world.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

namespace {

constexpr int64_t kReturnsPageMax = 100;  // PageLimit100Truncate
constexpr int64_t kReturnsPageDefault = 50;
constexpr int64_t kFirstReturnId = 90000000;

std::string IsoMsk(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
}

// The Moscow date of `t` as the days are compared: "YYYY-MM-DD".
std::string DayMsk(SystemTime t) { return IsoMsk(t).substr(0, 10); }

bool IsDay(std::string_view s) {
  return s.size() == 10 && ParseTimestamp(s, kMoscowOffsetMinutes).has_value();
}

}  // namespace

void YandexMarketSimulator::CreateReturns() {
  // One delivered order in six; the steps a third of the order's lifetime
  // apart (at least a second), from a step after delivery.
  const auto step = std::max<Duration>(std::chrono::seconds(1), options_.lifetime / 3);
  for (const SimOrder& o : orders_) {
    const SimOrder::Step& last = o.steps.back();
    if (last.status != "DELIVERED" || o.id % 6 != 1) continue;
    SimReturn r{.id = kFirstReturnId + static_cast<int64_t>(returns_.size()),
                .order_id = o.id,
                .created = std::chrono::floor<std::chrono::seconds>(last.at + step),
                .offer_index = o.offer_index,
                .count = o.count};
    r.steps = {{r.created, "CREATED", "STARTED_BY_USER"},
               {r.created + step, "IN_TRANSIT", "REFUND_IN_PROGRESS"},
               {r.created + 2 * step, "READY_FOR_PICKUP", "REFUNDED"}};
    all_final_at_ = std::max(all_final_at_, r.steps.back().at);
    returns_.push_back(std::move(r));
  }
}

std::map<int64_t, int64_t> YandexMarketSimulator::ReturnOrders() const {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  std::map<int64_t, int64_t> out;
  for (const SimReturn& r : returns_) {
    if (r.created <= now) out[r.id] = r.order_id;
  }
  return out;
}

net::HttpResponse YandexMarketSimulator::GetReturns(const simkit::SimRequest& r) {
  const SystemTime now = clock_.Now();
  // fromDate / toDate (from_date / to_date: deprecated aliases, still
  // served): update dates, both days inclusive (the simulator's reading; the
  // spec states neither).
  auto param = [&r](const char* name, const char* alias) {
    return r.http.QueryParam(name).value_or(r.http.QueryParam(alias).value_or(""));
  };
  const std::string from = param("fromDate", "from_date"), to = param("toDate", "to_date");
  if ((!from.empty() && !IsDay(from)) || (!to.empty() && !IsDay(to))) {
    return Error(400, "fromDate and toDate: YYYY-MM-DD");
  }
  const std::string token = param("pageToken", "page_token");
  const int64_t after =
      token.empty() ? 0 : (token[0] == 'r' ? ParseDecimalInt(token.substr(1)).value_or(-1) : -1);
  const int64_t limit = std::min(
      ParseDecimalInt(r.http.QueryParam("limit").value_or(std::to_string(kReturnsPageDefault)))
          .value_or(0),
      kReturnsPageMax);
  if (after < 0 || limit < 1) return Error(400, "limit >= 1 and a pageToken of the last answer");
  simkit::JsonText out;
  out.BeginObject().Member("status", "OK").Key("result").BeginObject().Key("returns").BeginArray();
  int64_t written = 0, last_id = 0;
  bool more = false;
  std::lock_guard lock(mu_);
  for (const SimReturn& ret : returns_) {
    if (ret.id <= after || ret.created > now) continue;
    const SimReturn::Step& cur =
        ret.steps[simkit::StepAt(ret.steps, now, [](const SimReturn::Step& s) { return s.at; })];
    const std::string day = DayMsk(cur.at);
    if ((!from.empty() && day < from) || (!to.empty() && day > to)) continue;
    if (written == limit) {
      more = true;
      break;
    }
    const int64_t amount = (100 + ret.offer_index % 900) * ret.count;
    out.BeginObject().Member("id", ret.id).Member("orderId", ret.order_id);
    out.Member("creationDate", IsoMsk(ret.created)).Member("updateDate", IsoMsk(cur.at));
    out.Member("refundStatus", cur.refund_status).Member("shipmentStatus", cur.shipment_status);
    out.Key("amount").BeginObject().Member("value", amount).Member("currencyId", "RUR").EndObject();
    out.Key("items").BeginArray().BeginObject();
    out.Member("shopSku", fmt::format("YM-{:06d}", ret.offer_index + 1)).Member("count", ret.count);
    out.EndObject().EndArray();
    out.Member("returnType", "RETURN").Member("fastReturn", false).EndObject();
    ++written;
    last_id = ret.id;
  }
  out.EndArray().Key("paging").BeginObject();
  if (more) out.Member("nextPageToken", fmt::format("r{}", last_id));
  out.EndObject().EndObject().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

}  // namespace crmhub::adapters::yandex_market
