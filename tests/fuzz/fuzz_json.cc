// The JSON doors: the validator (capped and not), the depth scan, the
// checked parse and getters. None may crash; the validator and the parse
// must agree on what is a document (within the depth cap).

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/json_get.h"
#include "base/json_validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = crmhub::IsValidJson(text, crmhub::kMaxJsonDepth);
  (void)crmhub::IsValidJson(text);
  auto parsed = crmhub::ParseJson(text);
  // A NUL after a complete document is the one documented difference
  // (base/json_validate.h): nlohmann stops at it, RFC 8259 does not.
  if (valid && !parsed.ok()) std::abort();
  if (parsed.ok()) {
    const nlohmann::json& doc = *parsed;
    (void)crmhub::JsonString(doc, "id");
    (void)crmhub::JsonInt(doc, "id");
    (void)crmhub::JsonIntLoose(doc, "id");
    (void)crmhub::JsonScalarText(doc, "id");
    if (auto p = crmhub::JsonPointer::Parse("/a/0/b"); p.ok()) (void)crmhub::JsonFind(doc, *p);
    (void)doc.dump();  // bounded by the depth cap
  }
  return 0;
}
