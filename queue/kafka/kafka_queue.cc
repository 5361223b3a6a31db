#include "queue/kafka/kafka_queue.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <random>

#include "queue/give_up.h"
#include "queue/kafka/kafka_records.h"

namespace crmhub::queue::kafka {

// One produce call's records and their answers. Each record's delivery
// report (on the poller thread) fills its slot; the last one runs `done`.
struct KafkaQueue::ProduceBatch {
  struct Slot {
    ProduceBatch* batch = nullptr;
    size_t index = 0;
  };

  explicit ProduceBatch(size_t n, std::function<void(std::vector<Status>)> on_done)
      : results(n), slots(n), remaining(n), done(std::move(on_done)) {
    for (size_t i = 0; i < n; ++i) slots[i] = {this, i};
  }

  void Report(size_t index, Status status) {
    std::unique_lock lock(mu);
    results[index] = std::move(status);
    if (--remaining > 0) return;
    auto answer = std::move(results);
    auto callback = std::move(done);
    auto keep = std::move(self);  // the batch lives until here
    lock.unlock();
    callback(std::move(answer));
  }

  std::mutex mu;
  std::vector<Status> results;  // guarded by mu
  std::vector<Slot> slots;      // stable: librdkafka holds pointers to them
  size_t remaining;             // guarded by mu
  std::function<void(std::vector<Status>)> done;
  std::shared_ptr<ProduceBatch> self;  // set while records are out
};

// A fetched record and its lease state.
struct KafkaQueue::Entry {
  enum class State { kWaiting, kLeased, kDone };
  int64_t offset = 0;
  Message message;
  std::vector<DeadLetterAttempt> history;
  State state = State::kWaiting;
  int64_t token = 0;
  SystemTime lease_expires_at;
  std::string lane;
  int32_t partition = 0;
};

struct KafkaQueue::Partition {
  std::deque<std::unique_ptr<Entry>> entries;  // offset order
  int64_t committed = -1;                      // the last offset committed (next to read)
  bool paused = false;
};

struct KafkaQueue::Lane {
  KafkaQueue* queue = nullptr;
  std::string name;
  std::string topic;
  rd_kafka_t* consumer = nullptr;
  std::map<int32_t, Partition> partitions;  // assigned to this process
  Counter* rebalances = nullptr;            // when options.metrics is set
  Gauge* lag = nullptr;
};

namespace {

constexpr int64_t kPartitionShift = 40;

// A record of the dead-letter topic that settles an earlier dead letter
// (replayed or dropped: a log cannot delete it): it names the dead letter's
// id and what became of it. Older readers skip it as a foreign record.
constexpr char kSettlesHeader[] = "crmhub.settles";
constexpr char kSettledAsHeader[] = "crmhub.settled_as";

std::string Err(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

Status StatusOf(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return Status::ResourceExhausted(what + ": the producer queue is full; retry later");
  }
  return Status::Unavailable(what + ": " + Err(err));
}

bool ValidTopicPart(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Sets `props` in order; the first refusal is the error.
Status Configure(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("[queue.kafka] " + name + ": " + errstr);
    }
  }
  return Status::Ok();
}

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    static_cast<KafkaQueue*>(opaque)->OnDeliveryReport(rd_kafka_message_latency(m));
  }
  auto* slot = static_cast<KafkaQueue::ProduceBatch::Slot*>(m->_private);
  if (slot) slot->batch->Report(slot->index, StatusOf(m->err, "produce"));
}

void OnError(rd_kafka_t* rk, int err, const char*, void* opaque) {
  if (err != RD_KAFKA_RESP_ERR__FATAL) return;  // transient: librdkafka retries
  char reason[512];
  rd_kafka_fatal_error(rk, reason, sizeof reason);
  static_cast<KafkaQueue*>(opaque)->OnFatalError();
}

}  // namespace

Headers HeadersOf(const rd_kafka_message_t* m) {
  Headers out;
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs) return out;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  for (size_t i = 0;
       rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    out.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : "");
  }
  return out;
}

std::string ValueOf(const rd_kafka_message_t* m) {
  return m->payload ? std::string(static_cast<const char*>(m->payload), m->len) : std::string();
}

KafkaQueue::KafkaQueue(Clock& clock, KafkaQueueOptions options)
    : clock_(clock), options_(std::move(options)) {
  if (options_.jitter) {
    jitter_ = options_.jitter;
  } else {
    jitter_ = SeededJitter(options_.rng_seed ? *options_.rng_seed : std::random_device{}());
  }
}

Result<std::unique_ptr<KafkaQueue>> KafkaQueue::Open(Clock& clock, KafkaQueueOptions options) {
  if (options.brokers.empty()) return Status::InvalidArgument("[queue] brokers is empty");
  if (!ValidTopicPart(options.topic_prefix)) {
    return Status::InvalidArgument("[queue] topic_prefix: letters, digits, '.', '_', '-' only");
  }
  std::unique_ptr<KafkaQueue> q(new KafkaQueue(clock, std::move(options)));
  Status started = q->Start();
  if (!started.ok()) return started;
  return q;
}

