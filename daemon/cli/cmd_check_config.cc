// crmhub check-config: everything `run` would reject, found without running.

#include <fmt/format.h>

#include <cstdio>

#include "base/clock.h"
#include "base/metrics.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/config_check.h"
#include "daemon/config_schema.h"

namespace crmhub::cli {

int CheckConfigCommand(const Args& args) {
  std::string config_path;
  bool print_reference = false;
  std::vector<std::string> positional;
  FlagParser flags(
      "crmhub check-config --config FILE\n       crmhub check-config --print-reference",
      "Validate a config file the way `crmhub run` would: every section and key against its "
      "schema, secret files readable, adapters constructible, mapping rules valid. Nothing is "
      "started and no network is used. Errors print as FILE:LINE:COL: message; exit 2 on any.");
  flags.AddString("--config", &config_path, "FILE",
                  "config file to check (or give it as the only argument)");
  flags.AddBool("--print-reference", &print_reference,
                "print the Markdown reference of every section and key (docs/config.md)");
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;

  const auto types = daemon::AllAdapterTypes();
  const config::Schema schema = daemon::BuildSchema(types);
  if (print_reference) {
    std::fputs(config::RenderSchemaMarkdown(schema).c_str(), stdout);
    return 0;
  }
  if (!positional.empty()) {
    if (!config_path.empty() || positional.size() > 1) {
      std::fprintf(stderr, "error: give exactly one config file\n\n%s", flags.Help().c_str());
      return 2;
    }
    config_path = positional[0];
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "error: --config FILE is required\n\n%s", flags.Help().c_str());
    return 2;
  }
  auto checked = daemon::CheckConfigFile(config_path, types);
  if (!checked.ok()) {
    std::fprintf(stderr, "%s\n", checked.status().message().c_str());
    return 2;
  }
  for (const std::string& warning : checked->config.warnings()) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  std::printf("%s: OK (%s)\n", config_path.c_str(), checked->summary.c_str());
  return 0;
}

}  // namespace crmhub::cli
