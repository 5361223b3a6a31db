#include "daemon/config_check.h"

#include <fmt/format.h>

#include "base/clock.h"
#include "base/metrics.h"
#include "daemon/config_schema.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::daemon {

Result<CheckedConfig> CheckConfigFile(const std::filesystem::path& file,
                                      const std::vector<adapters::AdapterType>& types) {
  auto loaded = config::LoadConfig(file, BuildSchema(types));
  if (!loaded.ok()) return loaded.status();
  config::Config cfg = std::move(loaded).value();

  std::vector<std::string> errors;
  const config::Section& crm = cfg.Get("crm");
  if (crm.GetString("sink") == "http") {
    if (!crm.Has("url")) errors.push_back(crm.ErrorAt("url", "required when sink = \"http\"").message());
    if (!crm.Has("token_file")) {
      errors.push_back(crm.ErrorAt("token_file", "required when sink = \"http\"").message());
    }
  }

  // Build each adapter with no I/O attached: factories validate what the
  // schema cannot (JSON pointers, CIDRs, URLs) and report with the key's
  // location.
  SystemClock clock;
  MetricsRegistry metrics;
  adapters::AdapterContext context{.http = nullptr, .clock = &clock, .metrics = &metrics};
  std::vector<std::string> names;
  for (const config::Section& section : cfg.Adapters()) {
    const std::string type = section.GetString("type");
    names.push_back(fmt::format("{} ({}{})", section.id(), type,
                                section.GetBool("enabled") ? "" : ", disabled"));
    for (const adapters::AdapterType& t : types) {
      if (t.schema.type != type) continue;
      auto adapter = t.factory(section, context);
      if (!adapter.ok()) errors.push_back(adapter.status().message());
    }
    // The rules are compiled now, so a typo in a rule file is a config
    // error at start (or reload), not a dead letter per record later.
    if (section.Has("mapping")) {
      auto rules = mapping::LoadRules(section.GetPath("mapping"));
      if (!rules.ok()) errors.push_back(section.ErrorAt("mapping", rules.status().message()).message());
    }
  }
  if (!errors.empty()) {
    return Status::InvalidArgument(fmt::format("{}", fmt::join(errors, "\n")));
  }
  std::string summary = names.empty()
                            ? std::string("no adapters")
                            : fmt::format("{} adapter{}: {}", names.size(),
                                          names.size() == 1 ? "" : "s", fmt::join(names, ", "));
  return CheckedConfig{std::move(cfg), std::move(summary)};
}

}  // namespace crmhub::daemon
