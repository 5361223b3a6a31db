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

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::adapters::bank_1c {

struct Statement {
  std::string encoding;   // what the bytes were decoded from: "UTF-8", "CP1251", "CP866"
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
  //       ВремяСоздания, ДатаНачала, ДатаКонца} of the header (strings).
  std::vector<nlohmann::json> documents;
};

// Parses a whole file. InvalidArgument names the line on errors: a missing
// `1CClientBankExchange` marker, a section left open, a missing `КонецФайла`
// (truncated file), a line that is neither `Key=Value` nor a section word.
Result<Statement> ParseStatement(std::string_view bytes);

// Converts `bytes` from `charset` (an iconv name) to UTF-8.
Result<std::string> ToUtf8(std::string_view bytes, const char* charset);
// True when `bytes` is well-formed UTF-8.
bool IsValidUtf8(std::string_view bytes);

}  // namespace crmhub::adapters::bank_1c
