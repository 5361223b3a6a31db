#include "adapters/yandex_market/adapter.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace crmhub::adapters::yandex_market {

using nlohmann::json;

std::vector<std::string> DefaultPushAllowIps() {
  // "Receiving notifications": check each request against these ranges.
  return {"5.45.207.0/25", "141.8.142.0/25", "5.255.253.0/25"};
}

std::string PullCursor::ToJson() const {
  return json{{"v", 1},
              {"watermark", watermark_ms},
              {"window_to", window_to_ms},
              {"page_token", page_token}}
      .dump();
}

std::optional<PullCursor> PullCursor::Parse(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object() || j.value("v", 0) != 1) return std::nullopt;
  if (!j.contains("watermark") || !j["watermark"].is_number_integer()) return std::nullopt;
  PullCursor c;
  c.watermark_ms = j["watermark"].get<int64_t>();
  if (j.contains("window_to") && j["window_to"].is_number_integer())
    c.window_to_ms = j["window_to"].get<int64_t>();
  if (j.contains("page_token") && j["page_token"].is_string())
    c.page_token = j["page_token"].get<std::string>();
  return c;
}

YmAdapter::YmAdapter(YmConfig config, Transport transport, Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      client_(config_.client, std::move(transport), clock) {}

std::string YmAdapter::DescribeJson() const {
  return json{{"campaign_id", config_.client.campaign_id},
              {"business_id", config_.client.business_id},
              {"base_url", config_.client.base_url}}
      .dump();
}

Result<PullResult> YmAdapter::Pull(const std::optional<std::string>& cursor) {
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  PullCursor c;
  if (cursor && !cursor->empty()) {
    auto parsed = PullCursor::Parse(*cursor);
    if (!parsed) return Status::InvalidArgument("unreadable yandex-market cursor: " + *cursor);
    c = *parsed;
  } else {
    c.watermark_ms = now_ms - config_.lookback.count();
  }
  const int64_t max_window = std::chrono::milliseconds(kMaxOrdersWindow).count();
  const int64_t overlap = config_.overlap.count();
  if (c.window_to_ms == 0) {
    // Whole seconds: updatedAtTo is sent with second precision, and the
    // watermark must be exactly the bound Market applied.
    c.window_to_ms = std::min(now_ms, c.watermark_ms - overlap + max_window) / 1000 * 1000;
    c.page_token.clear();
  }
  OrdersQuery query;
  query.updated_to = FromUnixMillis(c.window_to_ms);
  query.updated_from =
      FromUnixMillis(std::max(c.watermark_ms - overlap, c.window_to_ms - max_window));
  query.page_token = c.page_token;
  query.limit = config_.page_size;
  ApiReply reply = client_.GetOrders(query);
  if (!reply.status.ok()) {
    if (reply.status.code() == StatusCode::kResourceExhausted && reply.not_before) {
      PullResult throttled;
      throttled.not_before = reply.not_before;
      return throttled;
    }
    return reply.status;
  }
  const json& body = reply.body;
  if (!body.contains("orders") || !body["orders"].is_array()) {
    return Status::Unavailable("getOrders: answer without orders[]");
  }
  PullResult result;
  for (const auto& order : body["orders"]) {
    if (!order.is_object() || !order.contains("id") || !order["id"].is_number_integer()) continue;
    std::string id = std::to_string(order["id"].get<int64_t>());
    std::string status = order.value("status", std::string());
    std::string substatus = order.value("substatus", std::string());
    InboundEvent e;
    e.idempotency_key = id + ":" + status + ":" + substatus;
    e.ordering_key = id;
    e.headers = {{"kind", "order"}, {"ym_status", status}, {"ym_substatus", substatus}};
    if (order.contains("updatedAt") && order["updatedAt"].is_string())
      e.headers.emplace_back("ym_updated_at", order["updatedAt"].get<std::string>());
    e.payload = order.dump();
    result.events.push_back(std::move(e));
  }
  std::string next;
  if (auto p = body.find("paging"); p != body.end() && p->is_object()) {
    next = p->value("nextPageToken", std::string());
  }
  if (!next.empty() && !body["orders"].empty()) {
    c.page_token = next;
    result.more = true;
  } else {
    // Pass complete: everything before window_to is durable once these are.
    c.watermark_ms = c.window_to_ms;
    c.window_to_ms = 0;
    c.page_token.clear();
    // Still behind (the 30-day cap cut the window): go on at once.
    result.more = now_ms - c.watermark_ms > config_.poll_interval.count();
  }
  result.next_cursor = c.ToJson();
  return result;
}

net::HttpResponse YmAdapter::Answer(int status) const {
  return net::HttpResponse::Json(status, json{{"version", config_.app_version},
                                              {"name", config_.app_name},
                                              {"time", FormatIsoMsk(clock_.Now())}}
                                             .dump());
}

Result<WebhookResult> YmAdapter::HandleWebhook(const net::HttpRequest& request) {
  CRMHUB_RETURN_IF_ERROR(config_.push.Check(request));
  WebhookResult result;
  auto body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("notificationType") ||
      !body["notificationType"].is_string()) {
    result.accepted = net::HttpResponse::Json(
        400, json{{"error",
                   {{"type", "WRONG_EVENT_FORMAT"},
                    {"message", "expected a JSON object with notificationType"}}}}
                 .dump());
    return result;
  }
  const std::string type = body["notificationType"].get<std::string>();
  static const std::set<std::string> kOrderTypes = {"ORDER_CREATED", "ORDER_STATUS_UPDATED",
                                                    "ORDER_CANCELLED", "ORDER_UPDATED",
                                                    "ORDER_CANCELLATION_REQUEST"};
  if (kOrderTypes.count(type) != 0) {
    if (!body.contains("orderId") || !body["orderId"].is_number_integer()) {
      result.accepted = net::HttpResponse::Json(
          400, json{{"error", {{"type", "WRONG_EVENT_FORMAT"}, {"message", "orderId missing"}}}}
                   .dump());
      return result;
    }
    std::string id = std::to_string(body["orderId"].get<int64_t>());
    std::string time;
    for (const char* key : {"updatedAt", "createdAt", "cancelledAt"}) {
      if (body.contains(key) && body[key].is_string()) {
        time = body[key].get<std::string>();
        break;
      }
    }
    InboundEvent e;
    e.idempotency_key =
        "hint:" + type + ":" + id + ":" + body.value("status", std::string()) + ":" +
        body.value("substatus", std::string()) + ":" + time;
    e.ordering_key = id;
    e.headers = {{"kind", "order_hint"}, {"ym_notification", type}};
    e.payload = body.dump();
    result.events.push_back(std::move(e));
  }
  result.accepted = Answer(200);
  return result;
}

