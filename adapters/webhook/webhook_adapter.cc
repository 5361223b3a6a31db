#include "adapters/webhook/webhook_adapter.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "base/json_get.h"
#include "base/json_validate.h"
#include "net/hmac.h"

namespace crmhub::adapters::webhook {
namespace {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return net::HmacHex(net::HmacAlgorithm::kSha256, key, data);
}

WebhookAdapter::WebhookAdapter(WebhookConfig config) : config_(std::move(config)) {
  reads_body_ = config_.body_format == kit::BodyFormat::kForm ||
                (config_.signature && config_.signature->uses_fields()) ||
                (config_.kind_source && config_.kind_source->reads_body()) ||
                std::any_of(config_.key.parts().begin(), config_.key.parts().end(),
                            [](const kit::ValueSource& s) { return s.reads_body(); });
}

std::string WebhookAdapter::DescribeJson() const {
  nlohmann::json d{{"signature", config_.signature ? config_.signature->Describe() : "none"},
                   {"signature_header", config_.signature_header},
                   {"body_format", config_.body_format == kit::BodyFormat::kJson ? "json" : "form"},
                   {"idempotency_key", config_.key.Describe()},
                   {"kind", config_.kind_source ? config_.kind_source->spec() : config_.kind},
                   {"paths", config_.paths},
                   {"ip_allowlist", !config_.allow_ips.empty()},
                   {"bearer_token", !config_.bearer_token.empty()},
                   {"basic_auth", !config_.basic_auth.empty()},
                   {"max_body", config_.max_body}};
  return d.dump();
}

bool WebhookAdapter::ServesPath(std::string_view sub_path) const {
  return std::find(config_.paths.begin(), config_.paths.end(), sub_path) != config_.paths.end();
}

bool WebhookAdapter::TokenMatches(const net::HttpRequest& request) const {
  std::optional<std::string_view> auth = request.headers.Get("Authorization");
  if (!auth) return false;
  std::string_view v = Trim(*auth);
  const size_t space = v.find(' ');
  if (space == std::string_view::npos) return false;
  const std::string scheme = AsciiLower(v.substr(0, space));
  const std::string_view credentials = Trim(v.substr(space + 1));
  if (scheme == "bearer" && !config_.bearer_token.empty()) {
    return config_.bearer_token.Matches(credentials);
  }
  if (scheme == "basic" && !config_.basic_auth.empty()) {
    Result<std::string> decoded = net::Base64Decode(credentials);
    if (!decoded.ok()) return false;
    const bool ok = config_.basic_auth.Matches(*decoded);
    std::fill(decoded->begin(), decoded->end(), '\0');
    return ok;
  }
  return false;
}

bool WebhookAdapter::SignatureMatches(const net::HttpRequest& request,
                                      const kit::WebhookBody* body) const {
  std::optional<std::string_view> presented = request.headers.Get(config_.signature_header);
  if (!presented) return false;
  net::SignatureScheme::Inputs inputs;
  inputs.body = request.body;
  // A field the sender signed but the body does not parse into: no match.
  inputs.field = [body](std::string_view name) -> std::optional<std::string> {
    return body ? body->Field(name) : std::nullopt;
  };
  inputs.header = [&request](std::string_view name) -> std::optional<std::string> {
    auto v = request.headers.Get(name);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  };
  return config_.signature->Verify(config_.secret.Reveal(), inputs, *presented,
                                   config_.signature_prefix);
}

Result<WebhookResult> WebhookAdapter::HandleWebhook(const net::HttpRequest& request) {
  if (!config_.allow_ips.empty() && !config_.allow_ips.Contains(request.remote_address)) {
    return Status::PermissionDenied("client address not allowed");
  }
  if ((!config_.bearer_token.empty() || !config_.basic_auth.empty()) && !TokenMatches(request)) {
    return Status::Unauthenticated("missing or wrong credentials");
  }
  Result<kit::WebhookBody> body = Status::InvalidArgument("body is not valid JSON");
  if (reads_body_) {
    body = kit::WebhookBody::Parse(request.body, config_.body_format);
  } else if (!JsonDepthWithin(request.body, kMaxJsonDepth)) {
    body = Status::InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels");
  } else if (IsValidJson(request.body)) {
    body = kit::WebhookBody();
  }
  if (config_.signature &&
      !SignatureMatches(request, body.ok() && reads_body_ ? &body.value() : nullptr)) {
    return Status::Unauthenticated("missing or wrong signature");
  }
  if (!body.ok()) return body.status();

  const std::string_view sub_path = WebhookSubPath(request.path, config_.id);
  Result<std::string> key = config_.key.Read(request, *body, sub_path);
  if (!key.ok()) return key.status();
  InboundEvent event;
  event.idempotency_key = std::move(key).value();
  if (config_.kind_source) {
    std::optional<std::string> kind = config_.kind_source->Read(request, *body, sub_path);
    if (!kind) {
      return Status::InvalidArgument("the event's kind is missing: no value at " +
                                     config_.kind_source->spec());
    }
    event.kind = std::move(*kind);
  } else {
    event.kind = config_.kind;
  }
  event.payload = body->Payload(request.body);

  WebhookResult result;
  result.events.push_back(std::move(event));
  result.accepted = config_.answer;
  return result;
}

}  // namespace crmhub::adapters::webhook