Status KafkaQueue::Start() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = options_.properties;
  props.emplace("linger.ms", "5");
  props["bootstrap.servers"] = options_.brokers;
  props["enable.idempotence"] = "true";
  props["acks"] = "all";
  props["queue.buffering.max.messages"] = std::to_string(options_.max_pending);
  Status st = Configure(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_conf_set_error_cb(conf, OnError);
  rd_kafka_conf_set_opaque(conf, this);
  if (options_.metrics) {
    produce_latency_ = &options_.metrics->GetHistogram(
        "crmhub_kafka_produce_duration_seconds",
        "Kafka engine: from a record's produce call to the cluster's acknowledgement (acks=all).",
        DefaultLatencyBuckets());
    options_.metrics->GetCounter(
        "crmhub_kafka_rebalances_total",
        "Kafka engine: partition assignments and revocations seen by a lane's consumer "
        "(lane=\"_sources\": the pull sources' group).",
        {{"lane", "_sources"}});
  }
  char errstr[512];
  producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!producer_) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka producer: ") + errstr);
  }
  poller_ = std::thread([this] {
    while (!stop_.load()) rd_kafka_poll(producer_, 50);
  });

  if (Status tiers = StartTiers(); !tiers.ok()) return tiers;
  std::lock_guard lock(state_mu_);
  return ReadStateLocked();
}

Status KafkaQueue::ReadStateLocked() {
  return ReadTopic(StateTopic(), [this](int32_t, int64_t, std::optional<std::string> key, Headers,
                                        std::string value) {
    if (key) state_[*key] = std::move(value);
  });
}

// Holding state_mu_ through the read orders it with this process's puts: a
// put acknowledged before the read's end offsets were taken is in the topic
// (read back, same value), one acknowledged later updates the map after the
// read (PutState takes state_mu_ after its ack).
Status KafkaQueue::RefreshState() {
  std::lock_guard lock(state_mu_);
  return ReadStateLocked();
}

void KafkaQueue::OnDeliveryReport(int64_t latency_us) {
  if (produce_latency_ && latency_us >= 0) produce_latency_->Observe(latency_us / 1e6);
}

KafkaQueue::~KafkaQueue() {
  StopTiers();  // it produces: before the producer goes
  {
    std::lock_guard lock(mu_);
    for (auto& [name, lane] : lanes_) {
      (void)CommitLocked(*lane);
      rd_kafka_consumer_close(lane->consumer);  // may run OnRebalance (revoke) here
      rd_kafka_destroy(lane->consumer);
    }
    lanes_.clear();
    entries_by_id_.clear();
  }
  if (producer_) {
    rd_kafka_flush(producer_, static_cast<int>(options_.timeout.count()));
    stop_.store(true);
    if (poller_.joinable()) poller_.join();
    rd_kafka_poll(producer_, 0);
    rd_kafka_destroy(producer_);
  }
}

std::string KafkaQueue::LaneTopic(const std::string& lane) const {
  return options_.topic_prefix + "." + lane;
}
std::string KafkaQueue::DeadLetterTopic() const { return options_.topic_prefix + "._dlq"; }
std::string KafkaQueue::StateTopic() const { return options_.topic_prefix + "._state"; }
std::string KafkaQueue::SourcesTopic() const { return options_.topic_prefix + "._sources"; }

const RetryPolicy& KafkaQueue::PolicyFor(const std::string& lane) const {
  auto it = options_.lane_policies.find(lane);
  return it == options_.lane_policies.end() ? options_.default_policy : it->second;
}

// ---------------------------------------------------------------- produce

Status KafkaQueue::ProduceAll(std::vector<Outgoing> records, std::shared_ptr<ProduceBatch> batch) {
  batch->self = batch;
  ProduceBatch* b = batch.get();
  batch.reset();  // from here the batch owns itself until its last report
  Status refused;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!refused.ok()) {
      b->Report(i, refused);
      continue;
    }
    const Outgoing& r = records[i];
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers) {
      rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    // rd_kafka_produceva, not producev: the RD_KAFKA_V_* macros expand to
    // GNU statement expressions, which clang's -Wpedantic refuses.
    rd_kafka_vu_t vus[6] = {};
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = r.topic.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_KEY;
    vus[1].u.mem = {const_cast<char*>(r.key.data()), r.key.size()};
    vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[2].u.mem = {const_cast<char*>(r.value.data()), r.value.size()};
    vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[3].u.i = RD_KAFKA_MSG_F_COPY;
    vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[4].u.headers = hdrs;
    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[5].u.ptr = &b->slots[i];
    rd_kafka_error_t* produce_error = rd_kafka_produceva(producer_, vus, 6);
    const rd_kafka_resp_err_t err =
        produce_error ? rd_kafka_error_code(produce_error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (produce_error) rd_kafka_error_destroy(produce_error);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(hdrs);  // not taken on failure
      refused = StatusOf(err, "produce to " + r.topic);
      b->Report(i, refused);
    }
  }
  return refused;
}

std::vector<Status> KafkaQueue::ProduceAndWait(std::vector<Outgoing> records) {
  if (records.empty()) return {};
  std::promise<std::vector<Status>> promise;
  auto future = promise.get_future();
  auto batch = std::make_shared<ProduceBatch>(
      records.size(), [&promise](std::vector<Status> st) { promise.set_value(std::move(st)); });
  (void)ProduceAll(std::move(records), std::move(batch));
  // The producer's message.timeout.ms bounds every report: the wait ends.
  return future.get();
}

