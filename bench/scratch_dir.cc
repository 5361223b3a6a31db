#include "bench/scratch_dir.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <string>
#include <system_error>

namespace crmhub::bench {

Result<ScratchDir> ScratchDir::Make(const std::filesystem::path& given) {
  if (!given.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(given, ec);
    if (ec) return Status::IoError("bench: cannot create " + given.string() + ": " + ec.message());
    return ScratchDir(given, false);
  }
  std::string tmpl = "/var/tmp/crmhub-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Status::IoError("bench: mkdtemp in /var/tmp failed");
  return ScratchDir(tmpl, true);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (owned_) std::filesystem::remove_all(path_, ec);
}

int64_t PeakRssBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace crmhub::bench
