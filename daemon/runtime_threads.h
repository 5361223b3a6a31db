#pragma once
// The runtime's two helper threads' owners: the housekeeping thread (queue
// statistics for /metrics and STATUS=, the sink's maintenance) and the
// io_context's threads, joinable with a deadline. Used by the Daemon
// (daemon/runtime.cc).

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "base/metrics.h"
#include "base/thread_annotations.h"
#include "base/thread_name.h"
#include "crm/sink.h"
#include "queue/queue.h"

namespace crmhub::daemon {

using SteadyClock = std::chrono::steady_clock;

// Refreshes queue statistics off the I/O threads (SQLite reads), for
// /metrics (crmhub_queue_depth, crmhub_dead_letters) and STATUS=, and runs
// the sink's housekeeping (CrmSink::Maintain) once a minute.
class Housekeeper {
 public:
  Housekeeper(queue::Queue& queue, crm::CrmSink& sink, std::chrono::milliseconds interval)
      : queue_(queue), sink_(sink), interval_(interval) {}
  ~Housekeeper() { Stop(); }

  void Start() {
    Refresh();
    thread_ = std::thread([this] {
      SetCurrentThreadName("crmhub-house");
      auto next_maintain = SteadyClock::now() + kMaintainEvery;
      std::unique_lock lock(mu_);
      while (!stop_) {
        cv_.wait_for(lock, wait_, [&] { return stop_; });
        if (stop_) break;
        lock.unlock();
        const auto started = SteadyClock::now();
        Refresh();
        // The statistics scan the queue's tables: with a large backlog that
        // is not free, so it never takes more than ~5% of a core.
        wait_ = std::max<std::chrono::milliseconds>(
            interval_, 20 * std::chrono::duration_cast<std::chrono::milliseconds>(
                                SteadyClock::now() - started));
        if (SteadyClock::now() >= next_maintain) {
          next_maintain = SteadyClock::now() + kMaintainEvery;
          if (Status st = sink_.Maintain(); !st.ok()) {
            spdlog::warn("CRM sink housekeeping: {}", st.ToString());
          }
        }
        lock.lock();
      }
    });
  }
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void Refresh() {
    auto stats = queue_.Stats();
    if (!stats.ok()) return;
    int64_t depth = 0;
    for (const auto& s : *stats) depth += s.ready + s.delayed + s.leased;
    std::lock_guard lock(stats_mu_);
    stats_ = std::move(*stats);
    depth_.store(depth);
  }
  int64_t depth() const { return depth_.load(); }

  // Sets the per-lane gauges from the last refresh (a metrics collector).
  // A lane that emptied drops out of Stats(); its gauges must read 0, not
  // keep their last value, so every lane ever seen is reported.
  // Besides depth and dead letters: the lag (messages due now that no
  // worker has taken yet) and the age of the oldest undelivered message,
  // the two figures that say a lane falls behind. `now` is the wall clock.
  void Collect(MetricsRegistry& m, SystemTime now) {
    std::lock_guard lock(stats_mu_);
    std::set<std::string> present;
    for (const auto& s : stats_) {
      present.insert(s.lane);
      seen_lanes_.insert(s.lane);
      double age = 0;
      if (s.oldest_created_at && *s.oldest_created_at < now) {
        age = std::chrono::duration<double>(now - *s.oldest_created_at).count();
      }
      SetLane(m, s.lane, static_cast<double>(s.ready + s.delayed + s.leased),
              static_cast<double>(s.dead), static_cast<double>(s.ready), age);
    }
    for (const std::string& lane : seen_lanes_) {
      if (!present.contains(lane)) SetLane(m, lane, 0, 0, 0, 0);
    }
  }
  // Lanes reported (at zero until they hold something) from the start: the
  // lanes of the configured adapters.
  void AddLanes(const std::vector<std::string>& lanes) {
    std::lock_guard lock(stats_mu_);
    seen_lanes_.insert(lanes.begin(), lanes.end());
  }

 private:
  static constexpr std::chrono::minutes kMaintainEvery{1};

  queue::Queue& queue_;
  crm::CrmSink& sink_;
  const std::chrono::milliseconds interval_;
  std::chrono::milliseconds wait_ = interval_;  // housekeeping thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::mutex stats_mu_;
  std::vector<queue::LaneStats> stats_ GUARDED_BY(stats_mu_);
  std::set<std::string> seen_lanes_ GUARDED_BY(stats_mu_);

  static void SetLane(MetricsRegistry& m, const std::string& lane, double depth, double dead,
                      double lag, double age) {
    m.GetGauge("crmhub_queue_depth", "Messages not yet delivered (ready, delayed, leased).",
               {{"lane", lane}})
        .Set(depth);
    m.GetGauge("crmhub_dead_letters", "Dead letters waiting for an operator.", {{"lane", lane}})
        .Set(dead);
    m.GetGauge("crmhub_queue_lag_messages",
               "Messages due now that no worker has taken yet (ready).", {{"lane", lane}})
        .Set(lag);
    m.GetGauge("crmhub_queue_oldest_message_age_seconds",
               "Age of the lane's oldest undelivered message (0 when empty).", {{"lane", lane}})
        .Set(age);
  }
  std::atomic<int64_t> depth_{0};
};

// The io_context's threads, joinable with a deadline.
class IoThreads {
 public:
  IoThreads(boost::asio::io_context& io, int n) : io_(io) {
    running_ = n;
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this] {
        SetCurrentThreadName("crmhub-io");
        io_.run();
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
      });
    }
  }
  ~IoThreads() { Join(SteadyClock::time_point::max()); }

  // Waits for the loop to run out of work by `deadline`; past it, stops the
  // loop (the last resort, after draining) and joins. True if it ran out.
  bool Join(SteadyClock::time_point deadline) {
    bool ran_out;
    {
      std::unique_lock lock(mu_);
      ran_out = cv_.wait_until(lock, deadline, [&] { return running_ == 0; });
    }
    if (!ran_out) io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return ran_out;
  }

 private:
  boost::asio::io_context& io_;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ GUARDED_BY(mu_) = 0;
  std::vector<std::thread> threads_;
};

}  // namespace crmhub::daemon