void KafkaQueue::EnqueueAsync(std::vector<NewMessage> messages, EnqueueCallback done) {
  for (const NewMessage& m : messages) {
    if (m.lane.empty() || m.source.empty() || m.idempotency_key.empty()) {
      done(Status::InvalidArgument("enqueue: lane, source and idempotency_key are required"));
      return;
    }
    if (!ValidTopicPart(m.lane)) {
      done(Status::InvalidArgument("enqueue: lane '" + m.lane +
                                   "' is not a valid Kafka topic name part"));
      return;
    }
  }
  if (messages.empty()) {
    done(std::vector<EnqueueOutcome>{});
    return;
  }
  if (rd_kafka_outq_len(producer_) + static_cast<int64_t>(messages.size()) > options_.max_pending) {
    done(Status::ResourceExhausted("enqueue: the producer queue is full; retry later"));
    return;
  }
  const SystemTime now = clock_.Now();
  std::vector<Outgoing> records;
  records.reserve(messages.size());
  for (NewMessage& m : messages) {
    RecordFields f;
    f.lane = m.lane;
    f.source = std::move(m.source);
    f.idempotency_key = std::move(m.idempotency_key);
    f.ordering_key = std::move(m.ordering_key);
    f.headers = std::move(m.headers);
    f.payload = std::move(m.payload);
    f.created_at = now;
    f.not_before = m.not_before;
    KafkaRecord r = EncodeRecord(f);
    records.push_back(
        {LaneTopic(m.lane), std::move(r.key), std::move(r.headers), std::move(r.value)});
  }
  const size_t n = records.size();
  auto batch =
      std::make_shared<ProduceBatch>(n, [done = std::move(done), n](std::vector<Status> st) {
        for (Status& s : st) {
          if (!s.ok()) {
            done(std::move(s));
            return;
          }
        }
        // The log takes every copy: no duplicate is refused here.
        done(std::vector<EnqueueOutcome>(n, EnqueueOutcome::kAccepted));
      });
  (void)ProduceAll(std::move(records), std::move(batch));
}

// ---------------------------------------------------------------- consume

namespace {

void OnRebalanceC(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque);

}  // namespace

Result<int32_t> KafkaQueue::WaitForTopic(const std::string& topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer_, topic.c_str(), nullptr);
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int32_t partitions = 0;
  while (true) {
    const rd_kafka_metadata_t* md = nullptr;
    err = rd_kafka_metadata(producer_, 0, rkt, &md, 5000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) partitions = md->topics[0].partition_cnt;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && partitions == 0) {
        err = RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
      }
      rd_kafka_metadata_destroy(md);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "topic " + topic);
  return partitions;
}

Result<rd_kafka_t*> KafkaQueue::NewConsumer(
    const std::string& group, const std::function<void(rd_kafka_conf_t*)>& customize) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = options_.properties;
  props["bootstrap.servers"] = options_.brokers;
  props["group.id"] = group;
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  props.emplace("auto.offset.reset", "earliest");
  Status st = Configure(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  if (customize) customize(conf);
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka consumer: ") + errstr);
  }
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

Result<KafkaQueue::Lane*> KafkaQueue::LaneLocked(const std::string& name) {
  auto it = lanes_.find(name);
  if (it != lanes_.end()) return it->second.get();
  if (!ValidTopicPart(name)) return Status::InvalidArgument("lease: invalid lane '" + name + "'");
  auto lane = std::make_unique<Lane>();
  lane->queue = this;
  lane->name = name;
  lane->topic = LaneTopic(name);

  // The topic must exist before the subscription sees it.
  if (auto found = WaitForTopic(lane->topic); !found.ok()) return found.status();

  if (options_.metrics) {
    lane->rebalances =
        &options_.metrics->GetCounter("crmhub_kafka_rebalances_total", "", {{"lane", name}});
    lane->lag = &options_.metrics->GetGauge(
        "crmhub_kafka_consumer_lag",
        "Kafka engine: records of a lane's partitions held by this daemon past the first "
        "unfinished one (high watermark minus it), as of the lane's last lease.",
        {{"lane", name}});
  }
  auto consumer = NewConsumer(options_.group_id + "." + name, [&lane](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_rebalance_cb(conf, OnRebalanceC);
    rd_kafka_conf_set_opaque(conf, lane.get());
  });
  if (!consumer.ok()) return consumer.status();
  lane->consumer = *consumer;
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, lane->topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(lane->consumer, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(lane->consumer);
    return StatusOf(err, "subscribe to " + lane->topic);
  }
  if (Status watched = WatchTiersOf(name); !watched.ok()) {
    rd_kafka_consumer_close(lane->consumer);
    rd_kafka_destroy(lane->consumer);
    return watched;
  }
  Lane* raw = lane.get();
  lanes_.emplace(name, std::move(lane));
  return raw;
}

namespace {

void OnRebalanceC(rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  auto* lane = static_cast<KafkaQueue::Lane*>(opaque);
  lane->queue->OnRebalance(*lane, err, parts);
}

}  // namespace

