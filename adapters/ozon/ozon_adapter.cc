#include "adapters/ozon/ozon_adapter.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <set>
#include <span>
#include <string_view>
#include <utility>

#include "base/json_list.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

int64_t JsonInt(const json& j, const char* key, int64_t fallback = 0) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    try {
      size_t used = 0;
      int64_t v = std::stoll(it->get<std::string>(), &used);
      if (used == it->get<std::string>().size()) return v;
    } catch (...) {
    }
  }
  return fallback;
}

std::string JsonStr(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f", it->get<double>());
    return buf;
  }
  return {};
}

// Per-item error codes that clear up by themselves (spec, «Частые ошибки»,
// /v2/products/stocks): the 30 s per product-warehouse limit, and products
// still being created or tagged. Everything else needs a person.
bool RetryableItemError(const std::string& code, const std::string& message) {
  return code == "TOO_MANY_REQUESTS" || code == "PRODUCT_HAS_NOT_BEEN_TAGGED_YET" ||
         code == "PRICE_IS_NOT_SENT" || code == "product_is_not_created" ||
         message == "Stock is updated too frequently";
}

// `object`, a JSON object's text, with the member "key": "value" added
// last. Both are plain ASCII names here (no escaping needed).
std::string WithMember(std::string_view object, std::string_view key, std::string_view value) {
  const std::string_view head = object.substr(0, object.rfind('}'));  // "{...", no '}'
  const bool empty = head.find_first_not_of(" \t\r\n", 1) == std::string_view::npos;
  std::string out;
  out.reserve(object.size() + key.size() + value.size() + 8);
  out.append(head);
  if (!empty) out += ',';
  out += '"';
  out += key;
  out += "\":\"";
  out += value;
  out += "\"}";
  return out;
}

DeliveryOutcome FromReply(const ApiReply& reply) {
  if (reply.retryable) return DeliveryOutcome::Retry(reply.status.ToString(), reply.not_before);
  return DeliveryOutcome::Fail(reply.status.ToString());
}

DeliveryOutcome FromItem(const ItemResult& r) {
  if (r.updated && r.errors.empty()) return DeliveryOutcome::Ok();
  std::string text;
  bool retry = r.errors.empty();  // not updated and no reason: try again
  for (const auto& [code, message] : r.errors) {
    if (!text.empty()) text += "; ";
    text += code + ": " + message;
    retry = retry || RetryableItemError(code, message);
  }
  if (text.empty()) text = "Ozon answered updated=false without errors";
  text = "Ozon: " + text;
  return retry ? DeliveryOutcome::Retry(std::move(text)) : DeliveryOutcome::Fail(std::move(text));
}

}  // namespace

std::vector<std::string> DefaultPushAllowIps() {
  return {"195.34.21.0/24", "185.73.192.0/22", "91.223.93.0/24"};
}

std::string PushStateToStatus(std::string_view state) {
  static const std::pair<std::string_view, std::string_view> kTable[] = {
      {"posting_acceptance_in_progress", "acceptance_in_progress"},
      {"posting_created", "awaiting_packaging"},
      {"posting_awaiting_registration", "awaiting_registration"},
      {"posting_transferring_to_delivery", "awaiting_deliver"},
      {"posting_in_carriage", "awaiting_deliver"},
      {"posting_not_in_carriage", "awaiting_deliver"},
      {"posting_in_arbitration", "arbitration"},
      {"posting_in_client_arbitration", "client_arbitration"},
      {"posting_on_way_to_city", "delivering"},
      {"posting_transferred_to_courier_service", "delivering"},
      {"posting_in_courier_service", "delivering"},
      {"posting_on_way_to_pickup_point", "delivering"},
      {"posting_in_pickup_point", "delivering"},
      {"posting_conditionally_delivered", "delivering"},
      {"posting_driver_pick_up", "driver_pickup"},
      {"posting_delivered", "delivered"},
      {"posting_received", "delivered"},
      {"posting_canceled", "cancelled"},
      {"posting_not_in_sort_center", "not_accepted"},
  };
  for (const auto& [push, api] : kTable) {
    if (push == state) return std::string(api);
  }
  return {};
}

