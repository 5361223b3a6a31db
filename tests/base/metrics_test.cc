#include "base/metrics.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

namespace crmhub {
namespace {

TEST(MetricsTest, RendersPrometheusTextExactly) {
  MetricsRegistry m;
  m.GetCounter("crmhub_requests_total", "Requests.\nBy code \\ path", {{"code", "200"}}).Inc();
  m.GetCounter("crmhub_requests_total", "ignored", {{"code", "200"}}).Inc(2);
  m.GetCounter("crmhub_requests_total", "", {{"code", "500"}, {"path", "a\"b\\c\nd"}}).Inc(0.5);
  m.GetGauge("crmhub_queue_depth", "Depth.").Set(-3);
  Histogram& h = m.GetHistogram("crmhub_latency_seconds", "Latency.", {0.1, 1}, {{"lane", "x"}});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP crmhub_latency_seconds Latency.\n"
            "# TYPE crmhub_latency_seconds histogram\n"
            "crmhub_latency_seconds_bucket{lane=\"x\",le=\"0.1\"} 2\n"
            "crmhub_latency_seconds_bucket{lane=\"x\",le=\"1\"} 3\n"
            "crmhub_latency_seconds_bucket{lane=\"x\",le=\"+Inf\"} 4\n"
            "crmhub_latency_seconds_sum{lane=\"x\"} 7.65\n"
            "crmhub_latency_seconds_count{lane=\"x\"} 4\n"
            "# HELP crmhub_queue_depth Depth.\n"
            "# TYPE crmhub_queue_depth gauge\n"
            "crmhub_queue_depth -3\n"
            "# HELP crmhub_requests_total Requests.\\nBy code \\\\ path\n"
            "# TYPE crmhub_requests_total counter\n"
            "crmhub_requests_total{code=\"200\"} 3\n"
            "crmhub_requests_total{code=\"500\",path=\"a\\\"b\\\\c\\nd\"} 0.5\n");
  EXPECT_EQ(h.bucket_counts(), (std::vector<uint64_t>{2, 1, 1}));
  EXPECT_EQ(h.count(), 4u);
}

TEST(MetricsTest, SameNameAndLabelsIsTheSameMetric) {
  MetricsRegistry m;
  Counter& a = m.GetCounter("c_total", "h", {{"x", "1"}});
  Counter& b = m.GetCounter("c_total", "h", {{"x", "1"}});
  Counter& c = m.GetCounter("c_total", "h", {{"x", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
  a.Inc(-1);  // dropped: counters only go up
  EXPECT_EQ(a.value(), 0);
  EXPECT_THROW(m.GetGauge("c_total", "h"), std::logic_error);
  EXPECT_THROW(m.GetCounter("bad name", "h"), std::logic_error);
  EXPECT_THROW(m.GetHistogram("h", "h", {1}, {{"le", "1"}}), std::logic_error);
}

TEST(MetricsTest, CollectorsRunBeforeRender) {
  MetricsRegistry m;
  int depth = 0;
  m.AddCollector([&](MetricsRegistry& r) { r.GetGauge("depth", "Depth.").Set(++depth); });
  EXPECT_NE(m.RenderPrometheus().find("depth 1\n"), std::string::npos);
  EXPECT_NE(m.RenderPrometheus().find("depth 2\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry m;
  Counter& c = m.GetCounter("c_total", "h");
  Gauge& g = m.GetGauge("g", "h");
  Histogram& h = m.GetHistogram("h_seconds", "h", DefaultLatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        g.Add(0.5);
        h.Observe(0.003);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(g.value(), 20000);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.bucket_counts()[2], 40000u);  // 0.0025 < 0.003 <= 0.005
}

}  // namespace
}  // namespace crmhub
