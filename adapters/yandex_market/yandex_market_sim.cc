#include "adapters/yandex_market/yandex_market_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <set>

#include "adapters/simkit/json_text.h"
#include "adapters/simkit/notifier.h"
#include "adapters/simkit/world.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

namespace {

// The spec, as the simulator reads it.
constexpr int64_t kPageMax = 50;                             // PageLimit50Truncate
constexpr size_t kIdsMax = 50;                               // orderIds / campaignIds maxItems
constexpr auto kCreationSpan = std::chrono::hours(24 * 30);  // OrderDatesFilterDTO
constexpr int64_t kDefaultCampaignId = 21000001;
constexpr int64_t kDefaultBusinessId = 31000001;
constexpr const char* kDefaultApiKey = "sim-api-key";
const SimOrder::Step kPath[] = {
    {{}, "PROCESSING", "STARTED"},
    {{}, "PROCESSING", "READY_TO_SHIP"},
    {{}, "DELIVERY", "DELIVERY_SERVICE_RECEIVED"},
    {{}, "DELIVERED", "DELIVERY_SERVICE_DELIVERED"},
};

net::HttpResponse Bad(std::string_view message) {
  return YandexMarketSimulator::Error(400, message);
}

// BusinessOrderDTO's date-times: ISO 8601 with the offset, Moscow time.
std::string IsoMsk(SystemTime t) {
  return FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes);
}

// A spent resource limit: 420 with the headers the partner docs describe;
// -Until (RFC 822) rounded up to whole seconds, so a client waiting until
// then finds the limit free.
net::HttpResponse LimitExceeded(std::string_view what, int64_t limit, SystemTime until) {
  net::HttpResponse r =
      YandexMarketSimulator::Error(420, fmt::format("Resource limit exceeded: {}", what));
  r.headers.Set("X-RateLimit-Resource-Limit", std::to_string(limit));
  r.headers.Set("X-RateLimit-Resource-Remaining", "0");
  const std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::ceil<std::chrono::seconds>(until));
  std::tm tm{};
  char date[64];
  r.headers.Set("X-RateLimit-Resource-Until",
                std::string(date, std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT",
                                                gmtime_r(&secs, &tm))));
  return r;
}

std::string OfferId(int64_t index) { return fmt::format("YM-{:06d}", index + 1); }

size_t StepOf(const SimOrder& o, SystemTime now) {
  return simkit::StepAt(o.steps, now, [](const SimOrder::Step& step) { return step.at; });
}

int64_t AccountId(const simkit::SimOptions& o, const char* key, int64_t fallback) {
  auto it = o.account.find(key);
  return it == o.account.end() ? fallback : ParseDecimalInt(it->second).value_or(0);
}

// A BusinessOrderDTO of `o` at `step`.
void WriteOrder(simkit::JsonText& j, const SimOrder& o, size_t step, int64_t campaign) {
  const SimOrder::Step& cur = o.steps[step];
  // Totals for all units. The parts Market sends when they apply: one order
  // in five paid a tenth in Plus points (cashback), one in four subsidised.
  const int64_t total = (100 + o.offer_index % 900) * o.count;
  const int64_t cashback = o.id % 5 == 0 ? total / 10 : 0, subsidy = o.id % 4 == 0 ? total / 20 : 0;
  auto money = [&j](std::string_view key, int64_t value) {
    if (value == 0) return;
    j.Key(key).BeginObject().Member("value", value).Member("currencyId", "RUR").EndObject();
  };
  auto prices = [&](bool with_delivery) {  // ItemPriceDTO; OrderPriceDTO with delivery
    j.Key("prices").BeginObject();
    money("payment", total - cashback);
    money("subsidy", subsidy);
    money("cashback", cashback);
    if (with_delivery) {
      j.Key("delivery").BeginObject();
      money("payment", 99);
      money("subsidy", subsidy > 0 ? 50 : 0);
      j.EndObject();
    }
    j.EndObject();
  };
  const std::string offer = OfferId(o.offer_index);
  j.BeginObject().Member("orderId", o.id).Member("campaignId", campaign);
  j.Member("status", cur.status).Member("substatus", cur.substatus);
  j.Member("creationDate", IsoMsk(o.created)).Member("updateDate", IsoMsk(cur.at));
  j.Member("paymentType", "PREPAID").Member("paymentMethod", "YANDEX").Member("fake", false);
  j.Key("items").BeginArray().BeginObject().Member("id", o.id * 10 + 1).Member("count", o.count);
  j.Member("offerId", offer).Member("offerName", "Товар " + offer);
  prices(false);
  j.EndObject().EndArray();
  prices(true);
  j.Key("delivery").BeginObject().Member("type", "DELIVERY").Member("serviceName", "Маркет");
  j.Member("deliveryServiceId", int64_t{1006360}).Member("deliveryPartnerType", "YANDEX_MARKET");
  j.Key("dates").BeginObject().Member("fromDate", IsoMsk(o.created).substr(0, 10));
  j.EndObject().EndObject().EndObject();
}

