#include "adapters/kit/bank_payment_identity.h"

#include <limits>

namespace crmhub::adapters::kit {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string BankPaymentIdentity(const BankPaymentFacts& f) {
  std::string out = f.date;
  out += '|';
  out += Trim(f.number);
  out += '|';
  out += std::to_string(f.amount_minor);
  out += '|';
  std::string_view inn = Trim(f.payer_inn);
  out += !inn.empty() && inn != "0" ? inn : Trim(f.payer_account);
  out += '|';
  out += Trim(f.payee_account);
  return out;
}

std::optional<int64_t> ParseRoubles(std::string_view text) {
  text = Trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / 100;
  int64_t whole = 0;
  int64_t cents = 0;
  int decimals = -1;  // -1: before the point
  bool any_digit = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (IsDigit(c)) {
      any_digit = true;
      if (decimals < 0) {
        if (whole > (kMax - 9) / 10) return std::nullopt;
        whole = whole * 10 + (c - '0');
      } else {
        if (++decimals > 2) return std::nullopt;
        cents = cents * 10 + (c - '0');
      }
    } else if ((c == '.' || c == ',') && decimals < 0) {
      decimals = 0;
    } else if (c == ' ' && decimals < 0) {
      continue;  // thousands separator
    } else {
      return std::nullopt;
    }
  }
  if (!any_digit) return std::nullopt;
  if (decimals == 1) cents *= 10;
  int64_t total = whole * 100 + cents;
  return negative ? -total : total;
}

std::optional<std::string> DottedDateToIso(std::string_view text) {
  text = Trim(text);
  if (text.size() != 10 || text[2] != '.' || text[5] != '.') return std::nullopt;
  for (size_t i : {0, 1, 3, 4, 6, 7, 8, 9}) {
    if (!IsDigit(text[i])) return std::nullopt;
  }
  int day = (text[0] - '0') * 10 + (text[1] - '0');
  int month = (text[3] - '0') * 10 + (text[4] - '0');
  int year =
      (text[6] - '0') * 1000 + (text[7] - '0') * 100 + (text[8] - '0') * 10 + (text[9] - '0');
  constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || year < 1900) {
    return std::nullopt;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  std::string out;
  out += text.substr(6, 4);
  out += '-';
  out += text.substr(3, 2);
  out += '-';
  out += text.substr(0, 2);
  return out;
}

}  // namespace crmhub::adapters::kit
