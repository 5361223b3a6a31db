#include <curl/curl.h>
#include <sqlite3.h>

#include <cstdio>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"

namespace crmhub::cli {

int VersionCommand(const Args& args) {
  FlagParser flags("crmhub version",
                   "Print crmhub's version and the versions of the libraries it runs on.");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  std::printf("crmhub %s\n", CRMHUB_VERSION);
  std::printf("sqlite %s, %s\n", sqlite3_libversion(), curl_version());
  return 0;
}

}  // namespace crmhub::cli
