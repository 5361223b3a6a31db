#include "daemon/queue_cli.h"

#include <cstdio>
#include <filesystem>

#include "config/config.h"
#include "daemon/adapter_registry.h"
#include "daemon/config_schema.h"
#include "daemon/runtime_build.h"
#include "queue/paths.h"

namespace crmhub::cli {

void QueueLocationFlags::Register(FlagParser& parser) {
  parser.AddString("--data-dir", &data_dir, "DIR",
                   "the daemon's data directory (holds queue.db)");
  parser.AddString("--config", &config, "FILE",
                   "take [daemon] data_dir (and the lanes' retry policies) from this config");
}

Result<std::unique_ptr<queue::SqliteQueue>> QueueLocationFlags::Open(Clock& clock) const {
  if (data_dir.empty() == config.empty()) {
    return Status::InvalidArgument("give exactly one of --data-dir DIR or --config FILE");
  }
  queue::SqliteQueueOptions options;
  if (!config.empty()) {
    auto loaded = config::LoadConfig(config, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) return Status::InvalidArgument(loaded.status().message());
    const std::filesystem::path dir = daemon::ResolveDataDir(*loaded);
    options = daemon::QueueOptionsFrom(*loaded, dir);
  } else {
    options.data_dir = data_dir;
  }
  // A tool only looks and edits; the daemon does the housekeeping, and
  // only the daemon's own start counts what was in flight (the poison rule):
  // a running daemon's leases are not crashes.
  options.maintenance_interval = std::chrono::milliseconds(0);
  options.poison_after = 0;
  const std::filesystem::path db = queue::QueueDbPath(options.data_dir);
  if (!std::filesystem::exists(db)) {
    return Status::NotFound("no queue database at " + db.string());
  }
  return queue::SqliteQueue::Open(clock, std::move(options));
}

int ReportOpenError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace crmhub::cli
