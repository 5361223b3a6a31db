#pragma once
// ForwardingQueue: a Queue that passes every call on to another Queue.
// Wrappers derive from it and override only what they change (the daemon's
// wake-up on enqueue, a test's fault injection), as LevelDB's EnvWrapper does
// for Env: a call added to the interface is forwarded by every wrapper at
// once, instead of falling back to a default in some of them.

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "queue/queue.h"

namespace crmhub::queue {

class ForwardingQueue : public Queue {
 public:
  // `inner` must outlive this object.
  explicit ForwardingQueue(Queue& inner) : inner_(inner) {}

  void EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) override {
    inner_.EnqueueAsync(std::move(messages), std::move(done));
  }
  Result<std::vector<Leased>> Lease(const std::string& lane, int max,
                                    std::chrono::milliseconds lease_duration) override {
    return inner_.Lease(lane, max, lease_duration);
  }
  std::vector<Status> Settle(std::span<const Settlement> settlements) override {
    return inner_.Settle(settlements);
  }
  void SettleAsync(std::vector<Settlement> settlements, SettleCallback done) override {
    inner_.SettleAsync(std::move(settlements), std::move(done));
  }
  Result<std::vector<LaneStats>> Stats() override { return inner_.Stats(); }
  Result<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override {
    return inner_.ListDeadLetters(filter);
  }
  Result<DeadLetter> GetDeadLetter(int64_t id) override { return inner_.GetDeadLetter(id); }
  Status ReplayDeadLetter(int64_t id) override { return inner_.ReplayDeadLetter(id); }
  Result<int64_t> ReplayAllDeadLetters(std::optional<std::string> lane) override {
    return inner_.ReplayAllDeadLetters(std::move(lane));
  }
  Status DropDeadLetter(int64_t id) override { return inner_.DropDeadLetter(id); }
  Result<int64_t> PurgeDeadLetters(SystemTime cutoff) override {
    return inner_.PurgeDeadLetters(cutoff);
  }
  Status PutState(const std::string& key, const std::string& value) override {
    return inner_.PutState(key, value);
  }
  Result<std::optional<std::string>> GetState(const std::string& key) override {
    return inner_.GetState(key);
  }
  bool Healthy() const override { return inner_.Healthy(); }
  int64_t Depth() const override { return inner_.Depth(); }

 protected:
  Queue& inner() const { return inner_; }

 private:
  Queue& inner_;
};

}  // namespace crmhub::queue
