#include "adapters/bank_1c/statement_check.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "adapters/kit/bank_payment_identity.h"

namespace crmhub::adapters::bank_1c {
namespace {

using nlohmann::json;

std::string Text(const json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get_ref<const std::string&>() : std::string();
}

std::string Kopecks(int64_t v) {
  std::string sign = v < 0 ? "-" : "";
  int64_t a = v < 0 ? -v : v;
  std::string cents = std::to_string(a % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return sign + std::to_string(a / 100) + "." + cents;
}

// Collects problems of one section: lines are the key's own line when it is
// there, else the section's opening line.
class Problems {
 public:
  void Add(size_t line, std::string what) { items_.emplace_back(line, std::move(what)); }

  // The key's non-empty value, or a problem ("has no X") and nullopt.
  std::optional<std::string> Required(const json& obj, const SectionLines& lines,
                                      const std::string& key, const std::string& section) {
    std::string v = Text(obj, key);
    if (v.find_first_not_of(" \t") == std::string::npos) {
      Add(LineOf(lines, key), section + " has no " + key);
      return std::nullopt;
    }
    return v;
  }

  std::optional<int64_t> Amount(const json& obj, const SectionLines& lines, const std::string& key,
                                const std::string& section) {
    std::optional<std::string> v = Required(obj, lines, key, section);
    if (!v) return std::nullopt;
    std::optional<int64_t> k = kit::ParseRoubles(*v);
    if (!k || v->find(',') != std::string::npos) {
      Add(LineOf(lines, key), key + "=\"" + *v + "\" is not an amount (руб.коп)");
      return std::nullopt;
    }
    return k;
  }

  void Date(const json& obj, const SectionLines& lines, const std::string& key, bool required,
            const std::string& section) {
    std::string v = Text(obj, key);
    if (v.empty() && !required) return;
    if (v.empty()) {
      Add(LineOf(lines, key), section + " has no " + key);
      return;
    }
    if (!kit::DottedDateToIso(v)) {
      Add(LineOf(lines, key), key + "=\"" + v + "\" is not a date (дд.мм.гггг)");
    }
  }

  static size_t LineOf(const SectionLines& lines, const std::string& key) {
    auto it = lines.keys.find(key);
    return it != lines.keys.end() ? it->second : lines.begin;
  }

  std::vector<std::string> Sorted() {
    std::stable_sort(items_.begin(), items_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> out;
    for (auto& [line, what] : items_) out.push_back("line " + std::to_string(line) + ": " + what);
    return out;
  }

 private:
  std::vector<std::pair<size_t, std::string>> items_;
};

}  // namespace

std::vector<std::string> CheckStatement(const Statement& st,
                                        const std::vector<std::string>& accounts) {
  Problems p;
  const std::string header = "the header";
  p.Required(st.header, st.header_lines, "ВерсияФормата", header);
  p.Required(st.header, st.header_lines, "Кодировка", header);
  // What orders two exports of one document (the mapping's version).
  p.Date(st.header, st.header_lines, "ДатаСоздания", /*required=*/true, header);
  auto known = [&](const std::string& account) {
    return accounts.empty() ||
           std::find(accounts.begin(), accounts.end(), account) != accounts.end();
  };
  if (auto it = st.header.find("РасчСчет"); it != st.header.end() && it->is_array()) {
    for (const json& a : *it) {
      if (a.is_string() && !known(a.get_ref<const std::string&>())) {
        p.Add(Problems::LineOf(st.header_lines, "РасчСчет"),
              "РасчСчет=" + a.get_ref<const std::string&>() +
                  " is not one of this adapter's accounts");
      }
    }
  }
  for (size_t i = 0; i < st.balances.size(); ++i) {
    const json& b = st.balances[i];
    const SectionLines& lines = st.balance_lines[i];
    const std::string section = "the СекцияРасчСчет on line " + std::to_string(lines.begin);
    std::optional<std::string> account = p.Required(b, lines, "РасчСчет", section);
    if (account && !known(*account)) {
      p.Add(Problems::LineOf(lines, "РасчСчет"),
            "РасчСчет=" + *account + " is not one of this adapter's accounts");
    }
    auto opening = p.Amount(b, lines, "НачальныйОстаток", section);
    auto credits = p.Amount(b, lines, "ВсегоПоступило", section);
    auto debits = p.Amount(b, lines, "ВсегоСписано", section);
    auto closing = p.Amount(b, lines, "КонечныйОстаток", section);
    if (opening && credits && debits && closing && *opening + *credits - *debits != *closing) {
      p.Add(Problems::LineOf(lines, "КонечныйОстаток"),
            "the balances do not add up: НачальныйОстаток " + Kopecks(*opening) +
                " + ВсегоПоступило " + Kopecks(*credits) + " - ВсегоСписано " + Kopecks(*debits) +
                " = " + Kopecks(*opening + *credits - *debits) + ", but КонечныйОстаток is " +
                Kopecks(*closing));
    }
  }
  for (size_t i = 0; i < st.documents.size(); ++i) {
    const json& d = st.documents[i];
    const SectionLines& lines = st.document_lines[i];
    const std::string section = "the СекцияДокумент on line " + std::to_string(lines.begin);
    p.Required(d, lines, "Номер", section);
    p.Date(d, lines, "Дата", /*required=*/true, section);
    if (auto amount = p.Amount(d, lines, "Сумма", section); amount && *amount < 0) {
      p.Add(Problems::LineOf(lines, "Сумма"), "Сумма is negative");
    }
    if (Text(d, "ПлательщикСчет").empty() && Text(d, "ПлательщикРасчСчет").empty()) {
      p.Add(lines.begin, section + " has no payer account (ПлательщикСчет)");
    }
    if (Text(d, "ПолучательСчет").empty() && Text(d, "ПолучательРасчСчет").empty()) {
      p.Add(lines.begin, section + " has no payee account (ПолучательСчет)");
    }
    for (const char* key : {"ДатаСписано", "ДатаПоступило", "КвитанцияДата"}) {
      p.Date(d, lines, key, /*required=*/false, section);
    }
  }
  return p.Sorted();
}

Result<Statement> ReadStatement(std::string_view bytes, const std::vector<std::string>& accounts) {
  Result<Statement> st = ParseStatement(bytes);
  if (!st.ok()) return st.status();
  std::vector<std::string> problems = CheckStatement(*st, accounts);
  if (problems.empty()) return st;
  std::string message = "1CClientBankExchange";
  for (size_t i = 0; i < problems.size(); ++i) message += (i == 0 ? " " : "; ") + problems[i];
  return Status::InvalidArgument(message);
}

}  // namespace crmhub::adapters::bank_1c
