#pragma once
// The schema of crmhub's config file: the fixed sections declared here, the
// adapter sections by the types in daemon/adapter_registry.cc.

#include <filesystem>
#include <vector>

#include "adapters/adapter.h"
#include "config/config.h"

namespace crmhub::daemon {

config::Schema BuildSchema(const std::vector<adapters::AdapterType>& adapter_types);

// [daemon] data_dir if written; else $STATE_DIRECTORY (systemd StateDirectory=);
// else "var" in the working directory.
std::filesystem::path ResolveDataDir(const config::Config& config);

}  // namespace crmhub::daemon
