#pragma once
// The charset of an XML document as its declaration names it, and the
// document in UTF-8 for a reader that takes UTF-8 only (pugixml reads
// UTF-8/16/32 and Latin-1; a windows-1251 document read as Latin-1 would
// have every Cyrillic name wrong). 1C writes UTF-8; 1C-Bitrix and older
// sites windows-1251 (contracts/onec/README.md, the Bitrix query sample).

#include <string>
#include <string_view>

#include "base/status.h"

namespace crmhub::adapters::onec_exchange {

enum class XmlCharset { kUtf8, kWindows1251 };

// The charset named by `encoding="..."` in the XML declaration at the start
// of `head` (after an optional UTF-8 BOM), case-insensitively: "UTF-8" or
// none → kUtf8, "windows-1251" / "cp1251" → kWindows1251; any other name
// is InvalidArgument with that name (refused, never misread).
Result<XmlCharset> DeclaredCharset(std::string_view head);

// Decodes windows-1251 bytes to UTF-8. Every byte but 0x98 has a
// character; 0x98 is InvalidArgument with its offset (`offset_base` added,
// for a document decoded piece by piece).
Result<std::string> Windows1251ToUtf8(std::string_view bytes, size_t offset_base = 0);

// The document in UTF-8 with a declaration that says so: a windows-1251
// one is decoded and its declaration's encoding rewritten to UTF-8; a
// UTF-8 one is returned as it is.
Result<std::string> XmlToUtf8(std::string_view xml);

}  // namespace crmhub::adapters::onec_exchange
