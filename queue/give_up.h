#pragma once
// When a Retry settlement gives up (the message becomes a dead letter past
// its lane's max_attempts or max_age), and the reason the dead letter then
// carries. One definition for the queue engine, which decides, and for the
// pipeline, which counts the give-up as a failed delivery
// (crmhub_deliveries_total{outcome="fail"}) and logs it.

#include <chrono>
#include <string>

#include "base/clock.h"
#include "queue/queue.h"

namespace crmhub::queue {

// Message::attempts after a Retry settlement of a message leased `attempts`
// times: a throttled retry gives back the delivery its Lease counted.
inline int AttemptsAfterRetry(int attempts, bool throttled) {
  return throttled && attempts > 0 ? attempts - 1 : attempts;
}

// True when a Retry of a message leased `attempts` times (Message::attempts,
// counted by Lease) and created at `created_at` dead-letters it at `now`.
inline bool RetryGivesUp(const RetryPolicy& policy, int attempts, SystemTime created_at,
                         SystemTime now) {
  return attempts >= policy.max_attempts || now - created_at >= policy.max_age;
}

// "gave up after 5 attempts: <error>", or with "(older than max_age 86400s)"
// when the age ended it.
inline std::string GaveUpReason(const RetryPolicy& policy, int attempts, SystemTime created_at,
                                SystemTime now, const std::string& error) {
  std::string reason =
      "gave up after " + std::to_string(attempts) + (attempts == 1 ? " attempt" : " attempts");
  if (attempts < policy.max_attempts && now - created_at >= policy.max_age) {
    reason +=
        " (older than max_age " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(policy.max_age).count()) +
        "s)";
  }
  return reason + ": " + error;
}

}  // namespace crmhub::queue
