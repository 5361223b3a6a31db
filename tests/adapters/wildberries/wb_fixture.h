#pragma once
// Shared fixture: an io_context on two threads, a WildberriesSimulator on a
// loopback port, an HttpClient, and a runtime-like driver for Pull.

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/wildberries/wildberries_adapter.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "net/http_client.h"

namespace crmhub::adapters::wildberries::test {

class Loop {
 public:
  Loop() : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~Loop() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

// The loop, a manual clock, the simulator on a loopback port and a client.
struct World {
  explicit World(WildberriesSimOptions options) {
    sim = std::make_unique<WildberriesSimulator>(std::move(options), clock);
    EXPECT_TRUE(sim->Start("127.0.0.1:0").ok());
    http = std::make_unique<net::HttpClient>(loop.io(), net::HttpClientOptions{});
  }
  Loop loop;
  ManualClock clock;
  std::unique_ptr<WildberriesSimulator> sim;
  std::unique_ptr<net::HttpClient> http;
};

inline WildberriesConfig OptionsFor(const WildberriesSimulator& sim,
                                    std::string token = "sim-token") {
  WildberriesConfig o;
  o.id = "wb-main";
  o.client.marketplace_url = sim.base_url();
  o.client.content_url = sim.base_url();
  o.client.prices_url = sim.base_url();
  o.client.analytics_url = sim.base_url();
  o.client.statistics_url = sim.base_url();
  o.client.token = Secret(std::move(token));
  o.client.timeout = std::chrono::milliseconds(500);
  o.poll_interval = std::chrono::seconds(5);
  o.lookback = std::chrono::hours(1);
  // The orders' tests read orders alone (their request counts and cursors);
  // wb_products_test.cc turns the product cards on.
  o.products = false;
  // Likewise the returns report (wb_returns_test.cc turns it on).
  o.returns = false;
  // Likewise the sales report (wb_reports_test.cc turns it on).
  o.reports = false;
  return o;
}

// A transport to the simulator over loopback whose answers a test may
// rewrite: `tamper` sees each answer (with the request's path) and may
// change its status, headers and body before the adapter reads it.
struct TamperedTransport {
  std::function<void(std::string_view path, net::OutboundResponse& answer)> tamper;
  // Set by Once: the next answer on `path` is replaced.
  struct Replacement {
    std::string path;
    int status = 200;
    std::string body;
  };
  std::optional<Replacement> once;

