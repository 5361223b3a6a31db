#pragma once
// Timestamps as outside systems write them: the one parser and the one
// formatter that adapters, simulators and the mapping rules' `timestamp_ms`
// transform share, so that a zone rule is decided once.
//
// ParseTimestampMs accepts:
//   2024-05-01T10:00:00[.fff...][Z|±hh:mm|±hhmm|±hh]   RFC 3339 / ISO 8601
//                                                     ('T' or one space)
//   2024-05-01 10:00[:00]                             the same without seconds
//   2024-05-01                                        a date (its midnight)
//   01.05.2024[ 10:00[:00]]                           dd.mm.yyyy (1C, banks)
//   01-05-2024 10:00:00                               dd-mm-yyyy: Yandex Market's
//                                                     DateDdMmYyyyHhMmSs
// followed by an optional offset ("Z", "+03:00", "-0530", "+03", "UTC",
// "GMT", "MSK"). A text without an offset is read at `default_offset_minutes`
// east of UTC: kMoscowOffsetMinutes for systems that write Moscow time (1C,
// banks, Yandex Market's dd-mm-yyyy dates), kUtcOffsetMinutes for those that
// write UTC; kNoDefaultOffset makes such a text an error (when a system is
// documented to always send an offset). Dates are proleptic Gregorian and
// range-checked (no 31 February); fractions beyond milliseconds are cut.
//
// Pure functions, thread-safe, no exceptions, no locale.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"

namespace crmhub {

inline constexpr int kUtcOffsetMinutes = 0;
inline constexpr int kMoscowOffsetMinutes = 180;  // UTC+03:00, no daylight saving since 2014
// "No default": a text without an offset is an error.
inline constexpr int kNoDefaultOffset = 100000;

// Unix milliseconds of the text, or InvalidArgument naming what is wrong.
Result<int64_t> ParseTimestampMs(std::string_view text, int default_offset_minutes);
// The same as a time point; nullopt on anything ParseTimestampMs refuses.
std::optional<SystemTime> ParseTimestamp(std::string_view text, int default_offset_minutes);

// "+03:00", "-0530", "+03", "Z", "UTC", "GMT", "MSK" -> minutes east of UTC.
Result<int> ParseUtcOffset(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date (any year).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

enum class TimestampStyle {
  kRfc3339Millis,   // 2024-05-01T13:00:00.123+03:00 ("Z" at offset 0)
  kRfc3339Seconds,  // 2024-05-01T13:00:00+03:00     ("Z" at offset 0)
  kDdMmYyyyDashed,  // 01-05-2024 13:00:00           (the zone is implied)
};
// `t` as seen at `offset_minutes` east of UTC, in `style`.
std::string FormatTimestamp(SystemTime t, TimestampStyle style, int offset_minutes);

}  // namespace crmhub