// Runs inside rd_kafka_consumer_poll/close, which this class calls with
// mu_ held.
void KafkaQueue::OnRebalance(Lane& lane, int err, void* partitions) {
  auto* parts = static_cast<rd_kafka_topic_partition_list_t*>(partitions);
  if (lane.rebalances) lane.rebalances->Inc();
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    for (int i = 0; i < parts->cnt; ++i) lane.partitions[parts->elems[i].partition];
    rd_kafka_assign(lane.consumer, parts);
    return;
  }
  // Revoked (or lost): commit what is finished, then forget the rest; its
  // leases go stale and its records are the new owner's to deliver.
  (void)CommitLocked(lane);
  for (int i = 0; i < parts->cnt; ++i) {
    auto it = lane.partitions.find(parts->elems[i].partition);
    if (it == lane.partitions.end()) continue;
    for (const auto& e : it->second.entries) {
      if (e->state != Entry::State::kDone) depth_.fetch_sub(1);
      entries_by_id_.erase(e->message.id);
    }
    lane.partitions.erase(it);
  }
  rd_kafka_assign(lane.consumer, nullptr);
}

void KafkaQueue::FillLocked(Lane& lane, std::chrono::milliseconds wait) {
  int timeout = static_cast<int>(wait.count());
  for (int taken = 0; taken < 1000; ++taken) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(lane.consumer, timeout);
    timeout = 0;
    if (!m) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {  // transient, or end of partition
      rd_kafka_message_destroy(m);
      continue;
    }
    auto pit = lane.partitions.find(m->partition);
    if (pit == lane.partitions.end()) {  // not (or no longer) ours
      rd_kafka_message_destroy(m);
      continue;
    }
    auto e = std::make_unique<Entry>();
    e->offset = m->offset;
    e->lane = lane.name;
    e->partition = m->partition;
    auto decoded = DecodeRecord(HeadersOf(m), ValueOf(m));
    Message& msg = e->message;
    if (decoded.ok()) {
      RecordFields& f = *decoded;
      msg.lane = lane.name;
      msg.source = std::move(f.source);
      msg.idempotency_key = std::move(f.idempotency_key);
      msg.ordering_key = std::move(f.ordering_key);
      msg.headers = std::move(f.headers);
      msg.payload = std::move(f.payload);
      msg.attempts = f.attempts;
      msg.created_at = f.created_at;
      msg.next_attempt_at = f.not_before.value_or(f.created_at);
      e->history = std::move(f.history);
    } else {
      // Not a record of ours: delivered as it is, so that the consumer
      // dead-letters it with the reason instead of it vanishing.
      msg.lane = lane.name;
      msg.source = "kafka";
      msg.idempotency_key =
          lane.topic + "/" + std::to_string(m->partition) + "/" + std::to_string(m->offset);
      msg.payload = ValueOf(m);
      msg.created_at = clock_.Now();
      msg.next_attempt_at = msg.created_at;
      e->history.push_back({msg.created_at, "unreadable record: " + decoded.status().ToString()});
    }
    if (!e->history.empty()) {
      msg.first_error = e->history.front().error;
      msg.last_error = e->history.back().error;
    }
    msg.id = ++next_id_;
    entries_by_id_[msg.id] = e.get();
    depth_.fetch_add(1);
    Partition& p = pit->second;
    p.entries.push_back(std::move(e));
    rd_kafka_message_destroy(m);
    if (!p.paused && static_cast<int>(p.entries.size()) >= options_.max_buffered_per_partition) {
      rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(list, lane.topic.c_str(), pit->first);
      rd_kafka_pause_partitions(lane.consumer, list);
      rd_kafka_topic_partition_list_destroy(list);
      p.paused = true;
    }
  }
  UpdateLagLocked(lane);
}

void KafkaQueue::UpdateLagLocked(Lane& lane) {
  if (!lane.lag) return;
  int64_t lag = 0;
  for (const auto& [partition, p] : lane.partitions) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(lane.consumer, lane.topic.c_str(), partition, &lo, &hi) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      continue;  // no fetch answer yet: nothing known
    }
    int64_t from = p.committed;
    if (!p.entries.empty()) {
      from = p.entries.front()->offset;
    } else {
      rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(one, lane.topic.c_str(), partition);
      if (rd_kafka_position(lane.consumer, one) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          one->elems[0].offset >= 0) {
        from = one->elems[0].offset;  // the next to fetch: everything before it is finished
      }
      rd_kafka_topic_partition_list_destroy(one);
    }
    if (from < lo) from = lo;
    if (hi > from) lag += hi - from;
  }
  lane.lag->Set(static_cast<double>(lag));
}

Result<std::vector<Leased>> KafkaQueue::Lease(const std::string& lane_name, int max,
                                              std::chrono::milliseconds lease_duration) {
  std::lock_guard lock(mu_);
  auto lane_or = LaneLocked(lane_name);
  if (!lane_or.ok()) return lane_or.status();
  Lane& lane = **lane_or;
  std::vector<Leased> out;
  for (int round = 0; round < 2 && out.empty(); ++round) {
    FillLocked(lane, round == 0 ? std::chrono::milliseconds(0) : options_.lease_poll);
    const SystemTime now = clock_.Now();
    for (auto& [partition, p] : lane.partitions) {
      // An unfinished record blocks the later ones of its ordering key.
      std::set<std::string_view> blocked;
      for (auto& e : p.entries) {
        if (static_cast<int>(out.size()) >= max) break;
        if (e->state == Entry::State::kDone) continue;
        const std::string& key = e->message.ordering_key;
        if (!key.empty() && !blocked.insert(key).second) continue;
        if (e->state == Entry::State::kLeased && e->lease_expires_at > now) continue;
        if (e->message.next_attempt_at > now) continue;
        e->state = Entry::State::kLeased;
        e->token = ++next_token_;
        e->lease_expires_at = now + lease_duration;
        e->message.attempts += 1;
        out.push_back({e->message, {e->message.id, e->token}, e->lease_expires_at});
      }
    }
  }
  return out;
}

