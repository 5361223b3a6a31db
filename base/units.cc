#include "base/units.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>

namespace crmhub {
namespace {

// Reads a run of decimal digits at text[*pos]; false on none or overflow.
bool ReadNumber(std::string_view text, size_t* pos, uint64_t* out) {
  size_t i = *pos;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    ++i;
  }
  if (i == *pos) return false;
  *pos = i;
  *out = value;
  return true;
}

bool MulOverflows(uint64_t a, uint64_t b, uint64_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format(
        "invalid duration \"{}\": {} (expected e.g. \"500ms\", \"30s\", \"5m\", \"1h30m\", \"7d\")",
        text, why));
  };
  if (text.empty()) return bad("empty");
  if (text == "0") return std::chrono::milliseconds(0);
  size_t pos = 0;
  uint64_t total_ms = 0;
  while (pos < text.size()) {
    uint64_t n = 0;
    if (!ReadNumber(text, &pos, &n)) {
      return bad(text[pos] == '-' ? "negative durations are not allowed"
                                  : "expected a whole number");
    }
    size_t unit_start = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    uint64_t scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s")
      scale = 1000;
    else if (unit == "m")
      scale = 60'000;
    else if (unit == "h")
      scale = 3'600'000;
    else if (unit == "d")
      scale = 86'400'000;
    else if (unit.empty())
      return bad("missing unit");
    else
      return bad(fmt::format("unknown unit \"{}\"", unit));
    uint64_t part = 0;
    if (MulOverflows(n, scale, &part) || total_ms + part < total_ms ||
        total_ms + part > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad("too large");
    }
    total_ms += part;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += "-";
    ms = -ms;
  }
  struct Unit {
    int64_t scale;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const Unit& u : kUnits) {
    if (ms >= u.scale) {
      out += fmt::format("{}{}", ms / u.scale, u.name);
      ms %= u.scale;
    }
  }
  return out;
}

Result<uint64_t> ParseSize(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid size \"{}\": {} (expected e.g. \"512\", \"64KiB\", \"1MiB\", \"2GB\")",
                    text, why));
  };
  if (text.empty()) return bad("empty");
  size_t pos = 0;
  uint64_t n = 0;
  if (!ReadNumber(text, &pos, &n)) {
    return bad(text[0] == '-' ? "negative sizes are not allowed" : "expected a whole number");
  }
  std::string_view unit = text.substr(pos);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KB")
    scale = 1000;
  else if (unit == "MB")
    scale = 1000ull * 1000;
  else if (unit == "GB")
    scale = 1000ull * 1000 * 1000;
  else if (unit == "KiB")
    scale = 1024;
  else if (unit == "MiB")
    scale = 1024ull * 1024;
  else if (unit == "GiB")
    scale = 1024ull * 1024 * 1024;
  else
    return bad(fmt::format("unknown unit \"{}\"", unit));
  uint64_t bytes = 0;
  if (MulOverflows(n, scale, &bytes)) return bad("too large");
  return bytes;
}

}  // namespace crmhub
