#pragma once
// Files that hold personal data (the queue, the CRM store, the idempotency
// records) are readable by the daemon's user alone, whatever the umask:
// the data directory is created 0700 and each database file 0600, and an
// existing database file is tightened to 0600 (SQLite gives its -wal and
// -shm files the database file's mode).

#include <filesystem>

#include "base/status.h"

namespace crmhub {

// Creates `dir` and its missing parents; the ones created here are 0700.
// An existing directory is left as it is (systemd's StateDirectory= makes
// it 0700 itself).
Status EnsurePrivateDir(const std::filesystem::path& dir);

// Creates `file` empty with mode 0600 when missing (its directory through
// EnsurePrivateDir), or drops the group and other bits of an existing one.
Status EnsurePrivateFile(const std::filesystem::path& file);

}  // namespace crmhub
