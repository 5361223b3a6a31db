#pragma once
// MetricsRegistry: counters, gauges and histograms with labels, rendered in
// the Prometheus text exposition format (GET /metrics).
//
// Passed by reference to whatever counts (no global registry). Getting a
// metric takes a lock once; the returned reference is stable for the
// registry's lifetime and updating it is lock-free (atomics), so hot paths
// look a metric up once and keep the reference.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/thread_annotations.h"

namespace crmhub {

using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void Inc(double v = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative-free bucket counts (one per bound, plus +Inf), sum and count.
  std::vector<uint64_t> bucket_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
  std::atomic<uint64_t> count_{0};
};

class MetricsRegistry {
 public:
  // Same name+labels returns the same metric. `help` is taken from the first
  // registration of a name. A name registered with another type throws
  // std::logic_error (a programming error).
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds, const Labels& labels = {});

  // Called at each render, before output, to refresh gauges that are read
  // rather than pushed (queue depth, RSS).
  void AddCollector(std::function<void(MetricsRegistry&)> collector);

  std::string RenderPrometheus();

 private:
  struct Family;
  std::mutex mu_;
  // shared_ptr: Family is defined in metrics.cc, and its deleter is bound there.
  std::map<std::string, std::shared_ptr<Family>> families_ GUARDED_BY(mu_);
  std::vector<std::function<void(MetricsRegistry&)>> collectors_ GUARDED_BY(mu_);
};

// Default latency buckets in seconds (1ms .. 30s).
const std::vector<double>& DefaultLatencyBuckets();

}  // namespace crmhub