namespace {

std::optional<std::string> ValidSku(const json& item, const char* key) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  // ShopSku: 1..255 characters, not blank, no control characters.
  if (s.empty() || s.size() > 255) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; }))
    return std::nullopt;
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
  }
  return s;
}

// Splits items into requests of <= max with distinct keys; a repeated key
// goes to a later request than its previous occurrence so the later command
// wins.
std::vector<std::vector<size_t>> Chunk(const std::vector<std::pair<size_t, std::string>>& items,
                                       size_t max) {
  std::vector<std::vector<size_t>> chunks;
  std::vector<std::set<std::string>> keys;
  std::map<std::string, size_t> last_chunk;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& key = items[i].second;
    size_t start = 0;
    if (auto it = last_chunk.find(key); it != last_chunk.end()) start = it->second + 1;
    size_t c = start;
    while (c < chunks.size() && chunks[c].size() >= max) ++c;
    if (c == chunks.size()) {
      chunks.emplace_back();
      keys.emplace_back();
    }
    chunks[c].push_back(i);
    keys[c].insert(key);
    last_chunk[key] = c;
  }
  return chunks;
}

void Settle(const ApiReply& reply, const std::vector<size_t>& indices,
            std::vector<DeliveryOutcome>& out) {
  for (size_t index : indices) {
    if (reply.status.ok()) {
      out[index] = DeliveryOutcome::Ok();
    } else if (reply.retryable || reply.status.code() == StatusCode::kUnauthenticated ||
               reply.status.code() == StatusCode::kPermissionDenied) {
      // Auth failures are the config's fault, not the command's: keep it.
      out[index] = DeliveryOutcome::Retry(reply.status.message(), reply.not_before);
    } else {
      out[index] = DeliveryOutcome::Fail(reply.status.message());
    }
  }
}

}  // namespace

