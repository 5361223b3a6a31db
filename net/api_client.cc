#include "net/api_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/json_get.h"

namespace crmhub::net {
namespace {

// The first bytes of a text, printable, for messages kept with a message
// and shown in the dead letters.
std::string Snippet(std::string_view text) {
  constexpr size_t kMax = 256;
  std::string out;
  for (char c : text.substr(0, kMax)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (text.size() > kMax) out += "...";
  return out;
}

std::string DefaultErrorText(const nlohmann::json& body) {
  for (const char* key : {"message", "detail", "description", "errorText", "title", "error"}) {
    if (auto s = JsonString(body, key); s && !s->empty()) return std::string(*s);
  }
  return {};
}

std::optional<int64_t> DeltaSeconds(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < 0) return std::nullopt;
  return std::min<int64_t>(out, 365LL * 24 * 3600);
}

}  // namespace

std::string_view ApiErrorKindName(ApiError::Kind kind) {
  switch (kind) {
    case ApiError::Kind::kThrottled:
      return "throttled";
    case ApiError::Kind::kTransient:
      return "transient";
    case ApiError::Kind::kAuth:
      return "auth";
    case ApiError::Kind::kNotFound:
      return "not_found";
    case ApiError::Kind::kRejected:
      return "rejected";
  }
  return "unknown";
}

DeliveryOutcome ApiError::ToOutcome() const {
  switch (kind) {
    case Kind::kThrottled:
      return DeliveryOutcome::Throttled(message, not_before);
    case Kind::kTransient:
    case Kind::kAuth:  // ops fix the token; then the same command succeeds
      return DeliveryOutcome::Retry(message, not_before);
    case Kind::kNotFound:
    case Kind::kRejected:
      return DeliveryOutcome::Fail(message);
  }
  return DeliveryOutcome::Retry(message, not_before);
}

Status ApiError::ToStatus() const {
  switch (kind) {
    case Kind::kThrottled:
      return Status::ResourceExhausted(message);
    case Kind::kTransient:
      return Status::Unavailable(message);
    case Kind::kAuth:
      return Status::Unauthenticated(message);
    case Kind::kNotFound:
      return Status::NotFound(message);
    case Kind::kRejected:
      return Status::InvalidArgument(message);
  }
  return Status::Unavailable(message);
}

std::string_view UrlPath(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : url.find('/', scheme + 3);
  if (start == std::string_view::npos) return "/";
  std::string_view path = url.substr(start);
  return path.substr(0, path.find('?'));
}

std::string UrlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

ApiClient::ApiClient(ApiClientOptions options, Transport transport, const Clock& clock)
    : options_(std::move(options)), transport_(std::move(transport)), clock_(clock) {}

std::optional<SystemTime> ApiClient::ThrottleUntil(const HeaderMap& headers, SystemTime now) const {
  using Format = ApiDialect::ThrottleHeader::Format;
  for (const auto& h : options_.dialect.throttle_headers) {
    std::optional<std::string_view> v = headers.Get(h.name);
    if (!v) continue;
    std::optional<SystemTime> at;
    if (h.format == Format::kSeconds) {
      // "0" means "now", which a caller would only spin on: at least 1 s.
      if (auto s = DeltaSeconds(*v)) at = now + std::chrono::seconds(std::max<int64_t>(*s, 1));
    } else if (h.format == Format::kHttpDate) {
      if (!DeltaSeconds(*v)) at = ParseRetryAfter(*v, now);
    } else {
      at = ParseRetryAfter(*v, now);
    }
    if (at) return at;
  }
  return std::nullopt;
}

std::string ApiClient::ErrorText(std::string_view body) const {
  if (body.empty()) return {};
  Result<nlohmann::json> parsed = ParseJson(body, options_.max_json_depth);
  if (!parsed.ok()) return Snippet(body);
  std::string text = options_.dialect.error_text ? options_.dialect.error_text(*parsed)
                                                 : DefaultErrorText(*parsed);
  return text.empty() ? Snippet(body) : Snippet(text);
}

ApiResult<ApiAnswer> ApiClient::Classify(std::string_view method, std::string_view path,
                                         OutboundResult result, ApiRequest::Expect expect) const {
  const std::string& system = options_.dialect.system;
  const SystemTime now = clock_.Now();
  ApiError error;
  if (!result.ok()) {
    error.kind = ApiError::Kind::kTransient;
    error.message = fmt::format("{}: {} {}: {}", system, method, path, result.status().ToString());
    // An answer over the size cap will be as large next time.
    if (result.status().code() == StatusCode::kResourceExhausted) {
      error.kind = ApiError::Kind::kRejected;
    }
    return error;
  }
  OutboundResponse& response = result.value();
  const int status = response.status;
  if (status >= 200 && status < 300) {
    ApiAnswer answer{status, std::move(response.headers), std::move(response.body), nullptr};
    if (expect == ApiRequest::Expect::kJson && !(status == 204 && answer.body.empty())) {
      Result<nlohmann::json> parsed = ParseJson(answer.body, options_.max_json_depth);
      if (!parsed.ok()) {
        error.kind = ApiError::Kind::kTransient;
        error.http_status = status;
        error.message = fmt::format("{}: {} {}: HTTP {} with an unreadable body ({})", system,
                                    method, path, status, parsed.status().message());
        return error;
      }
      answer.json = std::move(parsed).value();
    }
    return answer;
  }
  error.http_status = status;
  const std::string text = ErrorText(response.body);
  error.message = fmt::format("{}: {} {}: HTTP {}{}{}", system, method, path, status,
                              text.empty() ? "" : ": ", text);
  const auto& throttles = options_.dialect.throttle_statuses;
  const bool throttled =
      status == 429 || std::find(throttles.begin(), throttles.end(), status) != throttles.end();
  if (throttled) {
    error.kind = ApiError::Kind::kThrottled;
    error.not_before = ThrottleUntil(response.headers, now);
    if (!error.not_before && options_.dialect.throttle_pause) {
      error.not_before =
          now + std::chrono::duration_cast<SystemTime::duration>(*options_.dialect.throttle_pause);
    }
  } else if (status == 408 || status >= 500) {
    error.kind = ApiError::Kind::kTransient;
    error.not_before = ThrottleUntil(response.headers, now);
  } else if (status == 401 || status == 403) {
    error.kind = ApiError::Kind::kAuth;
  } else if (status == 404) {
    error.kind = ApiError::Kind::kNotFound;
  } else {
    error.kind = ApiError::Kind::kRejected;
  }
  error.body = std::move(response.body);
  return error;
}

ApiResult<ApiAnswer> ApiClient::Call(ApiRequest request) const {
  const std::string path(UrlPath(request.url));
  for (const auto& [limiter, weight] : request.limits) {
    if (limiter == nullptr) continue;
    if (std::optional<Duration> wait = limiter->TryTake(weight)) {
      if (options_.throttled != nullptr) options_.throttled->Inc();
      ApiError error;
      error.kind = ApiError::Kind::kThrottled;
      error.message = fmt::format("{}: {} {}: local rate limit (the system's documented limit)",
                                  options_.dialect.system, request.method, path);
      error.not_before = clock_.Now() + std::chrono::duration_cast<SystemTime::duration>(*wait);
      return error;
    }
  }
  OutboundRequest out;
  out.method = request.method;
  out.url = std::move(request.url);
  out.headers = options_.headers;
  for (const auto& [name, value] : request.headers.entries()) out.headers.Set(name, value);
  if (!request.body.empty() && !out.headers.Has("Content-Type")) {
    out.headers.Set("Content-Type", "application/json");
  }
  out.body = std::move(request.body);
  out.timeout = options_.timeout;
  OutboundResult result = transport_(request.group, std::move(out));
  if (options_.dialect.extra_cost && result.ok()) {
    if (int64_t extra = options_.dialect.extra_cost(result->status); extra > 0) {
      for (const auto& [limiter, weight] : request.limits) {
        if (limiter != nullptr) limiter->Charge(extra);
      }
    }
  }
  return Classify(request.method, path, std::move(result), request.expect);
}

}  // namespace crmhub::net
