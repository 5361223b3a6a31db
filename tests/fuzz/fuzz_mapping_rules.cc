// The mapping rules compiler: any TOML text; a compiled rule set then maps
// a fixed record (so what compiles also runs).

#include <cstdint>
#include <string_view>

#include "mapping/rules/rule_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = crmhub::mapping::ParseRules(text, "fuzz.toml");
  if (rules.ok()) {
    crmhub::mapping::ApplyContext ctx{.source = "fuzz"};
    (void)rules->ApplyText(
        R"({"id":"1","name":"A","phone":"+79990000000","items":[{"sku":"s","qty":2}],"status":"new"})",
        ctx);
  }
  return 0;
}
