// crmhub: the integration hub daemon and its tools in one binary.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "daemon/cli/commands.h"

namespace {

void PrintHelp() {
  std::printf(
      "crmhub - moves business data between the CRM core and 1C, banks, payment providers,\n"
      "telephony and marketplaces, through a durable retry queue.\n\n"
      "usage: crmhub <command> [options]     (crmhub <command> --help for its options)\n\n"
      "commands:\n");
  for (const auto& c : crmhub::cli::AllCommands()) std::printf("  %-14s %s\n", c.name, c.summary);
  std::printf("\nexit codes: 0 ok, 1 runtime failure, 2 usage or config error\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintHelp();
    return 2;
  }
  const std::string name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    PrintHelp();
    return 0;
  }
  if (name == "--version") return crmhub::cli::VersionCommand({});
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const auto& c : crmhub::cli::AllCommands()) {
    if (name == c.name) return c.run(args);
  }
  std::fprintf(stderr, "error: unknown command \"%s\" (see crmhub --help)\n", name.c_str());
  return 2;
}