// Units of a request's array (what Market's item limits count), at least 1.
int64_t Items(const json& body, std::string_view key) {
  const json* items = JsonArray(body, key);
  return std::max<int64_t>(1, items ? static_cast<int64_t>(items->size()) : 0);
}

// A list of distinct integer ids (orderIds, campaignIds): absent is fine,
// else an array of 1..kIdsMax distinct integers; false otherwise.
bool ReadIds(const json& body, std::string_view key, std::set<int64_t>& out) {
  const json* member = JsonMember(body, key);
  if (member == nullptr || member->is_null()) return true;
  if (!member->is_array() || member->empty() || member->size() > kIdsMax) return false;
  for (const json& id : *member) {
    if (!AsInt(id) || !out.insert(*AsInt(id)).second) return false;
  }
  return true;
}

}  // namespace

std::string YandexMarketSimOptions::api_key() const {
  return credentials.empty() ? kDefaultApiKey : credentials[0];
}
int64_t YandexMarketSimOptions::campaign_id() const {
  return AccountId(*this, "campaign_id", kDefaultCampaignId);
}
int64_t YandexMarketSimOptions::business_id() const {
  return AccountId(*this, "business_id", kDefaultBusinessId);
}

Status YandexMarketSimOptions::Complete() const {
  return campaign_id() > 0 && business_id() > 0
             ? Status::Ok()
             : Status::InvalidArgument(
                   "yandex-market simulator: campaign_id and business_id must be positive numbers");
}

YandexMarketSimulator::YandexMarketSimulator(YandexMarketSimOptions options, Clock& clock)
    : PipelineSimulator(options.io_threads),
      options_(std::move(options)),
      clock_(clock),
      pipeline_(PipelineOptions(), clock) {
  simkit::CreateOrders(options_, clock_, [this](int i, SystemTime created, simkit::SeededRng& rng) {
    SimOrder o{.id = 70000000 + i,
               .created = created,
               .offer_index = rng.Int(0, 999),
               .count = static_cast<int>(rng.Int(1, 3))};
    // Whole seconds: the answer's date-times have second precision.
    const auto walk =
        simkit::Walk(rng, o.created, 4, options_.lifetime / 3, std::chrono::seconds(1), 0.1);
    for (const simkit::WalkStep& s : walk) {
      if (options_.await_seller && !o.steps.empty()) break;
      o.steps.push_back(
          s.status == simkit::WalkStep::kCancelled
              ? SimOrder::Step{s.at, "CANCELLED", "USER_CHANGED_MIND"}
              : SimOrder::Step{s.at, kPath[s.status].status, kPath[s.status].substatus});
    }
    all_final_at_ = std::max(all_final_at_, o.steps.back().at);
    orders_.push_back(std::move(o));
  });
  CreateReturns();
}