Result<bool> KafkaQueue::CaughtUp(const std::string& lane_name) {
  std::lock_guard lock(mu_);
  auto it = lanes_.find(lane_name);
  if (it == lanes_.end() || it->second->partitions.empty()) return false;
  Lane& lane = *it->second;
  rd_kafka_topic_partition_list_t* position = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_new(1);
  for (const auto& [partition, p] : lane.partitions) {
    rd_kafka_topic_partition_list_add(position, lane.topic.c_str(), partition);
    rd_kafka_topic_partition_list_add(committed, lane.topic.c_str(), partition);
  }
  const int timeout_ms = static_cast<int>(options_.timeout.count());
  rd_kafka_resp_err_t err = rd_kafka_position(lane.consumer, position);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
    err = rd_kafka_committed(lane.consumer, committed, timeout_ms);
  bool caught = err == RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; caught && i < position->cnt; ++i) {
    int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(lane.consumer, lane.topic.c_str(),
                                           position->elems[i].partition, &lo, &hi, timeout_ms);
    const int64_t reached = std::max(position->elems[i].offset, committed->elems[i].offset);
    caught = err == RD_KAFKA_RESP_ERR_NO_ERROR && (hi <= lo || reached >= hi);
  }
  rd_kafka_topic_partition_list_destroy(position);
  rd_kafka_topic_partition_list_destroy(committed);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "positions of " + lane.topic);
  return caught;
}

