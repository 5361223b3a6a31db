#include "adapters/kit/order_writes.h"

#include "adapters/kit/order_commands.h"

namespace crmhub::adapters::kit {

namespace {

bool Refusal(const net::ApiError& e) {
  return e.kind == net::ApiError::Kind::kRejected || e.kind == net::ApiError::Kind::kNotFound;
}

}  // namespace

void DeliverOrderWrites(std::string_view system, std::span<const OrderWrite> writes,
                        const OrderWriteCalls& calls, RefusedWrites& refused,
                        std::vector<DeliveryOutcome>& out) {
  std::optional<net::ApiError> stop;  // the rest share it
  int transient = 0;                  // transient failures in a row
  // A failure in passing: throttled stops the call; transient, only the
  // kMaxTransientInARow-th in a row does.
  auto passing = [&](const net::ApiError& e) {
    transient = e.kind == net::ApiError::Kind::kTransient ? transient + 1 : 0;
    if (e.kind == net::ApiError::Kind::kThrottled || transient >= kMaxTransientInARow) stop = e;
  };
  for (const OrderWrite& w : writes) {
    if (stop) {
      out[w.index] = stop->ToOutcome();
      continue;
    }
    if (w.read_first || w.attempt > 1) {
      net::ApiResult<std::string> before = calls.read(w);
      if (!before.ok()) {
        if (before.error().retryable()) passing(before.error());
        out[w.index] = before.error().ToOutcome();
        continue;
      }
      if (auto settled = refused.ReadFirst(system, w.command, w.order_id, *before,
                                           calls.reached(w, *before))) {
        out[w.index] = std::move(*settled);
        continue;
      }
    } else {
      refused.Forget(w.command, w.order_id);
    }
    std::optional<net::ApiError> error = calls.send(w);
    if (!error) {
      transient = 0;
      out[w.index] = DeliveryOutcome::Ok();
      continue;
    }
    if (!Refusal(*error)) {
      if (error->retryable()) passing(*error);
      out[w.index] = error->ToOutcome();
      continue;
    }
    // Refused: read again. Got there meanwhile: Ok; else a dead letter
    // with the status it is in.
    net::ApiResult<std::string> after = calls.read(w);
    if (!after.ok()) {
      if (after.error().retryable()) passing(after.error());
      out[w.index] = refused.Unread(system, w.command, w.order_id, error->message, after.error());
    } else if (calls.reached(w, *after)) {
      out[w.index] = DeliveryOutcome::Ok();
    } else {
      out[w.index] = RefusedTransition(system, w.command, w.order_id, error->message, *after);
    }
  }
}

}  // namespace crmhub::adapters::kit
