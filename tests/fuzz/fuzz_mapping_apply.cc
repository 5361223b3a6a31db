// Every shipped mapping rules file applied to any record: what an outside
// system sends, through the rules a deployment uses.

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "mapping/rules/rule_set.h"

namespace {

std::vector<crmhub::mapping::RuleSet> LoadShipped() {
  std::vector<crmhub::mapping::RuleSet> all;
  const auto dir = std::filesystem::path(CRMHUB_SOURCE_DIR) / "config/mappings";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto rules = crmhub::mapping::LoadRules(entry.path());
    if (!rules.ok()) __builtin_trap();  // a shipped file that does not load
    all.push_back(std::move(rules).value());
  }
  if (all.empty()) __builtin_trap();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<crmhub::mapping::RuleSet> rules = LoadShipped();
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  crmhub::mapping::ApplyContext ctx{.source = "fuzz", .received_ms = 1'700'000'000'000};
  for (const auto& r : rules) (void)r.ApplyText(record, ctx);
  return 0;
}