Status KafkaQueue::CommitLocked(Lane& lane) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  for (auto& [partition, p] : lane.partitions) {
    int64_t next = -1;
    while (!p.entries.empty() && p.entries.front()->state == Entry::State::kDone) {
      next = p.entries.front()->offset + 1;
      entries_by_id_.erase(p.entries.front()->message.id);
      p.entries.pop_front();
    }
    if (next < 0) continue;
    if (!p.entries.empty()) next = p.entries.front()->offset;
    if (next <= p.committed) continue;
    rd_kafka_topic_partition_list_add(list, lane.topic.c_str(), partition)->offset = next;
    p.committed = next;
    if (p.paused && static_cast<int>(p.entries.size()) < options_.max_buffered_per_partition / 2) {
      rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
      rd_kafka_topic_partition_list_add(one, lane.topic.c_str(), partition);
      rd_kafka_resume_partitions(lane.consumer, one);
      rd_kafka_topic_partition_list_destroy(one);
      p.paused = false;
    }
  }
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (list->cnt > 0) err = rd_kafka_commit(lane.consumer, list, 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Not committed: the next commit covers these offsets again.
    for (int i = 0; i < list->cnt; ++i) {
      auto it = lane.partitions.find(list->elems[i].partition);
      if (it != lane.partitions.end()) it->second.committed = -1;
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  return StatusOf(err, "commit offsets of " + lane.topic);
}

std::vector<Status> KafkaQueue::Settle(std::span<const Settlement> settlements) {
  std::vector<Status> out(settlements.size());
  if (settlements.empty()) return out;
  std::lock_guard lock(mu_);
  const SystemTime now = clock_.Now();

  // Items that finish once their record (retry copy or dead letter) is
  // acknowledged by the cluster.
  struct Pending {
    size_t index;
    Entry* entry;
  };
  std::vector<Pending> pending;
  std::vector<Outgoing> records;
  std::set<Entry*> seen;
  std::vector<std::string> finished_lane(settlements.size());  // set once finished

  auto fields_of = [](const Entry& e) {
    RecordFields f;
    f.lane = e.message.lane;
    f.source = e.message.source;
    f.idempotency_key = e.message.idempotency_key;
    f.ordering_key = e.message.ordering_key;
    f.headers = e.message.headers;
    f.payload = e.message.payload;
    f.created_at = e.message.created_at;
    f.attempts = e.message.attempts;
    f.history = e.history;
    return f;
  };

  for (size_t i = 0; i < settlements.size(); ++i) {
    const Settlement& s = settlements[i];
    auto it = entries_by_id_.find(s.lease.message_id);
    Entry* e = it == entries_by_id_.end() ? nullptr : it->second;
    if (!e || e->state != Entry::State::kLeased || e->token != s.lease.token ||
        e->lease_expires_at <= now || !seen.insert(e).second) {
      out[i] = Status::FailedPrecondition("settle: stale lease");
      continue;
    }
    const RetryPolicy& policy = PolicyFor(e->message.lane);
    bool dead = s.kind == Settlement::Kind::kFail;
    // Applied to the entry only once this settlement is final (a failed
    // produce leaves it leased as it was).
    const int attempts = AttemptsAfterRetry(e->message.attempts, s.throttled);
    if (s.kind == Settlement::Kind::kRetry) {
      dead = RetryGivesUp(policy, attempts, e->message.created_at, now);
    }
    if (s.kind == Settlement::Kind::kAck) {
      e->state = Entry::State::kDone;
      depth_.fetch_sub(1);
      finished_lane[i] = e->lane;
      continue;
    }
    RecordFields f = fields_of(*e);
    f.attempts = attempts;
    f.history.push_back({now, s.reason});
    if (dead) {
      f.reason = s.reason;
      f.failed_at = now;
      KafkaRecord r = EncodeRecord(f);
      records.push_back(
          {DeadLetterTopic(), std::move(r.key), std::move(r.headers), std::move(r.value)});
      pending.push_back({i, e});
      continue;
    }
    SystemTime next = s.not_before ? std::max(*s.not_before, now)
                                   : now + ComputeBackoff(policy, attempts, jitter_);
    if (!e->message.ordering_key.empty()) {
      // In place: the later records of its key wait behind it.
      e->message.attempts = attempts;
      e->history = std::move(f.history);
      e->message.first_error = e->history.front().error;
      e->message.last_error = e->history.back().error;
      e->message.next_attempt_at = next;
      e->state = Entry::State::kWaiting;
      continue;
    }
    f.not_before = next;
    KafkaRecord r = EncodeRecord(f);
    records.push_back(
        {RetryTopicFor(e->message.lane,
                       std::chrono::duration_cast<std::chrono::milliseconds>(next - now)),
         std::move(r.key), std::move(r.headers), std::move(r.value)});
    pending.push_back({i, e});
  }

  std::vector<Status> produced = ProduceAndWait(std::move(records));
  for (size_t k = 0; k < pending.size(); ++k) {
    if (!produced[k].ok()) {
      out[pending[k].index] = produced[k];  // still leased: retried or redelivered
      continue;
    }
    pending[k].entry->state = Entry::State::kDone;
    depth_.fetch_sub(1);
    finished_lane[pending[k].index] = pending[k].entry->lane;
  }

  // One commit per lane touched; an item finished in a lane whose commit
  // failed carries that error (it may be delivered again after a restart).
  std::map<std::string, Status> commits;
  for (const std::string& lane : finished_lane) {
    if (!lane.empty() && !commits.count(lane)) commits[lane] = CommitLocked(*lanes_.at(lane));
  }
  for (size_t i = 0; i < settlements.size(); ++i) {
    if (!finished_lane[i].empty() && !commits[finished_lane[i]].ok()) {
      out[i] = commits[finished_lane[i]];
    }
  }
  return out;
}

// ---------------------------------------------------------------- reads

Status KafkaQueue::ReadTopic(const std::string& topic,
                             const std::function<void(int32_t, int64_t, std::optional<std::string>,
                                                      Headers, std::string)>& fn) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> props = options_.properties;
  props["bootstrap.servers"] = options_.brokers;
  props["group.id"] = options_.group_id + ".reader";  // assign only: never joins, never commits
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  Status st = Configure(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka reader: ") + errstr);
  }
  struct Closer {
    rd_kafka_t* rk;
    ~Closer() { rd_kafka_destroy(rk); }
  } closer{rk};
  const int timeout_ms = static_cast<int>(options_.timeout.count());

  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "metadata of " + topic);
  std::vector<int32_t> partitions;
  rd_kafka_resp_err_t topic_err =
      md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      partitions.push_back(md->topics[0].partitions[i].id);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
      topic_err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
    return Status::Ok();  // nothing written yet
  }
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(topic_err, "metadata of " + topic);

  std::map<int32_t, int64_t> end;  // partition -> high watermark still to reach
  rd_kafka_topic_partition_list_t* assign = rd_kafka_topic_partition_list_new(1);
  for (int32_t p : partitions) {
    int64_t lo = 0, hi = 0;
    err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(assign);
      return StatusOf(err, "offsets of " + topic);
    }
    if (hi <= lo) continue;
    end[p] = hi;
    rd_kafka_topic_partition_list_add(assign, topic.c_str(), p)->offset = lo;
  }
  if (end.empty()) {
    rd_kafka_topic_partition_list_destroy(assign);
    return Status::Ok();
  }
  err = rd_kafka_assign(rk, assign);
  rd_kafka_topic_partition_list_destroy(assign);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "assign " + topic);

  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  while (!end.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded("reading " + topic + ": the end was not reached in time");
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::optional<std::string> key;
      if (m->key) key.emplace(static_cast<const char*>(m->key), m->key_len);
      fn(m->partition, m->offset, std::move(key), HeadersOf(m), ValueOf(m));
      auto it = end.find(m->partition);
      if (it != end.end() && m->offset + 1 >= it->second) end.erase(it);
    }
    rd_kafka_message_destroy(m);
  }
  return Status::Ok();
}

