#include "queue/kafka/mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, as it requires

namespace crmhub::queue::kafka {

MockKafkaCluster::MockKafkaCluster(int brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[256];
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!handle_) {
    rd_kafka_conf_destroy(conf);
    return;
  }
  brokers_ = brokers;
  cluster_ = rd_kafka_mock_cluster_new(handle_, brokers);
  if (cluster_) bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);
}

MockKafkaCluster::~MockKafkaCluster() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_) rd_kafka_destroy(handle_);
}

bool MockKafkaCluster::CreateTopic(const std::string& topic, int partitions) {
  if (!cluster_) return false;
  return rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions,
                                    brokers_ < 3 ? brokers_ : 3) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

std::map<std::string, std::string> MockKafkaCluster::LowLatencyProperties() {
  return {
      {"fetch.wait.max.ms", "10"},  // see a new record within a poll or two
      {"topic.metadata.refresh.interval.ms", "1000"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "200"},
      {"log_level", "3"},  // errors only: the mock's warnings are noise
  };
}

}  // namespace crmhub::queue::kafka
