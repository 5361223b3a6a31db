#include "mapping/rules/transforms.h"

#include <array>
#include <limits>
#include <utility>

namespace crmhub::mapping {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TrimAscii(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && ws(s.back())) s.remove_suffix(1);
  return s;
}

// Length of a space-like UTF-8 sequence at s[i] (NBSP, narrow NBSP, thin
// space), or 0.
size_t UnicodeSpaceAt(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  if (i + 1 < s.size() && at(i) == 0xC2 && at(i + 1) == 0xA0) return 2;
  if (i + 2 < s.size() && at(i) == 0xE2 && at(i + 1) == 0x80 &&
      (at(i + 2) == 0xAF || at(i + 2) == 0x89)) {
    return 3;
  }
  return 0;
}

bool MulAdd(int64_t& acc, int64_t mul, int64_t add) {
  return !__builtin_mul_overflow(acc, mul, &acc) && !__builtin_add_overflow(acc, add, &acc);
}

struct CurrencyCode {
  std::string_view alpha;
  std::string_view numeric;
};
// ISO 4217 codes a Russian-speaking business meets; others are rejected as
// unknown rather than guessed.
constexpr std::array<CurrencyCode, 39> kCurrencies = {{
    {"RUB", "643"}, {"USD", "840"}, {"EUR", "978"}, {"KZT", "398"}, {"BYN", "933"}, {"UAH", "980"},
    {"CNY", "156"}, {"GBP", "826"}, {"CHF", "756"}, {"JPY", "392"}, {"TRY", "949"}, {"UZS", "860"},
    {"AMD", "051"}, {"KGS", "417"}, {"GEL", "981"}, {"AZN", "944"}, {"TJS", "972"}, {"MDL", "498"},
    {"AED", "784"}, {"INR", "356"}, {"HKD", "344"}, {"SGD", "702"}, {"KRW", "410"}, {"CAD", "124"},
    {"AUD", "036"}, {"PLN", "985"}, {"CZK", "203"}, {"SEK", "752"}, {"NOK", "578"}, {"DKK", "208"},
    {"HUF", "348"}, {"ILS", "376"}, {"THB", "764"}, {"VND", "704"}, {"BRL", "986"}, {"MXN", "484"},
    {"ZAR", "710"}, {"EGP", "818"}, {"SAR", "682"},
}};

}  // namespace

Result<std::string> NormalizePhone(std::string_view text, PhoneCountry cc) {
  text = TrimAscii(text);
  std::string d;
  d.reserve(16);
  bool plus = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (IsDigit(c)) {
      d.push_back(c);
    } else if (c == ' ' || c == '(' || c == ')' || c == '-' || c == '.' || c == '\t') {
      continue;
    } else if (size_t n = UnicodeSpaceAt(text, i); n > 0) {
      i += n - 1;
    } else if (c == '+' && d.empty() && !plus) {
      plus = true;
    } else {
      return Status::InvalidArgument("not a phone number (unexpected character)");
    }
  }
  if (d.empty()) return Status::InvalidArgument("not a phone number (no digits)");
  if (!plus && d.size() > 2 && d[0] == '0' && d[1] == '0') {
    plus = true;
    d.erase(0, 2);
  }
  auto starts = [&](std::string_view p) { return std::string_view(d).substr(0, p.size()) == p; };
  if (plus) {
    if (d[0] == '0') return Status::InvalidArgument("country code cannot start with 0");
    if (d[0] == '7') {
      if (d.size() != 11) return Status::InvalidArgument("a +7 number has 10 digits after +7");
    } else if (starts("380") || starts("375")) {
      if (d.size() != 12) {
        return Status::InvalidArgument("a +" + d.substr(0, 3) + " number has 9 digits after it");
      }
    } else if (d.size() < 8 || d.size() > 15) {
      return Status::InvalidArgument("an international number has 8 to 15 digits");
    }
    return "+" + d;
  }
  if (d.size() == 11 && (d[0] == '8' || d[0] == '7')) {
    if (d[0] == '8' && d[1] == '0' && cc == PhoneCountry::kBY) return "+375" + d.substr(2);
    if (d[1] == '0')
      return Status::InvalidArgument("not a valid +7 number (area code starts with 0)");
    return "+7" + d.substr(1);
  }
  if (d.size() == 12 && (starts("380") || starts("375"))) return "+" + d;
  if (d.size() == 10) {
    if ((cc == PhoneCountry::kRU || cc == PhoneCountry::kKZ) && d[0] != '0') return "+7" + d;
    if (cc == PhoneCountry::kUA && d[0] == '0') return "+380" + d.substr(1);
  }
  if (d.size() == 9 && d[0] != '0') {
    if (cc == PhoneCountry::kUA) return "+380" + d;
    if (cc == PhoneCountry::kBY) return "+375" + d;
  }
  return Status::InvalidArgument("not a phone number (" + std::to_string(d.size()) +
                                 " digits without a country code)");
}

