// The webhook adapter's config schema and factory.

#include <utility>

#include "adapters/webhook/webhook_adapter.h"
#include "base/json_validate.h"

namespace crmhub::adapters::webhook {

using config::Type;

namespace {

struct WebhookKeys : config::KeySet {
  config::Key<Type::kSecret> secret_file = Declare<Type::kSecret>(
      {.name = "secret_file",
       .description = "The signing secret: the sender signs what signature_message names with "
                      "it. Unset: no signature check (then another check must be configured)."});
  config::Key<Type::kString> signature_header = Declare<Type::kString>(
      {.name = "signature_header",
       .default_value = "\"X-Signature\"",
       .description = "Header carrying the signature (\"Content-HMAC\" for CloudPayments). "
                      "Compared in constant time."});
  config::Key<Type::kEnum> signature_algorithm = Declare<Type::kEnum>(
      {.name = "signature_algorithm",
       .default_value = "\"hmac-sha256\"",
       .description = "hmac-* keys the digest with secret_file; sha256, sha1 and md5 are plain "
                      "digests of a signature_message that contains {secret}.",
       .choices = {"hmac-sha256", "hmac-sha1", "hmac-sha512", "hmac-md5", "sha256", "sha1",
                   "md5"}});
  config::Key<Type::kEnum> signature_encoding = Declare<Type::kEnum>(
      {.name = "signature_encoding",
       .default_value = "\"hex\"",
       .description = "How the digest is written: hex (either case), base64, or base64-of-hex "
                      "(base64 of the hex text).",
       .choices = {"hex", "base64", "base64-of-hex"}});
  config::Key<Type::kString> signature_message = Declare<Type::kString>(
      {.name = "signature_message",
       .default_value = "\"{body}\"",
       .description =
           "What is signed: {body} (the raw body), {field:NAME}, {header:NAME}, "
           "{secret} and literal text, e.g. \"{field:OutSum}:{field:InvId}:{secret}\"."});
  config::Key<Type::kString> signature_prefix = Declare<Type::kString>(
      {.name = "signature_prefix",
       .default_value = "\"sha256=\"",
       .description = "Stripped from the presented signature when it starts with it "
                      "(GitHub-style \"sha256=<hex>\")."});
  config::Key<Type::kEnum> body_format = Declare<Type::kEnum>(
      {.name = "body_format",
       .default_value = "\"json\"",
       .description = "json, or form (application/x-www-form-urlencoded: the event's payload "
                      "is then the form's fields as a JSON object of strings).",
       .choices = {"json", "form"}});
  config::Key<Type::kStringList> idempotency_key = Declare<Type::kStringList>(
      {.name = "idempotency_key",
       .description = "Each event's identity: one source or a list joined with ':'. A source is "
                      "a JSON pointer (\"/id\"), \"field:NAME\" (a form field or top-level "
                      "member), \"header:NAME\" or \"path:\" (the sub-path). A number and its "
                      "text are the same value. A repeat of a key is answered the same and not "
                      "queued again.",
       .required = true});
  config::Key<Type::kString> kind = Declare<Type::kString>(
      {.name = "kind",
       .default_value = "\"webhook\"",
       .description = "The events' kind (queued as header \"kind\"): a literal, or a source as "
                      "in idempotency_key (\"field:OperationType\")."});
  config::Key<Type::kStringList> paths = Declare<Type::kStringList>(
      {.name = "paths",
       .default_value = "[\"\"]",
       .description = "Sub-paths served under /hooks/<id>/ (\"\" is /hooks/<id> itself); others "
                      "get 404."});
  config::Key<Type::kString> answer_body = Declare<Type::kString>(
      {.name = "answer_body",
       .default_value = "'{\"status\":\"accepted\"}'",
       .description = "Body of the 200 answer once an event is durable (JSON if it parses as "
                      "JSON, else text/plain): what the sender requires, e.g. '{\"code\":0}' or "
                      "\"OK\"."});
  config::Key<Type::kStringList> allow_ips = Declare<Type::kStringList>(
      {.name = "allow_ips",
       .default_value = "[]",
       .description = "Client addresses allowed to post, as CIDR networks or single addresses "
                      "(\"127.0.0.0/8\", \"2001:db8::/32\"). Others get 403. Empty: any."});
  config::Key<Type::kSecret> bearer_token_file = Declare<Type::kSecret>(
      {.name = "bearer_token_file",
       .description = "Token the sender must present as \"Authorization: Bearer <token>\" "
                      "(401 otherwise)."});
  config::Key<Type::kSecret> basic_auth_file = Declare<Type::kSecret>(
      {.name = "basic_auth_file",
       .description = "\"user:password\" the sender must present as HTTP Basic authentication "
                      "(401 otherwise). With bearer_token_file too, either one is enough."});
  config::Key<Type::kSize> max_body =
      Declare<Type::kSize>({.name = "max_body",
                            .default_value = "\"1MiB\"",
                            .description = "Largest body accepted; larger requests get 413."});
};

// A literal, or a source when it is written as one.
bool IsSource(const std::string& v) {
  return v.starts_with("/") || v.starts_with("field:") || v.starts_with("header:") || v == "path:";
}

Result<std::unique_ptr<Adapter>> Build(const config::Section& section, const AdapterContext&) {
  const WebhookKeys keys;
  WebhookConfig c;
  c.id = section.id();
  if (keys.secret_file.IsSet(section)) {
    c.secret = keys.secret_file.Get(section);
    if (c.secret.empty()) return keys.secret_file.ErrorAt(section, "the secret file is empty");
    auto scheme = net::SignatureScheme::Parse(keys.signature_algorithm.Get(section),
                                              keys.signature_encoding.Get(section),
                                              keys.signature_message.Get(section));
    if (!scheme.ok()) return keys.signature_message.ErrorAt(section, scheme.status().message());
    c.signature = std::move(scheme).value();
  }
  c.signature_header = keys.signature_header.Get(section);
  if (c.signature_header.empty())
    return keys.signature_header.ErrorAt(section, "must name a header");
  c.signature_prefix = keys.signature_prefix.Get(section);
  c.body_format = *kit::ParseBodyFormat(keys.body_format.Get(section));
  auto key = kit::CompositeKey::Parse(keys.idempotency_key.Get(section));
  if (!key.ok()) return keys.idempotency_key.ErrorAt(section, key.status().message());
  c.key = std::move(key).value();
  const std::string kind = keys.kind.Get(section);
  if (IsSource(kind)) {
    auto source = kit::ValueSource::Parse(kind);
    if (!source.ok()) return keys.kind.ErrorAt(section, source.status().message());
    c.kind_source = std::move(source).value();
  } else if (kind.empty()) {
    return keys.kind.ErrorAt(section, "must not be empty");
  } else {
    c.kind = kind;
  }
  if (c.body_format == kit::BodyFormat::kForm) {
    for (const kit::ValueSource& part : c.key.parts()) {
      if (part.is_pointer()) {
        return keys.idempotency_key.ErrorAt(
            section, "\"" + part.spec() +
                         "\" is a JSON pointer, but body_format is \"form\": "
                         "use \"field:NAME\"");
      }
    }
  }
  c.paths = keys.paths.Get(section);
  for (std::string& p : c.paths) {
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    while (!p.empty() && p.back() == '/') p.pop_back();
  }
  const std::string answer = keys.answer_body.Get(section);
  c.answer = IsValidJson(answer) ? net::HttpResponse::Json(200, answer)
                                 : net::HttpResponse::Text(200, answer);
  auto allow = net::CidrList::Parse(keys.allow_ips.Get(section));
  if (!allow.ok()) return keys.allow_ips.ErrorAt(section, allow.status().message());
  c.allow_ips = std::move(allow).value();
  if (keys.bearer_token_file.IsSet(section)) {
    c.bearer_token = keys.bearer_token_file.Get(section);
    if (c.bearer_token.empty()) {
      return keys.bearer_token_file.ErrorAt(section, "the secret file is empty");
    }
  }
  if (keys.basic_auth_file.IsSet(section)) {
    c.basic_auth = keys.basic_auth_file.Get(section);
    if (c.basic_auth.Reveal().find(':') == std::string::npos) {
      return keys.basic_auth_file.ErrorAt(section, "expected \"user:password\" in the file");
    }
  }
  c.max_body = keys.max_body.Get(section);
  if (c.max_body == 0) return keys.max_body.ErrorAt(section, "must be more than 0");
  if (c.secret.empty() && c.bearer_token.empty() && c.basic_auth.empty() && c.allow_ips.empty()) {
    return keys.secret_file.ErrorAt(
        section,
        "no authentication configured: set secret_file, bearer_token_file, basic_auth_file or "
        "allow_ips (an open webhook is refused)");
  }
  return std::unique_ptr<Adapter>(std::make_unique<WebhookAdapter>(std::move(c)));
}

}  // namespace

AdapterType Type() {
  AdapterType t;
  t.schema.type = "webhook";
  t.schema.description =
      "Generic webhook intake for website forms, CMS, partner portals and providers a "
      "configuration can describe: POST /hooks/<id>[/<path>] with a JSON or form body, "
      "authenticated by a signature (algorithm, encoding and signed message as config), token "
      "and/or client IP; each body is queued as one event (lane in.<id>) under the configured "
      "(composite) idempotency key.";
  t.schema.keys = WebhookKeys().specs();
  t.factory = Build;
  return t;
}

}  // namespace crmhub::adapters::webhook
