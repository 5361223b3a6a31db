#include "base/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace crmhub {

namespace fs = std::filesystem;

Status EnsurePrivateDir(const fs::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    CRMHUB_RETURN_IF_ERROR(EnsurePrivateDir(dir.parent_path()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IoError("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status EnsurePrivateFile(const fs::path& file) {
  if (file.has_parent_path()) CRMHUB_RETURN_IF_ERROR(EnsurePrivateDir(file.parent_path()));
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::IoError("cannot create " + file.string() + ": " + std::strerror(errno));
  struct stat st {};
  Status result;
  if (::fstat(fd, &st) != 0) {
    result = Status::IoError("cannot stat " + file.string() + ": " + std::strerror(errno));
  } else if ((st.st_mode & 077) != 0 && ::fchmod(fd, st.st_mode & 0700) != 0) {
    result = Status::IoError("cannot chmod " + file.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
  return result;
}

}  // namespace crmhub
