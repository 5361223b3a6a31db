#pragma once
// PendingSweep: the memory of a payment provider's reconciliation sweep
// (issue 19: payments pending longer than a configured time are re-read
// from the provider's API). The adapter tells it each payment (or refund)
// it has seen and whether its status was final; the sweep hands back, at
// most every `every`, those not final for at least `after`, for the adapter
// to re-read. The memory is a pull cursor (Cursor/Restore), so that it
// survives a restart the way any source's position does.
//
// Cursor: {"<id>": ["<kind>", "<ordering key>", <first seen, Unix ms>]}
// (the shape YooKassa's adapter saved before this piece existed). A cursor
// that is not that shape restores nothing; it never fails the pull.
//
// Thread-safe: Track runs on I/O threads (a notification) and workers
// (a command's answer, a re-read) while Due and Cursor run on the pull.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::kit {

class PendingSweep {
 public:
  struct Entry {
    std::string id;
    std::string kind;          // "payment", "refund": the adapter's word
    std::string ordering_key;  // the payment's id (a refund's payment)
    int64_t since_ms = 0;      // first seen not final
  };

  // REQUIRES: `clock` outlives the sweep.
  PendingSweep(std::chrono::milliseconds after, std::chrono::milliseconds every,
               const Clock& clock);

  // Forgets `id` when `final`; otherwise remembers it from now on, unless
  // already remembered (its first sighting counts).
  void Track(const std::string& id, const std::string& kind, const std::string& ordering_key,
             bool final);
  void Forget(const std::string& id);

  // Adds what `cursor` remembers and this sweep does not.
  void Restore(const std::optional<std::string>& cursor);

  // Empty until `every` has passed since the last sweep; then (and the sweep
  // counts as done) the entries remembered for at least `after`, at most
  // `max`, oldest id order.
  std::vector<Entry> Due(size_t max);

  std::string Cursor() const;
  size_t size() const;

 private:
  const std::chrono::milliseconds after_;
  const std::chrono::milliseconds every_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_ GUARDED_BY(mu_);
  std::optional<SystemTime> last_ GUARDED_BY(mu_);
};

}  // namespace crmhub::adapters::kit
