#pragma once
// A librdkafka mock cluster for the Kafka engine's tests.

#include <map>
#include <string>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace crmhub::queue::testing {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  // Empty if the cluster did not start.
  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_s* cluster() const { return cluster_; }

  // librdkafka properties that make a test see records and group changes
  // quickly (short fetch waits and metadata refreshes).
  static std::map<std::string, std::string> FastTestProperties();

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace crmhub::queue::testing
