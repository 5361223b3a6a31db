#pragma once
// Shared pieces of the Ozon adapter tests: an io_context + HttpClient on a
// background thread, and an adapter wired to a simulator.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_adapter.h"
#include "adapters/ozon/ozon_sim.h"
#include "base/timestamp.h"
#include "net/http_client.h"
#include "net/upstream.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::ozon::testing {

using crmhub::testing::ClientThread;

// Real time plus jumps: the net::Upstream's token bucket waits for real
// (milliseconds at 50 requests/s), while a test still skips ahead over the
// long waits (stocks' 80 per minute) with Advance.
class AdvancingClock final : public Clock {
 public:
  SystemTime Now() const override {
    return start_ + std::chrono::duration_cast<SystemTime::duration>(SteadyNow() - steady_start_);
  }
  std::chrono::steady_clock::time_point SteadyNow() const override {
    return std::chrono::steady_clock::now() + std::chrono::nanoseconds(offset_ns_.load());
  }
  void Advance(Duration d) { offset_ns_ += d.count(); }

 private:
  const SystemTime start_ = SystemTime(std::chrono::seconds(1'700'000'000));
  const std::chrono::steady_clock::time_point steady_start_ = std::chrono::steady_clock::now();
  std::atomic<int64_t> offset_ns_{0};
};

// The spec's date-time as the adapter sends it.
inline std::optional<SystemTime> ParseOzonTime(std::string_view text) {
  return ParseTimestamp(text, kNoDefaultOffset);
}

// The account's net::Upstream as the daemon builds it ("ozon:ozon-main",
// Ozon's 50 requests/s, burst 1). Tests on a ManualClock pass max_wait 0:
// nothing may block on a clock that does not move.
inline net::Transport UpstreamTransport(net::HttpClient& http, const Clock& clock,
                                        MetricsRegistry* metrics = nullptr,
                                        Duration max_wait = std::chrono::seconds(10)) {
  net::UpstreamOptions options;
  options.rate_limit = net::RateLimit::PerSecond(kRequestsPerSecond, 1);
  options.max_wait = max_wait;
  return net::MakeUpstreamTransport("ozon:ozon-main", &http, clock, metrics, {{"", options}});
}

// Pulls one round (until a Pull says no more), at most max_pulls pages,
// advancing `cursor`, showing each event pulled to `seen` if given. The
// posting_numbers of the postings pulled, or the first error.
inline Result<std::set<std::string>> PullRound(
    SourceCapability& source, std::optional<std::string>& cursor, int max_pulls = 200,
    const std::function<void(const InboundEvent&)>& seen = nullptr) {
  std::set<std::string> numbers;
  for (int i = 0; i < max_pulls; ++i) {
    auto pulled = source.Pull(cursor);
    if (!pulled.ok()) return pulled.status();
    for (const auto& e : pulled->events) {
      // Postings only: a return (kind=return) names its posting too.
      if (e.kind == "order") {
        numbers.insert(nlohmann::json::parse(e.payload).value("posting_number", ""));
      }
      if (seen) seen(e);
    }
    cursor = pulled->next_cursor;
    if (!pulled->more) return numbers;
  }
  return Status::DeadlineExceeded("the round did not end within " + std::to_string(max_pulls) +
                                  " pulls");
}

inline OzonConfig ConfigFor(const std::string& id, const OzonSimOptions& sim,
                            const std::string& base_url) {
  OzonConfig c;
  c.id = id;
  c.client.base_url = base_url;
  c.client.client_id = sim.client_id();
  c.client.api_key = Secret(sim.api_key());
  c.client.timeout = std::chrono::milliseconds(2000);
  c.poll_interval = std::chrono::seconds(5);
  c.overlap = std::chrono::seconds(30);
  c.order_lookback = std::chrono::hours(24);
  // The postings' tests read postings alone (their request counts and
  // rounds); the returns' tests (ozon_returns_test.cc) turn returns on.
  c.returns = false;
  // Product cards likewise (ozon_products_test.cc turns them on).
  c.products = false;
  // The realization report likewise (ozon_reports_test.cc turns it on).
  c.reports = false;
  return c;
}

}  // namespace crmhub::adapters::ozon::testing
