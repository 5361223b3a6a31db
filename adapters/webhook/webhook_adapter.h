#pragma once
// The generic webhook adapter: website forms, CMS, partner portals post JSON
// to POST /hooks/<id>; every accepted body becomes one inbound event.
//
//   [adapters.site]
//   type = "webhook"
//   secret_file = "secrets/site-hmac"      # HMAC-SHA256 key
//   signature_header = "X-Signature"       # hex digest of the raw body; "sha256=" prefix accepted
//   idempotency_key = "/id"                # JSON pointer into the body (or "header:Idempotency-Key")
//   allow_ips = ["127.0.0.0/8"]            # optional
//   bearer_token_file = "secrets/site-token"   # optional: Authorization: Bearer <token>
//   basic_auth_file = "secrets/site-basic"     # optional: "user:password", Authorization: Basic
//   max_body = "1MiB"
//
// Checks, in order: client IP against allow_ips (403), bearer/basic token
// when configured (401; either one matching is enough when both are set),
// HMAC signature when secret_file is set (401), body is JSON (400), the
// idempotency key is present (400). Every comparison of a credential is
// constant time. At least one of secret_file, bearer_token_file,
// basic_auth_file, allow_ips must be set: an open endpoint is a config error.
//
// The event: payload = the raw body as received, header kind = "webhook",
// idempotency key = the pointed-at string (a number is used in its JSON form).
// The sender gets 200 {"status":"accepted"} once it is durable.
//
// Thread-safety: immutable after construction; HandleWebhook may run on
// several threads at once.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/cidr.h"

namespace crmhub::adapters::webhook {

// Where the idempotency key comes from.
struct KeySource {
  // "header:Name" -> the header's value; otherwise a JSON pointer.
  static Result<KeySource> Parse(std::string_view spec);
  std::optional<std::string> header;
  nlohmann::json::json_pointer pointer;
  std::string spec;  // as configured, for messages
};

struct WebhookConfig {
  std::string id;
  Secret hmac_key;                      // empty: no signature check
  std::string signature_header = "X-Signature";
  KeySource key;
  net::CidrList allow_ips;              // empty: any address
  Secret bearer_token;                  // empty: not used
  Secret basic_auth;                    // "user:password"; empty: not used
  uint64_t max_body = 1024 * 1024;
};

class WebhookAdapter final : public Adapter, public WebhookCapability {
 public:
  explicit WebhookAdapter(WebhookConfig config);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "webhook"; }
  WebhookCapability* webhook() override { return this; }
  std::string DescribeJson() const override;

  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  uint64_t max_body_bytes() const override { return config_.max_body; }

 private:
  bool TokenMatches(const net::HttpRequest& request) const;
  bool SignatureMatches(const net::HttpRequest& request) const;

  WebhookConfig config_;
};

// Lower-case hex HMAC-SHA256 of `data` under `key` (what senders put in
// signature_header).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// The adapter type for daemon/adapter_registry.cc: schema of the keys above
// and the factory (config errors via Section::ErrorAt).
AdapterType Type();

}  // namespace crmhub::adapters::webhook
