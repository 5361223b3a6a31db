#pragma once
// daemon::Runtime on its own thread, as `crmhub run` runs it: what the
// benchmarks that drive the whole daemon in process (`crmhub bench orders`,
// `crmhub bench onec-exchange`) start, wait for and stop.

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "daemon/runtime.h"

namespace crmhub::bench {

class RuntimeThread {
 public:
  explicit RuntimeThread(daemon::RuntimeOptions options) : runtime_(std::move(options)) {
    runtime_.on_ready = [this](const std::vector<uint16_t>& ports) {
      std::lock_guard lock(mu_);
      ports_ = ports;
      ready_ = true;
      cv_.notify_all();
    };
    thread_ = std::thread([this] {
      int code = runtime_.Run();
      std::lock_guard lock(mu_);
      exit_code_ = code;
      cv_.notify_all();
    });
  }
  ~RuntimeThread() { Stop(); }

  // The HTTP port once READY; an error if the runtime exited instead.
  Result<uint16_t> WaitReady(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return ready_ || exit_code_.has_value(); })) {
      return Status::DeadlineExceeded("the daemon did not become ready");
    }
    if (!ready_ || ports_.empty()) {
      return Status::Internal(
          fmt::format("the daemon exited with {} during start-up", exit_code_.value_or(-1)));
    }
    return ports_.front();
  }
  bool exited() {
    std::lock_guard lock(mu_);
    return exit_code_.has_value();
  }
  // Drains like SIGTERM and returns the exit code.
  int Stop() {
    if (thread_.joinable()) {
      runtime_.RequestStop();
      thread_.join();
    }
    std::lock_guard lock(mu_);
    return exit_code_.value_or(-1);
  }

 private:
  daemon::Runtime runtime_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ GUARDED_BY(mu_) = false;
  std::vector<uint16_t> ports_ GUARDED_BY(mu_);
  std::optional<int> exit_code_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace crmhub::bench
