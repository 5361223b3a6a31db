#include "adapters/bank_1c/statement_parser.h"

#include <iconv.h>

#include <cerrno>
#include <memory>

#include "adapters/kit/bank_payment_identity.h"

namespace crmhub::adapters::bank_1c {
namespace {

using nlohmann::json;

constexpr std::string_view kMarker = "1CClientBankExchange";
constexpr std::string_view kStatementKeys[] = {"ВерсияФормата", "Отправитель",   "Получатель",
                                               "ДатаСоздания",  "ВремяСоздания", "ДатаНачала",
                                               "ДатаКонца"};

std::string_view StripCr(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  return line;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

std::string ValueOf(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The СекцияДокумент keys of the format (contracts/banks/README.md §1, the
// closed 1.03 set). Any other key a bank adds is also copied to "_other".
constexpr std::string_view kDocumentKeys[] = {"СекцияДокумент",
                                              "Номер",
                                              "Дата",
                                              "Сумма",
                                              "КвитанцияДата",
                                              "КвитанцияВремя",
                                              "КвитанцияСодержание",
                                              "ПлательщикСчет",
                                              "ДатаСписано",
                                              "Плательщик",
                                              "ПлательщикИНН",
                                              "Плательщик1",
                                              "Плательщик2",
                                              "Плательщик3",
                                              "Плательщик4",
                                              "ПлательщикРасчСчет",
                                              "ПлательщикБанк1",
                                              "ПлательщикБанк2",
                                              "ПлательщикБИК",
                                              "ПлательщикКорсчет",
                                              "ПолучательСчет",
                                              "ДатаПоступило",
                                              "Получатель",
                                              "ПолучательИНН",
                                              "Получатель1",
                                              "Получатель2",
                                              "Получатель3",
                                              "Получатель4",
                                              "ПолучательРасчСчет",
                                              "ПолучательБанк1",
                                              "ПолучательБанк2",
                                              "ПолучательБИК",
                                              "ПолучательКорсчет",
                                              "ВидПлатежа",
                                              "КодНазПлатежа",
                                              "ВидОплаты",
                                              "Код",
                                              "НазначениеПлатежа",
                                              "НазначениеПлатежа1",
                                              "НазначениеПлатежа2",
                                              "НазначениеПлатежа3",
                                              "НазначениеПлатежа4",
                                              "НазначениеПлатежа5",
                                              "НазначениеПлатежа6",
                                              "СтатусСоставителя",
                                              "ПлательщикКПП",
                                              "ПолучательКПП",
                                              "ПоказательКБК",
                                              "ОКАТО",
                                              "ПоказательОснования",
                                              "ПоказательПериода",
                                              "ПоказательНомера",
                                              "ПоказательДаты",
                                              "ПоказательТипа",
                                              "Очередность",
                                              "СрокАкцепта",
                                              "ВидАккредитива",
                                              "СрокПлатежа",
                                              "УсловиеОплаты1",
                                              "УсловиеОплаты2",
                                              "УсловиеОплаты3",
                                              "ПлатежПоПредст",
                                              "ДополнУсловия",
                                              "НомерСчетаПоставщика",
                                              "ДатаОтсылкиДок"};

bool IsDocumentKey(std::string_view key) {
  for (std::string_view k : kDocumentKeys) {
    if (k == key) return true;
  }
  return false;
}

// "Кодировка=DOS" as CP866 bytes: a DOS file says so in its own encoding.
constexpr std::string_view kDosHeaderCp866 = "\x8A\xAE\xA4\xA8\xE0\xAE\xA2\xAA\xA0=DOS";

// Fills each document's "_status", "_identity", "_occurrence" and "_id"
// (statement_parser.h).
void Identify(Statement& st) {
  const char* status = st.is_statement() ? "booked" : "prepared";
  kit::OccurrenceCounter counter;
  for (json& doc : st.documents) {
    kit::BankPaymentFacts facts;
    std::string date = ValueOf(doc, "Дата");
    facts.date = kit::DottedDateToIso(date).value_or(date);
    facts.number = ValueOf(doc, "Номер");
    facts.amount_minor = kit::ParseRoubles(ValueOf(doc, "Сумма")).value_or(0);
    facts.payer_inn = ValueOf(doc, "ПлательщикИНН");
    facts.payer_account = ValueOf(doc, "ПлательщикСчет");
    if (facts.payer_account.empty()) facts.payer_account = ValueOf(doc, "ПлательщикРасчСчет");
    facts.payee_account = ValueOf(doc, "ПолучательСчет");
    if (facts.payee_account.empty()) facts.payee_account = ValueOf(doc, "ПолучательРасчСчет");
    std::string identity = kit::BankPaymentIdentity(facts);
    int occurrence = counter.Next(identity);
    doc["_status"] = status;
    doc["_identity"] = identity;
    doc["_occurrence"] = occurrence;
    doc["_id"] = identity + "#" + std::to_string(occurrence);
  }
}

}  // namespace

size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return i;
    if (n == 2 && c < 0xC2) return i;  // overlong
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i;
    }
    i += n;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view s) { return FirstInvalidUtf8(s) == std::string_view::npos; }

Result<std::string> ToUtf8(std::string_view bytes, const char* charset) {
  iconv_t cd = iconv_open("UTF-8", charset);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    return Status::InvalidArgument(std::string("encoding ") + charset +
                                   " is not supported by iconv");
  }
  std::unique_ptr<void, int (*)(iconv_t)> guard(cd, iconv_close);
  std::string out(bytes.size() * 3 + 16, '\0');    // a CP1251/CP866 byte is at most 3 UTF-8 bytes
  char* in_ptr = const_cast<char*>(bytes.data());  // iconv's API is not const-correct
  size_t in_left = bytes.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) == static_cast<size_t>(-1)) {
    return Status::InvalidArgument(std::string("bytes are not valid ") + charset + " at offset " +
                                   std::to_string(bytes.size() - in_left));
  }
  out.resize(out.size() - out_left);
  return out;
}

