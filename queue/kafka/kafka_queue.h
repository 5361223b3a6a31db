#pragma once
// KafkaQueue: the Queue engine on a Kafka (or Kafka-compatible) cluster,
// through librdkafka. docs/queue.md, "The Kafka engine", has the guarantees
// side by side with SQLite's; this comment has the mechanics.
//
// Topics (all under options.topic_prefix):
//   <prefix>.<lane>   one per lane; records keyed by ordering key (or the
//                     idempotency key when there is none), so one key stays
//                     in one partition and keeps its order
//   <prefix>._dlq     dead letters, the error history in headers
//   <prefix>._state   adapter state (pull cursors); meant to be compacted,
//                     read back in full at Open
// Record layout: queue/kafka/kafka_records.h.
//
// Enqueue: one idempotent producer (enable.idempotence=true, acks=all).
// EnqueueAsync hands the batch to librdkafka and returns; a poller thread
// serves the delivery reports, and the callback runs there once every
// message of the batch was acknowledged by the cluster (or one failed).
// Delivery reports are batched by librdkafka (linger.ms): never one flush
// per request. A producer queue at queue.buffering.max.messages answers
// kResourceExhausted at once. Kafka cannot refuse a duplicate: every
// message is kAccepted (see docs/queue.md for where duplicates are absorbed).
// A refused batch may still have had messages queued before the refusal
// (they are delivered; the sender's retry is a duplicate the sinks absorb).
//
// Lease: one consumer per lane, in the consumer group
// "<group_id>.<lane>" (N daemons share the lane's partitions), created at
// the lane's first Lease. Fetched records are kept per partition in offset
// order; a lease hands out due records, at most one per ordering key (the
// first unfinished one of its key). Leases live in this process only: an
// expired lease makes the record due again here; a restart (or a rebalance
// that moves the partition) delivers every record past the committed offset
// again. A partition with more than max_buffered_per_partition records
// buffered is paused until half of them are finished.
//
// Settle:
//  * Ack: the record is finished; the partition's offset is committed
//    (synchronously, one commit per Settle call) up to the first unfinished
//    record: no committed offset passes an unfinished message.
//  * Retry, no ordering key: a copy goes to the same lane topic with
//    attempts, history and crmhub.not_before in headers; once the cluster
//    acknowledged it the original is finished. The copy is not leased
//    before its not_before (the consumer holds it, and the commit waits
//    for it: see max_buffered_per_partition).
//    With options.retry_tiers, a retry due at least the first tier ahead goes
//    to its tier topic instead (kafka_retry_tiers.cc), whose forwarder puts
//    it back on the lane topic when due: the lane's commit does not wait.
//  * Retry, with an ordering key: the record stays where it is, due again
//    at the backoff (its later records of the same key wait behind it, as on
//    SQLite); a restart delivers it again from the committed offset.
//  * Past the lane's max_attempts or max_age, and Fail: a dead letter is
//    produced to <prefix>._dlq; once acknowledged the original is finished.
// A produce that failed leaves its item leased and answers the error.
//
// State: PutState produces to <prefix>._state and waits for the ack;
// GetState answers from the map read at Open plus this process's puts, read
// again in full by RefreshState (a source's cursor is written by the one
// daemon that owns the source; the next owner refreshes when it takes the
// source: source_owner.h).
//
// Dead letters: listed by reading <prefix>._dlq from its start; a dead
// letter's id is (partition << 40) | (offset + 1). A log cannot delete a
// record: replay, drop and purge append a settling record to <prefix>._dlq
// (headers crmhub.settles = the id, crmhub.settled_as = replayed|dropped)
// and the listing leaves settled ids out. Replay first produces a copy to
// the lane topic (attempts reset, history, keys and created_at kept; it gets
// a new message id when fetched, as every record does) and settles the dead
// letter once the cluster acknowledged the copy: a crash in between leaves
// it listed, and replaying it again makes a duplicate the sinks absorb.
//
// Metrics (options.metrics; the first two at zero from Open, a lane's
// series from the lane's first Lease, which the daemon's workers make as
// they start):
//   crmhub_kafka_produce_duration_seconds  histogram, per record: from the
//       produce call to the cluster's acknowledgement (librdkafka's message
//       latency): what a webhook's answer waits for
//   crmhub_kafka_rebalances_total{lane}    assignments and revocations seen by
//       the lane's consumer; lane="_sources": the pull sources' group
//       (source_owner.h)
//   crmhub_kafka_consumer_lag{lane}        records of the lane's partitions
//       this daemon holds that are past the first unfinished one (high
//       watermark minus it), summed; as of the lane's last Lease. The lag of
//       partitions other daemons hold is theirs to report.
//
// Thread-safety: every method may be called from any thread. Lease and
// Settle of all lanes share one mutex (Settle holds it while it waits for
// its produces and its commit). EnqueueAsync never takes it. EnqueueAsync
// callbacks run on the poller thread: they must not call blocking methods
// of this queue.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "queue/backoff.h"
#include "queue/queue.h"

struct rd_kafka_s;
struct rd_kafka_conf_s;
struct rd_kafka_message_s;