simkit::SimPipeline::Options YandexMarketSimulator::PipelineOptions() {
  using Limit = simkit::SimPipeline::Limit;
  simkit::SimPipeline::Options o = CommonOptions(options_, 0x796d6b74);
  o.dialect.server_header = "yandex-market-sim";
  o.dialect.auth_headers = {"Api-Key"};
  for (const std::string& key : options_.credentials.empty()
                                    ? std::vector<std::string>{kDefaultApiKey}
                                    : options_.credentials) {
    o.dialect.accepted.push_back({key, key});
  }
  o.dialect.unauthorized = [](bool missing) {
    return Error(401, missing ? "Api-Key header is required" : "Api-Key is invalid");
  };
  o.dialect.error = Error;
  o.dialect.throttled = [this](const simkit::LimitRefusal& refusal) {
    return LimitExceeded(refusal.injected ? "injected" : refusal.group, refusal.limit,
                         clock_.Now() + refusal.retry_after);
  };
  o.limits = {
      Limit::Window("orders an hour", options_.orders_per_hour, std::chrono::hours(1)),
      Limit::Window("skus a minute", options_.stock_skus_per_minute, std::chrono::minutes(1)),
      Limit::Window("offers a minute", options_.price_offers_per_minute, std::chrono::minutes(1)),
      Limit::Window("price reads a minute", options_.price_reads_per_minute,
                    std::chrono::minutes(1)),
      Limit::Window("order statuses an hour", options_.status_orders_per_hour,
                    std::chrono::hours(1)),
      Limit::Window("returns requests an hour", 5000, std::chrono::hours(1)),
      Limit::Window("offer mappings requests a minute", options_.offer_mappings_per_minute,
                    std::chrono::minutes(1)),
  };
  // The path's id must be the account's: another campaign or business is
  // not this key's to see.
  auto owned = [this](int64_t id, auto handler) {
    return [this, id, handler](const simkit::SimRequest& r) {
      if (r.params.size() != 1 || ParseDecimalInt(r.params[0]) != id) {
        return Error(403, "Access denied");
      }
      return (this->*handler)(r);
    };
  };
  const int64_t campaign = options_.campaign_id();
  const int64_t business = options_.business_id();
  o.routes = {
      {.method = "POST",
       .path = "/v1/businesses/{}/orders",
       .limits = {o.limits[0].group},
       .json_body = true,
       .handler = owned(business, &YandexMarketSimulator::GetBusinessOrders)},
      {.method = "PUT",
       .path = "/v2/campaigns/{}/offers/stocks",
       .limits = {o.limits[1].group},
       .json_body = true,
       .weight = [](const simkit::SimRequest& r) { return Items(r.body, "skus"); },
       .handler = owned(campaign, &YandexMarketSimulator::UpdateStocks)},
      {.method = "POST",
       .path = "/v2/businesses/{}/offer-prices/updates",
       .limits = {o.limits[2].group},
       .json_body = true,
       .weight = [](const simkit::SimRequest& r) { return Items(r.body, "offers"); },
       .handler = owned(business, &YandexMarketSimulator::UpdatePrices)},
      {.method = "POST",
       .path = "/v2/businesses/{}/offer-prices",
       .limits = {o.limits[3].group},
       .weight =
           [](const simkit::SimRequest& r) {
             Result<json> body = ParseJson(r.http.body.empty() ? "{}" : r.http.body);
             return body.ok() ? Items(*body, "offerIds") : 1;
           },
       .handler = owned(business, &YandexMarketSimulator::GetDefaultPrices)},
      {.method = "POST",
       .path = "/v2/campaigns/{}/orders/status-update",
       .limits = {o.limits[4].group},
       .json_body = true,
       .weight = [](const simkit::SimRequest& r) { return Items(r.body, "orders"); },
       .handler = owned(campaign, &YandexMarketSimulator::UpdateOrderStatuses)},
      {.method = "GET",
       .path = "/v2/campaigns/{}/returns",
       .limits = {o.limits[5].group},
       .handler = owned(campaign, &YandexMarketSimulator::GetReturns)},
      {.method = "POST",
       .path = "/v2/businesses/{}/offer-mappings",
       .limits = {o.limits[6].group},
       .handler = owned(business, &YandexMarketSimulator::GetOfferMappings)},
  };
  return o;
}

std::map<std::string, std::string> YandexMarketSimulator::OrderStatuses(bool final_only) const {
  const SystemTime now = clock_.Now();
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  for (const SimOrder& o : orders_) {
    if (!final_only && o.created > now) continue;
    const SimOrder::Step& s = final_only ? o.steps.back() : o.steps[StepOf(o, now)];
    out[std::to_string(o.id)] = s.status + "/" + s.substatus;
  }
  return out;
}

std::vector<json> YandexMarketSimulator::StockCommandItems(int n, int64_t stock) const {
  std::vector<json> items;
  for (int i = 0; i < n; ++i) items.push_back({{"sku", OfferId(i)}, {"stock", stock}});
  return items;
}

int64_t YandexMarketSimulator::StockItemsAt(int n, int64_t stock) const {
  std::lock_guard lock(mu_);
  int64_t held = 0;
  for (int i = 0; i < n; ++i) {
    auto it = stocks_.find(OfferId(i));
    held += it != stocks_.end() && it->second == stock ? 1 : 0;
  }
  return held;
}

