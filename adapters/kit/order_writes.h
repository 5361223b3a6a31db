#pragma once
// The status writes of a system that takes one order per request (Ozon's
// /v4/posting/fbs/ship and /v2/posting/fbs/cancel, Wildberries'
// PATCH /api/v3/orders/{orderId}/cancel and its supply's orders), settled
// per item by the rule kit/order_commands.h states:
//
//   * a write tried before (attempt > 1), or one whose system needs the
//     order read to build the request (read_first), reads the order first:
//     one already where the command wants it is Ok and nothing is sent; one
//     that cannot be read is not written (it could be twice) and takes the
//     read's outcome;
//   * a write the system refuses (kRejected, kNotFound) is read again: an
//     order that got there meanwhile is Ok, any other a dead letter naming
//     the system's words and the status read (RefusedTransition); never
//     retried blindly. When that re-read fails in passing, the refusal is
//     kept in `refused` and the command retried: its read first then
//     dead-letters it with the fresh status, nothing sent again
//     (kit/refused_writes.h);
//   * a failure in passing is that write's outcome (a retry). Throttled, it
//     is also the outcome of every later write of the call, which sends
//     nothing more (the same limit would meet them). Transient (a 5xx, a
//     timeout), the next write is tried: one request's failure says little
//     of the next one's; after kMaxTransientInARow such failures in a row
//     the system is taken to be down and the rest share the last one.
//
// The system's side is three callbacks; the writes run in order on the
// caller's thread. Thread-safe as the callbacks are.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/kit/refused_writes.h"
#include "base/delivery.h"
#include "net/api_client.h"

namespace crmhub::adapters::kit {

inline constexpr int kMaxTransientInARow = 3;

struct OrderWrite {
  size_t index = 0;      // into the batch (and `out`)
  std::string command;   // ship, cancel, set_status
  std::string order_id;  // as the system names the order
  int attempt = 1;       // kit::TargetCommand::attempt
  bool read_first = false;
};

struct OrderWriteCalls {
  // The order's status as the system reports it ("awaiting_deliver",
  // "STATUS/SUBSTATUS"): what Reached judges and a dead letter quotes.
  std::function<net::ApiResult<std::string>(const OrderWrite&)> read;
  // Whether an order at `status` is where the write wants it.
  std::function<bool(const OrderWrite&, std::string_view status)> reached;
  // Sends the write; nullopt: the system took it.
  std::function<std::optional<net::ApiError>(const OrderWrite&)> send;
};

// Settles out[w.index] for each of `writes`. `system` prefixes messages
// ("ozon"). REQUIRES: every index < out.size(); the callbacks set.
void DeliverOrderWrites(std::string_view system, std::span<const OrderWrite> writes,
                        const OrderWriteCalls& calls, RefusedWrites& refused,
                        std::vector<DeliveryOutcome>& out);

}  // namespace crmhub::adapters::kit
