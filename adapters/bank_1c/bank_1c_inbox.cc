#include "adapters/bank_1c/bank_1c_inbox.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "net/hmac.h"

namespace crmhub::adapters::bank_1c {
namespace fs = std::filesystem;

namespace {

constexpr size_t kHashPrefix = 16;

Status IoError(const std::string& what, const std::error_code& ec) {
  return Status::IoError(what + ": " + ec.message());
}

Status Fsync(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path.string() + ": " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("fsync " + path.string() + ": " + std::strerror(err));
  return Status::Ok();
}

// Writes `bytes` to `path` and fsyncs it.
Status WriteSynced(const fs::path& path, std::string_view bytes) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::IoError("write " + path.string());
  }
  return Fsync(path, /*directory=*/false);
}

// `dir`/`name`, or `dir`/`name`-2, -3, ... when taken.
fs::path FreeName(const fs::path& dir, const std::string& name) {
  fs::path target = dir / name;
  std::error_code ec;
  for (int i = 2; fs::exists(target, ec); ++i) {
    target = dir / (name + "-" + std::to_string(i));
  }
  return target;
}

Status MoveSynced(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return IoError("move " + from.string() + " to " + to.string(), ec);
  if (Status s = Fsync(to.parent_path(), true); !s.ok()) return s;
  return Fsync(from.parent_path(), true);
}

}  // namespace

Inbox::Inbox(fs::path inbox, fs::path done, fs::path failed, Duration settle, const Clock& clock)
    : inbox_(std::move(inbox)),
      done_(std::move(done)),
      failed_(std::move(failed)),
      settle_(settle),
      clock_(clock) {}

Status Inbox::Prepare() const {
  for (const fs::path& dir : {inbox_, done_, failed_}) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("create " + dir.string(), ec);
  }
  return Status::Ok();
}

Result<std::optional<InboxFile>> Inbox::Next() const {
  std::error_code ec;
  struct Candidate {
    fs::file_time_type mtime;
    std::string name;
  };
  std::vector<Candidate> files;
  for (fs::directory_iterator it(inbox_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.' || !it->is_regular_file(ec)) continue;
    fs::file_time_type mtime = it->last_write_time(ec);
    if (ec) continue;  // gone meanwhile
    auto modified = std::chrono::file_clock::to_sys(mtime);
    if (clock_.Now() - std::chrono::time_point_cast<SystemTime::duration>(modified) < settle_) {
      continue;  // still being written, perhaps
    }
    files.push_back({mtime, std::move(name)});
  }
  if (ec) return IoError("list " + inbox_.string(), ec);
  if (files.empty()) return std::optional<InboxFile>();
  auto oldest = std::min_element(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.name < b.name;
  });
  InboxFile file;
  file.name = oldest->name;
  file.path = inbox_ / oldest->name;
  std::ifstream in(file.path, std::ios::binary);
  if (!in) return Status::IoError("read " + file.path.string());
  std::ostringstream buf;
  buf << in.rdbuf();
  file.bytes = std::move(buf).str();
  file.sha256 = net::Sha256Hex(file.bytes);
  return std::optional<InboxFile>(std::move(file));
}

std::optional<fs::path> Inbox::Find(std::string_view name, std::string_view sha256) const {
  if (name.empty() || name.find('/') != std::string_view::npos || name[0] == '.') {
    return std::nullopt;
  }
  fs::path path = inbox_ / std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (net::Sha256Hex(std::move(buf).str()) != sha256) return std::nullopt;
  return path;
}

bool Inbox::Imported(std::string_view sha256) const {
  const std::string prefix = std::string(sha256.substr(0, kHashPrefix)) + "_";
  std::error_code ec;
  for (fs::directory_iterator it(done_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(prefix)) return true;
  }
  return false;
}

Status Inbox::MarkDone(const fs::path& path, std::string_view sha256) const {
  return MoveSynced(path, FreeName(done_, std::string(sha256.substr(0, kHashPrefix)) + "_" +
                                              path.filename().string()));
}

Status Inbox::MarkFailed(const fs::path& path, std::string_view reason) const {
  fs::path target = FreeName(failed_, path.filename().string());
  // The reason first: a crash between the two leaves the file in the inbox
  // (read again, refused again), never a refused file without its reason.
  if (Status s = WriteSynced(target.string() + ".reason.txt", reason); !s.ok()) return s;
  return MoveSynced(path, target);
}

Result<std::string> Inbox::Store(std::string_view bytes, std::string_view prefix) const {
  const std::string sha = net::Sha256Hex(bytes);
  const std::string name = std::string(prefix) + sha.substr(0, kHashPrefix) + ".txt";
  const fs::path temp = inbox_ / ("." + name + ".upload");
  if (Status s = WriteSynced(temp, bytes); !s.ok()) return s;
  fs::path target = FreeName(inbox_, name);
  if (Status s = MoveSynced(temp, target); !s.ok()) return s;
  return target.filename().string();
}

Status Inbox::StoreFailed(std::string_view bytes, std::string_view name,
                          std::string_view reason) const {
  fs::path target = FreeName(failed_, std::string(name));
  if (Status s = WriteSynced(target.string() + ".reason.txt", reason); !s.ok()) return s;
  if (Status s = WriteSynced(target, bytes); !s.ok()) return s;
  return Fsync(failed_, true);
}

}  // namespace crmhub::adapters::bank_1c
