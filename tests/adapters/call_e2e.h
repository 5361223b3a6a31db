#pragma once
// The shared part of the telephony end-to-end tests: `crmhub run` as a
// child process on a temp dir with one telephony adapter wired to a
// simkit::CallSimulator (Mango, Zadarma), the shipped mapping, and the
// scenario every telephony adapter must pass:
//
//   start the daemon, then the simulator pushing its calls to it (with
//   duplicates and reordering from its faults); once a quarter of the calls
//   are in crm.db, SIGKILL the daemon (notifications fail meanwhile and are
//   retried) and start it again on the same data dir; wait until every push
//   was delivered and crm.db holds exactly the simulator's calls, each with
//   its final result, one contact and one lead per number that called in,
//   and one missed-call task per caller per day (UTC) with a missed call,
//   done when an answered call with the number (in, or a callback out) ended
//   after it that day or the next, open when none did.

#include <functional>
#include <string>

#include "adapters/simkit/call_world.h"

namespace crmhub::testutil {

struct CallE2eOptions {
  std::string adapter_id;  // [adapters.<id>]: the hooks path and the store's source
  std::string mapping;     // file name under config/mappings/
  uint16_t port = 0;       // the daemon's listener: the simulator's target
  int calls = 0;           // the simulator's SimOptions::orders
  // When the system says a missed call ended (what its task's window is
  // counted from): Mango's end_time, Zadarma's call_start + duration.
  std::function<SystemTime(const simkit::SimCall&)> missed_at;
  // When the system says an answered call ended (what closes a task is
  // counted from): Mango's end_time, Zadarma's call_start + duration.
  std::function<SystemTime(const simkit::SimCall&)> answered_at;
};

// The scenario above, with gtest assertions. `sim` is not started; its
// target must be http://127.0.0.1:<port>/hooks/<adapter_id>.
void RunCallsKillAndResume(simkit::CallSimulator& sim, const CallE2eOptions& options);

}  // namespace crmhub::testutil
