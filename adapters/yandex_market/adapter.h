#pragma once
// The Yandex Market Partner API adapter: orders in (pull getOrders + API
// notifications), stock and prices out. One adapter per campaign (shop):
// several campaigns are several [adapters.<id>] sections.
//
// Source (Pull): GET /v2/campaigns/{campaignId}/orders incrementally by the
// order's updatedAt. The cursor is JSON
//   {"v":1,"watermark":<ms>,"window_to":<ms or 0>,"page_token":"..."}
// "watermark": every change before it has been pulled and is durable (the
// runtime saves the cursor only after the events are). A pass reads
// [watermark - overlap, window_to) page by page (nextPageToken); window_to
// is fixed when the pass starts (now, at most 30 days after its start, the
// spec's limit) and becomes the watermark when the pass ends. An order that
// changes during a pass moves out of the window (its updatedAt >=
// window_to) and is read by the next pass, so paging shifts lose nothing.
// The first pass starts `lookback` ago (Market returns no orders delivered
// or cancelled more than 30 days ago anyway).
// Event identity: idempotency key "<orderId>:<status>:<substatus>", ordering
// key the order id, payload the raw OrderDTO JSON, headers kind=order,
// ym_status, ym_substatus, ym_updated_at (Market's own time: the docs say
// the same event may be notified several times and the later time wins).
//
// Webhook: API notifications (POST from Market; documented on the Partner
// API page "Receiving notifications", not in the OpenAPI spec). See
// HandleWebhook.
//
// Target (Deliver): "set_stock" items {"sku","stock"} -> PUT .../offers/stocks
// in requests of <= 2000 distinct skus; "set_price" items {"offer_id",
// "price" (decimal text or number), "currency" (default "RUR")} -> POST
// /v2/businesses/{businessId}/offer-prices/updates in requests of <= 500.
// Market answers {"status":"OK"} without per-item results, so a 200 makes
// every item Ok; items that break the spec's schema fail locally before
// sending; a 400 fails the request's items with Market's error text;
// 420/429/5xx/transport retry (not_before from the answer).
//
// Threading: Pull and Deliver run on worker threads (blocking HTTP);
// HandleWebhook runs on an I/O thread and does no I/O.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/push_auth.h"
#include "adapters/yandex_market/client.h"

namespace crmhub::adapters::yandex_market {

struct YmConfig {
  std::string id;
  ClientOptions client;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};
  int page_size = kMaxOrdersPerPage;
  std::chrono::milliseconds overlap{std::chrono::minutes(10)};
  std::chrono::milliseconds lookback{std::chrono::hours(24 * 30)};
  kit::PushAuth push;           // push_allow_ips, push_token_file
  std::string app_name = "crmhub";  // for the PING answer
  std::string app_version = "1.0";
};

// Market's documented sender ranges for API notifications.
std::vector<std::string> DefaultPushAllowIps();

struct PullCursor {
  int64_t watermark_ms = 0;
  int64_t window_to_ms = 0;  // 0: no pass in progress
  std::string page_token;
  std::string ToJson() const;
  static std::optional<PullCursor> Parse(const std::string& text);
};

class YmAdapter final : public Adapter,
                        public SourceCapability,
                        public WebhookCapability,
                        public TargetCapability {
 public:
  YmAdapter(YmConfig config, Transport transport, Clock& clock);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "yandex-market"; }
  SourceCapability* source() override { return this; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }
  std::string DescribeJson() const override;

  // SourceCapability
  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  // WebhookCapability. Market signs nothing; the docs say to check the
  // sender against its IP ranges (push_allow_ips, the documented ranges by
  // default); push_token_file adds a secret ?token= in the registered URL.
  // Answers (docs, "Receiving notifications" / error codes): 200 with JSON
  // {"version","name","time"} for every accepted notification, PING
  // included (Market reports INVALID_DATA when the integration version is
  // missing); a body that is not a notification -> 400
  // {"error":{"type":"WRONG_EVENT_FORMAT","message":...}}.
  // ORDER_CREATED / ORDER_STATUS_UPDATED / ORDER_CANCELLED /
  // ORDER_UPDATED / ORDER_CANCELLATION_REQUEST carry ids only: they become
  // kind=order_hint events (key "hint:<type>:<orderId>:<status>:<time>",
  // ordering key the order id, payload the notification) so a consumer can
  // trigger a fetch; the pull is the safety net. Other types are
  // acknowledged and dropped.
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;

  // TargetCapability
  std::vector<DeliveryOutcome> Deliver(std::span<const queue::Message> batch) override;
  int max_batch() const override { return kMaxStocksPerRequest; }
  std::vector<std::string> commands() const override { return {"set_stock", "set_price"}; }

  YmClient& client() { return client_; }

 private:
  void DeliverStocks(std::span<const queue::Message> batch, const std::vector<size_t>& indices,
                     std::vector<DeliveryOutcome>& out);
  void DeliverPrices(std::span<const queue::Message> batch, const std::vector<size_t>& indices,
                     std::vector<DeliveryOutcome>& out);
  net::HttpResponse Answer(int status) const;

  YmConfig config_;
  Clock& clock_;
  YmClient client_;
};

// The adapter type for daemon/adapter_registry.cc:
// [adapters.<id>] type = "yandex-market".
AdapterType Type();

}  // namespace crmhub::adapters::yandex_market
