#pragma once
// DeliveryOutcome: what every attempt to hand a message onward ends in.
//
// Fluent Bit's OK/RETRY/ERROR contract: the sink or target adapter only
// classifies; the queue owns retries and dead letters.

#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/inbound_event.h"

namespace crmhub {

struct DeliveryOutcome {
  enum class Kind { kOk, kRetry, kFail };

  Kind kind = Kind::kOk;
  // Why it did not succeed: kept with the message and shown in the DLQ.
  std::string error;
  // For kRetry: not before this time (e.g. from a 429's Retry-After); when
  // empty the queue's backoff decides.
  std::optional<SystemTime> not_before;
  // For kRetry: the system (or our own rate limiter) asked us to come back
  // later; nothing was wrong with the message. Such a retry is not counted
  // against the lane's max_attempts (only max_age bounds it), so a long
  // stretch of 429s cannot turn good messages into dead letters.
  bool throttled = false;
  // A target's command only: records the command learned that the CRM must
  // hear (a payment's confirmation URL, a new act's id), whatever the
  // outcome. The runtime queues them to the adapter's inbound lane, like
  // pulled records, durably BEFORE it settles the command: a crash in
  // between delivers the command again, it never loses them. When they
  // cannot be queued the command is retried instead.
  std::vector<InboundEvent> learned = {};

  static DeliveryOutcome Ok() { return {}; }
  static DeliveryOutcome Ok(std::vector<InboundEvent> learned) {
    DeliveryOutcome ok;
    ok.learned = std::move(learned);
    return ok;
  }
  static DeliveryOutcome Retry(std::string error, std::optional<SystemTime> not_before = {}) {
    return {Kind::kRetry, std::move(error), not_before};
  }
  static DeliveryOutcome Throttled(std::string error, std::optional<SystemTime> not_before = {}) {
    return {Kind::kRetry, std::move(error), not_before, /*throttled=*/true};
  }
  static DeliveryOutcome Fail(std::string error) { return {Kind::kFail, std::move(error), {}}; }

  bool ok() const { return kind == Kind::kOk; }
};

}  // namespace crmhub
