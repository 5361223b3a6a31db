#include "adapters/webhook/webhook_adapter.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/json_validate.h"
#include "net/hmac.h"

namespace crmhub::adapters::webhook {
namespace {

using nlohmann::json;

constexpr std::string_view kHeaderPrefix = "header:";

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

Result<KeySource> KeySource::Parse(std::string_view spec) {
  KeySource ks;
  ks.spec = std::string(spec);
  if (spec.substr(0, kHeaderPrefix.size()) == kHeaderPrefix) {
    std::string name(Trim(spec.substr(kHeaderPrefix.size())));
    if (name.empty()) return Status::InvalidArgument("\"header:\" needs a header name");
    ks.header = std::move(name);
    return ks;
  }
  if (spec.empty() || spec.front() != '/') {
    return Status::InvalidArgument(fmt::format(
        "\"{}\": expected a JSON pointer such as \"/id\" or \"header:Idempotency-Key\"", spec));
  }
  try {
    ks.pointer = json::json_pointer(std::string(spec));
  } catch (const json::exception&) {
    return Status::InvalidArgument(fmt::format("\"{}\": not a valid JSON pointer (RFC 6901)", spec));
  }
  return ks;
}

WebhookAdapter::WebhookAdapter(WebhookConfig config) : config_(std::move(config)) {}

std::string WebhookAdapter::DescribeJson() const {
  json d{{"signature", !config_.hmac_key.empty()},
         {"signature_header", config_.signature_header},
         {"idempotency_key", config_.key.spec},
         {"ip_allowlist", !config_.allow_ips.empty()},
         {"bearer_token", !config_.bearer_token.empty()},
         {"basic_auth", !config_.basic_auth.empty()},
         {"max_body", config_.max_body}};
  return d.dump();
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

bool WebhookAdapter::SignatureMatches(const net::HttpRequest& request) const {
  std::optional<std::string_view> header = request.headers.Get(config_.signature_header);
  if (!header) return false;
  std::string presented = AsciiLower(Trim(*header));
  if (presented.rfind("sha256=", 0) == 0) presented.erase(0, 7);
  const std::string expected = HmacSha256Hex(config_.hmac_key.Reveal(), request.body);
  return ConstantTimeEquals(expected, presented);
}

Result<WebhookResult> WebhookAdapter::HandleWebhook(const net::HttpRequest& request) {
  if (!config_.allow_ips.empty() && !config_.allow_ips.Contains(request.remote_address)) {
    return Status::PermissionDenied("client address not allowed");
  }
  if ((!config_.bearer_token.empty() || !config_.basic_auth.empty()) && !TokenMatches(request)) {
    return Status::Unauthenticated("missing or wrong credentials");
  }
  if (!config_.hmac_key.empty() && !SignatureMatches(request)) {
    return Status::Unauthenticated("missing or wrong signature");
  }

  // With the key in a header the body is only validated (no document built:
  // this runs for every request on the intake hot path).
  json doc;
  if (config_.key.header) {
    if (!IsValidJson(request.body)) return Status::InvalidArgument("body is not valid JSON");
  } else {
    doc = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return Status::InvalidArgument("body is not valid JSON");
  }

  InboundEvent event;
  if (config_.key.header) {
    std::optional<std::string_view> v = request.headers.Get(*config_.key.header);
    if (!v || Trim(*v).empty()) {
      return Status::InvalidArgument(
          fmt::format("idempotency key missing: header {} is required", *config_.key.header));
    }
    event.idempotency_key = std::string(Trim(*v));
  } else {
    const json* v = nullptr;
    try {
      // contains() may throw for a pointer that does not fit the document's
      // shape (an array index that is not a number): that is "absent" too.
      if (doc.is_structured() && doc.contains(config_.key.pointer)) {
        v = &doc.at(config_.key.pointer);
      }
    } catch (const json::exception&) {
      v = nullptr;
    }
    if (v != nullptr && v->is_string() && !v->get_ref<const std::string&>().empty()) {
      event.idempotency_key = v->get<std::string>();
    } else if (v != nullptr && v->is_number()) {
      event.idempotency_key = v->dump();
    } else {
      return Status::InvalidArgument(fmt::format(
          "idempotency key missing: no string or number at {}", config_.key.spec));
    }
  }
  event.headers = {{"kind", "webhook"}};
  event.payload = request.body;

  WebhookResult result;
  result.events.push_back(std::move(event));
  result.accepted = net::HttpResponse::Json(200, R"({"status":"accepted"})");
  return result;
}

}  // namespace crmhub::adapters::webhook