  net::Transport Bind(net::HttpClient& http) {
    return [this, &http](std::string_view, net::OutboundRequest request) {
      const std::string path(net::UrlPath(request.url));
      net::OutboundResult result = http.SendBlocking(std::move(request));
      if (!result.ok()) return result;
      if (once && once->path == path) {
        result->status = once->status;
        result->body = std::move(once->body);
        once.reset();
      } else if (tamper) {
        tamper(path, *result);
      }
      return result;
    };
  }
  // The next answer on `path` is `body` with `status`; later ones are WB's.
  void Once(std::string path, std::string body, int status = 200) {
    once = Replacement{std::move(path), status, std::move(body)};
  }
};

// A command `name` for `item` on its `attempt`-th delivery (the commands
// tests: a redelivery reads before it writes).
inline adapters::Command CommandAttempt(const std::string& name, const nlohmann::json& item,
                                        int attempt = 1) {
  adapters::Command m;
  m.name = name;
  m.payload = item.dump();
  m.attempt = attempt;
  return m;
}

// A JSON document nested `depth` arrays deep.
inline std::string DeepJson(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// What the runtime does with pulls, in memory: keeps the cursor, dedups
// events by idempotency key, honours not_before and poll_interval by moving
// the manual clock (the world's time too).
struct PullDriver {
  std::optional<std::string> cursor;
  std::map<std::string, nlohmann::json> events;  // key -> payload
  std::vector<std::string> keys_in_order;
  int pulls = 0;
  int errors = 0;
  int duplicates = 0;
  int products = 0;  // product events (kind=product), not kept in `events`
  std::map<std::string, nlohmann::json> returns;  // kind=return: key -> payload
  std::map<std::string, nlohmann::json> reports;  // kind=report: key -> payload
  int report_duplicates = 0;                      // report keys seen before

  // One Pull, applied like the runtime would. Returns false on error.
  bool Step(WildberriesAdapter& adapter, ManualClock& clock) {
    ++pulls;
    auto r = adapter.Pull(cursor);
    if (!r.ok()) {
      ++errors;
      clock.Advance(std::chrono::seconds(1));  // the runtime's backoff
      return false;
    }
    for (const auto& e : r->events) {
      if (e.kind == "product") {  // a product card: counted, not an order
        ++products;
        continue;
      }
      if (e.kind == "report") {  // a report row: kept apart from the orders
        report_duplicates += reports.count(e.idempotency_key) ? 1 : 0;
        reports[e.idempotency_key] = nlohmann::json::parse(e.payload);
        continue;
      }
      if (e.kind == "return") {  // a return: kept apart from the orders
        returns[e.idempotency_key] = nlohmann::json::parse(e.payload);
        continue;
      }
      EXPECT_EQ(e.ordering_key, e.idempotency_key.substr(0, e.idempotency_key.find(':')));
      if (events.count(e.idempotency_key)) {
        ++duplicates;
        continue;
      }
      events[e.idempotency_key] = nlohmann::json::parse(e.payload);
      keys_in_order.push_back(e.idempotency_key);
    }
    if (r->next_cursor) cursor = r->next_cursor;
    if (r->not_before) {
      auto wait = *r->not_before - clock.Now();
      clock.Advance(wait > Duration::zero() ? wait : std::chrono::milliseconds(1));
    } else if (!r->more) {
      clock.Advance(adapter.poll_interval());
    }
    return true;
  }
};

// A world of 120 orders with one report pass turned on by `enable` (the
// sales report, the returns report), FBS pulled between its scans and DBS
// off: the reports' and the returns' tests start from it.
struct ReportPassTest : ::testing::Test {
  explicit ReportPassTest(const std::function<void(WildberriesConfig&)>& enable) : w(Options()) {
    config = OptionsFor(*w.sim);
    config.dbs = false;
    enable(config);
    adapter = std::make_unique<WildberriesAdapter>(config, w.http.get(), w.clock);
  }
  static WildberriesSimOptions Options() {
    WildberriesSimOptions so;
    so.orders = 120;
    so.seed = 7;
    so.arrival = std::chrono::seconds(20);
    so.lifetime = std::chrono::seconds(30);
    return so;
  }
  // Pulls with `a` until the world's clock reaches `until` (bounded).
  void RunPast(WildberriesAdapter& a, SystemTime until) {
    for (int i = 0; i < 3000 && w.clock.Now() < until; ++i) driver.Step(a, w.clock);
  }
  void RunPast(SystemTime until) { RunPast(*adapter, until); }

  World w;
  WildberriesConfig config;
  std::unique_ptr<WildberriesAdapter> adapter;
  PullDriver driver;
};

// Latest status per order id from the events (by statusObservedMs).
inline std::map<int64_t, std::pair<std::string, std::string>> LatestStatuses(
    const std::map<std::string, nlohmann::json>& events) {
  std::map<int64_t, std::pair<int64_t, std::pair<std::string, std::string>>> latest;
  for (const auto& [key, p] : events) {
    int64_t id = p["id"].get<int64_t>();
    int64_t at = p["statusObservedMs"].get<int64_t>();
    auto& slot = latest[id];
    if (at >= slot.first) {
      slot = {at, {p["supplierStatus"].get<std::string>(), p["wbStatus"].get<std::string>()}};
    }
  }
  std::map<int64_t, std::pair<std::string, std::string>> out;
  for (const auto& [id, v] : latest) out[id] = v.second;
  return out;
}

}  // namespace crmhub::adapters::wildberries::test
