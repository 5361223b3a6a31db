#pragma once
// Where a benchmark keeps its files: the directory it was given, or a fresh
// one under /var/tmp (a real disk, not tmpfs, so fsync costs what it costs in
// production) that is removed when the ScratchDir goes away.

#include <cstdint>
#include <filesystem>

#include "base/status.h"

namespace crmhub::bench {

class ScratchDir {
 public:
  // `given` empty: a fresh /var/tmp/crmhub-bench-XXXXXX, removed afterwards;
  // otherwise `given` (created if missing) and kept.
  static Result<ScratchDir> Make(const std::filesystem::path& given);

  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)), owned_(other.owned_) {
    other.owned_ = false;
  }
  ScratchDir& operator=(ScratchDir&&) = delete;
  ScratchDir(const ScratchDir&) = delete;
  ~ScratchDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  ScratchDir(std::filesystem::path path, bool owned) : path_(std::move(path)), owned_(owned) {}
  std::filesystem::path path_;
  bool owned_;
};

// Peak resident set size of this process so far (getrusage), in bytes.
int64_t PeakRssBytes();

// User + system CPU time of this process so far, every thread (getrusage).
double ProcessCpuSeconds();

}  // namespace crmhub::bench
