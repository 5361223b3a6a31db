#include "docs/adapters/example/acme_adapter.h"

#include "adapters/kit/target.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::acme {
namespace {

// One event per (order, status), keyed as both the pull and the resolve
// step key it, so the one that comes second is a duplicate.
std::optional<InboundEvent> OrderEvent(const nlohmann::json& order) {
  std::optional<std::string_view> id = JsonString(order, "id");
  std::optional<std::string_view> status = JsonString(order, "status");
  if (!id || !status) return std::nullopt;
  return InboundEvent{.idempotency_key = std::string(*id) + ":" + std::string(*status),
                      .ordering_key = std::string(*id),
                      .kind = "order",
                      .payload = order.dump()};
}

}  // namespace

AcmeAdapter::AcmeAdapter(AcmeConfig config, net::Transport transport, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      client_(config_.client, std::move(transport), clock),
      signature_(net::SignatureScheme::Parse("hmac-sha256", "hex", "{body}").value()) {}

// [pull]
Result<PullResult> AcmeAdapter::Pull(const std::optional<std::string>& cursor) {
  int64_t after_ms = ToUnixMillis(clock_.Now() - config_.lookback);
  if (cursor && !cursor->empty()) {
    std::optional<int64_t> saved = ParseDecimalInt(*cursor);
    if (!saved) return Status::InvalidArgument("acme: unreadable cursor \"" + *cursor + "\"");
    after_ms = *saved;
  }
  auto page = client_.ListOrders(FromUnixMillis(after_ms), kMaxOrdersPerPage);
  if (!page.ok()) {
    if (page.error().kind == net::ApiError::Kind::kThrottled) {
      return PullResult{.not_before = page.error().not_before};
    }
    return page.error().ToStatus();
  }
  PullResult out;
  for (const nlohmann::json& order : page->orders) {
    std::optional<InboundEvent> event = OrderEvent(order);
    if (!event) continue;  // not an order: nothing to key it by
    std::optional<std::string_view> updated = JsonString(order, "updated_at");
    if (auto at = updated ? ParseTimestamp(*updated, kNoDefaultOffset) : std::nullopt) {
      after_ms = std::max(after_ms, ToUnixMillis(*at));
    }
    out.events.push_back(std::move(*event));
  }
  out.next_cursor = std::to_string(after_ms);
  out.more = page->has_more;
  return out;
}
// [pull]

// [webhook]
Result<WebhookResult> AcmeAdapter::HandleWebhook(const net::HttpRequest& request) {
  std::optional<std::string_view> presented = request.headers.Get("X-Acme-Signature");
  if (!presented ||
      !signature_.Verify(config_.webhook_secret.Reveal(), {.body = request.body}, *presented)) {
    return Status::Unauthenticated("missing or wrong X-Acme-Signature");
  }
  Result<nlohmann::json> body = ParseJson(request.body);
  if (!body.ok()) return body.status();
  std::optional<std::string_view> event_id = JsonString(*body, "event_id");
  std::optional<std::string_view> order_id = JsonString(*body, "order_id");
  if (!event_id || !order_id) return Status::InvalidArgument("event_id or order_id is missing");
  WebhookResult result;
  result.events.push_back({.idempotency_key = "hint:" + std::string(*event_id),
                           .ordering_key = std::string(*order_id),
                           .kind = "order_hint",
                           .payload = std::string(*order_id),
                           .resolve = true});
  result.accepted = net::HttpResponse::Json(200, R"({"ok":true})");
  return result;
}

ResolveResult AcmeAdapter::Resolve(const Hint& hint) {
  auto order = client_.GetOrder(hint.payload);
  if (!order.ok()) return {order.error().ToOutcome(), {}};
  std::optional<InboundEvent> event = OrderEvent(*order);
  if (!event) return {DeliveryOutcome::Fail("acme: the order answer has no id or status"), {}};
  return {DeliveryOutcome::Ok(), {std::move(*event)}};
}
// [webhook]

// [deliver]
std::vector<DeliveryOutcome> AcmeAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  std::vector<size_t> indices;
  std::vector<StockItem> items;
  for (const kit::TargetCommand& c : kit::ReadCommands(batch, {"set_stock"}, "acme", out)) {
    std::optional<std::string_view> sku = JsonString(c.item, "sku");
    std::optional<int64_t> stock = JsonInt(c.item, "stock");
    if (!sku || sku->empty() || !stock || *stock < 0) {
      out[c.index] = DeliveryOutcome::Fail("acme: set_stock needs a sku and a stock >= 0");
      continue;
    }
    indices.push_back(c.index);
    items.push_back({std::string(*sku), *stock});
  }
  std::vector<std::string> keys;
  for (const StockItem& item : items) keys.push_back(item.sku);
  for (const std::vector<size_t>& request : kit::ChunkDistinct(keys, kMaxStockPerRequest)) {
    std::vector<StockItem> send;
    std::vector<size_t> settle;
    for (size_t k : request) {
      send.push_back(items[k]);
      settle.push_back(indices[k]);
    }
    auto answer = client_.PutStock(send);
    if (!answer.ok()) {
      kit::SettleAll(answer.error(), settle, out);
      continue;
    }
    for (size_t i : settle) out[i] = DeliveryOutcome::Ok();
  }
  return out;
}
// [deliver]

}  // namespace crmhub::adapters::acme
