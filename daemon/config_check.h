#pragma once
// Loads a config and builds every enabled adapter and its mapping rules
// without starting anything: the shared core of `check-config`, `run`
// and SIGHUP reload (a config that passes here is one `run` accepts).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "config/config.h"

namespace crmhub::daemon {

struct CheckedConfig {
  config::Config config;
  std::string summary;  // "3 adapters: site (webhook), ..."
};

// "host:port", "[v6]:port" or ":port" with a port 0..65535 (0: any free);
// InvalidArgument saying what is wrong. Shared by check-config and `run`.
Status CheckListenAddress(std::string_view address);

// All errors are returned in one Status, one "FILE:LINE:COL: message" a line.
Result<CheckedConfig> CheckConfigFile(const std::filesystem::path& file,
                                      const std::vector<adapters::AdapterType>& types);

}  // namespace crmhub::daemon
