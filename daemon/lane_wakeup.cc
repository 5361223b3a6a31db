#include "daemon/lane_wakeup.h"

#include <set>

namespace crmhub::daemon {

LaneWakeup::Ticket LaneWakeup::Current(const std::string& lane) {
  std::lock_guard lock(mu_);
  return generation_[lane] + all_generation_;
}

void LaneWakeup::Notify(const std::string& lane) {
  {
    std::lock_guard lock(mu_);
    ++generation_[lane];
  }
  cv_.NotifyAll();
}

void LaneWakeup::NotifyAll() {
  {
    std::lock_guard lock(mu_);
    ++all_generation_;
  }
  cv_.NotifyAll();
}

bool LaneWakeup::Wait(const std::string& lane, Ticket ticket, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.WaitFor(lock, timeout, [&] { return generation_[lane] + all_generation_ != ticket; });
}

void NotifyingQueue::EnqueueAsync(std::vector<queue::NewMessage> messages, EnqueueCallback done) {
  std::set<std::string> lanes;
  for (const auto& m : messages) lanes.insert(m.lane);
  inner().EnqueueAsync(std::move(messages),
                       [this, lanes = std::move(lanes), done = std::move(done)](
                           Result<std::vector<queue::EnqueueOutcome>> result) mutable {
                         // Wake the lanes before answering: once `done` has
                         // run, the caller may destroy this queue (and the
                         // wakeup), as a test's teardown did under TSan.
                         if (result.ok()) {
                           for (const auto& lane : lanes) wakeup_.Notify(lane);
                         }
                         done(std::move(result));
                       });
}

Status NotifyingQueue::ReplayDeadLetter(int64_t id) {
  Status st = inner().ReplayDeadLetter(id);
  if (st.ok()) wakeup_.NotifyAll();
  return st;
}

Result<int64_t> NotifyingQueue::ReplayAllDeadLetters(std::optional<std::string> lane) {
  auto r = inner().ReplayAllDeadLetters(std::move(lane));
  if (r.ok()) wakeup_.NotifyAll();
  return r;
}

}  // namespace crmhub::daemon
