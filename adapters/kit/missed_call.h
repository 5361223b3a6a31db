#pragma once
// Missed-call tasks, as configuration: what a telephony adapter (Mango,
// Zadarma) adds to the final event of a call nobody answered, so that the
// CRM gets one task "call back" per caller per window, however many times
// the caller tried, and the rules map it like any record.
//
//   MissedCallKeys    declares missed_call_window (default 24h; 0s: no
//                     tasks) and missed_call_due (default 1h after the call).
//   MissedCallTask    the event for one missed incoming call: idempotency
//                     key "missed-call:<caller>:<window start, Unix s>", so
//                     the queue's dedup keeps one per caller per window;
//                     kind "missed_call_task"; payload
//                     {"missed_call_task": {"caller", "call_id", "window_start",
//                      "ended", "due" (Unix s), "assignee", "line"}}.
//                     Windows are fixed and aligned to the Unix epoch (UTC):
//                     a window of 24h runs midnight to midnight UTC, so two
//                     calls a minute apart across midnight make two tasks.
//
//   MissedCallClosure the follow-up of an answered call (an incoming call
//                     answered, or a call out to the number: a callback):
//                     key "missed-call-closed:<call id>"; kind
//                     "missed_call_closed"; payload {"missed_call_closed":
//                     {"number", "call_id", "ended", "outgoing",
//                      "window_start", "previous_window_start"}}. The rules
//                     map it to update-only tasks (model::Entity::update_only)
//                     that close the task of the number's window holding the
//                     call's end, and of the window before it, when either
//                     exists and its missed call ended earlier; it creates
//                     no task.
//
// Answered or missed is the provider's final event's word (Mango's summary,
// Zadarma's NOTIFY_END), never an intermediate leg's. Pure functions;
// thread-safe.

#include <chrono>
#include <optional>
#include <string>

#include "adapters/adapter.h"
#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"

namespace crmhub::adapters::kit {

struct MissedCallPolicy {
  std::chrono::milliseconds window{std::chrono::hours(24)};  // 0: no tasks
  std::chrono::milliseconds due_after{std::chrono::hours(1)};
};

struct MissedCallKeys {
  explicit MissedCallKeys(config::KeySet& set);
  config::Key<config::Type::kDuration> window;
  config::Key<config::Type::kDuration> due_after;
};

// An error names the key.
Result<MissedCallPolicy> ReadMissedCallPolicy(const config::Section& section,
                                              const MissedCallKeys& keys);

struct MissedCall {
  std::string caller;   // the number as the provider sent it
  std::string call_id;  // the provider's call id (Mango entry_id, Zadarma pbx_call_id)
  SystemTime ended;
  std::string assignee;  // the extension that was rung; "" when none was
  std::string line;      // the company's number called
};

// The task event, or nullopt when the policy makes none (window 0) or the
// caller is unknown (no number: nobody to call back).
std::optional<InboundEvent> MissedCallTask(const MissedCallPolicy& policy, const MissedCall& call);

struct AnsweredCall {
  std::string number;  // the other party (caller, or the number called out), as sent
  std::string call_id;
  SystemTime ended;
  bool outgoing = false;  // a call out from the company: a callback
};

// The closing event, or nullopt when the policy makes no tasks (window 0) or
// the number is unknown.
std::optional<InboundEvent> MissedCallClosure(const MissedCallPolicy& policy,
                                              const AnsweredCall& call);

}  // namespace crmhub::adapters::kit
