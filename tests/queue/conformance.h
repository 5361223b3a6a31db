#pragma once
// The queue conformance suite's engine factory: what tests/queue/
// conformance_test.cc needs to run the same expectations on every engine
// (queue/queue.h's promises). An engine's instantiation supplies one.

#include <chrono>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "queue/queue.h"

namespace crmhub::queue::testing {

class QueueEngineFactory {
 public:
  virtual ~QueueEngineFactory() = default;

  // For test names ("sqlite", "kafka").
  virtual std::string Name() const = 0;

  // Fresh storage for one test (a temp directory, a mock cluster).
  virtual void SetUp() = 0;
  virtual void TearDown() = 0;

  // Opens the engine on the storage SetUp made; called again after the
  // previous queue was destroyed, it must find what that one left (a
  // reopen). The retry backoff's jitter is the cap (deterministic), and the
  // default RetryPolicy applies to every lane.
  virtual Result<std::unique_ptr<Queue>> Open(Clock& clock) = 0;

  // Whether Enqueue answers kDuplicate for a (source, key) seen within the
  // retention window (queue.h). Engines that cannot (Kafka: the log takes
  // every append) document where duplicates are absorbed instead.
  virtual bool RefusesDuplicatesAtEnqueue() const = 0;

  // Whether the engine has seen everything enqueued to `lane` so far (a
  // log's consumer has fetched up to the end), so that an empty Lease means
  // "nothing is due". An engine that reads its own store: always true.
  virtual Result<bool> CaughtUp(Queue& queue, const std::string& lane) = 0;

  // Real time a message may take from an answered Enqueue (or Settle) to
  // being leasable: zero for an engine that reads its own store, a consumer
  // fetch round trip for a log. A "nothing is due" check waits this long.
  virtual std::chrono::milliseconds DeliveryWait() const = 0;
};

}  // namespace crmhub::queue::testing
