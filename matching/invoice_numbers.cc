#include "matching/invoice_numbers.h"

namespace crmhub::matching {

std::vector<std::string> DefaultInvoicePatterns() {
  return {
      "(?:счет|счёт|Счет|Счёт|СЧЕТ|СЧЁТ|сч\\.|Сч\\.|СЧ\\.|invoice|Invoice|INVOICE|inv\\.|Inv\\.)"
      "[^0-9A-Za-z]{0,16}?(?:(?:N|No|Nr)\\.?[^0-9A-Za-z]{0,4})?"
      "([A-Za-z]{0,4}[-/]?[0-9][0-9A-Za-z/-]*)"};
}

Result<InvoiceNumbers> InvoiceNumbers::Compile(const std::vector<std::string>& patterns) {
  InvoiceNumbers out;
  for (const std::string& p : patterns) {
    std::regex re;
    try {
      re = std::regex(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {  // our own config text, at startup
      return Status::InvalidArgument("invoice pattern \"" + p + "\": " + e.what());
    }
    if (re.mark_count() < 1) {
      return Status::InvalidArgument("invoice pattern \"" + p +
                                     "\" has no capture group for the number");
    }
    out.patterns_.push_back(std::move(re));
  }
  return out;
}

std::string InvoiceNumbers::Normalize(std::string_view number) {
  std::string out;
  for (char c : number) {
    if (c == ' ' || c == '\t') continue;
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  size_t zeros = 0;
  while (zeros + 1 < out.size() && out[zeros] == '0') ++zeros;
  return out.substr(zeros);
}

std::set<std::string> InvoiceNumbers::Find(std::string_view text) const {
  std::set<std::string> out;
  for (const std::regex& re : patterns_) {
    for (std::cregex_iterator it(text.data(), text.data() + text.size(), re), end; it != end;
         ++it) {
      if ((*it)[1].matched && (*it)[1].length() > 0) out.insert(Normalize((*it)[1].str()));
    }
  }
  return out;
}

}  // namespace crmhub::matching
