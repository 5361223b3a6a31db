#pragma once
// MarketplaceAdapter: the frame of an adapter with all three capabilities --
// it pulls orders (Source), takes the system's push notifications
// (Webhook) and sets stock and prices (Target) -- so that a marketplace's
// adapter says only what is its own: Pull, poll_interval, HandleWebhook,
// Deliver, max_batch, DescribeJson.
//
// Thread-safety: as Adapter; the frame holds only immutable names.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/adapter.h"

namespace crmhub::adapters::kit {

class MarketplaceAdapter : public Adapter,
                           public SourceCapability,
                           public WebhookCapability,
                           public TargetCapability {
 public:
  // REQUIRES: `type` outlives the adapter (a literal: "ozon").
  MarketplaceAdapter(std::string id, std::string_view type) : id_(std::move(id)), type_(type) {}

  const std::string& id() const override { return id_; }
  std::string_view type() const override { return type_; }
  SourceCapability* source() override { return this; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }
  // What the CRM core sends every marketplace.
  std::vector<std::string> commands() const override { return {"set_stock", "set_price"}; }

 private:
  const std::string id_;
  const std::string_view type_;
};

}  // namespace crmhub::adapters::kit