std::string_view SchemeName(Scheme scheme) { return scheme == Scheme::kFbs ? "fbs" : "fbo"; }

std::optional<Scheme> ParseScheme(std::string_view name) {
  if (name == "fbs") return Scheme::kFbs;
  if (name == "fbo") return Scheme::kFbo;
  return std::nullopt;
}

json PullCursor::ToObject() const {
  return json{{"watermark", watermark_ms}, {"window_from", window_from_ms},
              {"window_to", window_to_ms}, {"offset", offset},
              {"last", last_window},       {"span", span_ms}};
}

std::optional<PullCursor> PullCursor::FromObject(const json& j) {
  if (!j.is_object()) return std::nullopt;
  PullCursor c;
  c.watermark_ms = JsonInt(j, "watermark");
  c.window_from_ms = JsonInt(j, "window_from");  // absent in older cursors: 0
  c.window_to_ms = JsonInt(j, "window_to");
  c.offset = JsonInt(j, "offset");
  c.last_window = !j.contains("last") || j["last"] != false;
  c.span_ms = JsonInt(j, "span");
  if (c.offset < 0 || c.watermark_ms < 0 || c.span_ms < 0) return std::nullopt;
  return c;
}

std::string PullCursor::ToJson() const {
  json j = ToObject();
  j["v"] = 1;
  return j.dump();
}

std::optional<PullCursor> PullCursor::Parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || JsonInt(j, "v") != 1) return std::nullopt;
  return FromObject(j);
}

std::string OzonCursor::ToJson() const {
  return json{{"v", 2},
              {"scheme", SchemeName(scheme)},
              {"fbs", fbs.ToObject()},
              {"fbo", fbo.ToObject()}}
      .dump();
}

std::optional<OzonCursor> OzonCursor::Parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  OzonCursor c;
  if (JsonInt(j, "v") == 1) {  // before FBO: the FBS state alone
    auto fbs = PullCursor::FromObject(j);
    if (!fbs) return std::nullopt;
    c.fbs = *fbs;
    return c;
  }
  if (JsonInt(j, "v") != 2) return std::nullopt;
  auto scheme = ParseScheme(JsonStr(j, "scheme"));
  auto fbs = PullCursor::FromObject(j.value("fbs", json()));
  auto fbo = PullCursor::FromObject(j.value("fbo", json()));
  if (!scheme || !fbs || !fbo) return std::nullopt;
  c.scheme = *scheme;
  c.fbs = *fbs;
  c.fbo = *fbo;
  return c;
}

