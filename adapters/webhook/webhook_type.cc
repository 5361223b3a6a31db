// The webhook adapter's config schema and factory.

#include <utility>

#include "adapters/webhook/webhook_adapter.h"

namespace crmhub::adapters::webhook {

using config::KeySpec;
using config::Type;

namespace {

std::vector<KeySpec> Keys() {
  return {
      {.name = "secret_file", .type = Type::kSecret,
       .description = "HMAC-SHA256 key: the sender signs the raw body with it and sends the hex "
                      "digest in signature_header. Unset: no signature check (then another "
                      "check must be configured)."},
      {.name = "signature_header", .type = Type::kString, .default_value = "\"X-Signature\"",
       .description = "Header with the hex HMAC-SHA256 of the raw body; a \"sha256=\" prefix is "
                      "accepted. Compared in constant time."},
      {.name = "idempotency_key", .type = Type::kString,
       .description = "Where each event's identity is: a JSON pointer into the body (\"/id\", "
                      "\"/order/number\"), or \"header:<Name>\" for a request header (e.g. "
                      "\"header:Idempotency-Key\"). A repeat with the same key is answered the "
                      "same and not queued again.",
       .required = true},
      {.name = "allow_ips", .type = Type::kStringList, .default_value = "[]",
       .description = "Client addresses allowed to post, as CIDR networks or single addresses "
                      "(\"127.0.0.0/8\", \"2001:db8::/32\"). Others get 403. Empty: any."},
      {.name = "bearer_token_file", .type = Type::kSecret,
       .description = "Token the sender must present as \"Authorization: Bearer <token>\" "
                      "(401 otherwise)."},
      {.name = "basic_auth_file", .type = Type::kSecret,
       .description = "\"user:password\" the sender must present as HTTP Basic authentication "
                      "(401 otherwise). With bearer_token_file too, either one is enough."},
      {.name = "max_body", .type = Type::kSize, .default_value = "\"1MiB\"",
       .description = "Largest body accepted; larger requests get 413."},
  };
}

Result<std::unique_ptr<Adapter>> Build(const config::Section& section, const AdapterContext&) {
  WebhookConfig c;
  c.id = section.id();
  if (section.Has("secret_file")) {
    c.hmac_key = section.GetSecret("secret_file");
    if (c.hmac_key.empty()) return section.ErrorAt("secret_file", "the secret file is empty");
  }
  c.signature_header = section.GetString("signature_header");
  if (c.signature_header.empty()) {
    return section.ErrorAt("signature_header", "must name a header");
  }
  auto key = KeySource::Parse(section.GetString("idempotency_key"));
  if (!key.ok()) return section.ErrorAt("idempotency_key", key.status().message());
  c.key = std::move(key).value();
  auto allow = net::CidrList::Parse(section.GetStringList("allow_ips"));
  if (!allow.ok()) return section.ErrorAt("allow_ips", allow.status().message());
  c.allow_ips = std::move(allow).value();
  if (section.Has("bearer_token_file")) {
    c.bearer_token = section.GetSecret("bearer_token_file");
    if (c.bearer_token.empty()) {
      return section.ErrorAt("bearer_token_file", "the secret file is empty");
    }
  }
  if (section.Has("basic_auth_file")) {
    c.basic_auth = section.GetSecret("basic_auth_file");
    if (c.basic_auth.Reveal().find(':') == std::string::npos) {
      return section.ErrorAt("basic_auth_file", "expected \"user:password\" in the file");
    }
  }
  c.max_body = section.GetSize("max_body");
  if (c.max_body == 0) return section.ErrorAt("max_body", "must be more than 0");
  if (c.hmac_key.empty() && c.bearer_token.empty() && c.basic_auth.empty() &&
      c.allow_ips.empty()) {
    return section.ErrorAt("secret_file",
                           "no authentication configured: set secret_file, bearer_token_file, "
                           "basic_auth_file or allow_ips (an open webhook is refused)");
  }
  return std::unique_ptr<Adapter>(std::make_unique<WebhookAdapter>(std::move(c)));
}

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "webhook";
  t.schema.description =
      "Generic webhook intake for website forms, CMS and partner portals: POST /hooks/<id> with "
      "a JSON body, authenticated by HMAC signature, token and/or client IP; each body is queued "
      "as one event (lane in.<id>) under the configured idempotency key.";
  t.schema.keys = Keys();
  t.factory = Build;
  return t;
}

}  // namespace crmhub::adapters::webhook