Result<Statement> ParseStatement(std::string_view bytes) {
  Statement st;
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
  std::string text;
  const size_t invalid = FirstInvalidUtf8(bytes);
  // UTF-8 up to a bad byte, with Cyrillic (two-byte D0/D1 sequences) before
  // it: a damaged or cut UTF-8 file, not a CP1251 one (which fails at its
  // first Cyrillic letter). Read as CP1251 it would only fail later with a
  // line of mojibake.
  if (invalid != std::string_view::npos) {
    std::string_view before = bytes.substr(0, invalid);
    bool cyrillic_utf8 = before.find("\xD0") != std::string_view::npos ||
                         before.find("\xD1") != std::string_view::npos;
    if (cyrillic_utf8) {
      size_t line = 1;
      for (char c : before) line += c == '\n' ? 1 : 0;
      return Status::InvalidArgument("1CClientBankExchange line " + std::to_string(line) +
                                     (bytes.size() - invalid < 4
                                          ? ": the file ends inside a UTF-8 character (truncated?)"
                                          : ": a byte that is not UTF-8 in a UTF-8 file (damaged, "
                                            "or two encodings mixed)"));
    }
  }
  if (invalid == std::string_view::npos) {
    st.encoding = "UTF-8";
    text = std::string(bytes);
  } else if (bytes.find(kDosHeaderCp866) != std::string_view::npos) {
    auto dos = ToUtf8(bytes, "CP866");
    if (!dos.ok()) return dos.status();
    st.encoding = "CP866";
    text = std::move(*dos);
  } else {
    auto decoded = ToUtf8(bytes, "CP1251");
    if (!decoded.ok()) return decoded.status();
    st.encoding = "CP1251";
    text = std::move(*decoded);
  }

  enum class Where { kStart, kHeader, kBalance, kDocument, kDone } where = Where::kStart;
  json section;
  SectionLines lines;
  size_t line_no = 0;
  size_t section_line = 0;
  std::string_view rest = text;
  auto fail = [&](const std::string& what) {
    return Status::InvalidArgument("1CClientBankExchange line " + std::to_string(line_no) + ": " +
                                   what);
  };
  while (!rest.empty() && where != Where::kDone) {
    size_t nl = rest.find('\n');
    std::string_view line = StripCr(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (IsBlank(line)) continue;
    if (where == Where::kStart) {
      if (line != kMarker) return fail("the file must start with 1CClientBankExchange");
      where = Where::kHeader;
      st.header_lines.begin = line_no;
      continue;
    }
    size_t eq = line.find('=');
    std::string key(line.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
    if (eq == std::string_view::npos) {
      if (key == "СекцияРасчСчет" && where == Where::kHeader) {
        where = Where::kBalance;
        section = json::object();
        section_line = line_no;
        lines = {.begin = line_no, .keys = {}};
      } else if (key == "КонецРасчСчет" && where == Where::kBalance) {
        st.balances.push_back(std::move(section));
        st.balance_lines.push_back(std::move(lines));
        lines = {};
        where = Where::kHeader;
      } else if (key == "КонецДокумента" && where == Where::kDocument) {
        std::string payee = ValueOf(section, "ПолучательСчет");
        std::string payer = ValueOf(section, "ПлательщикСчет");
        bool payee_own = false;
        bool payer_own = false;
        if (auto accounts = st.header.find("РасчСчет"); accounts != st.header.end()) {
          for (const auto& a : *accounts) {
            payee_own = payee_own || (!payee.empty() && a == payee);
            payer_own = payer_own || (!payer.empty() && a == payer);
          }
        }
        // Fallback when the accounts do not decide (anonymised or foreign
        // statements): the side whose date is set (ДатаПоступило = credited
        // to us, ДатаСписано = debited from us).
        bool credited = !ValueOf(section, "ДатаПоступило").empty();
        bool debited = !ValueOf(section, "ДатаСписано").empty();
        bool in = payee_own != payer_own ? payee_own : credited && !debited;
        bool out = payee_own != payer_own ? payer_own : debited && !credited;
        section["_direction"] = in ? "in" : out ? "out" : "unknown";
        section["_account"] = payee_own != payer_own ? (payee_own ? payee : payer) : "";
        json meta = json::object();
        for (auto k : kStatementKeys) {
          auto it = st.header.find(std::string(k));
          if (it != st.header.end()) meta[std::string(k)] = *it;
        }
        section["_statement"] = std::move(meta);
        st.documents.push_back(std::move(section));
        st.document_lines.push_back(std::move(lines));
        lines = {};
        where = Where::kHeader;
      } else if (key == "КонецФайла" && where == Where::kHeader) {
        where = Where::kDone;
        st.end_line = line_no;
      } else if (where == Where::kBalance || where == Where::kDocument) {
        return fail("unexpected \"" + key + "\" inside the section opened on line " +
                    std::to_string(section_line));
      } else {
        return fail("unexpected line \"" + key + "\"");
      }
      continue;
    }
    if (key.empty()) return fail("a line without a key");
    if (key == "СекцияДокумент") {
      if (where != Where::kHeader) {
        return fail("a new document inside the section opened on line " +
                    std::to_string(section_line));
      }
      where = Where::kDocument;
      section = json::object();
      section["СекцияДокумент"] = value;
      section_line = line_no;
      lines = {.begin = line_no, .keys = {{key, line_no}}};
      continue;
    }
    if (where == Where::kHeader) {
      st.header_lines.keys[key] = line_no;
      if (key == "РасчСчет" || key == "Документ") {
        st.header[key].push_back(value);
      } else {
        st.header[key] = value;
      }
    } else {
      lines.keys[key] = line_no;
      // Unknown keys are kept: banks add their own (КодДебитора, ...).
      if (where == Where::kDocument && !IsDocumentKey(key)) section["_other"][key] = value;
      section[key] = value;
    }
  }
  if (where == Where::kStart) return Status::InvalidArgument("1CClientBankExchange: empty file");
  if (where == Where::kBalance || where == Where::kDocument) {
    return fail("the file ends inside the section opened on line " + std::to_string(section_line) +
                " (truncated?)");
  }
  if (where != Where::kDone) return fail("no КонецФайла: the file is truncated");
  if (rest.find_first_not_of(" \t\r\n\x1A") != std::string_view::npos) {  // 0x1A: DOS end of file
    return fail("text after КонецФайла (two files glued together, or garbage)");
  }
  Identify(st);
  return st;
}

}  // namespace crmhub::adapters::bank_1c
