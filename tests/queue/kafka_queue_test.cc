// The Kafka engine's own tests (beyond the conformance suite): the record
// layout, and a broker taken down under load, against librdkafka's mock
// cluster.

#include "queue/kafka/kafka_queue.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // after rdkafka.h, as it requires

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "queue/kafka/kafka_records.h"
#include "queue/kafka/mock_cluster.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue::kafka {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;

TEST(KafkaRecordsTest, EveryFieldRoundTripsAndForeignRecordsAreRefused) {
  RecordFields f;
  f.lane = "out.x";
  f.source = "src";
  f.idempotency_key = "k";
  f.ordering_key = "sku";
  f.headers = {{"A", std::string("1\0 2", 4)}, {"crmhub.lane", "user header of that name"}};
  f.payload = std::string("p\0q", 3);
  f.created_at = FromUnixMillis(1'700'000'000'123);
  f.attempts = 3;
  f.history = {{FromUnixMillis(1), "first error"}, {FromUnixMillis(2), "second, with spaces"}};
  f.not_before = FromUnixMillis(5);
  f.reason = "second, with spaces";
  f.failed_at = FromUnixMillis(6);
  KafkaRecord r = EncodeRecord(f);
  EXPECT_EQ(r.key, "sku") << "partitioned by the ordering key";
  auto back = DecodeRecord(r.headers, r.value);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->lane, f.lane);
  EXPECT_EQ(back->source, f.source);
  EXPECT_EQ(back->idempotency_key, f.idempotency_key);
  EXPECT_EQ(back->ordering_key, f.ordering_key);
  EXPECT_EQ(back->headers, f.headers);
  EXPECT_EQ(back->payload, f.payload);
  EXPECT_EQ(back->created_at, f.created_at);
  EXPECT_EQ(back->attempts, 3);
  ASSERT_EQ(back->history.size(), 2u);
  EXPECT_EQ(back->history[1].error, "second, with spaces");
  EXPECT_EQ(back->history[1].at, FromUnixMillis(2));
  EXPECT_EQ(back->not_before, f.not_before);
  EXPECT_EQ(back->reason, f.reason);
  EXPECT_EQ(back->failed_at, f.failed_at);

  f.ordering_key.clear();
  EXPECT_EQ(EncodeRecord(f).key, "k") << "else by the idempotency key";
  EXPECT_EQ(DecodeRecord({{"x", "y"}}, "v").status().code(), StatusCode::kCorruption);
  Headers bad = r.headers;
  for (auto& [name, value] : bad) {
    if (name == "crmhub.attempts") value = "many";
  }
  EXPECT_EQ(DecodeRecord(bad, "v").status().code(), StatusCode::kCorruption);
}

