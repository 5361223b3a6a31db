#pragma once
// What the telephony simulators (Mango Office, Zadarma) share: a world of
// phone calls, and a pusher that posts a system's notifications of them to
// the URL the customer registered, the way a PBX does: in time order, again
// when not answered 200, sometimes twice, sometimes out of order.
//
//   CallWorld   call i of n starts at start + arrival * i / n (simkit/world.h);
//               seeded per call: direction (in 70%, out 30%), answered (65%),
//               the customer's and the company's numbers, the extension, the
//               ring and talk times (whole seconds). What each system sends
//               about a call is the simulator's own (its spec).
//   CallPusher  the notifications, sent on a thread of its own. A push not
//               answered 200 (another status, no answer) is sent again after
//               1, 2, 4 ... s (at most 30 s apart) until `max_attempts`;
//               `duplicate_share` of the pushes answered 200 are sent once
//               more; with `reorder_share` a due push changes places with the
//               next due push. Neither Mango nor Zadarma documents a retry
//               policy: this is the simulators' assumption, stated here once.
//   CallSimulator  the frame of a telephony simulator on a SimPipeline: the
//               world, the pusher started with the server when SimOptions::
//               extra["target"] is set (the `--target URL` flag), the dup
//               fault's share of pushes sent twice and, with any fault set,
//               one due push in five overtaking another; the state and the
//               final statuses. A system says only what it sends about a
//               call, the call's id and its final status.
//
// Thread-safe.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "net/http_client.h"
#include "base/thread_annotations.h"

namespace crmhub::simkit {

struct SimCall {
  int index = 0;
  bool incoming = true;
  bool answered = true;
  std::string customer;   // "79161234567"
  std::string line;       // the company's number: "74951234567"
  std::string extension;  // the employee's: "101"
  SystemTime start;
  SystemTime answer;  // == start when not answered
  SystemTime end;
};

// The world's calls in start order (see the header comment).
std::vector<SimCall> CreateCalls(const SimOptions& options, const Clock& clock);

// An application/x-www-form-urlencoded body as name -> value (the first of
// a repeated name); nullopt for a bad %-escape. The simulators' own reading.
std::optional<std::map<std::string, std::string>> DecodeForm(std::string_view body);
// name=value pairs, URL-encoded, joined with '&'.
std::string EncodeForm(const std::vector<std::pair<std::string, std::string>>& fields);

// A PBX's two credentials (Mango's key and salt, Zadarma's key and secret)
// from SimOptions::credentials[0] written "KEY:SECRET", or the defaults
// when none is given.
struct CredentialPair {
  std::string key;
  std::string secret;
};
CredentialPair ReadCredentialPair(const SimOptions& options, std::string_view default_key,
                                  std::string_view default_secret);
// InvalidArgument ("<system> simulator: --tokens takes <form>") unless both
// parts are there.
Status CheckCredentialPair(const SimOptions& options, std::string_view system,
                           std::string_view form);

struct Push {
  std::string path;  // appended to the target URL ("/events/call", "")
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // a form
  SystemTime at;     // when the system sends it
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
  int in_flight_ GUARDED_BY(mu_) = 0;  // taken from pending_, being sent
  PushStats stats_ GUARDED_BY(mu_);
};

class CallSimulator : public PipelineSimulator {
 public:
  ~CallSimulator() override;

  // Serves, and starts pushing when a target is set.
  Status Start(const std::string& listen) override;
  void Stop() override;
  // {"calls": N, "pushes": {sent, delivered, retried, duplicated, reordered, abandoned}}.
  std::string StateJson() const override;
  SystemTime AllFinalAt() const override;
  // CallId -> FinalStatus of the calls whose last word is said by now
  // (`final_only`: all).
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }

  // Every push delivered (answered 200) or given up; true without a target.
  bool PushesDone() const;
  PushStats Stats() const;
  // The world's calls (what a test expects the CRM to end with).
  const std::vector<SimCall>& calls() const { return calls_; }

 protected:
  // `salt` separates this system's draws from another's of the same seed.
  CallSimulator(const SimOptions& options, Clock& clock, uint64_t salt);
  Clock& clock() const { return clock_; }

  // What the system sends about the world's calls.
  virtual std::vector<Push> Pushes() const = 0;
  // The system's id of a call. Its final status is "answered" or "missed",
  // the call entity's result once the system's shipped rules mapped it.
  virtual std::string CallId(const SimCall& call) const = 0;
  // How long after the call's end the system's last word on it comes.
  virtual std::chrono::milliseconds LastWordAfterEnd() const = 0;

 private:
  const std::string target_;
  const FaultSpec faults_;
  const uint64_t seed_;
  Clock& clock_;
  const std::vector<SimCall> calls_;
  std::unique_ptr<CallPusher> pusher_;  // set by Start, from the owning thread
};

}  // namespace crmhub::simkit
