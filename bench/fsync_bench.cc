#include "bench/fsync_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <numeric>
#include <vector>

#include "bench/percentile.h"
#include "bench/scratch_dir.h"

namespace crmhub::bench {
namespace {

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

}  // namespace

Result<FsyncBenchResult> RunFsyncBench(const FsyncBenchOptions& options) {
  if (options.writes <= 0 || options.bytes <= 0 || options.connections <= 0) {
    return Status::InvalidArgument("writes, bytes and connections must be positive");
  }
  auto dir = ScratchDir::Make(options.dir);
  if (!dir.ok()) return dir.status();
  const std::filesystem::path file = dir->path() / "fsync-probe.bin";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + file.string());

  std::vector<char> block(static_cast<size_t>(options.bytes), 'x');
  std::vector<double> us;
  us.reserve(static_cast<size_t>(options.writes));
  Status failed;
  // Appends, as a WAL grows: each one allocates blocks and updates the
  // file's size, which is what the journal commit of fdatasync pays for.
  for (int i = 0; i < options.writes && failed.ok(); ++i) {
    auto start = std::chrono::steady_clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      failed = Errno("write " + file.string());
    } else if (::fdatasync(fd) != 0) {
      failed = Errno("fdatasync " + file.string());
    }
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  ::close(fd);
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  if (!failed.ok()) return failed;

  FsyncBenchResult r;
  r.writes = options.writes;
  const double mean = std::accumulate(us.begin(), us.end(), 0.0) / static_cast<double>(us.size());
  r.max_us = *std::max_element(us.begin(), us.end());
  r.p50_us = Percentile(us, 0.50);
  r.p90_us = Percentile(us, 0.90);
  r.p99_us = Percentile(us, 0.99);
  r.syncs_per_s = mean > 0 ? 1e6 / mean : 0;
  const double c = static_cast<double>(options.connections);
  r.ceiling_per_s = r.p50_us > 0 ? c * 1e6 / r.p50_us : 0;
  r.group_commit_estimate_per_s = r.p50_us > 0 ? c * 1e6 / (1.5 * r.p50_us) : 0;
  return r;
}

std::string FormatFsyncBenchText(const FsyncBenchOptions& options, const FsyncBenchResult& r) {
  return fmt::format(
      "fsync benchmark: {} appends of {} bytes, each made durable with fdatasync\n"
      "  latency:   p50 {:.0f} us, p90 {:.0f} us, p99 {:.0f} us, max {:.0f} us\n"
      "  one writer, one fsync per answer: {:.0f} answers/s\n"
      "  {} connections, each waiting for its durable answer:\n"
      "    ceiling  {:.0f} answers/s (every answer waits at least one fsync)\n"
      "    expected {:.0f} answers/s with group commit under saturation (~1.5 fsyncs each)",
      r.writes, options.bytes, r.p50_us, r.p90_us, r.p99_us, r.max_us, r.syncs_per_s,
      options.connections, r.ceiling_per_s, r.group_commit_estimate_per_s);
}

std::string FormatFsyncBenchJson(const FsyncBenchOptions& options, const FsyncBenchResult& r) {
  return fmt::format(
      "{{\"bench\":\"fsync\",\"writes\":{},\"bytes\":{},\"p50_us\":{:.1f},\"p90_us\":{:.1f},"
      "\"p99_us\":{:.1f},\"max_us\":{:.1f},\"syncs_per_s\":{:.1f},\"connections\":{},"
      "\"ceiling_per_s\":{:.1f},\"group_commit_estimate_per_s\":{:.1f}}}",
      r.writes, options.bytes, r.p50_us, r.p90_us, r.p99_us, r.max_us, r.syncs_per_s,
      options.connections, r.ceiling_per_s, r.group_commit_estimate_per_s);
}

}  // namespace crmhub::bench
