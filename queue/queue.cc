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

}  // namespace crmhub::queue
