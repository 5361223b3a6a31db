#pragma once
// Where the SQLite queue lives inside a data directory. The daemon and the
// `crmhub queue` / `crmhub dlq` tools use the same name, so the tools work on
// the daemon's live database (WAL makes that safe).

#include <filesystem>

namespace crmhub::queue {

inline constexpr const char* kQueueDbFileName = "queue.db";

inline std::filesystem::path QueueDbPath(const std::filesystem::path& data_dir) {
  return data_dir / kQueueDbFileName;
}

}  // namespace crmhub::queue
