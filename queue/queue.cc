#include "queue/queue.h"

#include <future>

namespace crmhub::queue {

Result<std::vector<EnqueueOutcome>> Queue::EnqueueBatch(std::vector<NewMessage> messages) {
  std::promise<Result<std::vector<EnqueueOutcome>>> promise;
  auto future = promise.get_future();
  EnqueueAsync(std::move(messages), [&promise](Result<std::vector<EnqueueOutcome>> r) {
    promise.set_value(std::move(r));
  });
  return future.get();
}

Result<EnqueueOutcome> Queue::Enqueue(NewMessage message) {
  std::vector<NewMessage> batch;
  batch.push_back(std::move(message));
  auto r = EnqueueBatch(std::move(batch));
  if (!r.ok()) return r.status();
  if (r->size() != 1) return Status::Internal("enqueue: engine returned no outcome");
  return (*r)[0];
}

void Queue::SettleAsync(std::vector<Settlement> settlements, SettleCallback done) {
  done(Settle(settlements));
}

namespace {

Status Single(std::vector<Status> statuses) {
  if (statuses.size() != 1) return Status::Internal("settle: engine returned no outcome");
  return std::move(statuses[0]);
}

}  // namespace

Status Queue::Ack(const LeaseToken& lease) {
  const Settlement s = Settlement::Ack(lease);
  return Single(Settle(std::span(&s, 1)));
}

std::vector<Status> Queue::AckBatch(std::span<const LeaseToken> leases) {
  std::vector<Settlement> settlements;
  settlements.reserve(leases.size());
  for (const LeaseToken& l : leases) settlements.push_back(Settlement::Ack(l));
  return Settle(settlements);
}

Status Queue::Retry(const LeaseToken& lease, const std::string& error,
                    std::optional<SystemTime> not_before) {
  const Settlement s = Settlement::Retry(lease, error, not_before);
  return Single(Settle(std::span(&s, 1)));
}

Status Queue::Fail(const LeaseToken& lease, const std::string& error) {
  const Settlement s = Settlement::Fail(lease, error);
  return Single(Settle(std::span(&s, 1)));
}

}  // namespace crmhub::queue
