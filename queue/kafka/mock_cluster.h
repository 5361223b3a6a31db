#pragma once
// MockKafkaCluster: librdkafka's mock cluster (rdkafka_mock.h), a
// Kafka-protocol broker set running in this process, for the Kafka engine's
// tests and for trying the engine on one machine (`crmhub bench queue
// --engine kafka` without --brokers). Nothing it holds is durable.

#include <map>
#include <string>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace crmhub::queue::kafka {

class MockKafkaCluster {
 public:
  explicit MockKafkaCluster(int brokers);
  ~MockKafkaCluster();
  MockKafkaCluster(const MockKafkaCluster&) = delete;
  MockKafkaCluster& operator=(const MockKafkaCluster&) = delete;

  // Creates `topic` with `partitions` partitions (replication factor 3, or
  // the broker count if smaller). The mock keeps about 5 MB per partition
  // and trims older records (its retention), so a large run needs enough
  // partitions to hold its backlog.
  bool CreateTopic(const std::string& topic, int partitions);

  // Empty if the cluster did not start.
  const std::string& bootstraps() const { return bootstraps_; }
  rd_kafka_mock_cluster_s* cluster() const { return cluster_; }

  // librdkafka properties for a client of the mock cluster that should see
  // records and group changes quickly (short fetch waits and metadata
  // refreshes): tests and the in-process benchmark.
  static std::map<std::string, std::string> LowLatencyProperties();

 private:
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstraps_;
  int brokers_ = 0;
};

}  // namespace crmhub::queue::kafka