Result<std::string> NormalizeEmail(std::string_view text) {
  text = TrimAscii(text);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == ',' || c == ';' || c == '<' || c == '>' ||
        static_cast<unsigned char>(c) < 0x20) {
      return Status::InvalidArgument("not an e-mail address (unexpected character)");
    }
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  size_t at = out.find('@');
  if (at == std::string::npos || at == 0 || out.find('@', at + 1) != std::string::npos) {
    return Status::InvalidArgument("not an e-mail address (needs one @ with a name before it)");
  }
  size_t dot = out.rfind('.');
  if (dot == std::string::npos || dot < at + 2 || dot + 1 >= out.size() ||
      out.find("..", at) != std::string::npos) {
    return Status::InvalidArgument("not an e-mail address (bad domain)");
  }
  return out;
}

Result<int64_t> ParseMoney(std::string_view text, int scale) {
  if (scale < 0 || scale > 6) return Status::InvalidArgument("money scale must be 0..6");
  text = TrimAscii(text);
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
    text = TrimAscii(text);
  }
  int64_t value = 0;
  size_t int_digits = 0;
  size_t group = 0;      // digits since the last thousands separator
  bool grouped = false;  // a thousands separator was seen
  size_t i = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (IsDigit(c)) {
      if (!MulAdd(value, 10, c - '0'))
        return Status::InvalidArgument("amount overflows int64 minor units");
      ++int_digits;
      ++group;
    } else if (c == ' ' || UnicodeSpaceAt(text, i) > 0) {
      // A thousands separator: 1-3 digits before the first, exactly 3 after each.
      if (group == 0 || group > 3 || (grouped && group != 3)) {
        return Status::InvalidArgument("not a decimal number (bad digit grouping)");
      }
      if (c != ' ') i += UnicodeSpaceAt(text, i) - 1;
      grouped = true;
      group = 0;
    } else if (c == '.' || c == ',') {
      break;
    } else {
      return Status::InvalidArgument("not a decimal number");
    }
  }
  if (int_digits == 0)
    return Status::InvalidArgument("not a decimal number (no digits before the point)");
  if (grouped && group != 3)
    return Status::InvalidArgument("not a decimal number (bad digit grouping)");
  std::string_view frac;
  if (i < text.size()) {
    char point = text[i];
    frac = text.substr(i + 1);
    if (frac.empty())
      return Status::InvalidArgument("not a decimal number (no digits after the point)");
    for (char c : frac) {
      if (c == '.' || c == ',') {
        return Status::InvalidArgument(c == point
                                           ? "not a decimal number (two decimal points)"
                                           : "ambiguous decimal separator (both '.' and ',')");
      }
      if (!IsDigit(c)) return Status::InvalidArgument("not a decimal number");
    }
  }
  for (int k = 0; k < scale; ++k) {
    int digit = static_cast<size_t>(k) < frac.size() ? frac[k] - '0' : 0;
    if (!MulAdd(value, 10, digit))
      return Status::InvalidArgument("amount overflows int64 minor units");
  }
  for (size_t k = static_cast<size_t>(scale); k < frac.size(); ++k) {
    if (frac[k] != '0') {
      return Status::InvalidArgument("more than " + std::to_string(scale) + " decimal places");
    }
  }
  return negative ? -value : value;
}

Result<std::string> NormalizeCurrency(std::string_view text) {
  text = TrimAscii(text);
  if (text == "₽" || text == "руб" || text == "руб." || text == "р." || text == "RUR" ||
      text == "rur" || text == "810") {
    return std::string("RUB");
  }
  if (text.size() == 3) {
    bool digits = IsDigit(text[0]) && IsDigit(text[1]) && IsDigit(text[2]);
    std::string up(text);
    for (char& c : up) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    for (const auto& code : kCurrencies) {
      if (digits ? code.numeric == text : code.alpha == up) return std::string(code.alpha);
    }
  }
  return Status::InvalidArgument("unknown currency code");
}

Result<int64_t> ParseInt64(std::string_view s) {
  s = TrimAscii(s);
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return Status::InvalidArgument("not an integer");
  int64_t v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return Status::InvalidArgument("not an integer");
    if (!MulAdd(v, 10, c - '0')) return Status::InvalidArgument("integer overflows int64");
  }
  return negative ? -v : v;
}

}  // namespace crmhub::mapping
