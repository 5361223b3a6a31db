#pragma once
// What a simulator whose system calls the customer back with notifications
// (the telephony and payment simulators) is made of:
//
//   CallPusher  the notifications, sent on a thread of its own. A push not
//               answered 200 (another status, no answer; or, when the push
//               names the body its system requires, another body) is sent
//               again after 1, 2, 4 ... s (at most 30 s apart) until
//               `max_attempts`; `duplicate_share` of the pushes answered are
//               sent once more; with `reorder_share` a due push changes
//               places with the next due push.
//
// PushingSimulator: the frame of such a simulator (the telephony and payment simulators,
// call_world.h and payment_world.h): on a SimPipeline, with a CallPusher
// started with the server when SimOptions::extra["target"] is set (the
// `--target URL` flag), the dup fault's share of pushes sent twice and,
// with any fault set, one due push in five overtaking another. A system
// says only what it pushes (Pushes) and what its world is.
//
// Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"
#include "net/http_client.h"

namespace crmhub::simkit {

struct Push {
  std::string path;  // appended to the target URL ("/events/call", "")
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // a form
  SystemTime at;     // when the system sends it
  // The answer's body the system requires besides a 200 (T-Bank "OK",
  // CloudPayments {"code":0}); empty: any 200 is an answer.
  std::string expect_body;
};

struct PushStats {
  int64_t sent = 0;        // requests made
  int64_t delivered = 0;   // pushes answered 200
  int64_t retried = 0;     // requests that were a retry
  int64_t duplicated = 0;  // pushes sent again after a 200
  int64_t reordered = 0;
  int64_t abandoned = 0;  // pushes given up after max_attempts
};

class CallPusher {
 public:
  struct Policy {
    int max_attempts = 20;
    double duplicate_share = 0.0;
    double reorder_share = 0.0;
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  };
  // `target` without a trailing slash; `pushes` in any order (sorted by `at`).
  CallPusher(std::string target, std::vector<Push> pushes, Policy policy, uint64_t seed,
             Clock& clock);
  ~CallPusher();
  CallPusher(const CallPusher&) = delete;
  CallPusher& operator=(const CallPusher&) = delete;

  void Start();
  void Stop();  // idempotent
  // Every push delivered or abandoned.
  bool Done() const;
  PushStats Stats() const;

 private:
  struct Pending {
    Push push;
    SystemTime due;
    int attempts = 0;
  };
  void Run();
  // Sends `p` once; true when answered 200.
  bool Send(const Push& p);

  const std::string target_;
  const Policy policy_;
  Clock& clock_;
  SeededRng rng_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<net::HttpClient> client_;
  std::thread io_thread_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Pending> pending_ GUARDED_BY(mu_);  // by due
  int in_flight_ GUARDED_BY(mu_) = 0;             // taken from pending_, being sent
  PushStats stats_ GUARDED_BY(mu_);
};

class PushingSimulator : public PipelineSimulator {
 public:
  ~PushingSimulator() override;
  // Serves, and starts pushing when a target is set.
  Status Start(const std::string& listen) override;
  void Stop() override;
  // Every push delivered (answered as required) or given up; true without
  // a target.
  bool PushesDone() const;
  PushStats Stats() const;
  // Such systems hold no stock.
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }

 protected:
  // `salt` separates this system's draws from another's of the same seed.
  PushingSimulator(const SimOptions& options, Clock& clock, uint64_t salt);
  Clock& clock() const { return clock_; }
  // What the system sends about its world.
  virtual std::vector<Push> Pushes() const = 0;
  // {"<what>": count, "pushes": {sent, delivered, retried, duplicated,
  // reordered, abandoned}}.
  std::string PushStateJson(std::string_view what, size_t count) const;

 private:
  const std::string target_;
  const FaultSpec faults_;
  const uint64_t seed_;
  Clock& clock_;
  std::unique_ptr<CallPusher> pusher_;  // set by Start, from the owning thread
};

}  // namespace crmhub::simkit
