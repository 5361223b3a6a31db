#pragma once
// The example adapter of docs/adapters/writing-an-adapter.md: the Acme Shop
// API (made up) in about the shape every adapter has.
//
// Source: orders changed after the cursor, oldest first, a page per Pull;
// the cursor is the last change's time (Unix ms). A change at the page's
// edge may be read twice: the queue drops the repeat (same key).
// Webhook: Acme posts {"event_id", "event": "order.updated", "order_id"} signed with
// X-Acme-Signature (hex HMAC-SHA256 of the body); it names the order only,
// so it is queued as a hint and Resolve fetches the order on a worker.
// Target: "set_stock" items {"sku", "stock"} -> PUT /v1/stock, 100 a request.
//
// Events: key "<id>:<status>", ordering key the order id, kind "order",
// payload the order as Acme sent it.
//
// Threading: Pull, Resolve and Deliver on worker threads (blocking HTTP);
// HandleWebhook on an I/O thread, no I/O.

#include <chrono>
#include <string>

#include "adapters/adapter.h"
#include "docs/adapters/example/acme_client.h"
#include "net/signature.h"

namespace crmhub::adapters::acme {

struct AcmeConfig {
  std::string id;
  AcmeClientOptions client;
  Secret webhook_secret;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};
  std::chrono::milliseconds lookback{std::chrono::hours(24)};
};

class AcmeAdapter final : public Adapter,
                          public SourceCapability,
                          public WebhookCapability,
                          public TargetCapability {
 public:
  AcmeAdapter(AcmeConfig config, net::Transport transport, const Clock& clock);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "acme"; }
  SourceCapability* source() override { return this; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  ResolveResult Resolve(const Hint& hint) override;

  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 1000; }
  std::vector<std::string> commands() const override { return {"set_stock"}; }

 private:
  AcmeConfig config_;
  const Clock& clock_;
  AcmeClient client_;
  net::SignatureScheme signature_;
};

// [adapters.<id>] type = "acme": the schema and the factory.
AdapterType Type();

}  // namespace crmhub::adapters::acme