OzonAdapter::OzonAdapter(OzonConfig config, Transport transport, Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      client_(config_.client, std::move(transport), clock) {}

std::string OzonAdapter::DescribeJson() const {
  json schemes = json::array();
  for (Scheme s : config_.schemes) schemes.push_back(SchemeName(s));
  return json{{"type", "ozon"},
              {"client_id", config_.client.client_id},
              {"schemes", std::move(schemes)},
              {"base_url", config_.client.base_url},
              {"rate_limit", config_.client.requests_per_second},
              {"stocks_rate_limit", config_.client.stocks_per_minute}}
      .dump();
}

// ---------------------------------------------------------------------------
// Source.

Result<PullResult> OzonAdapter::Pull(const std::optional<std::string>& cursor_text) {
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  OzonCursor cursor;
  if (cursor_text && !cursor_text->empty()) {
    auto parsed = OzonCursor::Parse(*cursor_text);
    if (!parsed) return Status::InvalidArgument("unreadable Ozon cursor: " + *cursor_text);
    cursor = *parsed;
  }
  const auto& schemes = config_.schemes;
  auto at = std::find(schemes.begin(), schemes.end(), cursor.scheme);
  if (at == schemes.end()) {
    // The scheme was removed from the config since: start the round over.
    at = schemes.begin();
    cursor.scheme = *at;
  }
  auto pulled = PullScheme(cursor.scheme, cursor.state(cursor.scheme), now_ms);
  if (!pulled.ok() || pulled->not_before) return pulled;  // cursor unchanged
  PullResult out = std::move(*pulled);
  if (!out.more) {
    // This scheme's pass is read: the next scheme's pass follows at once;
    // after the last one the round is over until the next poll.
    ++at;
    out.more = at != schemes.end();
    cursor.scheme = out.more ? *at : schemes.front();
  }
  out.next_cursor = cursor.ToJson();
  return out;
}

Result<PullResult> OzonAdapter::PullScheme(Scheme scheme, PullCursor& cursor, int64_t now_ms) {
  const bool fbs = scheme == Scheme::kFbs;
  const int64_t lookback_start = now_ms - config_.order_lookback.count();
  if (fbs && cursor.watermark_ms == 0) cursor.watermark_ms = lookback_start;  // first pull
  if (cursor.window_to_ms == 0) {  // a new pass
    // FBS reads the changes since its watermark; FBO re-reads the whole
    // lookback. Either starts with a window sized at the last window's
    // density (OzonConfig::first_window when none is known yet), so a long
    // pass (the first start, a day's downtime) costs about one request per
    // page.
    cursor.window_from_ms =
        fbs ? 0 : std::max<int64_t>(1, lookback_start);  // FBS: 0 is watermark - overlap
    cursor.window_to_ms = now_ms;
    cursor.offset = 0;
    cursor.last_window = true;
    const int64_t pass_from =
        fbs ? std::max<int64_t>(0, cursor.watermark_ms - config_.overlap.count())
            : cursor.window_from_ms;
    const int64_t span = cursor.span_ms > 0 ? cursor.span_ms : config_.first_window.count();
    if (span > 0 && pass_from + span < now_ms) {
      cursor.window_from_ms = pass_from;
      cursor.window_to_ms = pass_from + span;
      cursor.last_window = false;
    }
  }
  int64_t from_ms = cursor.window_from_ms != 0
                        ? cursor.window_from_ms
                        : std::max<int64_t>(0, cursor.watermark_ms - config_.overlap.count());
  const std::string path = fbs ? "/v3/posting/fbs/list" : "/v2/posting/fbo/list";
  ApiReply reply;
  if (fbs) {
    FbsListQuery query;
    // filter.since/to bound the postings' period (at most one year, per the
    // spec); the change-time filter does the incremental work.
    query.to = FromUnixMillis(cursor.window_to_ms);
    query.since = FromUnixMillis(std::min(from_ms, lookback_start));
    query.changed_from = FromUnixMillis(from_ms);
    query.changed_to = FromUnixMillis(cursor.window_to_ms);
    query.limit = config_.page_size;
    query.offset = static_cast<int>(cursor.offset);
    reply = client_.ListFbsPostings(query);
  } else {
    FboListQuery query;
    query.since = FromUnixMillis(from_ms);
    query.to = FromUnixMillis(cursor.window_to_ms);
    query.limit = config_.page_size;
    query.offset = static_cast<int>(cursor.offset);
    reply = client_.ListFboPostings(query);
  }
  PullResult out;
  if (!reply.status.ok()) {
    if (reply.status.code() == StatusCode::kResourceExhausted && reply.not_before) {
      out.not_before = reply.not_before;  // throttled: nothing new, cursor unchanged
      return out;
    }
    return reply.status;
  }
  // FBS: result {postings[], has_next}; FBO: result[] alone. Each posting
  // is queued as the text Ozon sent, without a parsed tree (base/json_list.h).
  static constexpr std::string_view kFbsPath[] = {"result", "postings"};
  static constexpr std::string_view kFboPath[] = {"result"};
  static constexpr std::string_view kKeys[] = {"posting_number", "status"};
  auto page = SplitJsonList(reply.text, fbs ? std::span<const std::string_view>(kFbsPath)
                                            : std::span<const std::string_view>(kFboPath),
                            kKeys);
  if (!page.ok()) {
    return Status::Unavailable(path + ": " + page.status().message() + " in a 200 answer");
  }
  if (!page->found) return Status::Unavailable(path + ": answer without result");
  const auto& postings = page->elements;
  // FBS says has_next; FBO does not: a full page may have more behind it.
  bool has_next = fbs ? page->Sibling("has_next") == "true"
                      : static_cast<int64_t>(postings.size()) >= config_.page_size;
  int64_t returned = 0;
  out.events.reserve(postings.size());
  // Offsets count distinct postings: a page that repeats a posting (seen
  // with the simulator's "dup" fault) must not push the offset past
  // postings not yet read.
  std::set<std::string_view> seen;
  for (const JsonListElement& p : postings) {
    const std::string& number = p.fields[0];
    const std::string& status = p.fields[1];
    if (!seen.insert(number).second) continue;
    ++returned;
    if (number.empty() || status.empty()) continue;  // not a posting we can key
    InboundEvent e;
    e.idempotency_key = number + ":" + status;
    e.ordering_key = number;
    e.headers = {{"kind", "order"}, {"ozon_status", status}, {"ozon_scheme", std::string(SchemeName(scheme))}};
    // The posting as sent, marked with its scheme: the member goes last, so
    // that it is the one a reader keeps were Ozon ever to send the key.
    e.payload = WithMember(p.text, "delivery_schema", SchemeName(scheme));
    out.events.push_back(std::move(e));
  }
  has_next = has_next && returned > 0;
  const int64_t span = cursor.window_to_ms - from_ms;
  const int64_t window_count = cursor.offset + returned;  // postings in the window so far
  cursor.window_from_ms = from_ms;
  if (!fbs && has_next && cursor.offset + returned + config_.page_size <= config_.max_offset) {
    // FBO: the next page by offset. Its window is a creation period, so no
    // posting leaves it; and were the order to shift anyway (the spec does
    // not say what "dir" sorts by), the next round re-reads the lookback.
    cursor.offset += returned;
    out.more = true;
  } else if (has_next && (!fbs || cursor.offset == 0) && span > 1) {
    // FBO past the offset cap: the first half of the window from its start.
    // More than a page in the window. Only a window read in one answer is
    // a consistent snapshot: postings that change while later pages are
    // fetched leave the window and shift the rest to lower offsets, so
    // offset paging skips postings (no overlap fixes that for long). Halve
    // the window and read it again; this page's postings are real states
    // and are queued anyway.
    cursor.window_to_ms = from_ms + span / 2;
    cursor.span_ms = span / 2;  // what the next window is sized with
    cursor.offset = 0;
    cursor.last_window = false;
    out.more = true;
  } else if (fbs && has_next &&
             cursor.offset + returned + config_.page_size <= config_.max_offset) {
    // More than a page changed within one millisecond: offsets are the only
    // way on. Each next page starts kPageReread early, as postings leaving
    // shift later ones down.
    cursor.offset += returned - (returned > 2 * kPageReread ? kPageReread : 0);
    out.more = true;
  } else {
    // The window is read: every change up to window_to is pulled.
    if (fbs) cursor.watermark_ms = std::max(cursor.watermark_ms, cursor.window_to_ms);
    cursor.offset = 0;
    // The next window is sized for about 3/4 of what one window may hold
    // (FBS: a page; FBO: the pages up to the offset cap) at this window's
    // density, so a backlog costs about one request per page rather than a
    // halving each time (an empty window says only "wider"). It grows at
    // most twice as wide as this window; after a window the pass's end cut
    // short, at most as wide as the span that window was sized with: a
    // pass's last window is often a sliver, and the next pass starts from
    // its span.
    const double capacity = fbs ? config_.page_size : config_.max_offset;
    const int64_t held = fbs ? returned : window_count;
    const double by_density = held > 0 ? static_cast<double>(span) * 0.75 * capacity /
                                             static_cast<double>(held)
                                       : std::numeric_limits<double>::infinity();
    const double widest = static_cast<double>(span < cursor.span_ms ? cursor.span_ms : 2 * span);
    const int64_t next_span =
        std::clamp<int64_t>(static_cast<int64_t>(std::min(by_density, widest)), 1,
                            std::max<int64_t>(1, config_.order_lookback.count()));
    cursor.span_ms = next_span;
    if (!cursor.last_window) {
      // The window was cut short of the pass's end: the next one at once.
      cursor.window_from_ms = cursor.window_to_ms;
      cursor.window_to_ms += next_span;
      if (cursor.window_to_ms >= now_ms) {
        cursor.window_to_ms = now_ms;
        cursor.last_window = true;
      }
      out.more = true;
    } else {
      cursor.window_from_ms = 0;
      cursor.window_to_ms = 0;
      out.more = false;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Webhook.

Result<WebhookResult> OzonAdapter::HandleWebhook(const net::HttpRequest& request) {
  CRMHUB_RETURN_IF_ERROR(config_.push.Check(request));
  WebhookResult result;
  auto error = [&](std::string message) {
    result.accepted = net::HttpResponse::Json(400, json{{"error",
                                                         {{"code", "ERROR_PARAMETER_VALUE_MISSED"},
                                                          {"message", message},
                                                          {"details", nullptr}}}}
                                                       .dump());
    return result;
  };
  auto body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return error("the body is not a JSON object");
  std::string type = JsonStr(body, "message_type");
  if (type.empty()) return error("message_type is missing");
  if (type == "TYPE_PING") {
    result.accepted = net::HttpResponse::Json(200, json{{"version", config_.app_version},
                                                        {"name", "crmhub"},
                                                        {"time", FormatOzonTime(clock_.Now())}}
                                                       .dump());
    return result;
  }
  result.accepted = net::HttpResponse::Json(200, R"({"result":true})");
  std::string number = JsonStr(body, "posting_number");
  std::string status;
  if (type == "TYPE_NEW_POSTING") {
    // No status in the message; "new" is its own identity. The pull brings
    // the posting with its real status.
    status = "new";
  } else if (type == "TYPE_POSTING_CANCELLED") {
    status = "cancelled";
  } else if (type == "TYPE_STATE_CHANGED") {
    status = PushStateToStatus(JsonStr(body, "new_state"));
    if (status.empty()) status = "push:" + JsonStr(body, "new_state");
  } else {
    return result;  // other notification types are not consumed by crmhub
  }
  if (number.empty()) return error("posting_number is missing");
  InboundEvent e;
  // Its own key space ("push:"): a push must not shadow the pulled posting
  // with the same status (the posting carries the order's data; the push
  // only the new state), so both are queued and the mapping rules turn the
  // push into a deal stage update.
  e.idempotency_key = "push:" + number + ":" + status;
  e.ordering_key = number;
  e.headers = {{"kind", "order_push"}, {"ozon_message_type", type}, {"ozon_status", status}};
  e.payload = request.body;
  result.events.push_back(std::move(e));
  return result;
}

// ---------------------------------------------------------------------------
// Target.

std::vector<DeliveryOutcome> OzonAdapter::Deliver(std::span<const queue::Message> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  std::vector<StockCommand> stocks;
  std::vector<size_t> prices;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& m = batch[i];
    std::string command;
    for (const auto& [k, v] : m.headers) {
      if (k == "command") command = v;
    }
    auto item = json::parse(m.payload, nullptr, false);
    if (!item.is_object()) {
      out[i] = DeliveryOutcome::Fail("payload is not a JSON object");
      continue;
    }
    if (command == "set_stock") {
      StockCommand c{i, {}};
      c.item.offer_id = JsonStr(item, "offer_id");
      c.item.product_id = JsonInt(item, "product_id");
      c.item.warehouse_id = JsonInt(item, "warehouse_id");
      c.item.stock = JsonInt(item, "stock", -1);
      if (c.item.offer_id.empty() && c.item.product_id == 0) {
        out[i] = DeliveryOutcome::Fail("set_stock needs offer_id or product_id");
      } else if (c.item.warehouse_id <= 0) {
        out[i] = DeliveryOutcome::Fail("set_stock needs a numeric warehouse_id");
      } else if (c.item.stock < 0) {
        out[i] = DeliveryOutcome::Fail("set_stock needs stock >= 0");
      } else if (!config_.warehouse_ids.empty() &&
                 std::find(config_.warehouse_ids.begin(), config_.warehouse_ids.end(),
                           c.item.warehouse_id) == config_.warehouse_ids.end()) {
        out[i] = DeliveryOutcome::Fail("warehouse_id " + std::to_string(c.item.warehouse_id) +
                                       " is not in this adapter's warehouse_ids");
      } else {
        stocks.push_back(std::move(c));
      }
    } else if (command == "set_price") {
      prices.push_back(i);
    } else {
      out[i] = DeliveryOutcome::Fail("unknown command \"" + command + "\" for an Ozon target");
    }
  }
  if (!stocks.empty()) DeliverStocks(std::move(stocks), out);
  if (!prices.empty()) DeliverPrices(batch, prices, out);
  return out;
}

ApiReply OzonAdapter::LoadCatalog() {
  std::map<std::string, int64_t> loaded;
  std::string last_id;
  for (int page = 0; page < 10000; ++page) {
    ApiReply reply = client_.ListProducts(last_id, kMaxProductsPerPage);
    if (!reply.status.ok()) return reply;
    const auto& result = reply.body["result"];
    size_t n = 0;
    if (result.is_object() && result.contains("items") && result["items"].is_array()) {
      for (const auto& item : result["items"]) {
        std::string offer = JsonStr(item, "offer_id");
        int64_t product = JsonInt(item, "product_id");
        if (!offer.empty() && product != 0) loaded[offer] = product;
        ++n;
      }
    }
    std::string next = result.is_object() ? JsonStr(result, "last_id") : "";
    if (n == 0 || next.empty() || next == last_id) break;
    last_id = next;
  }
  std::lock_guard<std::mutex> lock(catalog_mu_);
  catalog_ = std::move(loaded);
  catalog_loaded_ = clock_.SteadyNow();
  return ApiReply{};
}

std::optional<int64_t> OzonAdapter::LookupProduct(const std::string& offer_id) {
  std::lock_guard<std::mutex> lock(catalog_mu_);
  auto it = catalog_.find(offer_id);
  if (it == catalog_.end()) return std::nullopt;
  return it->second;
}

void OzonAdapter::DeliverStocks(std::vector<StockCommand> commands,
                                std::vector<DeliveryOutcome>& out) {
  // Resolve product_id (required by the schema) from the catalogue.
  bool need_lookup = std::any_of(commands.begin(), commands.end(), [&](const StockCommand& c) {
    return c.item.product_id == 0 && !LookupProduct(c.item.offer_id);
  });
  if (need_lookup) {
    bool stale;
    {
      std::lock_guard<std::mutex> lock(catalog_mu_);
      stale = !catalog_loaded_ || clock_.SteadyNow() - *catalog_loaded_ >= config_.catalog_refresh;
    }
    if (stale) {
      ApiReply reply = LoadCatalog();
      if (!reply.status.ok()) {
        for (const auto& c : commands) {
          if (c.item.product_id == 0 && !LookupProduct(c.item.offer_id)) {
            out[c.index] = reply.retryable
                               ? DeliveryOutcome::Retry("catalogue: " + reply.status.ToString(),
                                                        reply.not_before)
                               : DeliveryOutcome::Fail("catalogue: " + reply.status.ToString());
          }
        }
      }
    }
  }
  std::vector<StockCommand> ready;
  for (auto& c : commands) {
    if (c.item.product_id == 0) {
      auto product = LookupProduct(c.item.offer_id);
      if (!product) {
        if (out[c.index].ok()) {
          out[c.index] =
              DeliveryOutcome::Fail("offer_id \"" + c.item.offer_id +
                                    "\" is not in the Ozon catalogue (/v3/product/list)");
        }
        continue;
      }
      c.item.product_id = *product;
    }
    ready.push_back(std::move(c));
  }
  // A product x warehouse pair may be updated once per 30 s: within one
  // batch only its newest value is sent; older ones are superseded.
  std::map<std::pair<int64_t, int64_t>, size_t> last;
  for (size_t i = 0; i < ready.size(); ++i)
    last[{ready[i].item.product_id, ready[i].item.warehouse_id}] = i;
  std::vector<StockCommand> send;
  for (size_t i = 0; i < ready.size(); ++i) {
    if (last[{ready[i].item.product_id, ready[i].item.warehouse_id}] == i) {
      send.push_back(ready[i]);
    } else {
      out[ready[i].index] = DeliveryOutcome::Ok();
    }
  }
  for (size_t start = 0; start < send.size(); start += kMaxStocksPerRequest) {
    size_t end = std::min(send.size(), start + kMaxStocksPerRequest);
    std::vector<StockItem> items;
    for (size_t i = start; i < end; ++i) items.push_back(send[i].item);
    ApiReply reply = client_.UpdateStocks(items);
    if (!reply.status.ok()) {
      for (size_t i = start; i < end; ++i) out[send[i].index] = FromReply(reply);
      continue;
    }
    auto results = OzonClient::ParseItemResults(reply.body);
    for (size_t i = start; i < end; ++i) {
      const StockItem& item = send[i].item;
      const ItemResult* match = nullptr;
      // Results echo offer_id/product_id and warehouse_id; fall back to order.
      for (const auto& r : results) {
        if (r.warehouse_id == item.warehouse_id &&
            (r.product_id == item.product_id ||
             (!item.offer_id.empty() && r.offer_id == item.offer_id))) {
          match = &r;
          break;
        }
      }
      if (match == nullptr && results.size() == items.size()) match = &results[i - start];
      out[send[i].index] =
          match ? FromItem(*match)
                : DeliveryOutcome::Retry("Ozon's answer has no result for this item");
    }
  }
}

void OzonAdapter::DeliverPrices(std::span<const queue::Message> batch,
                                const std::vector<size_t>& indices,
                                std::vector<DeliveryOutcome>& out) {
  std::vector<std::pair<size_t, PriceItem>> items;
  for (size_t i : indices) {
    auto j = json::parse(batch[i].payload, nullptr, false);
    PriceItem p;
    p.offer_id = JsonStr(j, "offer_id");
    p.product_id = JsonInt(j, "product_id");
    p.price = JsonStr(j, "price");
    p.old_price = JsonStr(j, "old_price");
    p.min_price = JsonStr(j, "min_price");
    p.currency_code = JsonStr(j, "currency_code");
    if (p.offer_id.empty() && p.product_id == 0) {
      out[i] = DeliveryOutcome::Fail("set_price needs offer_id or product_id");
    } else if (p.price.empty()) {
      out[i] = DeliveryOutcome::Fail("set_price needs price");
    } else {
      items.emplace_back(i, std::move(p));
    }
  }
  for (size_t start = 0; start < items.size(); start += kMaxPricesPerRequest) {
    size_t end = std::min(items.size(), start + kMaxPricesPerRequest);
    std::vector<PriceItem> request;
    for (size_t k = start; k < end; ++k) request.push_back(items[k].second);
    ApiReply reply = client_.UpdatePrices(request);
    if (!reply.status.ok()) {
      for (size_t k = start; k < end; ++k) out[items[k].first] = FromReply(reply);
      continue;
    }
    auto results = OzonClient::ParseItemResults(reply.body);
    for (size_t k = start; k < end; ++k) {
      const PriceItem& p = items[k].second;
      const ItemResult* match = nullptr;
      for (const auto& r : results) {
        if ((!p.offer_id.empty() && r.offer_id == p.offer_id) ||
            (p.product_id != 0 && r.product_id == p.product_id)) {
          match = &r;
          break;
        }
      }
      if (match == nullptr && results.size() == request.size()) match = &results[k - start];
      out[items[k].first] =
          match ? FromItem(*match)
                : DeliveryOutcome::Retry("Ozon's answer has no result for this item");
    }
  }
}

}  // namespace crmhub::adapters::ozon
