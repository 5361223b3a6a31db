#pragma once
// The generic webhook adapter: website forms, CMS, partner portals and any
// provider whose notifications a configuration can describe post to
// POST /hooks/<id>[/<sub-path>]; every accepted body becomes one inbound
// event.
//
//   [adapters.site]
//   type = "webhook"
//   secret_file = "secrets/site-hmac"     # the signing secret
//   signature_header = "X-Signature"      # where the sender puts the signature
//   signature_algorithm = "hmac-sha256"   # hmac-sha1/-sha512/-md5, sha256, sha1, md5
//   signature_encoding = "hex"            # hex, base64, base64-of-hex
//   signature_message = "{body}"          # what is signed (net/signature.h)
//   body_format = "json"                  # or "form" (x-www-form-urlencoded)
//   idempotency_key = "/id"               # or ["field:TransactionId", "field:Status"]
//   kind = "webhook"                      # or a source: "field:OperationType"
//   paths = [""]                          # sub-paths served ("" is /hooks/<id>)
//   answer_body = '{"status":"accepted"}' # what the sender gets once durable
//   allow_ips = ["127.0.0.0/8"]           # optional
//   bearer_token_file = "secrets/site-token"   # optional: Authorization: Bearer <token>
//   basic_auth_file = "secrets/site-basic"     # optional: "user:password", Authorization: Basic
//   max_body = "1MiB"
//
// CloudPayments' notifications, for example, are served by configuration
// alone: body_format = "form", signature_header = "Content-HMAC",
// signature_encoding = "base64", idempotency_key = ["field:TransactionId",
// "field:Status"], kind = "field:OperationType", answer_body = '{"code":0}'.
//
// Checks, in order: client IP against allow_ips (403), bearer/basic token
// when configured (401; either one matching is enough when both are set),
// the signature when secret_file is set (401), the body parses in its format
// (400), the idempotency key and the kind are present (400). Every
// comparison of a credential is constant time. At least one of secret_file,
// bearer_token_file, basic_auth_file, allow_ips must be set: an open
// endpoint is a config error.
//
// The event: payload = the raw body as received (a form: its fields as a
// JSON object of strings), kind as configured, idempotency key = the key's
// parts joined with ':' (numbers in their JSON form, so {"id":12} and
// {"id":"12"} are one key). The sender gets answer_body (JSON when it
// parses as JSON, else text/plain) with 200 once the event is durable.
//
// Thread-safety: immutable after construction; HandleWebhook may run on
// several threads at once.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/webhook_fields.h"
#include "base/secret.h"
#include "base/status.h"
#include "net/cidr.h"
#include "net/signature.h"

namespace crmhub::adapters::webhook {

struct WebhookConfig {
  std::string id;
  kit::BodyFormat body_format = kit::BodyFormat::kJson;
  Secret secret;                                  // empty: no signature check
  std::optional<net::SignatureScheme> signature;  // set when `secret` is
  std::string signature_header = "X-Signature";
  std::string signature_prefix = "sha256=";  // stripped from a presented signature
  kit::CompositeKey key;
  // The event's kind: a literal, or read from the request.
  std::string kind = "webhook";
  std::optional<kit::ValueSource> kind_source;
  std::vector<std::string> paths = {""};
  net::HttpResponse answer = net::HttpResponse::Json(200, R"({"status":"accepted"})");
  net::CidrList allow_ips;  // empty: any address
  Secret bearer_token;      // empty: not used
  Secret basic_auth;        // "user:password"; empty: not used
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
  bool ServesPath(std::string_view sub_path) const override;

 private:
  bool TokenMatches(const net::HttpRequest& request) const;
  bool SignatureMatches(const net::HttpRequest& request, const kit::WebhookBody* body) const;

  WebhookConfig config_;
  // Whether anything reads the body's fields (else a JSON body is only
  // validated: no document is built on the intake's hot path).
  bool reads_body_ = false;
};

// Lower-case hex HMAC-SHA256 of `data` under `key` (what senders put in
// signature_header by default).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// The adapter type for daemon/adapter_registry.cc: schema of the keys above
// and the factory (config errors via the keys' ErrorAt).
AdapterType Type();

}  // namespace crmhub::adapters::webhook
