#pragma once
// Shared helpers for the queue tests: a fresh temp directory per test and
// message builders.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

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

// The idempotency keys of a leased batch: what a test compares, whatever
// the order of the lease.
inline std::set<std::string> Keys(const std::vector<Leased>& leased) {
  std::set<std::string> keys;
  for (const Leased& l : leased) keys.insert(l.message.idempotency_key);
  return keys;
}

// One run of the crmhub binary under test ($CRMHUB_BINARY of the test's
// build) with `args`; stderr is merged into `out` if `with_stderr`, else
// dropped.
struct CliRun {
  int code = -1;
  std::string out;
};
inline CliRun RunCrmhub(const std::string& args, bool with_stderr = false) {
  const std::string cmd =
      std::string(CRMHUB_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace crmhub::queue::testing
