#include "queue/kafka/kafka_records.h"

#include <charconv>
#include <cstdint>

namespace crmhub::queue::kafka {
namespace {

constexpr char kLane[] = "crmhub.lane";
constexpr char kSource[] = "crmhub.source";
constexpr char kKey[] = "crmhub.key";
constexpr char kOrderingKey[] = "crmhub.ordering_key";
constexpr char kCreatedAt[] = "crmhub.created_at";
constexpr char kAttempts[] = "crmhub.attempts";
constexpr char kNotBefore[] = "crmhub.not_before";
constexpr char kError[] = "crmhub.error";
constexpr char kReason[] = "crmhub.reason";
constexpr char kFailedAt[] = "crmhub.failed_at";
constexpr char kUserPrefix[] = "h:";

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

KafkaRecord EncodeRecord(const RecordFields& f) {
  KafkaRecord r;
  r.key = f.ordering_key.empty() ? f.idempotency_key : f.ordering_key;
  r.value = f.payload;
  r.headers.emplace_back(kLane, f.lane);
  r.headers.emplace_back(kSource, f.source);
  r.headers.emplace_back(kKey, f.idempotency_key);
  if (!f.ordering_key.empty()) r.headers.emplace_back(kOrderingKey, f.ordering_key);
  r.headers.emplace_back(kCreatedAt, std::to_string(ToUnixMillis(f.created_at)));
  r.headers.emplace_back(kAttempts, std::to_string(f.attempts));
  if (f.not_before) r.headers.emplace_back(kNotBefore, std::to_string(ToUnixMillis(*f.not_before)));
  for (const DeadLetterAttempt& a : f.history) {
    r.headers.emplace_back(kError, std::to_string(ToUnixMillis(a.at)) + " " + a.error);
  }
  if (f.failed_at) {
    r.headers.emplace_back(kReason, f.reason);
    r.headers.emplace_back(kFailedAt, std::to_string(ToUnixMillis(*f.failed_at)));
  }
  for (const auto& [name, value] : f.headers) r.headers.emplace_back(kUserPrefix + name, value);
  return r;
}

Result<RecordFields> DecodeRecord(const Headers& kafka_headers, std::string value) {
  RecordFields f;
  f.payload = std::move(value);
  bool has_lane = false, has_source = false, has_key = false, has_created = false;
  for (const auto& [name, v] : kafka_headers) {
    auto time_of = [&](std::string_view text) -> Result<SystemTime> {
      auto ms = ParseInt(text);
      if (!ms) return Status::Corruption("record header " + name + ": not unix milliseconds");
      return FromUnixMillis(*ms);
    };
    if (name == kLane) {
      f.lane = v;
      has_lane = true;
    } else if (name == kSource) {
      f.source = v;
      has_source = true;
    } else if (name == kKey) {
      f.idempotency_key = v;
      has_key = true;
    } else if (name == kOrderingKey) {
      f.ordering_key = v;
    } else if (name == kCreatedAt) {
      auto t = time_of(v);
      if (!t.ok()) return t.status();
      f.created_at = *t;
      has_created = true;
    } else if (name == kAttempts) {
      auto n = ParseInt(v);
      if (!n || *n < 0) return Status::Corruption("record header crmhub.attempts: not a count");
      f.attempts = static_cast<int>(*n);
    } else if (name == kNotBefore) {
      auto t = time_of(v);
      if (!t.ok()) return t.status();
      f.not_before = *t;
    } else if (name == kError) {
      const size_t space = v.find(' ');
      if (space == std::string::npos)
        return Status::Corruption("record header crmhub.error: no time");
      auto t = time_of(std::string_view(v).substr(0, space));
      if (!t.ok()) return t.status();
      f.history.push_back({*t, v.substr(space + 1)});
    } else if (name == kReason) {
      f.reason = v;
    } else if (name == kFailedAt) {
      auto t = time_of(v);
      if (!t.ok()) return t.status();
      f.failed_at = *t;
    } else if (name.rfind(kUserPrefix, 0) == 0) {
      f.headers.emplace_back(name.substr(sizeof(kUserPrefix) - 1), v);
    }
  }
  if (!has_lane || !has_source || !has_key || !has_created) {
    return Status::Corruption(
        "not a crmhub queue record (crmhub.lane, .source, .key or .created_at missing)");
  }
  return f;
}

}  // namespace crmhub::queue::kafka
