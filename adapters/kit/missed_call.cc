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

std::optional<InboundEvent> MissedCallTask(const MissedCallPolicy& policy, const MissedCall& call) {
  if (policy.window.count() <= 0 || call.caller.empty()) return std::nullopt;
  const int64_t ended = duration_cast<seconds>(call.ended.time_since_epoch()).count();
  const int64_t window = duration_cast<seconds>(policy.window).count();
  const int64_t start = ended - ((ended % window) + window) % window;
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

}  // namespace crmhub::adapters::kit
