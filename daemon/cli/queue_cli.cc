#include "daemon/cli/queue_cli.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "config/config.h"
#include "daemon/adapter_registry.h"
#include "daemon/config_schema.h"
#include "daemon/runtime_build.h"
#include "queue/paths.h"

namespace crmhub::cli {

void QueueLocationFlags::Register(FlagParser& parser) {
  parser.AddString("--data-dir", &data_dir, "DIR", "the daemon's data directory (holds queue.db)");
  parser.AddString("--config", &config, "FILE",
                   "take [daemon] data_dir (and the lanes' retry policies) from this config");
}

Result<QueueLocationFlags::Location> QueueLocationFlags::Locate() const {
  if (data_dir.empty() == config.empty()) {
    return Status::InvalidArgument("give exactly one of --data-dir DIR or --config FILE");
  }
  Location where;
  if (!config.empty()) {
    auto loaded = config::LoadConfig(config, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) return Status::InvalidArgument(loaded.status().message());
    daemon::DataDirChoice choice =
        daemon::ExplainDataDirForTool(*loaded, config, systemd_state_dir);
    where.data_dir = std::move(choice.path);
    where.how = std::move(choice.how);
    where.config = std::move(loaded).value();
  } else {
    where.data_dir = data_dir;
    where.how = "given with --data-dir";
  }
  return where;
}

Result<std::string> QueueLocationFlags::Engine() const {
  auto where = Locate();
  if (!where.ok()) return where.status();
  if (!where->config) return std::string("sqlite");
  return where->config->Get("queue").GetString("engine");
}

Result<std::unique_ptr<queue::Queue>> QueueLocationFlags::Open(Clock& clock) const {
  auto where = Locate();
  if (!where.ok()) return where.status();
  if (where->config && where->config->Get("queue").GetString("engine") == "kafka") {
    auto kafka_options = daemon::KafkaQueueOptionsFrom(*where->config);
    if (!kafka_options.ok()) return kafka_options.status();
    auto kafka = queue::kafka::KafkaQueue::Open(clock, std::move(*kafka_options));
    if (!kafka.ok()) return kafka.status();
    return std::unique_ptr<queue::Queue>(std::move(*kafka));
  }
  queue::SqliteQueueOptions options;
  if (where->config) {
    options = daemon::QueueOptionsFrom(*where->config, where->data_dir);
  } else {
    options.data_dir = where->data_dir;
  }
  // A tool only looks and edits; the daemon does the housekeeping, and
  // only the daemon's own start counts what was in flight (the poison rule):
  // a running daemon's leases are not crashes.
  options.maintenance_interval = std::chrono::milliseconds(0);
  options.poison_after = 0;
  const std::filesystem::path db = queue::QueueDbPath(options.data_dir);
  if (!std::filesystem::exists(db)) {
    return Status::NotFound("no queue database at " + db.string() + "; data_dir " +
                            where->data_dir.string() + " is " + where->how);
  }
  auto sqlite = queue::SqliteQueue::Open(clock, std::move(options));
  if (!sqlite.ok()) return sqlite.status();
  return std::unique_ptr<queue::Queue>(std::move(*sqlite));
}

Result<std::unique_ptr<daemon::AuditJournal>> QueueLocationFlags::OpenAudit(Clock& clock,
                                                                            bool create) const {
  auto where = Locate();
  if (!where.ok()) return where.status();
  std::chrono::milliseconds retention = std::chrono::hours(24 * 365);
  if (where->config) retention = where->config->Get("admin").GetDuration("audit_retention");
  return daemon::AuditJournal::Open(where->data_dir / "audit.db", clock, retention, create);
}

std::string CliActor() {
  std::string user;
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  } else {
    user = "uid " + std::to_string(getuid());
  }
  return "cli:" + user;
}

int ReportOpenError(const Status& status) {
  std::fprintf(stderr, "error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace crmhub::cli
