#include "adapters/kit/missed_call.h"

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {

using std::chrono::duration_cast;
using std::chrono::seconds;

MissedCallKeys::MissedCallKeys(config::KeySet& set)
    : window(set.Declare<config::Type::kDuration>(
          {.name = "missed_call_window",
           .default_value = "\"24h\"",
           .description = "A missed incoming call queues a task to call back (kind "
                          "missed_call_task), one per caller per window of this length "
                          "(windows aligned to UTC midnight for 24h). \"0s\": no tasks."})),
      due_after(set.Declare<config::Type::kDuration>(
          {.name = "missed_call_due",
           .default_value = "\"1h\"",
           .description = "When a missed-call task is due, after the call ended."})) {}

Result<MissedCallPolicy> ReadMissedCallPolicy(const config::Section& section,
                                              const MissedCallKeys& keys) {
  MissedCallPolicy p;
  p.window = keys.window.Get(section);
  if (p.window.count() < 0) return keys.window.ErrorAt(section, "must not be negative");
  if (p.window.count() > 0 && p.window < seconds(1)) {
    return keys.window.ErrorAt(section, "must be at least 1s (or 0s: no tasks)");
  }
  p.due_after = keys.due_after.Get(section);
  if (p.due_after.count() < 0) return keys.due_after.ErrorAt(section, "must not be negative");
  return p;
}

namespace {

// The start (Unix s) of the epoch-aligned window of `policy` holding `at`.
int64_t WindowStart(const MissedCallPolicy& policy, int64_t at) {
  const int64_t window = duration_cast<seconds>(policy.window).count();
  return at - ((at % window) + window) % window;
}

}  // namespace

std::optional<InboundEvent> MissedCallTask(const MissedCallPolicy& policy, const MissedCall& call) {
  if (policy.window.count() <= 0 || call.caller.empty()) return std::nullopt;
  const int64_t ended = duration_cast<seconds>(call.ended.time_since_epoch()).count();
  const int64_t start = WindowStart(policy, ended);
  InboundEvent e;
  e.idempotency_key = "missed-call:" + call.caller + ":" + std::to_string(start);
  e.ordering_key = call.caller;
  e.kind = "missed_call_task";
  e.payload = nlohmann::json{{"missed_call_task",
                              {{"caller", call.caller},
                               {"call_id", call.call_id},
                               {"window_start", start},
                               {"ended", ended},
                               {"due", ended + duration_cast<seconds>(policy.due_after).count()},
                               {"assignee", call.assignee},
                               {"line", call.line}}}}
                  .dump();
  return e;
}

std::optional<InboundEvent> MissedCallClosure(const MissedCallPolicy& policy,
                                              const AnsweredCall& call) {
  if (policy.window.count() <= 0 || call.number.empty()) return std::nullopt;
  const int64_t ended = duration_cast<seconds>(call.ended.time_since_epoch()).count();
  const int64_t start = WindowStart(policy, ended);
  InboundEvent e;
  e.idempotency_key = "missed-call-closed:" + call.call_id;
  // The task's ordering key: a closure queued after the task is delivered
  // after it when the provider sent the number the same way both times.
  e.ordering_key = call.number;
  e.kind = "missed_call_closed";
  e.payload =
      nlohmann::json{
          {"missed_call_closed",
           {{"number", call.number},
            {"call_id", call.call_id},
            {"ended", ended},
            {"outgoing", call.outgoing},
            {"window_start", start},
            {"previous_window_start", start - duration_cast<seconds>(policy.window).count()}}}}
          .dump();
  return e;
}

}  // namespace crmhub::adapters::kit
