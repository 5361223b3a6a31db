#pragma once
// What a reload changes: the settings whose value differs between the
// running configuration and the new file, and which of them the reload
// applies (adapters, [log] level) and which wait for a restart (the
// listeners, [daemon], [queue], [admin], [outbound], [crm], [log] format).
// The daemon logs each (Daemon::Reload), so SIGHUP never ignores a change
// silently.

#include <string>
#include <vector>

#include "config/config.h"

namespace crmhub::daemon {

struct ConfigChange {
  std::string setting;  // "[http] listen", "[adapters.site] allow_ips", "[adapters.new]"
  std::string before;   // the value as text ("(unset)", "(none)"; secrets "***")
  std::string after;
  bool needs_restart = false;
};

// Every setting of `schema`'s fixed sections, lanes and adapters that
// differs, in schema order (adapters by id).
std::vector<ConfigChange> DiffConfigs(const config::Config& before, const config::Config& after,
                                      const config::Schema& schema);

// One line per change: "[http] listen: [\"127.0.0.1:8080\"] -> [...] (waits for a restart)".
std::string DescribeChange(const ConfigChange& change);

}  // namespace crmhub::daemon