namespace crmhub::queue::kafka {

// A consumed record's headers, in order, and its value (engine internals).
Headers HeadersOf(const rd_kafka_message_s* m);
std::string ValueOf(const rd_kafka_message_s* m);

struct KafkaQueueOptions {
  std::string brokers;                  // bootstrap.servers
  std::string topic_prefix = "crmhub";  // topics are <prefix>.<lane>, <prefix>._dlq, ...
  std::string group_id = "crmhub";      // a lane's consumer group is <group_id>.<lane>
  // librdkafka properties for the producer and every consumer, by
  // librdkafka's own names (security.protocol, sasl.*, ssl.*, ...). The
  // engine's own settings win over them: enable.idempotence=true, acks=all,
  // enable.auto.commit=false, enable.auto.offset.store=false.
  std::map<std::string, std::string> properties;

  RetryPolicy default_policy;
  std::map<std::string, RetryPolicy> lane_policies;  // by lane name
  JitterFn jitter;                                   // tests; else seeded with rng_seed
  std::optional<uint64_t> rng_seed;

  // The producer queue's bound (queue.buffering.max.messages): past it
  // EnqueueAsync answers kResourceExhausted.
  int max_pending = 100000;
  // Records buffered per partition before the consumer pauses it.
  int max_buffered_per_partition = 10000;
  // How long Lease polls the consumer when nothing is due (real time).
  std::chrono::milliseconds lease_poll{std::chrono::milliseconds(50)};
  // Bound on a blocking call's wait for the cluster (metadata, commit,
  // reading a topic, a Settle's produces).
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Where the engine's own series go (see KafkaQueue); null: nowhere. Must
  // outlive the queue.
  MetricsRegistry* metrics = nullptr;
  // Delay tiers of unordered retries, ascending (e.g. 1m, 10m, 1h). A retry
  // due at least retry_tiers[0] ahead goes to the tier topic
  // <prefix>.<lane>.retry.<tier> of the largest tier not above its delay
  // (kafka_retry_tiers.cc); shorter ones go to the lane topic. Empty: every
  // retry copy goes to the lane topic.
  std::vector<std::chrono::milliseconds> retry_tiers;
};

class KafkaQueue final : public Queue {
 public:
  // Builds the producer, reads the state topic back. `clock` must outlive
  // the queue; it decides due times, backoff and leases, never the broker.
  static Result<std::unique_ptr<KafkaQueue>> Open(Clock& clock, KafkaQueueOptions options);
  // Commits what is finished, leaves the consumer groups, flushes the
  // producer (bounded by options.timeout), stops the poller.
  ~KafkaQueue() override;

  void EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) override;
  Result<std::vector<Leased>> Lease(const std::string& lane, int max,
                                    std::chrono::milliseconds lease_duration) override;
  std::vector<Status> Settle(std::span<const Settlement> settlements) override;

  Result<std::vector<LaneStats>> Stats() override;

  Result<std::vector<DeadLetter>> ListDeadLetters(const DeadLetterFilter& filter) override;
  Result<DeadLetter> GetDeadLetter(int64_t id) override;
  Status ReplayDeadLetter(int64_t id) override;
  Result<int64_t> ReplayAllDeadLetters(std::optional<std::string> lane) override;
  Status DropDeadLetter(int64_t id) override;
  Result<int64_t> PurgeDeadLetters(SystemTime cutoff) override;

  Status PutState(const std::string& key, const std::string& value) override;
  Result<std::optional<std::string>> GetState(const std::string& key) override;

  bool Healthy() const override { return healthy_.load(); }
  // Records buffered here and not finished (this process's view: the lag
  // not yet fetched is not counted).
  int64_t Depth() const override { return depth_.load(); }

  // What the cluster holds of each lane, as any process reads it without
  // joining a group (`crmhub queue stats` on Kafka). One lane per lane topic
  // (<prefix>.<lane>) found in the cluster's metadata.
  struct LaneBacklog {
    std::string lane;
    // Records of the lane topic at or past its group's committed offset
    // (<group_id>.<lane>), summed over the partitions: the engine commits
    // the first unfinished record, so this counts every undelivered message
    // and, at most, the finished ones after the oldest undelivered.
    int64_t backlog = 0;
    // The same over the lane's delay-tier topics (<lane topic>.retry.<tier>)
    // for the forwarders' group <group_id>._retry: retries waiting there.
    int64_t retrying = 0;
    int64_t dead = 0;  // dead letters of the lane not replayed or dropped
    int32_t partitions = 0;
  };
  // One metadata request, one committed-offsets request per consuming
  // group (each lane's, and the forwarders' for all tier topics), one
  // watermark request per partition, and a read of the dead-letter topic;
  // bounded by options.timeout each.
  Result<std::vector<LaneBacklog>> Backlog();

  // Whether this process's consumer of `lane` holds partitions and has
  // fetched (or finds committed) everything they held when asked, so that
  // "nothing is due" means nothing, not "not fetched yet". For tests and
  // tools; one watermark query per partition.
  Result<bool> CaughtUp(const std::string& lane);

