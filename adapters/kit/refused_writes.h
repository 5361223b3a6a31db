#pragma once
// Refused writes whose status re-read failed in passing.
//
// kit/order_commands.h's rule: a status write the system refuses is read
// again and dead-lettered with the status read. When that re-read fails in
// passing (our own limiter has no token left, a 429, a 5xx), dead-lettering
// at once loses the status ops need, and retrying the write blindly sends
// an illegal write again (billed: a Wildberries 409 costs 10 to 33 of the
// bucket). So the refusal is remembered here and the command retried; the
// retry reads first (attempt > 1), and an order still not where the command
// wants it is dead-lettered with the remembered refusal and the fresh
// status, nothing sent again.
//
// Memory only, per adapter: after a restart the retry sends the write once
// more, which the system refuses again (a refused write has no effect), and
// the usual re-read follows. Bounded: past `capacity` the oldest refusal is
// forgotten, with the same consequence.
//
// Thread-safe; never throws beyond allocation.

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/delivery.h"
#include "base/thread_annotations.h"
#include "net/api_client.h"

namespace crmhub::adapters::kit {

class RefusedWrites {
 public:
  static constexpr size_t kDefaultCapacity = 4096;
  explicit RefusedWrites(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // `command` on `order_id` was refused with `refusal` and its re-read
  // failed with `read_error`. A retryable read error: remembers the refusal
  // and answers a retry with the read's outcome (throttled or not), its
  // reason naming both. Otherwise: the dead letter without the status
  // (RefusedTransition's "could not be re-read" form).
  DeliveryOutcome Unread(std::string_view system, std::string_view command,
                         std::string_view order_id, std::string_view refusal,
                         const net::ApiError& read_error);

  // A redelivery read the order at `status` before sending (`reached`: it
  // is where the command wants it). Ok when reached; the dead letter of the
  // refusal remembered for it when one is (not sent again); nullopt when the
  // write is to be sent. Whatever it answers, nothing stays remembered.
  std::optional<DeliveryOutcome> ReadFirst(std::string_view system, std::string_view command,
                                           std::string_view order_id, std::string_view status,
                                           bool reached);

  // A write about to be sent: what its answer says supersedes any refusal
  // remembered from before.
  void Forget(std::string_view command, std::string_view order_id);

  size_t size() const;

 private:
  static std::string Key(std::string_view command, std::string_view order_id);

  const size_t capacity_;
  mutable std::mutex mu_;
  struct Kept {
    std::string refusal;
    std::list<std::string>::iterator age;  // its key in order_
  };
  std::unordered_map<std::string, Kept> refusals_ GUARDED_BY(mu_);
  std::list<std::string> order_ GUARDED_BY(mu_);  // the keys, oldest first
};

}  // namespace crmhub::adapters::kit
