#pragma once
// Shared helpers for the queue tests: a fresh temp directory per test and
// message builders.

#include <unistd.h>

#include <filesystem>
#include <string>

#include "queue/queue.h"

namespace crmhub::queue::testing {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "crmhub-queue-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? std::filesystem::path(tmpl) : std::filesystem::path();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline NewMessage Msg(std::string lane, std::string key, std::string payload = "{}",
                      std::string ordering_key = "", std::string source = "src") {
  NewMessage m;
  m.lane = std::move(lane);
  m.source = std::move(source);
  m.idempotency_key = std::move(key);
  m.ordering_key = std::move(ordering_key);
  m.payload = std::move(payload);
  return m;
}

}  // namespace crmhub::queue::testing
