#pragma once
// Shared by `crmhub queue` and `crmhub dlq`: finds the queue database from
// --data-dir or --config and opens it next to a possibly running daemon
// (WAL readers never block it; our few writes wait for its write lock).
// With --config the data directory is the daemon's ([daemon] data_dir, else
// $STATE_DIRECTORY, else, from a shell, the systemd unit's StateDirectory=
// when it holds the queue, else var/); a missing queue says where it looked
// and why.
// A --config with [queue] engine = "kafka" opens the Kafka engine instead
// (its dead letters are read from the cluster's dead-letter topic).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "config/config.h"
#include "daemon/audit_journal.h"
#include "daemon/cli/flags.h"
#include "daemon/config_schema.h"
#include "queue/sqlite_queue.h"

namespace crmhub::cli {

struct QueueLocationFlags {
  std::string data_dir;
  std::string config;
  // Where the packaged unit keeps state (a test seam).
  std::filesystem::path systemd_state_dir = daemon::kSystemdStateDir;

  // Adds --data-dir DIR and --config FILE to `parser`.
  void Register(FlagParser& parser);
  // Opens the existing database (never creates one), or the Kafka engine
  // the config names. kInvalidArgument for a usage problem (neither or both
  // flags, bad config): exit 2; other errors are runtime failures: exit 1.
  Result<std::unique_ptr<queue::Queue>> Open(Clock& clock) const;
  // The engine the flags name: "sqlite" (also for --data-dir) or "kafka".
  Result<std::string> Engine() const;
  // The audit journal in the same data directory (same errors as Open). A
  // tool that changes the queue creates it; one that reads does not.
  Result<std::unique_ptr<daemon::AuditJournal>> OpenAudit(Clock& clock, bool create) const;

 private:
  struct Location {
    std::filesystem::path data_dir;
    std::string how;  // why this folder (DataDirChoice::how, or "--data-dir")
    std::optional<config::Config> config;
  };
  Result<Location> Locate() const;
};

// Who runs this tool, as the audit journal names a CLI caller: "cli:<user>"
// (the login name of the real user id; sudo's caller is added to details).
std::string CliActor();

// Prints "error: ..." and returns the exit code for a failed Open.
int ReportOpenError(const Status& status);

}  // namespace crmhub::cli