simkit::AdapterWiring YandexMarketSimulator::Wiring() const {
  return {.type = "yandex-market",
          .keys = fmt::format("campaign_id = {}\nbusiness_id = {}\nbase_url = {}\n",
                              options_.campaign_id(), options_.business_id(),
                              simkit::TomlString(base_url())),
          // 10,000 requests an hour would cap the benchmark at 140 orders/s.
          .unthrottled_keys = "orders_rate_limit = 1000000000\n",
          .lookback_key = "lookback",
          .secrets = {{"api_key_file", options_.api_key()}},
          .orders_method = "POST",
          .orders_path = fmt::format("/v1/businesses/{}/orders", options_.business_id())};
}

std::map<std::string, int64_t> YandexMarketSimulator::Stocks() const {
  std::lock_guard lock(mu_);
  return stocks_;
}

void YandexMarketSimulator::SetPrice(const std::string& offer_id, SimPrice price) {
  std::lock_guard lock(mu_);
  prices_[offer_id] = std::move(price);
}

Result<int64_t> YandexMarketSimulator::CreateOrderAndNotify(const std::string& notify_url) {
  const SystemTime now = std::chrono::floor<std::chrono::seconds>(clock_.Now());
  SimOrder o{.created = now, .steps = {{now, "PROCESSING", "STARTED"}}};
  {
    std::lock_guard lock(mu_);
    o.id = orders_.empty() ? 70000000 : orders_.back().id + 1;
    o.offer_index = o.id % 1000;
    orders_.push_back(o);
  }
  // "Receiving notifications": ids and the event's time only.
  simkit::Notifier market(std::chrono::seconds(10));  // Market waits 10 s
  Result<int> answered = market.Post(notify_url, json{{"notificationType", "ORDER_CREATED"},
                                                      {"campaignId", options_.campaign_id()},
                                                      {"orderId", o.id},
                                                      {"createdAt", IsoMsk(now)}}
                                                     .dump());
  if (!answered.ok()) return answered.status();
  if (*answered != 200) {
    return Status::Unavailable(fmt::format("the notification was answered {}", *answered));
  }
  return o.id;
}

std::string YandexMarketSimulator::StateJson() const {
  const SystemTime now = clock_.Now();
  json orders = json::array(), stocks = json::object(), prices = json::object();
  std::lock_guard lock(mu_);
  for (const SimOrder& o : orders_) {
    if (o.created > now) continue;
    const SimOrder::Step& cur = o.steps[StepOf(o, now)];
    orders.push_back({{"id", o.id},
                      {"status", cur.status},
                      {"substatus", cur.substatus},
                      {"updateDate", IsoMsk(cur.at)},
                      {"final_status", o.steps.back().status},
                      {"final_substatus", o.steps.back().substatus}});
  }
  for (const auto& [sku, count] : stocks_) stocks[sku] = count;
  for (const auto& [id, p] : prices_) {
    prices[id] = {{"value", p.value},
                  {"currencyId", p.currency},
                  {"discountBase", p.discount_base},
                  {"minimumForBestseller", p.minimum_for_bestseller}};
  }
  return json{
      {"orders", std::move(orders)}, {"stocks", std::move(stocks)}, {"prices", std::move(prices)}}
      .dump();
}