// Issue 21, test 2: a broker taken down during a load of N messages loses no
// acknowledged message. Every batch answered Accepted is leased and acked
// afterwards, each message once (the idempotent producer's retries do not
// duplicate), and after a reopen nothing acked comes back.
TEST(KafkaQueueTest, ABrokerDownDuringLoadLosesNoAcknowledgedMessage) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  // Broker 2 leads two of the lane's four partitions, so taking it down
  // holds their records back whatever the mock chose by itself.
  ASSERT_TRUE(cluster.CreateTopic("crmhub.in.load", 4));
  for (int32_t partition : {0, 2}) {
    ASSERT_EQ(rd_kafka_mock_partition_set_leader(cluster.cluster(), "crmhub.in.load", partition, 2),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ManualClock clock;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.group_id = "failover";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  options.timeout = seconds(10);
  auto opened = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<KafkaQueue> q = std::move(opened).value();

  constexpr int kBatches = 40, kPerBatch = 50;  // N = 2,000
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  int answered_before_up = -1;
  std::set<std::string> accepted;
  std::vector<std::string> errors;
  for (int b = 0; b < kBatches; ++b) {
    if (b == kBatches / 4) {
      ASSERT_EQ(rd_kafka_mock_broker_set_down(cluster.cluster(), 2), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (b == kBatches * 3 / 4) {
      std::this_thread::sleep_for(milliseconds(1500));  // load waits on the down broker
      {
        std::lock_guard lock(mu);
        answered_before_up = answered;
      }
      ASSERT_EQ(rd_kafka_mock_broker_set_up(cluster.cluster(), 2), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    std::vector<NewMessage> batch;
    std::vector<std::string> keys;
    for (int i = 0; i < kPerBatch; ++i) {
      keys.push_back("m" + std::to_string(b * kPerBatch + i));
      batch.push_back(Msg("in.load", keys.back(), "payload " + keys.back()));
    }
    q->EnqueueAsync(std::move(batch), [&, keys](Result<std::vector<EnqueueOutcome>> r) {
      std::lock_guard lock(mu);
      if (r.ok()) {
        accepted.insert(keys.begin(), keys.end());
      } else {
        errors.push_back(r.status().ToString());
      }
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, seconds(30), [&] { return answered == kBatches; }));
  }
  // The mock keeps partition leaders where they are: the producer waits for
  // the broker to come back rather than failing, so every batch is accepted.
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_LT(answered_before_up, kBatches * 3 / 4) << "the outage held some batches back";
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kBatches * kPerBatch));

  std::map<std::string, int> delivered;
  const auto guard = std::chrono::steady_clock::now() + seconds(15);
  while (delivered.size() < accepted.size() && std::chrono::steady_clock::now() < guard) {
    auto leased = q->Lease("in.load", 500, seconds(60));
    ASSERT_TRUE(leased.ok()) << leased.status().ToString();
    std::vector<LeaseToken> tokens;
    for (const Leased& l : *leased) {
      ++delivered[l.message.idempotency_key];
      EXPECT_EQ(l.message.payload, "payload " + l.message.idempotency_key);
      tokens.push_back(l.lease);
    }
    for (const Status& s : q->AckBatch(tokens)) ASSERT_TRUE(s.ok()) << s.ToString();
  }
  for (const std::string& key : accepted) {
    EXPECT_EQ(delivered[key], 1) << key << ": acknowledged by the cluster, delivered once";
  }
  EXPECT_EQ(delivered.size(), accepted.size());

  // Every ack was committed: a new consumer in the group finds nothing.
  q.reset();
  auto reopened = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  const auto until = std::chrono::steady_clock::now() + seconds(4);
  while (std::chrono::steady_clock::now() < until) {
    auto again = (*reopened)->Lease("in.load", 10, seconds(60));
    ASSERT_TRUE(again.ok());
    ASSERT_TRUE(again->empty()) << (*again)[0].message.idempotency_key << " came back";
  }
}

// A partition with max_buffered_per_partition records held is paused, and
// resumed once they are finished: a backlog far above the bound drains.
TEST(KafkaQueueTest, APausedPartitionResumesAsItsRecordsFinish) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ManualClock clock;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.group_id = "pause";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  options.max_buffered_per_partition = 20;
  auto q = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  constexpr int kMessages = 1000;
  std::vector<NewMessage> batch;
  for (int i = 0; i < kMessages; ++i) batch.push_back(Msg("in.pause", "m" + std::to_string(i)));
  ASSERT_TRUE((*q)->EnqueueBatch(std::move(batch)).ok());
  std::set<std::string> delivered;
  const auto guard = std::chrono::steady_clock::now() + seconds(15);
  while (delivered.size() < kMessages && std::chrono::steady_clock::now() < guard) {
    auto leased = (*q)->Lease("in.pause", 64, seconds(60));
    ASSERT_TRUE(leased.ok());
    std::vector<LeaseToken> tokens;
    for (const Leased& l : *leased) {
      delivered.insert(l.message.idempotency_key);
      tokens.push_back(l.lease);
    }
    for (const Status& s : (*q)->AckBatch(tokens)) ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kMessages));
}

// Two engines in one consumer group (two daemons) share a lane's
// partitions: both deliver, every message is delivered (at least once:
// a rebalance may hand a record over again). When one leaves, the other
// takes over its partitions and delivers what comes next.
// Issue 21's metrics: produce latency, rebalances and consumer lag, in the
// crmhub_* naming, present at zero from the start.
TEST(KafkaQueueTest, ItsMetricsCountProducesRebalancesAndLag) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ASSERT_TRUE(cluster.CreateTopic("crmhub.in.m", 2));
  ManualClock clock;
  MetricsRegistry metrics;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.group_id = "metrics";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  options.metrics = &metrics;
  auto q = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::string text = metrics.RenderPrometheus();
  EXPECT_NE(text.find("crmhub_kafka_produce_duration_seconds_count 0"), std::string::npos) << text;
  EXPECT_NE(text.find("crmhub_kafka_rebalances_total{lane=\"_sources\"} 0"), std::string::npos)
      << text;

  std::vector<NewMessage> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Msg("in.m", "m" + std::to_string(i)));
  ASSERT_TRUE((*q)->EnqueueBatch(std::move(batch)).ok());
  Histogram& latency =
      metrics.GetHistogram("crmhub_kafka_produce_duration_seconds", "", DefaultLatencyBuckets());
  EXPECT_EQ(latency.count(), 10u) << "one observation per acknowledged record";
  EXPECT_GT(latency.sum(), 0.0);

  std::vector<LeaseToken> tokens;
  // Generous: the group's first join is slow on a loaded machine.
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  while (tokens.size() < 10 && std::chrono::steady_clock::now() < deadline) {
    auto leased = (*q)->Lease("in.m", 100, seconds(60));
    ASSERT_TRUE(leased.ok());
    for (const Leased& l : *leased) tokens.push_back(l.lease);
  }
  ASSERT_EQ(tokens.size(), 10u);
  Gauge& lag = metrics.GetGauge("crmhub_kafka_consumer_lag", "", {{"lane", "in.m"}});
  EXPECT_EQ(lag.value(), 10) << "leased is not finished";
  EXPECT_GE(metrics.GetCounter("crmhub_kafka_rebalances_total", "", {{"lane", "in.m"}}).value(), 1)
      << "the lane's consumer was assigned its partitions";
  for (const Status& st : (*q)->AckBatch(tokens)) ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE((*q)->Lease("in.m", 100, seconds(60)).ok());
  EXPECT_EQ(lag.value(), 0) << "everything finished";
}

