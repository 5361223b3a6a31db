// Placeholder until the runtime lands (issue 2/4 work in progress).
#include <cstdio>

#include "daemon/commands.h"

namespace crmhub::cli {

int RunCommand(const Args&) {
  std::fprintf(stderr, "error: not built yet\n");
  return 1;
}

}  // namespace crmhub::cli
