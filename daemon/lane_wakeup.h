#pragma once
// LaneWakeup: lets consumers of an empty lane wait without spinning, and be
// woken as soon as a producer enqueues to that lane (or the pipeline stops).
//
// NotifyingQueue: a queue::Queue decorator that wakes a lane's consumers
// whenever an enqueue to it became durable. The runtime hands it (not the
// engine) to the webhook intake, the admin API and the source loops, so a
// webhook's event is picked up at once instead of at the next idle poll.
//
// Waits run on the injected Clock (base/clock.h): on a ManualClock an idle
// or backoff wait ends when the test advances past it, never by itself.
//
// Thread-safety: everything may be called from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "base/thread_annotations.h"
#include "queue/forwarding_queue.h"

namespace crmhub::daemon {

class LaneWakeup {
 public:
  // `clock` times the waits; it must outlive this object.
  explicit LaneWakeup(const Clock& clock) : cv_(clock, mu_) {}

  // A snapshot to wait from: Wait returns early if the lane was notified
  // after the ticket was taken (so a notify between Lease and Wait is not
  // lost).
  using Ticket = uint64_t;
  Ticket Current(const std::string& lane);

  void Notify(const std::string& lane);
  // Wakes every waiter (used when stopping); waiters check their stop flag.
  void NotifyAll();

  // Waits up to `timeout` (by the clock) for a Notify(lane) newer than
  // `ticket` (or NotifyAll). Returns true when woken, false on timeout.
  bool Wait(const std::string& lane, Ticket ticket, std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  CondVar cv_;  // on mu_
  std::map<std::string, uint64_t> generation_ GUARDED_BY(mu_);
  uint64_t all_generation_ GUARDED_BY(mu_) = 0;
};

class NotifyingQueue final : public queue::ForwardingQueue {
 public:
  // Both must outlive this object.
  NotifyingQueue(queue::Queue& inner, LaneWakeup& wakeup)
      : queue::ForwardingQueue(inner), wakeup_(wakeup) {}

  void EnqueueAsync(std::vector<queue::NewMessage> messages, EnqueueCallback done) override;
  Status ReplayDeadLetter(int64_t id) override;
  Result<int64_t> ReplayAllDeadLetters(std::optional<std::string> lane) override;

 private:
  LaneWakeup& wakeup_;
};

}  // namespace crmhub::daemon