// Delay-tiered retry topics: a retry five minutes ahead waits in the 1 m
// tier topic, not in its lane (whose committed offset passes it: no lag),
// and the forwarder puts it back on the lane when it falls due.
TEST(KafkaQueueTest, ALongRetryWaitsInItsTierTopicAndComesBackWhenDue) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ASSERT_TRUE(cluster.CreateTopic("crmhub.in.t", 2));
  ManualClock clock;
  MetricsRegistry metrics;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.group_id = "tiers";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  options.metrics = &metrics;
  options.retry_tiers = {std::chrono::minutes(1), std::chrono::minutes(10)};
  auto q = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE((*q)->Enqueue(Msg("in.t", "k1", "payload")).ok());
  auto lease_one = [&](std::chrono::seconds within) -> std::optional<Leased> {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = (*q)->Lease("in.t", 1, seconds(3600));
      EXPECT_TRUE(got.ok());
      if (got.ok() && !got->empty()) return (*got)[0];
    }
    return std::nullopt;
  };
  auto first = lease_one(seconds(60));
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE((*q)->Retry(first->lease, "busy", clock.Now() + std::chrono::minutes(5)).ok());
  EXPECT_EQ((*q)->LaneTopic("in.t") + ".retry.1m", "crmhub.in.t.retry.1m");

  EXPECT_FALSE(lease_one(seconds(2)).has_value()) << "not due for five minutes";
  Gauge& lag = metrics.GetGauge("crmhub_kafka_consumer_lag", "", {{"lane", "in.t"}});
  EXPECT_EQ(lag.value(), 0) << "the lane holds nothing back: the copy is in the tier topic";

  clock.Advance(std::chrono::minutes(5));
  auto again = lease_one(seconds(60));
  ASSERT_TRUE(again.has_value()) << "the forwarder never put it back";
  EXPECT_EQ(again->message.idempotency_key, "k1");
  EXPECT_EQ(again->message.payload, "payload");
  EXPECT_EQ(again->message.attempts, 2);
  EXPECT_EQ(again->message.last_error, "busy");
  ASSERT_TRUE((*q)->Ack(again->lease).ok());
  EXPECT_FALSE(lease_one(seconds(2)).has_value()) << "forwarded once";
}