std::vector<DeliveryOutcome> YmAdapter::Deliver(std::span<const queue::Message> batch) {
  std::vector<DeliveryOutcome> out(batch.size(), DeliveryOutcome::Fail("not handled"));
  std::vector<size_t> stocks, prices;
  for (size_t i = 0; i < batch.size(); ++i) {
    std::string command;
    for (const auto& [k, v] : batch[i].headers) {
      if (k == "command") command = v;
    }
    if (command == "set_stock") {
      stocks.push_back(i);
    } else if (command == "set_price") {
      prices.push_back(i);
    } else {
      out[i] = DeliveryOutcome::Fail("unknown command \"" + command + "\" for yandex-market");
    }
  }
  if (!stocks.empty()) DeliverStocks(batch, stocks, out);
  if (!prices.empty()) DeliverPrices(batch, prices, out);
  return out;
}

void YmAdapter::DeliverStocks(std::span<const queue::Message> batch,
                              const std::vector<size_t>& indices,
                              std::vector<DeliveryOutcome>& out) {
  std::vector<std::pair<size_t, std::string>> valid;
  std::vector<StockItem> items;
  for (size_t index : indices) {
    auto j = json::parse(batch[index].payload, nullptr, false);
    std::optional<std::string> sku = j.is_object() ? ValidSku(j, "sku") : std::nullopt;
    if (!sku) {
      out[index] = DeliveryOutcome::Fail("set_stock: sku must be a 1..255 character string");
      continue;
    }
    if (!j.contains("stock") || !j["stock"].is_number_integer() || j["stock"].get<int64_t>() < 0 ||
        j["stock"].get<int64_t>() > kMaxStockCount) {
      out[index] = DeliveryOutcome::Fail("set_stock: stock must be an integer 0..2000000000");
      continue;
    }
    valid.emplace_back(index, *sku);
    items.push_back({*sku, j["stock"].get<int64_t>()});
  }
  std::optional<ApiReply> stop;  // once throttled or failing, later requests wait too
  for (const auto& chunk : Chunk(valid, kMaxStocksPerRequest)) {
    std::vector<StockItem> request;
    std::vector<size_t> chunk_indices;
    for (size_t i : chunk) {
      request.push_back(items[i]);
      chunk_indices.push_back(valid[i].first);
    }
    ApiReply reply = stop ? *stop : client_.UpdateStocks(request);
    if (!reply.status.ok() && reply.retryable) stop = reply;
    Settle(reply, chunk_indices, out);
  }
}

void YmAdapter::DeliverPrices(std::span<const queue::Message> batch,
                              const std::vector<size_t>& indices,
                              std::vector<DeliveryOutcome>& out) {
  if (config_.client.business_id <= 0) {
    for (size_t index : indices)
      out[index] = DeliveryOutcome::Fail("set_price: business_id is not configured");
    return;
  }
  std::vector<std::pair<size_t, std::string>> valid;
  std::vector<PriceItem> items;
  for (size_t index : indices) {
    auto j = json::parse(batch[index].payload, nullptr, false);
    std::optional<std::string> offer = j.is_object() ? ValidSku(j, "offer_id") : std::nullopt;
    if (!offer) {
      out[index] = DeliveryOutcome::Fail("set_price: offer_id must be a 1..255 character string");
      continue;
    }
    std::string value;
    if (j.contains("price") && j["price"].is_string()) {
      value = j["price"].get<std::string>();
    } else if (j.contains("price") && j["price"].is_number()) {
      value = j["price"].dump();
    }
    auto number = json::parse(value, nullptr, false);
    if (!number.is_number() || number.get<double>() <= 0) {
      out[index] = DeliveryOutcome::Fail("set_price: price must be a positive decimal");
      continue;
    }
    std::string currency = j.value("currency", std::string("RUR"));
    if (currency.size() != 3) {
      out[index] = DeliveryOutcome::Fail("set_price: currency must be a CurrencyType (RUR, ...)");
      continue;
    }
    valid.emplace_back(index, *offer);
    items.push_back({*offer, number.dump(), currency});
  }
  std::optional<ApiReply> stop;
  for (const auto& chunk : Chunk(valid, kMaxPricesPerRequest)) {
    std::vector<PriceItem> request;
    std::vector<size_t> chunk_indices;
    for (size_t i : chunk) {
      request.push_back(items[i]);
      chunk_indices.push_back(valid[i].first);
    }
    ApiReply reply = stop ? *stop : client_.UpdatePrices(request);
    if (!reply.status.ok() && reply.retryable) stop = reply;
    Settle(reply, chunk_indices, out);
  }
}

}  // namespace crmhub::adapters::yandex_market
