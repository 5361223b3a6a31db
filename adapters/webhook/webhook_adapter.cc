#include "adapters/webhook/webhook_adapter.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace crmhub::adapters::webhook {
namespace {

using nlohmann::json;

constexpr std::string_view kHeaderPrefix = "header:";

std::string ToHex(const unsigned char* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[data[i] >> 4]);
    out.push_back(kHex[data[i] & 0xf]);
  }
  return out;
}

// Parses an address into 16 bytes; IPv4 and IPv4-mapped IPv6 give v6=false
// with the address in the first 4 bytes.
bool ParseAddress(std::string_view text, bool* v6, std::array<uint8_t, 16>* bytes) {
  // A zone ("fe80::1%eth0") is dropped: allow-lists name networks, not links.
  text = text.substr(0, text.find('%'));
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof(buf)) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  bytes->fill(0);
  if (inet_pton(AF_INET, buf, bytes->data()) == 1) {
    *v6 = false;
    return true;
  }
  std::array<uint8_t, 16> a6{};
  if (inet_pton(AF_INET6, buf, a6.data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a6.data(), kMapped, sizeof(kMapped)) == 0) {
    *v6 = false;
    std::memcpy(bytes->data(), a6.data() + 12, 4);
    return true;
  }
  *v6 = true;
  *bytes = a6;
  return true;
}

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

std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the '=' padding as zero bytes.
  if (!in.empty() && in.back() == '=') --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  return ToHex(digest, len);
}

Result<IpNetwork> IpNetwork::Parse(std::string_view cidr) {
  IpNetwork net;
  std::string_view addr = cidr;
  std::optional<int> prefix;
  if (size_t slash = cidr.find('/'); slash != std::string_view::npos) {
    addr = cidr.substr(0, slash);
    std::string_view p = cidr.substr(slash + 1);
    int v = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || end != p.data() + p.size() || p.empty()) {
      return Status::InvalidArgument(fmt::format("\"{}\": bad prefix length", cidr));
    }
    prefix = v;
  }
  if (!ParseAddress(addr, &net.v6_, &net.bytes_)) {
    return Status::InvalidArgument(
        fmt::format("\"{}\": not an IP address or CIDR network (e.g. \"10.0.0.0/8\")", cidr));
  }
  const int max = net.v6_ ? 128 : 32;
  net.prefix_ = prefix.value_or(max);
  if (net.prefix_ < 0 || net.prefix_ > max) {
    return Status::InvalidArgument(fmt::format("\"{}\": prefix length must be 0..{}", cidr, max));
  }
  // Host bits set ("10.0.0.1/8") are a typo more often than not: refuse.
  for (int bit = net.prefix_; bit < max; ++bit) {
    if (net.bytes_[bit / 8] & (0x80 >> (bit % 8))) {
      return Status::InvalidArgument(
          fmt::format("\"{}\": host bits are set (did you mean the network address?)", cidr));
    }
  }
  return net;
}

bool IpNetwork::Contains(std::string_view address) const {
  bool v6 = false;
  std::array<uint8_t, 16> a{};
  if (!ParseAddress(address, &v6, &a) || v6 != v6_) return false;
  const int full = prefix_ / 8;
  if (std::memcmp(a.data(), bytes_.data(), static_cast<size_t>(full)) != 0) return false;
  const int rest = prefix_ % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (bytes_[full] & mask);
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
    std::optional<std::string> decoded = Base64Decode(credentials);
    if (!decoded) return false;
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
  if (!config_.allow_ips.empty()) {
    const bool allowed =
        std::any_of(config_.allow_ips.begin(), config_.allow_ips.end(),
                    [&](const IpNetwork& n) { return n.Contains(request.remote_address); });
    if (!allowed) return Status::PermissionDenied("client address not allowed");
  }
  if ((!config_.bearer_token.empty() || !config_.basic_auth.empty()) && !TokenMatches(request)) {
    return Status::Unauthenticated("missing or wrong credentials");
  }
  if (!config_.hmac_key.empty() && !SignatureMatches(request)) {
    return Status::Unauthenticated("missing or wrong signature");
  }

  json doc = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("body is not valid JSON");

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