Result<std::vector<DeadLetter>> KafkaQueue::ReadDeadLetters() {
  std::vector<DeadLetter> out;
  std::set<int64_t> settled;  // ids a later record replayed or dropped
  Status st = ReadTopic(DeadLetterTopic(), [&out, &settled](int32_t partition, int64_t offset,
                                                            std::optional<std::string>,
                                                            Headers headers, std::string value) {
    for (const auto& [name, v] : headers) {
      if (name != kSettlesHeader) continue;
      int64_t id = 0;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
      if (ec == std::errc() && end == v.data() + v.size()) settled.insert(id);
      return;
    }
    auto f = DecodeRecord(headers, std::move(value));
    if (!f.ok()) return;  // not ours: not a dead letter of this queue
    DeadLetter d;
    d.id = (static_cast<int64_t>(partition) << kPartitionShift) | (offset + 1);
    d.lane = std::move(f->lane);
    d.source = std::move(f->source);
    d.idempotency_key = std::move(f->idempotency_key);
    d.ordering_key = std::move(f->ordering_key);
    d.headers = std::move(f->headers);
    d.payload = std::move(f->payload);
    d.attempts = f->attempts;
    d.reason = std::move(f->reason);
    d.history = std::move(f->history);
    d.created_at = f->created_at;
    d.failed_at = f->failed_at.value_or(f->created_at);
    out.push_back(std::move(d));
  });
  if (!st.ok()) return st;
  std::erase_if(out, [&settled](const DeadLetter& d) { return settled.contains(d.id); });
  std::sort(out.begin(), out.end(),
            [](const DeadLetter& a, const DeadLetter& b) { return a.id < b.id; });
  return out;
}

Result<std::vector<DeadLetter>> KafkaQueue::ListDeadLetters(const DeadLetterFilter& filter) {
  auto all = ReadDeadLetters();
  if (!all.ok()) return all.status();
  std::vector<DeadLetter> out;
  for (DeadLetter& d : *all) {
    if (static_cast<int>(out.size()) >= filter.limit) break;
    if (d.id <= filter.after_id) continue;
    if (filter.lane && d.lane != *filter.lane) continue;
    out.push_back(std::move(d));
  }
  return out;
}

Result<DeadLetter> KafkaQueue::GetDeadLetter(int64_t id) {
  auto all = ReadDeadLetters();
  if (!all.ok()) return all.status();
  for (DeadLetter& d : *all) {
    if (d.id == id) return std::move(d);
  }
  return Status::NotFound("dead letter " + std::to_string(id));
}

Result<int64_t> KafkaQueue::SettleDeadLetters(const std::vector<DeadLetter>& letters, bool replay) {
  std::vector<const DeadLetter*> settled;  // whose copy (if any) is acknowledged
  Status first_error = Status::Ok();
  if (replay) {
    std::vector<Outgoing> copies;
    copies.reserve(letters.size());
    for (const DeadLetter& d : letters) {
      RecordFields f;
      f.lane = d.lane;
      f.source = d.source;
      f.idempotency_key = d.idempotency_key;
      f.ordering_key = d.ordering_key;
      f.headers = d.headers;
      f.payload = d.payload;
      f.created_at = d.created_at;
      f.attempts = 0;         // attempts reset
      f.history = d.history;  // the history kept
      KafkaRecord r = EncodeRecord(f);
      copies.push_back(
          {LaneTopic(d.lane), std::move(r.key), std::move(r.headers), std::move(r.value)});
    }
    std::vector<Status> st =
        copies.empty() ? std::vector<Status>() : ProduceAndWait(std::move(copies));
    for (size_t i = 0; i < letters.size(); ++i) {
      if (st[i].ok()) {
        settled.push_back(&letters[i]);
      } else if (first_error.ok()) {
        first_error = st[i];
      }
    }
  } else {
    for (const DeadLetter& d : letters) settled.push_back(&d);
  }
  int64_t done = 0;
  if (!settled.empty()) {
    std::vector<Outgoing> markers;
    markers.reserve(settled.size());
    for (const DeadLetter* d : settled) {
      const std::string id = std::to_string(d->id);
      markers.push_back(
          {DeadLetterTopic(),
           "settles/" + id,
           {{kSettlesHeader, id}, {kSettledAsHeader, replay ? "replayed" : "dropped"}},
           ""});
    }
    for (const Status& st : ProduceAndWait(std::move(markers))) {
      if (st.ok()) {
        ++done;
      } else if (first_error.ok()) {
        first_error = st;
      }
    }
  }
  if (!first_error.ok()) {
    return Status(first_error.code(), std::to_string(done) + " of " +
                                          std::to_string(letters.size()) +
                                          " dead letters settled: " + first_error.message());
  }
  return done;
}

Status KafkaQueue::ReplayDeadLetter(int64_t id) {
  auto d = GetDeadLetter(id);
  if (!d.ok()) return d.status();
  auto n = SettleDeadLetters({*d}, /*replay=*/true);
  return n.ok() ? Status::Ok() : n.status();
}

Result<int64_t> KafkaQueue::ReplayAllDeadLetters(std::optional<std::string> lane) {
  auto all = ReadDeadLetters();
  if (!all.ok()) return all.status();
  std::vector<DeadLetter> chosen;
  for (DeadLetter& d : *all) {
    if (!lane || d.lane == *lane) chosen.push_back(std::move(d));
  }
  return SettleDeadLetters(chosen, /*replay=*/true);
}

Status KafkaQueue::DropDeadLetter(int64_t id) {
  auto d = GetDeadLetter(id);
  if (!d.ok()) return d.status();
  auto n = SettleDeadLetters({*d}, /*replay=*/false);
  return n.ok() ? Status::Ok() : n.status();
}

Result<int64_t> KafkaQueue::PurgeDeadLetters(SystemTime cutoff) {
  auto all = ReadDeadLetters();
  if (!all.ok()) return all.status();
  std::vector<DeadLetter> chosen;
  for (DeadLetter& d : *all) {
    if (d.failed_at < cutoff) chosen.push_back(std::move(d));
  }
  return SettleDeadLetters(chosen, /*replay=*/false);
}

