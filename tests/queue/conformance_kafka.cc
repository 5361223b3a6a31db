// The Kafka engine's factory for the conformance suite: a fresh librdkafka
// mock cluster (rdkafka_mock.h: a Kafka-protocol broker in process, three
// brokers) per test; a reopen connects to the same cluster, so committed
// offsets and the state topic carry over.

#include "tests/queue/conformance_kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "queue/kafka/kafka_queue.h"
#include "tests/queue/conformance.h"

namespace crmhub::queue::testing {

MockKafkaCluster::MockKafkaCluster(int brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[256];
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!handle_) {
    rd_kafka_conf_destroy(conf);
    return;
  }
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_) bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

MockKafkaCluster::~MockKafkaCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_) rd_kafka_destroy(handle_);
}

std::map<std::string, std::string> MockKafkaCluster::FastTestProperties() {
  return {
      {"fetch.wait.max.ms", "10"},            // see a new record within a poll or two
      {"topic.metadata.refresh.interval.ms", "1000"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "200"},
      {"log_level", "3"},                     // errors only: the mock's warnings are noise
  };
}

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
    options.properties = MockKafkaCluster::FastTestProperties();
    options.jitter = [](int64_t cap) { return cap; };
    options.timeout = std::chrono::seconds(10);
    auto q = kafka::KafkaQueue::Open(clock, std::move(options));
    if (!q.ok()) return q.status();
    return std::unique_ptr<Queue>(std::move(q).value());
  }
  bool RefusesDuplicatesAtEnqueue() const override { return false; }
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
