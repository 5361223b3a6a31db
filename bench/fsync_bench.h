#pragma once
// `crmhub bench fsync`: how long this disk takes to make a small append
// durable (write + fdatasync), like PostgreSQL's pg_test_fsync. Every answer
// crmhub gives after "durably enqueued" waits for one of these, so the
// figure bounds any durable intake on the machine, whatever the software.
// With C connections, each waiting for its answer before sending again:
//  - ceiling: an answer comes at least one fsync after its write began, so
//    no server can answer more than C / p50 per second;
//  - estimate under saturation: a request that arrives while an fsync runs
//    waits for the rest of it and then for its own, about 1.5 fsyncs on
//    average with group commit, so expect about C / (1.5 x p50).
// See docs/performance.md.

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"

namespace crmhub::bench {

struct FsyncBenchOptions {
  int writes = 500;           // appends, each followed by fdatasync
  int bytes = 4096;           // per append (a WAL frame is a page plus 24 bytes)
  int connections = 32;       // for the group-commit ceiling printed
  std::filesystem::path dir;  // empty: a fresh directory under /var/tmp
};

struct FsyncBenchResult {
  int writes = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
  double syncs_per_s = 0;                  // 1 / mean latency: one writer, one fsync each
  double ceiling_per_s = 0;                // connections / p50: no durable server answers more
  double group_commit_estimate_per_s = 0;  // connections / (1.5 x p50)
};

Result<FsyncBenchResult> RunFsyncBench(const FsyncBenchOptions& options);

std::string FormatFsyncBenchText(const FsyncBenchOptions& options, const FsyncBenchResult& r);
std::string FormatFsyncBenchJson(const FsyncBenchOptions& options, const FsyncBenchResult& r);

}  // namespace crmhub::bench
