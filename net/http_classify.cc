// ClassifyResponse and ParseRetryAfter (declared in net/http_client.h).

#include <algorithm>
#include <cctype>
#include <ctime>

#include "net/http_client.h"

namespace crmhub::net {

namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The first bytes of a body, printable, for error messages kept with a
// message and shown in the DLQ.
std::string Snippet(std::string_view body) {
  constexpr size_t kMax = 256;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  if (body.size() > kMax) out += "...";
  return out;
}

}  // namespace

std::optional<SystemTime> ParseRetryAfter(std::string_view value, SystemTime now) {
  value = TrimSpaces(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    // delta-seconds; absurd values are capped at a year instead of overflowing.
    constexpr int64_t kMaxSeconds = 365LL * 24 * 3600;
    int64_t seconds = 0;
    for (char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) {
        seconds = kMaxSeconds;
        break;
      }
    }
    return now + std::chrono::seconds(seconds);
  }
  // HTTP-date: IMF-fixdate, plus the obsolete RFC 850 and asctime forms that
  // RFC 9110 section 5.6.7 asks recipients to accept.
  std::string text(value);
  for (const char* format :
       {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    std::time_t t = timegm(&tm);
    if (t == -1) return std::nullopt;
    SystemTime at = std::chrono::system_clock::from_time_t(t);
    return at < now ? now : at;
  }
  return std::nullopt;
}

DeliveryOutcome ClassifyResponse(const OutboundResult& result, SystemTime now) {
  if (!result.ok()) {
    const Status& s = result.status();
    // A response over max_response_bytes will be as large next time.
    if (s.code() == StatusCode::kResourceExhausted) return DeliveryOutcome::Fail(s.ToString());
    return DeliveryOutcome::Retry(s.ToString());
  }
  const OutboundResponse& r = result.value();
  if (r.status >= 200 && r.status < 300) return DeliveryOutcome::Ok();
  std::string error = "HTTP " + std::to_string(r.status);
  if (!r.body.empty()) error += ": " + Snippet(r.body);
  if (r.status == 408 || r.status == 429 || r.status >= 500) {
    std::optional<SystemTime> not_before;
    if (auto h = r.headers.Get("Retry-After")) not_before = ParseRetryAfter(*h, now);
    // 429 says "too many requests", nothing about this one: not an attempt.
    if (r.status == 429) return DeliveryOutcome::Throttled(std::move(error), not_before);
    return DeliveryOutcome::Retry(std::move(error), not_before);
  }
  // Other 4xx, and 1xx/3xx (redirects are not followed): retrying the same
  // request cannot help.
  return DeliveryOutcome::Fail(std::move(error));
}

}  // namespace crmhub::net
