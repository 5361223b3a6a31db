#pragma once
// DataDirLock: one daemon per data_dir. Two daemons on one queue would both
// pull the same sources and both deliver; the second one refuses to start.
//
// The lock is an exclusive POSIX record lock (fcntl F_SETLK) on
// <data_dir>/crmhub.lock, which also holds the holder's pid as text. The
// kernel releases it when the process ends however it ends (SIGKILL too),
// so a stale file never blocks a restart. The CLI tools (`crmhub dlq`,
// `crmhub queue`) do not take it: they work beside a running daemon.

#include <sys/types.h>

#include <filesystem>
#include <optional>

#include "base/status.h"

namespace crmhub::daemon {

class DataDirLock {
 public:
  // Takes the lock, or fails: kFailedPrecondition "data_dir DIR is in use by
  // another crmhub (pid N)" when another process holds it (holder_pid()
  // then is N when the kernel tells it), kInternal for an I/O error.
  static Result<DataDirLock> Acquire(const std::filesystem::path& data_dir,
                                     std::optional<pid_t>* holder_pid = nullptr);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  ~DataDirLock();

  static constexpr const char* kFileName = "crmhub.lock";

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace crmhub::daemon
