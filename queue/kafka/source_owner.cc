#include "queue/kafka/source_owner.h"

#include <librdkafka/rdkafka.h>

#include <map>

namespace crmhub::queue::kafka {
namespace {

void OnRebalanceC(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  static_cast<SourceOwnership*>(opaque)->OnRebalance(err, parts);
}

}  // namespace

int32_t SourceOwnership::PartitionOf(const std::string& source, int32_t partitions) {
  // FNV-1a, 32 bits: the same on every daemon and every build.
  uint32_t h = 2166136261u;
  for (unsigned char c : source) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int32_t>(h % static_cast<uint32_t>(partitions));
}

Result<std::unique_ptr<SourceOwnership>> SourceOwnership::Open(KafkaQueue& queue) {
  std::unique_ptr<SourceOwnership> owner(new SourceOwnership(queue, queue.SourcesTopic()));
  if (Status st = owner->Start(); !st.ok()) return st;
  return owner;
}

Status SourceOwnership::Start() {
  Result<int32_t> partitions = queue_.WaitForTopic(topic_);
  if (!partitions.ok()) return partitions.status();
  partitions_ = *partitions;

  const KafkaQueueOptions& options = queue_.options();
  if (options.metrics) {
    rebalances_metric_ =
        &options.metrics->GetCounter("crmhub_kafka_rebalances_total", "", {{"lane", "_sources"}});
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = options.properties;
  props["bootstrap.servers"] = options.brokers;
  props["group.id"] = options.group_id + "._sources";
  props["enable.auto.commit"] = "false";  // nothing is read, nothing committed
  props["enable.auto.offset.store"] = "false";
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("[queue.kafka] " + name + ": " + errstr);
    }
  }
  rd_kafka_conf_set_rebalance_cb(conf, OnRebalanceC);
  rd_kafka_conf_set_opaque(conf, this);
  consumer_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!consumer_) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka consumer: ") + errstr);
  }
  rd_kafka_poll_set_consumer(consumer_);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic_.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(consumer_);
    consumer_ = nullptr;
    return Status::Unavailable("subscribe to " + topic_ + ": " + rd_kafka_err2str(err));
  }
  // The group's heartbeats run on librdkafka's own threads; polling serves
  // the rebalance callback (and keeps max.poll.interval.ms satisfied).
  poller_ = std::thread([this] {
    while (!stop_.load()) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, 100)) {
        rd_kafka_message_destroy(m);
      }
    }
  });
  return Status::Ok();
}

SourceOwnership::~SourceOwnership() {
  stop_.store(true);
  if (poller_.joinable()) poller_.join();
  if (consumer_) {
    rd_kafka_consumer_close(consumer_);  // runs OnRebalance (revoke) here
    rd_kafka_destroy(consumer_);
  }
}

void SourceOwnership::OnRebalance(int err, void* partitions) {
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(partitions);
  rebalances_.fetch_add(1);
  if (rebalances_metric_) rebalances_metric_->Inc();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(consumer_, parts);
    // The previous owner's last cursors first; only then are the sources
    // ours. If the read fails the cursors may be older than the previous
    // owner's last: the pull repeats from there (the sinks absorb it).
    (void)queue_.RefreshState();
    std::lock_guard lock(mu_);
    for (int i = 0; i < parts->cnt; ++i) {
      if (topic_ == parts->elems[i].topic) owned_.insert(parts->elems[i].partition);
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    for (int i = 0; i < parts->cnt; ++i) owned_.erase(parts->elems[i].partition);
  }
  rd_kafka_assign(consumer_, nullptr);
}

bool SourceOwnership::Owns(const std::string& source) const {
  const int32_t p = PartitionOf(source, partitions_);
  std::lock_guard lock(mu_);
  return owned_.contains(p);
}

std::set<int32_t> SourceOwnership::Owned() const {
  std::lock_guard lock(mu_);
  return owned_;
}

}  // namespace crmhub::queue::kafka
