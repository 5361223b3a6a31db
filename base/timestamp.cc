#include "base/timestamp.h"

#include <fmt/format.h>

namespace crmhub {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimAscii(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// `len` digits at `pos` as a number; false when any is not a digit.
bool ParseFixed(std::string_view s, size_t pos, size_t len, int& out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};
// Howard Hinnant's civil_from_days.
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<int> ParseUtcOffset(std::string_view s) {
  if (s == "Z" || s == "z" || s == "UTC" || s == "GMT") return 0;
  if (s == "MSK") return kMoscowOffsetMinutes;
  if (s.size() < 3 || (s[0] != '+' && s[0] != '-')) {
    return Status::InvalidArgument("bad time zone offset");
  }
  int hh = 0;
  int mm = 0;
  if (!ParseFixed(s, 1, 2, hh)) return Status::InvalidArgument("bad time zone offset");
  size_t rest = 3;
  if (s.size() > rest && s[rest] == ':') ++rest;
  if (s.size() > rest) {
    if (s.size() != rest + 2 || !ParseFixed(s, rest, 2, mm)) {
      return Status::InvalidArgument("bad time zone offset");
    }
  } else if (rest == 4) {
    return Status::InvalidArgument("bad time zone offset");
  }
  if (hh > 14 || mm > 59) return Status::InvalidArgument("bad time zone offset");
  const int total = hh * 60 + mm;
  return s[0] == '-' ? -total : total;
}

Result<int64_t> ParseTimestampMs(std::string_view s, int default_offset_minutes) {
  s = TrimAscii(s);
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  size_t pos = 0;
  if (ParseFixed(s, 0, 4, y) && s.size() >= 10 && s[4] == '-' && s[7] == '-' &&
      ParseFixed(s, 5, 2, mo) && ParseFixed(s, 8, 2, d)) {
    pos = 10;  // ISO 8601
  } else if (ParseFixed(s, 0, 2, d) && s.size() >= 10 && (s[2] == '.' || s[2] == '-') &&
             s[5] == s[2] && ParseFixed(s, 3, 2, mo) && ParseFixed(s, 6, 4, y)) {
    pos = 10;  // dd.mm.yyyy, dd-mm-yyyy
  } else {
    return Status::InvalidArgument("not a date (expected YYYY-MM-DD, DD.MM.YYYY or DD-MM-YYYY)");
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo)) {
    return Status::InvalidArgument("date out of range");
  }
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
    ++pos;
    if (!ParseFixed(s, pos, 2, h) || pos + 2 >= s.size() || s[pos + 2] != ':' ||
        !ParseFixed(s, pos + 3, 2, mi)) {
      return Status::InvalidArgument("bad time (expected hh:mm[:ss])");
    }
    pos += 5;
    if (pos < s.size() && s[pos] == ':') {
      if (!ParseFixed(s, pos + 1, 2, sec)) return Status::InvalidArgument("bad seconds");
      pos += 3;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        while (pos < s.size() && IsDigit(s[pos])) {
          if (digits < 3) ms = ms * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return Status::InvalidArgument("bad fraction of a second");
        for (int k = digits; k < 3; ++k) ms *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return Status::InvalidArgument("time out of range");
  }
  int offset = default_offset_minutes;
  if (pos < s.size()) {
    auto parsed = ParseUtcOffset(s.substr(pos));
    if (!parsed.ok()) return Status::InvalidArgument("unexpected text after the date/time");
    offset = *parsed;
  } else if (default_offset_minutes == kNoDefaultOffset) {
    return Status::InvalidArgument("no time zone in the value and no default offset");
  }
  const int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - static_cast<int64_t>(offset) * 60;
  return secs * 1000 + ms;
}

std::optional<SystemTime> ParseTimestamp(std::string_view text, int default_offset_minutes) {
  Result<int64_t> ms = ParseTimestampMs(text, default_offset_minutes);
  if (!ms.ok()) return std::nullopt;
  return FromUnixMillis(*ms);
}

std::string FormatTimestamp(SystemTime t, TimestampStyle style, int offset_minutes) {
  const int64_t local_ms = ToUnixMillis(t) + static_cast<int64_t>(offset_minutes) * 60'000;
  const int64_t days = FloorDiv(local_ms, 86'400'000);
  const int64_t in_day = local_ms - days * 86'400'000;
  const Civil c = CivilFromDays(days);
  const int hour = static_cast<int>(in_day / 3'600'000);
  const int minute = static_cast<int>(in_day / 60'000 % 60);
  const int second = static_cast<int>(in_day / 1000 % 60);
  const int millis = static_cast<int>(in_day % 1000);
  if (style == TimestampStyle::kDdMmYyyyDashed) {
    return fmt::format("{:02}-{:02}-{:04} {:02}:{:02}:{:02}", c.day, c.month, c.year, hour, minute,
                       second);
  }
  std::string zone = "Z";
  if (offset_minutes != 0) {
    const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    zone = fmt::format("{}{:02}:{:02}", offset_minutes < 0 ? '-' : '+', a / 60, a % 60);
  }
  if (style == TimestampStyle::kRfc3339Millis) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{}", c.year, c.month, c.day, hour,
                       minute, second, millis, zone);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", c.year, c.month, c.day, hour, minute,
                     second, zone);
}

}  // namespace crmhub
