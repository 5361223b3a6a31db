#pragma once
// A reader for the 1CClientBankExchange text format (bank statements and
// payment orders exchanged between 1C and client-bank systems). Format notes:
// contracts/banks/README.md §1. Each document becomes one JSON
// record for the mapping rules (config/mappings/bank-1c-statement.toml).
//
// Encoding: the bytes are used as UTF-8 when they are valid UTF-8 (some files
// say `Кодировка=Windows` but are UTF-8); otherwise as CP866 when they hold
// `Кодировка=DOS` written in CP866, else as CP1251 (`Кодировка=Windows`, the
// usual case), decoded with iconv.

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::adapters::bank_1c {

// Where a section and each of its keys were in the file (1-based lines of
// the decoded text, which are the file's lines), for errors.
struct SectionLines {
  size_t begin = 0;                    // the section's opening line
  std::map<std::string, size_t> keys;  // key → its (last) line
};

struct Statement {
  std::string encoding;  // what the bytes were decoded from: "UTF-8", "CP1251", "CP866"
  // Header keys → values; the repeatable `РасчСчет` and `Документ` are arrays.
  nlohmann::json header = nlohmann::json::object();
  // One object per СекцияРасчСчет (ДатаНачала, РасчСчет, НачальныйОстаток, ...).
  std::vector<nlohmann::json> balances;
  // One record per СекцияДокумент: every `Key=Value` of the section as
  // strings (unknown keys kept, values untrimmed) plus
  //   "СекцияДокумент": the document kind ("Платежное поручение", ...),
  //   "_direction": "in" when ПолучательСчет is one of the statement's
  //       accounts (header РасчСчет), "out" when ПлательщикСчет is; when
  //       both or neither are, "in" if only ДатаПоступило is set, "out" if
  //       only ДатаСписано is, else "unknown" (a transfer between own
  //       accounts). [I]: README §1 "Direction & dedup" is inferred too,
  //   "_account": the statement account it matched ("" if none),
  //   "_statement": {ВерсияФормата, Отправитель, Получатель, ДатаСоздания,
  //       ВремяСоздания, ДатаНачала, ДатаКонца} of the header (strings),
  //   "_status": "booked" when the file is a statement (it has at least one
  //       СекцияРасчСчет: the bank's account of money that moved), else
  //       "prepared" (a file of payment orders prepared for the bank, money
  //       that has not moved: never to be counted as booked),
  //   "_identity": kit::BankPaymentIdentity of the document (date, number,
  //       kopecks, payer INN or account, payee account),
  //   "_occurrence": 1 for the first document of that identity in the file,
  //       2 for a second real payment identical in all those parts, ...,
  //   "_id": "<_identity>#<_occurrence>", the document's dedup identity,
  //   "_other": the keys that are not the format's own (a bank's
  //       additions, kept as they are; absent when there are none).
  std::vector<nlohmann::json> documents;
  SectionLines header_lines;
  std::vector<SectionLines> balance_lines;   // parallel to balances
  std::vector<SectionLines> document_lines;  // parallel to documents
  size_t end_line = 0;                       // the КонецФайла line

  // A statement (booked money) rather than a set of payment orders.
  bool is_statement() const { return !balances.empty(); }
};

// Parses a whole file. InvalidArgument names the line on errors: a UTF-8
// file with a damaged byte or cut inside a character, a missing
// `1CClientBankExchange` marker, a section left open, a missing `КонецФайла`
// (truncated file), a line that is neither `Key=Value` nor a section word.
Result<Statement> ParseStatement(std::string_view bytes);

// Converts `bytes` from `charset` (an iconv name) to UTF-8.
Result<std::string> ToUtf8(std::string_view bytes, const char* charset);
// True when `bytes` is well-formed UTF-8.
bool IsValidUtf8(std::string_view bytes);
// The offset of the first byte that breaks UTF-8, npos when there is none.
size_t FirstInvalidUtf8(std::string_view bytes);

}  // namespace crmhub::adapters::bank_1c
