// The Kafka engine's factory for the conformance suite: a fresh librdkafka
// mock cluster (rdkafka_mock.h: a Kafka-protocol broker in process, three
// brokers) per test; a reopen connects to the same cluster, so committed
// offsets and the state topic carry over.

#include "queue/kafka/kafka_queue.h"
#include "queue/kafka/mock_cluster.h"
#include "tests/queue/conformance.h"

namespace crmhub::queue::testing {

using kafka::MockKafkaCluster;

namespace {

class KafkaEngineFactory final : public QueueEngineFactory {
 public:
  std::string Name() const override { return "kafka"; }
  void SetUp() override { cluster_ = std::make_unique<MockKafkaCluster>(3); }
  void TearDown() override { cluster_.reset(); }
  Result<std::unique_ptr<Queue>> Open(Clock& clock) override {
    if (cluster_->bootstraps().empty()) return Status::Internal("the mock cluster did not start");
    kafka::KafkaQueueOptions options;
    options.brokers = cluster_->bootstraps();
    options.topic_prefix = "crmhub";
    options.group_id = "crmhub-test";
    options.properties = MockKafkaCluster::LowLatencyProperties();
    options.jitter = [](int64_t cap) { return cap; };
    options.timeout = std::chrono::seconds(10);
    auto q = kafka::KafkaQueue::Open(clock, std::move(options));
    if (!q.ok()) return q.status();
    return std::unique_ptr<Queue>(std::move(q).value());
  }
  bool RefusesDuplicatesAtEnqueue() const override { return false; }
  Result<bool> CaughtUp(Queue& queue, const std::string& lane) override {
    return static_cast<kafka::KafkaQueue&>(queue).CaughtUp(lane);
  }
  std::chrono::milliseconds DeliveryWait() const override { return std::chrono::milliseconds(400); }

 private:
  std::unique_ptr<MockKafkaCluster> cluster_;
};

}  // namespace

QueueEngineFactory* KafkaFactory() {
  static KafkaEngineFactory factory;
  return &factory;
}

}  // namespace crmhub::queue::testing
