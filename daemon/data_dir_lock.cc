#include "daemon/data_dir_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

namespace crmhub::daemon {
namespace {

// The pid written in the file, for when F_GETLK cannot say (the holder let
// go in between, or a lock from another namespace reports 0).
std::optional<pid_t> PidInFile(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return std::nullopt;
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(buf, buf + n, pid);
  if (ec != std::errc() || pid <= 0) return std::nullopt;
  return pid;
}

}  // namespace

Result<DataDirLock> DataDirLock::Acquire(const std::filesystem::path& data_dir,
                                         std::optional<pid_t>* holder_pid) {
  const std::filesystem::path path = data_dir / kFileName;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Internal("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &lock) != 0) {
    const int err = errno;
    std::optional<pid_t> holder;
    if (err == EACCES || err == EAGAIN) {
      struct flock probe {};
      probe.l_type = F_WRLCK;
      probe.l_whence = SEEK_SET;
      if (::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK && probe.l_pid > 0) {
        holder = probe.l_pid;
      } else {
        holder = PidInFile(fd);
      }
    }
    ::close(fd);
    if (err != EACCES && err != EAGAIN) {
      return Status::Internal("cannot lock " + path.string() + ": " + std::strerror(err));
    }
    if (holder_pid != nullptr) *holder_pid = holder;
    return Status::FailedPrecondition(
        "data_dir " + data_dir.string() + " is in use by another crmhub" +
        (holder ? " (pid " + std::to_string(*holder) + ")" : std::string()) +
        "; one daemon per data_dir (" + path.string() + " is locked)");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The lock holds regardless; the pid in the file is only a hint.
  }
  return DataDirLock(fd);
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace crmhub::daemon
