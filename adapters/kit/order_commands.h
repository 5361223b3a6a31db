#pragma once
// What every marketplace target's fulfilment commands (ship, cancel,
// set_status: the CRM moving an order along the marketplace's status
// machine) share, apart from the system's own calls:
//
//   * the order an item names (OrderKey: "order_id", an id or a posting
//     number);
//   * the rule that a status write is idempotent by reading, not by hoping:
//     on a redelivery (TargetCommand::attempt > 1: it may have reached the
//     system) read the order's status first and answer Ok without sending
//     when it is already where the command wants it (so a redelivery after
//     a lost answer sends nothing twice), and after the system refuses a write,
//     read it again: an order that got there meanwhile is Ok, any other is
//     a dead letter naming the system's words and the status read
//     (RefusedTransition), never a blind retry of a write the system has
//     judged illegal.
//
// Pure; thread-safe; never throws.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/delivery.h"
#include "base/status.h"

namespace crmhub::adapters::kit {

inline constexpr std::string_view kShip = "ship";
inline constexpr std::string_view kCancel = "cancel";
inline constexpr std::string_view kSetStatus = "set_status";

// `item`'s "order_id": an integer > 0 sent as a number or as its decimal
// text (returned in decimal), or other text of 1..64 characters without
// control characters (a posting number, "12345-0001-1"; trimmed of spaces).
// InvalidArgument quoting the value otherwise.
Result<std::string> OrderKey(const nlohmann::json& item);

// The dead letter of a status write the system refused:
//   "<system>: <command> order <id>: refused: <refusal>; the order is now <now>"
// with <now> the status as re-read ("STATUS/SUBSTATUS"), or, when it could
// not be read, "...; its status could not be re-read: <read_error>".
DeliveryOutcome RefusedTransition(std::string_view system, std::string_view command,
                                  std::string_view order_id, std::string_view refusal,
                                  std::string_view now, std::string_view read_error = {});

}  // namespace crmhub::adapters::kit
