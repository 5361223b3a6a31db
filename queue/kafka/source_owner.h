#pragma once
// SourceOwnership: which pull sources (a marketplace account, a bank
// account, a 1C base: one adapter with a source capability each) this daemon
// owns when several daemons share a Kafka cluster.
//
// Each source id maps to one partition of the topic <prefix>._sources
// (PartitionOf: FNV-1a of the id modulo the topic's partition count). Every
// daemon's SourceOwnership is a member of the consumer group
// "<group_id>._sources" subscribed to that topic, so the group's assignment
// gives each partition, and so each source, to exactly one live daemon. The
// topic carries no records: only its partitions matter. Two sources may share
// a partition (then one daemon owns both); give the topic at least as many
// partitions as there are pull sources to spread them.
//
// Cursors stay in <prefix>._state (KafkaQueue::PutState). When partitions are
// assigned, the state topic is read again (KafkaQueue::RefreshState) BEFORE
// Owns() answers true for their sources, so the new owner's source loop
// starts from the last durable cursor the previous owner wrote. A revoked
// partition's sources answer false at once.
//
// What "exactly one" means: the group never assigns a partition to two
// members, but a daemon learns of a revocation only at its next poll (within
// about 100 ms) and a pull already running finishes: after a rebalance the
// old owner may pull one more page and save its cursor. That costs a repeated
// request, never data: any cursor a source loop saves is past durable events
// only (daemon/pull_ahead.h), whoever saves it, and the repeats are absorbed
// by the sinks. A daemon that dies (SIGKILL) keeps its partitions until the
// group's session.timeout.ms (librdkafka default 45 s) expires.
//
// Thread-safety: Owns() and the counters from any thread; the consumer runs
// on this object's own thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "queue/kafka/kafka_queue.h"

struct rd_kafka_s;

namespace crmhub::queue::kafka {

class SourceOwnership {
 public:
  // Joins the group on <prefix>._sources, looked up first (created where the
  // cluster creates topics automatically; else it must exist: an error after
  // options.timeout). `queue` must outlive this object; its options give the
  // brokers, prefix, group and librdkafka properties.
  static Result<std::unique_ptr<SourceOwnership>> Open(KafkaQueue& queue);
  // Leaves the group (its partitions go to the other daemons at once).
  ~SourceOwnership();
  SourceOwnership(const SourceOwnership&) = delete;
  SourceOwnership& operator=(const SourceOwnership&) = delete;

  // Whether this daemon pulls `source` now.
  bool Owns(const std::string& source) const;
  // The partition of `source` among `partitions` (> 0).
  static int32_t PartitionOf(const std::string& source, int32_t partitions);

  const std::string& topic() const { return topic_; }
  int32_t partitions() const { return partitions_; }
  std::set<int32_t> Owned() const;
  // Assignments and revocations this member went through.
  int64_t rebalances() const { return rebalances_.load(); }

  // Internal, public for librdkafka's C callback: runs on the poll thread.
  void OnRebalance(int err, void* partitions);

 private:
  SourceOwnership(KafkaQueue& queue, std::string topic) : queue_(queue), topic_(std::move(topic)) {}
  Status Start();

  KafkaQueue& queue_;
  const std::string topic_;
  int32_t partitions_ = 0;
  rd_kafka_s* consumer_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> rebalances_{0};
  Counter* rebalances_metric_ = nullptr;  // crmhub_kafka_rebalances_total{lane="_sources"}
  mutable std::mutex mu_;
  std::set<int32_t> owned_ GUARDED_BY(mu_);
};

}  // namespace crmhub::queue::kafka