TEST(KafkaQueueTest, TwoEnginesInOneGroupSharePartitionsAndOneTakesOver) {
  MockKafkaCluster cluster(3);
  ASSERT_FALSE(cluster.bootstraps().empty());
  ASSERT_TRUE(cluster.CreateTopic("crmhub.in.shared", 4));
  ManualClock clock;
  KafkaQueueOptions options;
  options.brokers = cluster.bootstraps();
  options.group_id = "pair";
  options.properties = MockKafkaCluster::LowLatencyProperties();
  auto a = KafkaQueue::Open(clock, options);
  auto b = KafkaQueue::Open(clock, options);
  ASSERT_TRUE(a.ok() && b.ok());
  // Both join the group and hold partitions before the load arrives.
  auto assigned = std::chrono::steady_clock::now() + seconds(20);
  bool both = false;
  while (!both && std::chrono::steady_clock::now() < assigned) {
    ASSERT_TRUE((*a)->Lease("in.shared", 1, seconds(60))->empty());
    ASSERT_TRUE((*b)->Lease("in.shared", 1, seconds(60))->empty());
    both =
        (*a)->CaughtUp("in.shared").value_or(false) && (*b)->CaughtUp("in.shared").value_or(false);
  }
  ASSERT_TRUE(both) << "the group never gave both engines partitions";
  std::vector<NewMessage> batch;
  for (int i = 0; i < 200; ++i) batch.push_back(Msg("in.shared", "m" + std::to_string(i)));
  ASSERT_TRUE((*a)->EnqueueBatch(std::move(batch)).ok());

  std::set<std::string> delivered;
  int by_a = 0, by_b = 0;
  auto drain = [&](KafkaQueue& q, int& count) {
    auto leased = q.Lease("in.shared", 20, seconds(60));
    ASSERT_TRUE(leased.ok());
    std::vector<LeaseToken> tokens;
    for (const Leased& l : *leased) {
      delivered.insert(l.message.idempotency_key);
      tokens.push_back(l.lease);
    }
    count += static_cast<int>(tokens.size());
    // A rebalance between lease and ack makes a token stale: the record is
    // the new owner's to deliver again, which this loop absorbs.
    (void)q.AckBatch(tokens);
  };
  auto guard = std::chrono::steady_clock::now() + seconds(20);
  while (delivered.size() < 200 && std::chrono::steady_clock::now() < guard) {
    drain(**a, by_a);
    drain(**b, by_b);
  }
  EXPECT_EQ(delivered.size(), 200u);
  EXPECT_GT(by_a, 0) << "both engines own partitions";
  EXPECT_GT(by_b, 0) << "both engines own partitions";

  b->reset();  // leaves the group: its partitions go to `a`
  batch.clear();
  for (int i = 200; i < 300; ++i) batch.push_back(Msg("in.shared", "m" + std::to_string(i)));
  ASSERT_TRUE((*a)->EnqueueBatch(std::move(batch)).ok());
  guard = std::chrono::steady_clock::now() + seconds(20);
  while (delivered.size() < 300 && std::chrono::steady_clock::now() < guard) drain(**a, by_a);
  EXPECT_EQ(delivered.size(), 300u) << "the remaining engine delivers every partition's records";
}

}  // namespace
}  // namespace crmhub::queue::kafka
