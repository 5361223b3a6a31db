// The Kafka engine's delay-tiered retry topics (KafkaQueueOptions::
// retry_tiers; docs/queue.md, "Retries"). A retry due at least the first
// tier ahead is produced to <prefix>.<lane>.retry.<tier>, the largest tier
// not above its delay, instead of the lane topic, so that the lane's
// committed offset does not wait behind it. One forwarder per process, in
// the consumer group "<group_id>._retry" over the tier topics of the lanes
// this process has opened, holds each partition's records in offset order
// and, as each head falls due (crmhub.not_before, on the injected clock),
// produces it to its lane topic and commits past it once the cluster
// acknowledged the copy. A crash between the two forwards it again: a
// duplicate the sinks absorb. A head not yet due holds the records behind
// it in its partition; within one tier their delays differ by less than the
// next tier, which bounds how long.

#include <librdkafka/rdkafka.h>

#include <deque>
#include <map>
#include <set>

#include "queue/kafka/kafka_queue.h"
#include "queue/kafka/kafka_records.h"

namespace crmhub::queue::kafka {

namespace {

std::string TierName(std::chrono::milliseconds tier) {
  const int64_t ms = tier.count();
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

void TierRebalanceTrampoline(rd_kafka_t*, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* parts, void* opaque) {
  static_cast<KafkaQueue*>(opaque)->OnTierRebalanceC(err, parts);
}

}  // namespace

struct KafkaQueue::Tiers {
  struct Held {
    int64_t offset = 0;
    std::string lane_topic;
    std::string key;
    Headers headers;
    std::string value;
    SystemTime due;
  };
  rd_kafka_t* consumer = nullptr;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> topics;  // guarded by mu
  bool changed = false;          // guarded by mu
  // By (topic, partition), in offset order; the forwarder's thread only.
  std::map<std::pair<std::string, int32_t>, std::deque<Held>> held;
  std::set<std::pair<std::string, int32_t>> paused;
};

std::string KafkaQueue::TierTopic(const std::string& lane, std::chrono::milliseconds tier) const {
  return LaneTopic(lane) + ".retry." + TierName(tier);
}

std::string KafkaQueue::RetryTopicFor(const std::string& lane,
                                      std::chrono::milliseconds delay) const {
  const auto& tiers = options_.retry_tiers;
  std::optional<std::chrono::milliseconds> chosen;
  for (auto tier : tiers) {
    if (tier <= delay) chosen = tier;
  }
  return chosen ? TierTopic(lane, *chosen) : LaneTopic(lane);
}

Status KafkaQueue::StartTiers() {
  if (options_.retry_tiers.empty()) return Status::Ok();
  auto consumer = NewConsumer(options_.group_id + "._retry", [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_rebalance_cb(conf, TierRebalanceTrampoline);
    rd_kafka_conf_set_opaque(conf, this);
  });
  if (!consumer.ok()) return consumer.status();
  tiers_ = new Tiers();
  tiers_->consumer = *consumer;
  tiers_->thread = std::thread([this] { TierLoop(); });
  return Status::Ok();
}

Status KafkaQueue::WatchTiersOf(const std::string& lane) {
  if (!tiers_) return Status::Ok();
  std::vector<std::string> topics;
  for (auto tier : options_.retry_tiers) {
    topics.push_back(TierTopic(lane, tier));
    if (auto found = WaitForTopic(topics.back()); !found.ok()) return found.status();
  }
  std::lock_guard lock(tiers_->mu);
  tiers_->topics.insert(topics.begin(), topics.end());
  tiers_->changed = true;
  return Status::Ok();
}

void KafkaQueue::StopTiers() {
  if (!tiers_) return;
  tiers_->stop.store(true);
  if (tiers_->thread.joinable()) tiers_->thread.join();
  rd_kafka_consumer_close(tiers_->consumer);  // runs OnTierRebalance (revoke)
  rd_kafka_destroy(tiers_->consumer);
  delete tiers_;
  tiers_ = nullptr;
}

// Runs inside rd_kafka_consumer_poll/close on the forwarder's thread.
void KafkaQueue::OnTierRebalance(int err, void* partitions) {
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(partitions);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    rd_kafka_assign(tiers_->consumer, parts);
    return;
  }
  // Revoked: what is held here and not forwarded is past the committed
  // offset; the new owner reads it again.
  for (int i = 0; i < parts->cnt; ++i) {
    const std::pair<std::string, int32_t> tp{parts->elems[i].topic, parts->elems[i].partition};
    tiers_->held.erase(tp);
    tiers_->paused.erase(tp);
  }
  rd_kafka_assign(tiers_->consumer, nullptr);
}

void KafkaQueue::TierLoop() {
  Tiers& t = *tiers_;
  bool subscribed = false;
  while (!t.stop.load()) {
    {
      std::lock_guard lock(t.mu);
      if (t.changed) {
        rd_kafka_topic_partition_list_t* list =
            rd_kafka_topic_partition_list_new(static_cast<int>(t.topics.size()));
        for (const auto& topic : t.topics) {
          rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
        }
        subscribed = rd_kafka_subscribe(t.consumer, list) == RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_topic_partition_list_destroy(list);
        t.changed = false;
      }
    }
    if (!subscribed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    for (int taken = 0; taken < 1000; ++taken) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(t.consumer, taken == 0 ? 50 : 0);
      if (!m) break;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const std::string topic = rd_kafka_topic_name(m->rkt);
        Tiers::Held h;
        h.offset = m->offset;
        h.lane_topic = topic.substr(0, topic.rfind(".retry."));
        if (m->key) h.key.assign(static_cast<const char*>(m->key), m->key_len);
        h.headers = HeadersOf(m);
        h.value = ValueOf(m);
        // A record of ours is due at its not_before; a foreign one at once
        // (the lane's consumer dead-letters it with the reason).
        auto fields = DecodeRecord(h.headers, h.value);
        h.due = fields.ok() && fields->not_before ? *fields->not_before : SystemTime{};
        const std::pair<std::string, int32_t> tp{topic, m->partition};
        auto& queue = t.held[tp];
        queue.push_back(std::move(h));
        if (static_cast<int>(queue.size()) >= options_.max_buffered_per_partition &&
            !t.paused.contains(tp)) {
          rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
          rd_kafka_topic_partition_list_add(one, topic.c_str(), m->partition);
          rd_kafka_pause_partitions(t.consumer, one);
          rd_kafka_topic_partition_list_destroy(one);
          t.paused.insert(tp);
        }
      }
      rd_kafka_message_destroy(m);
    }
    // Forward every partition's due heads, then commit past them.
    const SystemTime now = clock_.Now();
    for (auto& [tp, queue] : t.held) {
      std::vector<Outgoing> out;
      int64_t next = -1;
      for (const Tiers::Held& h : queue) {
        if (h.due > now) break;
        out.push_back({h.lane_topic, h.key, h.headers, h.value});
        next = h.offset + 1;
      }
      if (out.empty()) continue;
      const size_t n = out.size();
      bool all = true;
      for (const Status& st : ProduceAndWait(std::move(out))) all = all && st.ok();
      if (!all) continue;  // held still; forwarded again next round (the sinks absorb repeats)
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(list, tp.first.c_str(), tp.second)->offset = next;
      // Not committed: the next commit covers it (a crash before it forwards
      // these again, which the sinks absorb).
      (void)rd_kafka_commit(t.consumer, list, 0);
      rd_kafka_topic_partition_list_destroy(list);
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
      if (t.paused.contains(tp) &&
          static_cast<int>(queue.size()) < options_.max_buffered_per_partition / 2) {
        rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(one, tp.first.c_str(), tp.second);
        rd_kafka_resume_partitions(t.consumer, one);
        rd_kafka_topic_partition_list_destroy(one);
        t.paused.erase(tp);
      }
    }
  }
}

}  // namespace crmhub::queue::kafka