  std::string LaneTopic(const std::string& lane) const;
  std::string DeadLetterTopic() const;
  std::string StateTopic() const;
  // <prefix>._sources: one partition per pull-source slot (source_owner.h).
  std::string SourcesTopic() const;

  const KafkaQueueOptions& options() const { return options_; }
  // Reads the state topic again, in full, and takes its values over this
  // process's: after it, GetState answers what another daemon put before the
  // call (SourceOwnership calls it when it gains sources). GetState and
  // PutState wait while it reads.
  Status RefreshState();
  // Looks `topic` up until it exists with partitions (a metadata request
  // creates it where the cluster allows it), bounded by options.timeout;
  // answers its partition count.
  Result<int32_t> WaitForTopic(const std::string& topic);

  // Internal, public for librdkafka's C callbacks: a produce call's
  // answers (delivery reports), a lane's consumer state, and the rebalance
  // handler (runs inside consumer poll/close, with mu_ held).
  struct ProduceBatch;
  struct Lane;
  void OnRebalance(Lane& lane, int err, void* partitions);
  void OnDeliveryReport(int64_t latency_us);  // the poller thread
  void OnTierRebalanceC(int err, void* partitions) { OnTierRebalance(err, partitions); }
  void OnFatalError() { healthy_.store(false); }

 private:
  struct Entry;
  struct Partition;

  KafkaQueue(Clock& clock, KafkaQueueOptions options);
  Status Start();

  struct Outgoing {
    std::string topic;
    std::string key;
    Headers headers;
    std::string value;
  };
  // Hands `records` to the producer; `batch` answers once every record was
  // reported (a record librdkafka refused at once is reported at once with
  // that error, and so is every later one). Returns the first refusal.
  Status ProduceAll(std::vector<Outgoing> records, std::shared_ptr<ProduceBatch> batch);
  // Produces and waits for every delivery report; one status per record.
  std::vector<Status> ProduceAndWait(std::vector<Outgoing> records);

  Result<Lane*> LaneLocked(const std::string& lane);
  void FillLocked(Lane& lane, std::chrono::milliseconds wait);
  // Drops the finished prefix of each of `lane`'s partitions and commits past
  // it; kUnavailable if the commit failed.
  Status CommitLocked(Lane& lane);
  // Sets the lane's crmhub_kafka_consumer_lag from librdkafka's cached
  // watermarks (no request).
  void UpdateLagLocked(Lane& lane);
  const RetryPolicy& PolicyFor(const std::string& lane) const;

  // Reads every partition of `topic` from its start to its end as of now.
  Status ReadTopic(
      const std::string& topic,
      const std::function<void(int32_t partition, int64_t offset, std::optional<std::string> key,
                               Headers headers, std::string value)>& fn);
  Result<std::vector<DeadLetter>> ReadDeadLetters();
  // Replays (a copy to the lane, then a settling record) or drops (a
  // settling record) `letters`; how many were settled, or the first error
  // with that count in its message.
  Result<int64_t> SettleDeadLetters(const std::vector<DeadLetter>& letters, bool replay);
  Status ReadStateLocked();  // REQUIRES: state_mu_ held

  // Delay-tiered retry topics (options.retry_tiers; kafka_retry_tiers.cc).
  struct Tiers;
  // The topic a retry of `lane` due `delay` ahead goes to.
  std::string RetryTopicFor(const std::string& lane, std::chrono::milliseconds delay) const;
  std::string TierTopic(const std::string& lane, std::chrono::milliseconds tier) const;
  Status StartTiers();
  // Looks the lane's tier topics up and adds them to the forwarder's
  // subscription.
  Status WatchTiersOf(const std::string& lane);
  void StopTiers();
  void TierLoop();
  void OnTierRebalance(int err, void* partitions);
  Tiers* tiers_ = nullptr;  // owned; made by StartTiers, deleted by StopTiers (the destructor)
  // A consumer in `group` with the engine's properties (no auto commit, no
  // auto offset store), `rebalance` as its rebalance callback.
  // `customize` sets callbacks on the configuration before the client is made.
  Result<rd_kafka_s*> NewConsumer(const std::string& group,
                                  const std::function<void(rd_kafka_conf_s*)>& customize);

  Clock& clock_;
  const KafkaQueueOptions options_;
  JitterFn jitter_;

  rd_kafka_s* producer_ = nullptr;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> healthy_{true};
  std::atomic<int64_t> depth_{0};
  Histogram* produce_latency_ = nullptr;  // when options.metrics is set

  std::mutex mu_;                                       // lanes, entries, tokens, jitter
  std::map<std::string, std::unique_ptr<Lane>> lanes_;  // guarded by mu_
  std::unordered_map<int64_t, Entry*> entries_by_id_;   // guarded by mu_
  int64_t next_id_ = 0;                                 // guarded by mu_
  int64_t next_token_ = 0;                              // guarded by mu_

  std::mutex state_mu_;
  std::map<std::string, std::string> state_;  // guarded by state_mu_
};

}  // namespace crmhub::queue::kafka
