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

// Where the packaged unit keeps state (StateDirectory=crmhub): what the daemon
// under systemd gets as $STATE_DIRECTORY.
inline constexpr const char* kSystemdStateDir = "/var/lib/crmhub";

// ResolveDataDir, with the words that say why (for the CLI tools' messages).
struct DataDirChoice {
  std::filesystem::path path;
  std::string how;  // e.g. "[daemon] data_dir in /etc/crmhub/crmhub.toml"
};
DataDirChoice ExplainDataDir(const config::Config& config, const std::string& config_file);

// For a tool run from a shell (no $STATE_DIRECTORY) on a config without
// [daemon] data_dir: the daemon under systemd uses `systemd_state_dir`, so
// when that holds a queue and the working directory's default does not, the
// tool uses it too (and says so). Otherwise ExplainDataDir's choice.
DataDirChoice ExplainDataDirForTool(const config::Config& config, const std::string& config_file,
                                    const std::filesystem::path& systemd_state_dir);

}  // namespace crmhub::daemon
