#pragma once
// Invoice numbers in a payment's purpose text ("Оплата по счету № 123 от
// 01.03.2024, в т.ч. НДС"): the configurable patterns of [matching]
// invoice_patterns, each an ECMAScript regular expression whose first
// capture group is the number.
//
// The text is UTF-8 and std::regex works on bytes: a pattern matches Cyrillic
// literally (write "счет|Счет|СЧЕТ" rather than a case-insensitive flag or a
// bracket of Cyrillic letters, which would match single bytes).

#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace crmhub::matching {

// The shipped pattern: "счет", "счёт", "сч." or "invoice" in any of the
// usual cases, then up to a few separators ("№", "#", spaces, "у", "а",
// ...: 16 bytes), an optional Latin "N"/"No"/"Nr", and the number (up to
// four letters, then digits, letters, '-', '/').
std::vector<std::string> DefaultInvoicePatterns();

class InvoiceNumbers {
 public:
  // InvalidArgument naming the pattern that does not compile or has no
  // capture group.
  static Result<InvoiceNumbers> Compile(const std::vector<std::string>& patterns);

  // Every number any pattern finds in `text`, normalised (Normalize).
  std::set<std::string> Find(std::string_view text) const;

  // Upper-case ASCII letters, no spaces, no leading zeros: "inv-007" and
  // "INV-007" are one number, "00123" and "123" too.
  static std::string Normalize(std::string_view number);

 private:
  std::vector<std::regex> patterns_;
};

}  // namespace crmhub::matching
