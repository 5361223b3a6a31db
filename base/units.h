#pragma once
// Human units in config and on the command line: durations ("250ms", "30s",
// "5m", "1h30m", "7d") and byte sizes ("512", "64KiB", "1MiB", "2GB").

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub {

// Accepts one or more <integer><unit> groups, units ms, s, m, h, d; "0" alone
// is zero. Rejects negatives, fractions, unknown units, overflow and garbage.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);
// Formats the way ParseDuration reads it back ("1h30m", "250ms", "0s").
std::string FormatDuration(std::chrono::milliseconds d);

// Accepts <integer>[unit] with B, KB/MB/GB (powers of 1000) or KiB/MiB/GiB
// (powers of 1024). Rejects negatives, fractions, unknown units and overflow.
Result<uint64_t> ParseSize(std::string_view text);

}  // namespace crmhub
