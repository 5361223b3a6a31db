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
//   CallPusher  (pushing_simulator.h) the notifications, sent on a thread
//               of their own, again when not answered. Neither Mango nor
//               Zadarma documents a retry policy: the pusher's is the
//               simulators' assumption, stated there once.
//   CallSimulator  the frame of a telephony simulator, on simkit's
//               PushingSimulator (pushing_simulator.h: the server and the
//               pusher): the world, the state and the final statuses. A
//               system says only what it sends about a call, the call's id
//               and its final status.
//
// Thread-safe.

#include <atomic>
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

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/simkit/pushing_simulator.h"
#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"
#include "net/http_client.h"

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

class CallSimulator : public PushingSimulator {
 public:
  // {"calls": N, "pushes": {sent, delivered, retried, duplicated, reordered, abandoned}}.
  std::string StateJson() const override;
  SystemTime AllFinalAt() const override;
  // CallId -> FinalStatus of the calls whose last word is said by now
  // (`final_only`: all).
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  // The world's calls (what a test expects the CRM to end with).
  const std::vector<SimCall>& calls() const { return calls_; }

 protected:
  // `salt` separates this system's draws from another's of the same seed.
  CallSimulator(const SimOptions& options, Clock& clock, uint64_t salt);
  // The system's id of a call. Its final status is "answered" or "missed",
  // the call entity's result once the system's shipped rules mapped it.
  virtual std::string CallId(const SimCall& call) const = 0;
  // How long after the call's end the system's last word on it comes.
  virtual std::chrono::milliseconds LastWordAfterEnd() const = 0;

 private:
  const std::vector<SimCall> calls_;
};

}  // namespace crmhub::simkit
