#include "adapters/kit/command_fields.h"

#include <fmt/format.h>

#include "base/json_get.h"

namespace crmhub::adapters::kit {

using nlohmann::json;

std::optional<double> AsNumber(const json& value) {
  if (const auto* d = value.get_ptr<const json::number_float_t*>()) return *d;
  // Unsigned first: nlohmann hands an unsigned value's storage out as the
  // signed pointer too (is_number_integer() holds for both).
  if (const auto* u = value.get_ptr<const json::number_unsigned_t*>()) {
    return static_cast<double>(*u);
  }
  if (const auto* i = value.get_ptr<const json::number_integer_t*>()) {
    return static_cast<double>(*i);
  }
  return std::nullopt;
}

json NumberOrText(const json& item, std::string_view key) {
  const json* member = JsonMember(item, key);
  if (member == nullptr) return json();
  if (std::optional<std::string_view> text = AsString(*member)) {
    Result<json> parsed = ParseJson(*text);
    return parsed.ok() && parsed->is_number() ? *parsed : json();
  }
  return member->is_number() ? *member : json();
}

Result<std::string> TrimmedText(const json& item, std::string_view key, size_t max_chars) {
  std::string_view s = JsonString(item, key).value_or("");
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  size_t chars = 0;
  bool control = false;
  for (unsigned char c : s) {
    chars += (c & 0xC0) != 0x80;  // not a UTF-8 continuation byte
    control = control || (c < 0x20 && c != '\t') || c == 0x7f;
  }
  if (chars == 0 || chars > max_chars || control) {
    return Status::InvalidArgument(fmt::format(
        "{} must be a string of 1..{} characters, no control characters, after trimming; got {}",
        key, max_chars, QuoteMember(item, key)));
  }
  return std::string(s);
}

std::string QuoteMember(const json& item, std::string_view key) {
  const json* member = JsonMember(item, key);
  if (member == nullptr) return "nothing";
  return member->dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 80);
}

}  // namespace crmhub::adapters::kit
