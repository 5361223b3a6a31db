// AdapterHealth and its book: per-capability status, kept across a
// re-registration (a reload), exported with every series at zero.

#include "daemon/adapter_health.h"

#include <gtest/gtest.h>

namespace crmhub::daemon {
namespace {

TEST(AdapterHealthTest, EachCapabilityHasItsOwnStatusAndAReloadKeepsIt) {
  ManualClock clock;
  MetricsRegistry metrics;
  AdapterHealthBook book(clock, metrics);
  auto h = book.Register("ym", {Capability::kPull, Capability::kDeliver, Capability::kPush});
  h->Success(Capability::kPull);
  clock.Advance(std::chrono::seconds(5));
  h->Error(Capability::kDeliver, "429 too many requests");
  EXPECT_TRUE(h->Get(Capability::kPull).last_success);
  EXPECT_FALSE(h->Get(Capability::kPull).last_error);
  EXPECT_EQ(h->Get(Capability::kDeliver).last_error.value_or(""), "429 too many requests");
  EXPECT_FALSE(h->Get(Capability::kPush).last_success);
  // A reload registers the adapter again: same record.
  auto again = book.Register("ym", {Capability::kPull, Capability::kDeliver});
  EXPECT_EQ(again, h);
  EXPECT_EQ(again->Get(Capability::kDeliver).errors, 1);
}

TEST(AdapterHealthTest, EverySeriesIsExportedAtZeroFromTheStart) {
  ManualClock clock;
  MetricsRegistry metrics;
  AdapterHealthBook book(clock, metrics);
  book.Register("site", {Capability::kDeliver, Capability::kPush});
  metrics.AddCollector([&](MetricsRegistry& m) { book.Collect(m); });
  const std::string text = metrics.RenderPrometheus();
  for (const char* series :
       {R"(crmhub_adapter_errors_total{adapter="site",capability="push"} 0)",
        R"(crmhub_adapter_errors_total{adapter="site",capability="deliver"} 0)",
        R"(crmhub_adapter_last_success_timestamp_seconds{adapter="site",capability="push"} 0)",
        R"(crmhub_adapter_last_error_timestamp_seconds{adapter="site",capability="deliver"} 0)"}) {
    EXPECT_NE(text.find(series), std::string::npos) << series << "\n" << text;
  }
}

TEST(AdapterHealthTest, TheBreakerStateComesFromTheAdaptersUpstreams) {
  MetricsRegistry metrics;
  metrics.GetGauge("crmhub_circuit_open", "", {{"upstream", "yandex-market:ym-main:orders"}})
      .Set(0);
  EXPECT_EQ(AdapterHealthBook::CircuitStateFrom(metrics.RenderPrometheus(), "ym-main"), "closed");
  metrics.GetGauge("crmhub_circuit_open", "", {{"upstream", "yandex-market:ym-main:stocks"}})
      .Set(1);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_EQ(AdapterHealthBook::CircuitStateFrom(text, "ym-main"), "open");
  EXPECT_EQ(AdapterHealthBook::CircuitStateFrom(text, "ym"), "");  // not a prefix match
  EXPECT_EQ(AdapterHealthBook::CircuitStateFrom(text, "site"), "");
}

}  // namespace
}  // namespace crmhub::daemon