Result<std::vector<LaneStats>> KafkaQueue::Stats() {
  std::lock_guard lock(mu_);
  const SystemTime now = clock_.Now();
  std::vector<LaneStats> out;
  for (const auto& [name, lane] : lanes_) {
    LaneStats s;
    s.lane = name;
    for (const auto& [partition, p] : lane->partitions) {
      for (const auto& e : p.entries) {
        if (e->state == Entry::State::kDone) continue;
        if (e->state == Entry::State::kLeased && e->lease_expires_at > now) {
          ++s.leased;
        } else if (e->message.next_attempt_at > now) {
          ++s.delayed;
        } else {
          ++s.ready;
        }
        if (!s.oldest_created_at || e->message.created_at < *s.oldest_created_at) {
          s.oldest_created_at = e->message.created_at;
        }
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<KafkaQueue::LaneBacklog>> KafkaQueue::Backlog() {
  const int timeout_ms = static_cast<int>(options_.timeout.count());
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_, /*all_topics=*/1, nullptr, &md, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "metadata");
  // topic -> partitions, and which lane it belongs to (a tier topic: its
  // lane's, in `retrying`).
  struct Topic {
    std::string name;
    std::string lane;
    bool tier = false;
    std::vector<int32_t> partitions;
  };
  std::vector<Topic> topics;
  const std::string prefix = options_.topic_prefix + ".";
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    const std::string name = t.topic;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || !name.starts_with(prefix)) continue;
    std::string rest = name.substr(prefix.size());
    if (rest.empty() || rest[0] == '_') continue;  // _dlq, _state, _sources
    Topic topic{.name = name, .lane = rest};
    if (const size_t at = rest.rfind(".retry."); at != std::string::npos && at > 0) {
      topic.lane = rest.substr(0, at);
      topic.tier = true;
    }
    for (int p = 0; p < t.partition_cnt; ++p) topic.partitions.push_back(t.partitions[p].id);
    topics.push_back(std::move(topic));
  }
  rd_kafka_metadata_destroy(md);

  // The groups that consume them: a lane's own, and one `_retry` group for
  // every tier topic (its forwarders'). One consumer handle per group, in it
  // only to ask the committed offsets: it never subscribes, so it never
  // joins (the daemon's members keep their partitions).
  std::map<std::string, LaneBacklog> lanes;
  std::map<std::string, std::vector<const Topic*>> by_group;
  std::map<std::string, const Topic*> by_name;
  for (const Topic& t : topics) {
    LaneBacklog& lane = lanes[t.lane];
    lane.lane = t.lane;
    if (!t.tier) lane.partitions = static_cast<int32_t>(t.partitions.size());
    by_group[options_.group_id + (t.tier ? "._retry" : "." + t.lane)].push_back(&t);
    by_name[t.name] = &t;
  }
  for (const auto& [group, members] : by_group) {
    auto consumer = NewConsumer(group, nullptr);
    if (!consumer.ok()) return consumer.status();
    struct Closer {
      rd_kafka_t* rk;
      rd_kafka_topic_partition_list_t* list;
      ~Closer() {
        rd_kafka_topic_partition_list_destroy(list);
        rd_kafka_destroy(rk);
      }
    } closer{*consumer, rd_kafka_topic_partition_list_new(0)};
    for (const Topic* t : members) {
      for (int32_t p : t->partitions) {
        rd_kafka_topic_partition_list_add(closer.list, t->name.c_str(), p);
      }
    }
    err = rd_kafka_committed(*consumer, closer.list, timeout_ms);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return StatusOf(err, "committed offsets of the group " + group);
    }
    for (int i = 0; i < closer.list->cnt; ++i) {
      const rd_kafka_topic_partition_t& e = closer.list->elems[i];
      const Topic& t = *by_name.at(e.topic);
      int64_t lo = 0, hi = 0;
      err = rd_kafka_query_watermark_offsets(*consumer, e.topic, e.partition, &lo, &hi, timeout_ms);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return StatusOf(err, "offsets of " + t.name);
      // Nothing committed yet: the group starts at the earliest record.
      const int64_t from = std::max(e.offset, lo);
      LaneBacklog& lane = lanes[t.lane];
      (t.tier ? lane.retrying : lane.backlog) += std::max<int64_t>(hi - from, 0);
    }
  }
  auto dead = ReadDeadLetters();
  if (!dead.ok()) return dead.status();
  for (const DeadLetter& d : *dead) {
    LaneBacklog& lane = lanes[d.lane];
    lane.lane = d.lane;
    ++lane.dead;
  }
  std::vector<LaneBacklog> out;
  for (auto& [name, lane] : lanes) out.push_back(std::move(lane));
  return out;
}

// ---------------------------------------------------------------- state

Status KafkaQueue::PutState(const std::string& key, const std::string& value) {
  std::vector<Outgoing> records;
  records.push_back({StateTopic(), key, {}, value});
  std::vector<Status> st = ProduceAndWait(std::move(records));
  if (!st[0].ok()) return st[0];
  std::lock_guard lock(state_mu_);
  state_[key] = value;
  return Status::Ok();
}

Result<std::optional<std::string>> KafkaQueue::GetState(const std::string& key) {
  std::lock_guard lock(state_mu_);
  auto it = state_.find(key);
  if (it == state_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

}  // namespace crmhub::queue::kafka