net::HttpResponse YandexMarketSimulator::GetBusinessOrders(const simkit::SimRequest& r) {
  const SystemTime now = clock_.Now();
  const json& body = r.body;
  std::set<int64_t> order_ids, campaign_ids;
  if (!ReadIds(body, "orderIds", order_ids) || !ReadIds(body, "campaignIds", campaign_ids)) {
    return Bad("orderIds and campaignIds: 1..50 distinct integers");
  }
  for (int64_t c : campaign_ids) {
    if (c != options_.campaign_id()) return Error(403, "campaign " + std::to_string(c));
  }
  const json* dates = JsonObject(body, "dates");
  bool dates_ok = true;
  auto date = [&](std::string_view key, bool day) -> std::optional<SystemTime> {
    const json* v = dates ? JsonMember(*dates, key) : nullptr;
    if (v == nullptr || v->is_null()) return std::nullopt;
    std::optional<std::string_view> text = AsString(*v);
    std::optional<SystemTime> t;
    if (text && (!day || text->size() == 10)) {
      t = ParseTimestamp(*text, day ? kMoscowOffsetMinutes : kNoDefaultOffset);
    }
    dates_ok = dates_ok && t.has_value();
    return t;
  };
  const auto created_from = date("creationDateFrom", true),
             created_to = date("creationDateTo", true);
  const auto updated_from = date("updateDateFrom", false), updated_to = date("updateDateTo", false);
  if (!dates_ok) return Bad("dates: creationDate* YYYY-MM-DD, updateDate* ISO 8601 with an offset");
  // The creation defaults, to the letter: From 30 days ago, To today
  // (exclusive); To = From + 1 day when they are closer.
  const SystemTime today = *ParseTimestamp(IsoMsk(now).substr(0, 10), kMoscowOffsetMinutes);
  const SystemTime from = created_from.value_or(today - kCreationSpan);
  SystemTime to = created_to.value_or(today);
  if (to - from < std::chrono::hours(24)) to = from + std::chrono::hours(24);
  if (to - from > kCreationSpan) return Bad("creationDateFrom..creationDateTo: at most 30 days");
  // limit: 1..50, larger truncated (x-transform: truncateLimit); the page
  // token, opaque to clients, is here "o" + the last id of the page before.
  const std::string token =
      r.http.QueryParam("pageToken").value_or(r.http.QueryParam("page_token").value_or(""));
  // -1: not a token of ours.
  const int64_t after =
      token.empty() ? 0 : (token[0] == 'o' ? ParseDecimalInt(token.substr(1)).value_or(-1) : -1);
  const int64_t limit =
      std::min(ParseDecimalInt(r.http.QueryParam("limit").value_or("50")).value_or(0), kPageMax);
  if (after < 0 || limit < 1) return Bad("limit >= 1 and a pageToken of the last answer");
  simkit::JsonText out;
  out.BeginObject().Key("orders").BeginArray();
  int64_t written = 0, last_id = 0;
  bool more = false;
  std::lock_guard lock(mu_);
  auto it = std::upper_bound(orders_.begin(), orders_.end(), after,
                             [](int64_t id, const SimOrder& o) { return id < o.id; });
  for (; it != orders_.end() && !more; ++it) {
    const SimOrder& o = *it;
    if (o.created > now || o.created < from || o.created >= to) continue;
    if (!order_ids.empty() && !order_ids.contains(o.id)) continue;
    const size_t step = StepOf(o, now);
    const SimOrder::Step& cur = o.steps[step];
    if ((updated_from && cur.at < *updated_from) || (updated_to && cur.at >= *updated_to)) continue;
    // "dup": each order twice, the page kept at its maximum.
    for (int copy = 0; copy < (r.dup ? 2 : 1); ++copy) {
      if (written == limit) {
        more = true;
        break;
      }
      WriteOrder(out, o, step, options_.campaign_id());
      ++written;
      last_id = o.id;
    }
  }
  out.EndArray().Key("paging").BeginObject();
  if (more) out.Member("nextPageToken", "o" + std::to_string(last_id));
  out.EndObject().EndObject();
  return net::HttpResponse::Json(200, out.Take());
}

net::HttpResponse YandexMarketSimulator::Error(int http, std::string_view message) {
  static const std::map<int, std::string_view> kCodes = {
      {400, "BAD_REQUEST"},    {401, "UNAUTHORIZED"},       {403, "FORBIDDEN"},
      {404, "NOT_FOUND"},      {405, "METHOD_NOT_ALLOWED"}, {420, "LIMIT_EXCEEDED"},
      {500, "INTERNAL_ERROR"}, {503, "SERVICE_UNAVAILABLE"}};
  auto it = kCodes.find(http);
  const json errors =
      json::array({{{"code", it == kCodes.end() ? "ERROR" : it->second}, {"message", message}}});
  return net::HttpResponse::Json(http, json{{"status", "ERROR"}, {"errors", errors}}.dump());
}

simkit::SimulatorType YandexMarketSimulatorType() {
  return {.name = "yandex-market",
          .description = "Yandex Market Partner API: orders, stocks, prices (--tokens API_KEY)",
          .account_keys = {"campaign_id", "business_id"},
          .url_key = "base_url",
          .create = simkit::Create<YandexMarketSimulator, YandexMarketSimOptions>};
}

}  // namespace crmhub::adapters::yandex_market
