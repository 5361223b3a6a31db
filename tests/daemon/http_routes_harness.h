#pragma once
// Test harness for daemon/http_routes: a real SQLite queue in a fresh temp
// dir (wrapped by FaultQueue for injected faults), a MetricsRegistry, the
// router, and optionally a real net::HttpServer on 127.0.0.1:0 with a small
// blocking Beast client. No sleeps: answers are awaited with a deadline.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "adapters/adapter.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "daemon/http_routes.h"
#include "net/http_server.h"
#include "queue/forwarding_queue.h"
#include "queue/sqlite_queue.h"

namespace crmhub::daemon::testing {

// A Queue that forwards to a real one, with faults switched on by the test
// (LevelDB's ErrorEnv): report unhealthy, or hold enqueues until released.
class FaultQueue final : public queue::ForwardingQueue {
 public:
  explicit FaultQueue(queue::Queue& inner) : queue::ForwardingQueue(inner) {}

  std::atomic<bool> unhealthy{false};

  // While held, EnqueueAsync calls are parked (not yet forwarded).
  void Hold();
  // Forwards every parked enqueue and stops holding.
  void Release();
  // Waits until `n` enqueues are parked; false on timeout.
  bool WaitParked(size_t n, std::chrono::milliseconds timeout);

  void EnqueueAsync(std::vector<queue::NewMessage> messages, EnqueueCallback done) override;
  bool Healthy() const override { return !unhealthy.load() && inner().Healthy(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;  // GUARDED_BY(mu_)
  std::vector<std::pair<std::vector<queue::NewMessage>, EnqueueCallback>>
      parked_;  // GUARDED_BY(mu_)
};

// A target adapter double for /api/v1/commands (it is never delivered to).
class FakeTarget final : public adapters::Adapter, public adapters::TargetCapability {
 public:
  FakeTarget(std::string id, std::vector<std::string> commands)
      : id_(std::move(id)), commands_(std::move(commands)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "fake"; }
  adapters::TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const adapters::Command> batch) override {
    return std::vector<DeliveryOutcome>(batch.size(), DeliveryOutcome::Ok());
  }
  int max_batch() const override { return 100; }
  std::vector<std::string> commands() const override { return commands_; }

 private:
  std::string id_;
  std::vector<std::string> commands_;
};

struct Answer {
  int status = 0;  // 0: no answer within the deadline / connection failed
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One blocking HTTP/1.1 exchange with 127.0.0.1:port (Beast, Connection: close).
Answer Fetch(uint16_t port, const std::string& method, const std::string& target,
             const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {});

// Enqueues single messages on `lane` straight into `q` until it refuses
// with kResourceExhausted steadily (ten tries in a row, 20 ms apart); returns
// how many it took (-1: not full within `max_calls`). REQUIRES: the engine's
// writer is held behind (a held disk), so that its pending bound fills.
int FillPendingBound(queue::Queue& q, const std::string& lane, int max_calls = 10000);

class Harness {
 public:
  // `vfs_name`: the sqlite3 VFS the queue's file goes through ("": the
  // default; a test's FailingVfs for a failing disk).
  // `adjust` may change the queue's options before it opens.
  explicit Harness(const std::string& vfs_name = {},
                   const std::function<void(queue::SqliteQueueOptions&)>& adjust = {});
  ~Harness();

  // Builds the router (and the server when `serve`). Call once, after
  // adding adapters and adjusting options.
  void Start(bool serve);

  void AddAdapter(std::shared_ptr<adapters::Adapter> adapter);

  // Calls HttpRoutes::Handle directly and waits for the answer.
  Answer Call(net::HttpRequest request);
  // Over the loopback server. REQUIRES: Start(true).
  Answer Http(const std::string& method, const std::string& target, const std::string& body = "",
              const std::vector<std::pair<std::string, std::string>>& headers = {});

  // Messages of a lane, leased (and so taken out of circulation).
  std::vector<queue::Message> Drain(const std::string& lane);
  // Value of a counter in /metrics text, 0 if absent.
  double MetricValue(const std::string& series);

  const std::filesystem::path& dir() const { return dir_; }
  ManualClock clock;
  MetricsRegistry metrics;
  std::unique_ptr<queue::SqliteQueue> sqlite;
  std::unique_ptr<FaultQueue> queue;
  HttpRoutesOptions options;
  HttpRoutesDeps deps;                 // queue/metrics/clock/find_adapter pre-filled
  Listener listener = Listener::kAll;  // which routes the loopback server serves
  std::unique_ptr<HttpRoutes> routes;
  uint16_t port = 0;

 private:
  std::filesystem::path dir_;
  std::mutex adapters_mu_;
  std::map<std::string, std::shared_ptr<adapters::Adapter>, std::less<>> adapters_;
  boost::asio::io_context io_;
  std::unique_ptr<net::HttpServer> server_;
  std::vector<std::thread> threads_;
};

}  // namespace crmhub::daemon::testing
