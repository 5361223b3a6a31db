#pragma once
// The value normalisers behind the mapping rules' transforms (docs/mapping.md).
// Pure functions, no allocation beyond the result, no regex, no floating point.
// Error messages are the reason only ("more than 2 decimal places"); the rule
// engine prefixes the rule, field, path and value.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/timestamp.h"

namespace crmhub::mapping {

// Default country for numbers written without a country code.
enum class PhoneCountry { kRU, kKZ, kUA, kBY };

// "8 (916) 123-45-67" → "+79161234567"; see docs/mapping.md for the rules.
Result<std::string> NormalizePhone(std::string_view text, PhoneCountry default_country);
// Trims and lower-cases; rejects anything but local@domain.tld without spaces.
Result<std::string> NormalizeEmail(std::string_view text);
// Decimal text → integer minor units with `scale` fraction digits (0..6).
// "1 234,56" → 123456; "1234.5" → 123450; "-0.01" → -1. Rejects more than
// `scale` non-zero decimals, int64 overflow, both '.' and ',' and garbage.
Result<int64_t> ParseMoney(std::string_view text, int scale);
// ISO 4217 alpha or numeric (or the legacy "RUR") → alpha upper-case.
Result<std::string> NormalizeCurrency(std::string_view text);
// Date/time text → Unix ms: base/timestamp.h's ParseTimestampMs (the
// `timestamp_ms` transform), shared with the adapters.
// Strict base-10 int64 (optional sign, no spaces inside).
Result<int64_t> ParseInt64(std::string_view text);

}  // namespace crmhub::mapping
