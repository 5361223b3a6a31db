// The queue conformance suite: queue/queue.h's engine-neutral promises,
// written once and run on every engine (QueueEngineFactory,
// tests/queue/conformance.h). The engine-specific tests (SQLite's dedup
// pruning, fsync counts, VFS faults; Kafka's broker failover) stay in their
// own files.
//
// Where an engine's documented guarantee differs (Kafka cannot refuse a
// duplicate at enqueue, docs/queue.md "The Kafka engine"), the test asserts
// that engine's own guarantee, says why, and records it as a test property;
// nothing is skipped.
//
// Time: a ManualClock drives every due time (not_before, backoff, lease
// expiry). Engines that fetch from a broker need real time to see a message;
// LeaseExactly waits for it and NothingDue waits DeliveryWait() before it
// concludes that nothing is due.

#include "tests/queue/conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace testing {
// Each engine's factory; defined beside its instantiation.
QueueEngineFactory* SqliteFactory();
#ifdef CRMHUB_CONFORMANCE_KAFKA
QueueEngineFactory* KafkaFactory();
#endif
}  // namespace testing

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Msg;
using testing::QueueEngineFactory;

class QueueConformance : public ::testing::TestWithParam<QueueEngineFactory*> {
 protected:
  void SetUp() override {
    engine_ = GetParam();
    engine_->SetUp();
    q_ = Open();
    ASSERT_NE(q_, nullptr);
  }
  void TearDown() override {
    q_.reset();
    engine_->TearDown();
  }

  std::unique_ptr<Queue> Open() {
    auto q = engine_->Open(clock_);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  // Leases until `n` messages of `lane` came (or a generous real-time guard
  // passed), then checks that no more are due.
  std::vector<Leased> LeaseExactly(const std::string& lane, size_t n,
                                   milliseconds lease = seconds(30)) {
    std::vector<Leased> got;
    const auto guard = std::chrono::steady_clock::now() + seconds(15);
    while (got.size() < n && std::chrono::steady_clock::now() < guard) {
      auto batch = q_->Lease(lane, static_cast<int>(n - got.size()), lease);
      EXPECT_TRUE(batch.ok()) << batch.status().ToString();
      if (!batch.ok()) break;
      for (Leased& l : *batch) got.push_back(std::move(l));
      if (got.size() < n) std::this_thread::sleep_for(milliseconds(20));
    }
    EXPECT_EQ(got.size(), n) << "leased from " << lane;
    NothingDue(lane);
    return got;
  }
  Leased LeaseOne(const std::string& lane, milliseconds lease = seconds(30)) {
    auto got = LeaseExactly(lane, 1, lease);
    return got.empty() ? Leased{} : got[0];
  }
  // Nothing of `lane` is due: checked once the engine has seen everything
  // enqueued (CaughtUp), and again for the engine's delivery wait.
  void NothingDue(const std::string& lane) {
    // A consumer group forms in about 3 s on the mock cluster; the guard
    // leaves room for a loaded CI machine.
    const auto guard = std::chrono::steady_clock::now() + seconds(30);
    bool caught = false;
    while (!caught && std::chrono::steady_clock::now() < guard) {
      auto batch = q_->Lease(lane, 10, seconds(30));
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      ASSERT_TRUE(batch->empty()) << "unexpected: " << (*batch)[0].message.idempotency_key;
      auto c = engine_->CaughtUp(*q_, lane);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      caught = *c;
      if (!caught) std::this_thread::sleep_for(milliseconds(20));
    }
    ASSERT_TRUE(caught) << "the engine never caught up with " << lane;
    const auto until = std::chrono::steady_clock::now() + engine_->DeliveryWait();
    do {
      auto batch = q_->Lease(lane, 10, seconds(30));
      ASSERT_TRUE(batch.ok()) << batch.status().ToString();
      ASSERT_TRUE(batch->empty()) << "unexpected: " << (*batch)[0].message.idempotency_key;
      if (engine_->DeliveryWait().count() > 0) std::this_thread::sleep_for(milliseconds(20));
    } while (std::chrono::steady_clock::now() < until);
  }
  // The dead letters, once there are any (a log's are read back from its
  // dead-letter topic) or a real-time guard passed.
  std::vector<DeadLetter> DeadLetters() {
    const auto guard = std::chrono::steady_clock::now() + seconds(15);
    while (true) {
      auto list = q_->ListDeadLetters({});
      EXPECT_TRUE(list.ok()) << list.status().ToString();
      if (!list.ok()) return {};
      if (!list->empty() || std::chrono::steady_clock::now() >= guard) return *list;
    }
  }
  static std::set<std::string> Keys(const std::vector<Leased>& leased) {
    std::set<std::string> keys;
    for (const Leased& l : leased) keys.insert(l.message.idempotency_key);
    return keys;
  }

  QueueEngineFactory* engine_ = nullptr;
  ManualClock clock_;
  std::unique_ptr<Queue> q_;
};

TEST_P(QueueConformance, EnqueueLeaseAckRoundTripKeepsEveryField) {
  NewMessage m = Msg("in.site", "k1", std::string("raw\0bytes", 9), "order-1");
  m.headers = {{"Content-Type", "application/json"}, {"X-Sig", std::string("a\0b", 3)}};
  ASSERT_EQ(q_->Enqueue(m).value(), EnqueueOutcome::kAccepted);

  Leased l = LeaseOne("in.site");
  EXPECT_EQ(l.message.lane, "in.site");
  EXPECT_EQ(l.message.source, "src");
  EXPECT_EQ(l.message.idempotency_key, "k1");
  EXPECT_EQ(l.message.ordering_key, "order-1");
  EXPECT_EQ(l.message.payload, std::string("raw\0bytes", 9));
  EXPECT_EQ(l.message.headers, m.headers);
  EXPECT_EQ(l.message.attempts, 1);
  EXPECT_EQ(l.message.created_at, FromUnixMillis(ToUnixMillis(clock_.Now())));
  EXPECT_EQ(l.lease_expires_at, clock_.Now() + seconds(30));
  EXPECT_EQ(l.lease.message_id, l.message.id);

  NothingDue("in.site");  // a leased message is invisible
  EXPECT_TRUE(q_->Ack(l.lease).ok());
  EXPECT_EQ(q_->Ack(l.lease).code(), StatusCode::kFailedPrecondition) << "second ack";
  NothingDue("in.site");
  EXPECT_TRUE(q_->Healthy());
}

TEST_P(QueueConformance, InvalidMessagesAreRejectedAllOrNothing) {
  EXPECT_EQ(q_->Enqueue(Msg("in.a", "")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q_->Enqueue(Msg("", "k")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q_->Enqueue(Msg("in.a", "k", "{}", "", "")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(q_->EnqueueBatch({Msg("in.a", "good"), Msg("in.a", "")}).ok());
  NothingDue("in.a");
  EXPECT_EQ(q_->Enqueue(Msg("in.a", "good")).value(), EnqueueOutcome::kAccepted);
  EXPECT_EQ(LeaseOne("in.a").message.idempotency_key, "good");
}

// queue.h: (source, key) accepted within the retention window is a
// Duplicate. Kafka's log cannot refuse an append (docs/queue.md, "The
// Kafka engine"): there every copy is accepted and delivered, and the sinks
// absorb the repeat (the CRM store's applied-events table, the REST sink's
// Idempotency-Key). Both halves are asserted, per engine.
TEST_P(QueueConformance, DuplicatesWithinTheWindowPerEngineGuarantee) {
  ASSERT_EQ(q_->Enqueue(Msg("in.a", "k", "1")).value(), EnqueueOutcome::kAccepted);
  auto again = q_->Enqueue(Msg("in.a", "k", "2"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  // Keys are per source.
  EXPECT_EQ(q_->Enqueue(Msg("in.a", "k", "3", "", "other")).value(), EnqueueOutcome::kAccepted);
  auto batch = q_->EnqueueBatch({Msg("in.a", "b"), Msg("in.a", "b"), Msg("in.a", "c")});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();

  if (engine_->RefusesDuplicatesAtEnqueue()) {
    EXPECT_EQ(*again, EnqueueOutcome::kDuplicate);
    EXPECT_EQ(*batch,
              (std::vector<EnqueueOutcome>{EnqueueOutcome::kAccepted, EnqueueOutcome::kDuplicate,
                                           EnqueueOutcome::kAccepted}));
    auto leased = LeaseExactly("in.a", 4);
    for (const Leased& l : leased) ASSERT_TRUE(q_->Ack(l.lease).ok());
    EXPECT_EQ(q_->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kDuplicate)
        << "still a duplicate after delivery";
  } else {
    ::testing::Test::RecordProperty(
        "engine_difference",
        "no enqueue-time dedup: every copy is accepted and delivered at least once; "
        "sinks absorb duplicates (docs/queue.md)");
    EXPECT_EQ(*again, EnqueueOutcome::kAccepted);
    EXPECT_EQ(*batch, (std::vector<EnqueueOutcome>(3, EnqueueOutcome::kAccepted)));
    auto leased = LeaseExactly("in.a", 6);
    std::multiset<std::string> keys;
    for (const Leased& l : leased) {
      keys.insert(l.message.source + "/" + l.message.idempotency_key);
      ASSERT_TRUE(q_->Ack(l.lease).ok());
    }
    EXPECT_EQ(keys,
              (std::multiset<std::string>{"src/k", "src/k", "other/k", "src/b", "src/b", "src/c"}))
        << "every copy carries its key, so a sink can absorb the repeat";
  }
}

TEST_P(QueueConformance, NotBeforeDelaysFirstDelivery) {
  NewMessage m = Msg("in.a", "k");
  m.not_before = clock_.Now() + seconds(10);
  ASSERT_TRUE(q_->Enqueue(m).ok());
  NothingDue("in.a");
  clock_.Advance(seconds(10));
  EXPECT_EQ(LeaseOne("in.a").message.idempotency_key, "k");
}

TEST_P(QueueConformance, RetryWithNotBeforeIsDueThenWithItsError) {
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "k", "raw")).ok());
  Leased first = LeaseOne("out.x");
  ASSERT_TRUE(q_->Retry(first.lease, "429 slow down", clock_.Now() + seconds(120)).ok());
  EXPECT_EQ(q_->Ack(first.lease).code(), StatusCode::kFailedPrecondition) << "settled";
  clock_.Advance(seconds(119));
  NothingDue("out.x");
  clock_.Advance(seconds(1));
  Leased second = LeaseOne("out.x");
  EXPECT_EQ(second.message.idempotency_key, "k");
  EXPECT_EQ(second.message.payload, "raw");
  EXPECT_EQ(second.message.attempts, 2);
  EXPECT_EQ(second.message.first_error, "429 slow down");
  EXPECT_EQ(second.message.last_error, "429 slow down");
  ASSERT_TRUE(q_->Ack(second.lease).ok());
  NothingDue("out.x");
}

// A throttled retry (the receiver's 429: nothing was wrong with the
// message) gives back the delivery its lease counted: more throttles than
// the lane's max_attempts (20 by default) dead-letter nothing, while a plain
// retry still counts, and max_age still ends it.
TEST_P(QueueConformance, ThrottledRetriesAreNotCountedAgainstMaxAttempts) {
  const RetryPolicy defaults;
  auto throttle = [&](const Leased& l, const std::string& reason) {
    const std::vector<Settlement> one{
        Settlement::Throttled(l.lease, reason, clock_.Now() + seconds(1))};
    return q_->Settle(one).front();
  };
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "k", "raw")).ok());
  Leased l = LeaseOne("out.x");
  for (int i = 0; i < defaults.max_attempts + 5; ++i) {
    ASSERT_EQ(l.message.attempts, 1) << "throttle " << i;
    ASSERT_TRUE(throttle(l, "HTTP 429").ok());
    clock_.Advance(seconds(1));
    l = LeaseOne("out.x");
    ASSERT_EQ(l.message.idempotency_key, "k");
  }
  EXPECT_EQ(l.message.attempts, 1);
  EXPECT_EQ(l.message.last_error, "HTTP 429");
  ASSERT_TRUE(q_->Retry(l.lease, "HTTP 503", clock_.Now() + seconds(1)).ok());
  clock_.Advance(seconds(1));
  l = LeaseOne("out.x");
  EXPECT_EQ(l.message.attempts, 2) << "a plain retry counts";
  ASSERT_TRUE(throttle(l, "HTTP 429").ok());
  clock_.Advance(defaults.max_age);
  l = LeaseOne("out.x");
  EXPECT_EQ(l.message.attempts, 2);
  ASSERT_TRUE(throttle(l, "HTTP 429 again").ok());
  auto dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u) << "max_age ends even a throttled message";
  EXPECT_EQ(dead[0].idempotency_key, "k");
  NothingDue("out.x");
}

TEST_P(QueueConformance, LeaseExpiryRedeliversAndStaleTokenIsRejected) {
  ASSERT_TRUE(q_->Enqueue(Msg("in.a", "k")).ok());
  Leased first = LeaseOne("in.a", seconds(5));
  clock_.Advance(seconds(5));
  Leased second = LeaseOne("in.a", seconds(5));
  EXPECT_EQ(second.message.idempotency_key, "k");
  EXPECT_EQ(second.message.attempts, 2);
  EXPECT_EQ(q_->Ack(first.lease).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q_->Fail(first.lease, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(q_->Ack(second.lease).ok());
  NothingDue("in.a");
}

TEST_P(QueueConformance, FailMakesADeadLetterWithReasonAndHistory) {
  NewMessage m = Msg("out.x", "k", "payload-1", "ok1");
  m.headers = {{"H", "v"}};
  ASSERT_TRUE(q_->Enqueue(m).ok());
  const SystemTime created = clock_.Now();
  ASSERT_TRUE(q_->Retry(LeaseOne("out.x").lease, "first", clock_.Now() + seconds(1)).ok());
  clock_.Advance(seconds(1));
  const SystemTime failed = clock_.Now();
  ASSERT_TRUE(q_->Fail(LeaseOne("out.x").lease, "mapping: field x missing").ok());
  NothingDue("out.x");

  std::vector<DeadLetter> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  const DeadLetter& d = dead[0];
  EXPECT_EQ(d.lane, "out.x");
  EXPECT_EQ(d.source, "src");
  EXPECT_EQ(d.idempotency_key, "k");
  EXPECT_EQ(d.ordering_key, "ok1");
  EXPECT_EQ(d.payload, "payload-1");
  EXPECT_EQ(d.headers, m.headers);
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.reason, "mapping: field x missing");
  EXPECT_EQ(d.created_at, FromUnixMillis(ToUnixMillis(created)));
  EXPECT_EQ(d.failed_at, FromUnixMillis(ToUnixMillis(failed)));
  ASSERT_EQ(d.history.size(), 2u);
  EXPECT_EQ(d.history[0].error, "first");
  EXPECT_EQ(d.history[1].error, "mapping: field x missing");
  auto got = q_->GetDeadLetter(d.id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->payload, "payload-1");
}

// `crmhub dlq replay|drop|purge`: a replayed dead letter is due again in its
// lane with its attempts reset and its key, payload and history kept, and
// leaves the list; a dropped one leaves it; purge drops those that failed
// before the cutoff. (The SQLite engine also keeps the message's id:
// retry_dlq_test. On Kafka a replayed record is a new record with a new id.)
TEST_P(QueueConformance, DeadLettersAreReplayedDroppedAndPurged) {
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_TRUE(q_->Enqueue(Msg("out.d", k, std::string("p-") + k)).ok());
  }
  std::vector<Leased> leased = LeaseExactly("out.d", 3, std::chrono::hours(10));
  std::sort(leased.begin(), leased.end(), [](const Leased& x, const Leased& y) {
    return x.message.idempotency_key < y.message.idempotency_key;
  });
  for (const Leased& l : leased) {  // a fails 3 h before the end, b 2 h, c 1 h
    ASSERT_TRUE(q_->Fail(l.lease, "bad " + l.message.idempotency_key).ok());
    clock_.Advance(std::chrono::hours(1));
  }
  auto by_key = [&]() {
    std::map<std::string, DeadLetter> out;
    auto list = q_->ListDeadLetters({});
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    if (list.ok()) {
      for (DeadLetter& d : *list) out[d.idempotency_key] = std::move(d);
    }
    return out;
  };
  std::map<std::string, DeadLetter> dead = by_key();
  ASSERT_EQ(dead.size(), 3u);

  const int64_t a = dead["a"].id;
  ASSERT_TRUE(q_->ReplayDeadLetter(a).ok());
  EXPECT_EQ(q_->ReplayDeadLetter(a).code(), StatusCode::kNotFound);
  EXPECT_EQ(by_key().count("a"), 0u);
  Leased again = LeaseOne("out.d");
  EXPECT_EQ(again.message.idempotency_key, "a");
  EXPECT_EQ(again.message.payload, "p-a");
  EXPECT_EQ(again.message.attempts, 1) << "attempts reset";
  ASSERT_TRUE(q_->Fail(again.lease, "still bad").ok());
  dead = by_key();
  ASSERT_EQ(dead.count("a"), 1u);
  ASSERT_EQ(dead["a"].history.size(), 2u) << "the history kept";
  EXPECT_EQ(dead["a"].history[0].error, "bad a");
  EXPECT_EQ(dead["a"].history[1].error, "still bad");

  ASSERT_TRUE(q_->DropDeadLetter(dead["b"].id).ok());
  EXPECT_EQ(q_->DropDeadLetter(dead["b"].id).code(), StatusCode::kNotFound);
  // c failed an hour ago, a just now: a 30-minute cutoff purges c alone.
  auto purged = q_->PurgeDeadLetters(clock_.Now() - std::chrono::minutes(30));
  ASSERT_TRUE(purged.ok()) << purged.status().ToString();
  EXPECT_EQ(*purged, 1);
  dead = by_key();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead.count("a"), 1u);

  auto all = q_->ReplayAllDeadLetters(std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(*all, 1);
  EXPECT_TRUE(by_key().empty());
  Leased last = LeaseOne("out.d");
  EXPECT_EQ(last.message.idempotency_key, "a");
  ASSERT_TRUE(q_->Ack(last.lease).ok());
  NothingDue("out.d");
}

TEST_P(QueueConformance, SettleAMixedBatchAnswersEachItem) {
  std::vector<NewMessage> fill;
  for (int i = 0; i < 5; ++i) fill.push_back(Msg("in.a", "k" + std::to_string(i)));
  ASSERT_TRUE(q_->EnqueueBatch(std::move(fill)).ok());
  std::vector<Leased> l = LeaseExactly("in.a", 5);
  ASSERT_EQ(l.size(), 5u);
  std::sort(l.begin(), l.end(), [](const Leased& a, const Leased& b) {
    return a.message.idempotency_key < b.message.idempotency_key;
  });
  ASSERT_TRUE(q_->Ack(l[4].lease).ok());
  const LeaseToken forged{l[3].lease.message_id, l[3].lease.token + 1000};

  const std::vector<Settlement> settlements = {
      Settlement::Ack(l[0].lease),
      Settlement::Retry(l[1].lease, "429 slow down", clock_.Now() + seconds(60)),
      Settlement::Fail(l[2].lease, "400 bad order"),
      Settlement::Ack(forged),            // a token that never was: stale
      Settlement::Ack(l[4].lease),        // already settled: stale
      Settlement::Fail(l[0].lease, "x"),  // settled earlier in this very call: stale
  };
  std::vector<Status> st = q_->Settle(settlements);
  ASSERT_EQ(st.size(), settlements.size());
  EXPECT_TRUE(st[0].ok()) << st[0].ToString();
  EXPECT_TRUE(st[1].ok()) << st[1].ToString();
  EXPECT_TRUE(st[2].ok()) << st[2].ToString();
  EXPECT_EQ(st[3].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st[4].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st[5].code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(q_->Settle({}).empty());

  // The stale items changed nothing: message 3 settles with its real token.
  EXPECT_TRUE(q_->Ack(l[3].lease).ok());
  NothingDue("in.a");
  clock_.Advance(seconds(60));
  Leased again = LeaseOne("in.a");
  EXPECT_EQ(again.message.idempotency_key, "k1");
  EXPECT_EQ(again.message.last_error, "429 slow down");
  ASSERT_TRUE(q_->Ack(again.lease).ok());

  std::vector<DeadLetter> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].idempotency_key, "k2");
  EXPECT_EQ(dead[0].reason, "400 bad order");
}

// SettleAsync: Settle's answers, given to the callback once durable, and a
// Lease made after it returns is applied after it (queue.h): the acked
// message's successor under its ordering key is due at once.
TEST_P(QueueConformance, SettleAsyncAnswersEachItemAndALaterLeaseSeesIt) {
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "a1", "1", "sku-a")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "a2", "2", "sku-a")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "n1", "3")).ok());
  std::vector<Leased> first = LeaseExactly("out.x", 2);  // a2 waits behind a1
  ASSERT_EQ(Keys(first), (std::set<std::string>{"a1", "n1"}));
  const Leased& a1 = first[0].message.idempotency_key == "a1" ? first[0] : first[1];
  const Leased& n1 = first[0].message.idempotency_key == "a1" ? first[1] : first[0];

  std::promise<std::vector<Status>> answered;
  auto answers = answered.get_future();
  const LeaseToken forged{n1.lease.message_id, n1.lease.token + 1000};
  q_->SettleAsync(
      {Settlement::Ack(a1.lease), Settlement::Ack(forged), Settlement::Fail(n1.lease, "400 bad")},
      [&answered](std::vector<Status> st) { answered.set_value(std::move(st)); });
  Leased a2 = LeaseOne("out.x");
  EXPECT_EQ(a2.message.idempotency_key, "a2");
  ASSERT_EQ(answers.wait_for(seconds(30)), std::future_status::ready);
  std::vector<Status> st = answers.get();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_TRUE(st[0].ok()) << st[0].ToString();
  EXPECT_EQ(st[1].code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(st[2].ok()) << st[2].ToString();
  ASSERT_TRUE(q_->Ack(a2.lease).ok());
  std::vector<DeadLetter> dead = DeadLetters();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].idempotency_key, "n1");

  // Nothing to settle: answered at once, with no answers.
  bool empty_answered = false;
  q_->SettleAsync({}, [&](std::vector<Status> none) { empty_answered = none.empty(); });
  EXPECT_TRUE(empty_answered);
}

TEST_P(QueueConformance, OrderingKeySerialisesWithinALaneOthersRunInParallel) {
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "a1", "1", "sku-a")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "a2", "2", "sku-a")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "b1", "3", "sku-b")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "n1", "4")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.x", "a3", "5", "sku-a")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("out.y", "y1", "6", "sku-a")).ok());  // other lane

  std::vector<Leased> first = LeaseExactly("out.x", 3);
  EXPECT_EQ(Keys(first), (std::set<std::string>{"a1", "b1", "n1"}));
  EXPECT_EQ(LeaseExactly("out.y", 1).size(), 1u) << "ordering keys are per lane";

  Leased a1;
  for (const Leased& l : first) {
    if (l.message.idempotency_key == "a1") {
      a1 = l;
    } else {
      ASSERT_TRUE(q_->Ack(l.lease).ok());
    }
  }
  // a2 waits for a1, also while a1 is retried with a delay.
  ASSERT_TRUE(q_->Retry(a1.lease, "busy", clock_.Now() + seconds(60)).ok());
  NothingDue("out.x");
  clock_.Advance(seconds(60));
  Leased again = LeaseOne("out.x");
  EXPECT_EQ(again.message.idempotency_key, "a1");
  ASSERT_TRUE(q_->Ack(again.lease).ok());
  Leased a2 = LeaseOne("out.x");  // also checks that a3 waits for a2
  EXPECT_EQ(a2.message.idempotency_key, "a2");
  ASSERT_TRUE(q_->Fail(a2.lease, "rejected").ok());  // a dead letter no longer blocks
  EXPECT_EQ(LeaseOne("out.x").message.idempotency_key, "a3");
}

TEST_P(QueueConformance, StateRoundTripSurvivesReopen) {
  auto missing = q_->GetState("cursor.ozon");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(q_->PutState("cursor.ozon", "2026-11-24T10:00:00Z").ok());
  EXPECT_EQ(q_->GetState("cursor.ozon")->value(), "2026-11-24T10:00:00Z");
  ASSERT_TRUE(q_->PutState("cursor.ozon", std::string("v2\0", 3)).ok());
  ASSERT_TRUE(q_->PutState("cursor.wb", "7").ok());
  q_.reset();
  q_ = Open();
  ASSERT_NE(q_, nullptr);
  EXPECT_EQ(q_->GetState("cursor.ozon")->value(), std::string("v2\0", 3));
  EXPECT_EQ(q_->GetState("cursor.wb")->value(), "7");
}

// A message leased but never settled before the engine closed is delivered
// again after a reopen (at least once).
TEST_P(QueueConformance, AnUnsettledLeaseIsDeliveredAgainAfterReopen) {
  ASSERT_TRUE(q_->Enqueue(Msg("in.a", "k1")).ok());
  ASSERT_TRUE(q_->Enqueue(Msg("in.a", "k2")).ok());
  std::vector<Leased> leased = LeaseExactly("in.a", 2, std::chrono::hours(1));
  for (const Leased& l : leased) {
    if (l.message.idempotency_key == "k1") {
      ASSERT_TRUE(q_->Ack(l.lease).ok());
    }
  }
  q_.reset();
  q_ = Open();
  ASSERT_NE(q_, nullptr);
  Leased again = LeaseOne("in.a");
  EXPECT_EQ(again.message.idempotency_key, "k2");
  EXPECT_TRUE(q_->Ack(again.lease).ok());
}

std::string EngineName(const ::testing::TestParamInfo<QueueEngineFactory*>& param) {
  return param.param->Name();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, QueueConformance, ::testing::Values(testing::SqliteFactory()),
                         EngineName);
#ifdef CRMHUB_CONFORMANCE_KAFKA
INSTANTIATE_TEST_SUITE_P(Kafka, QueueConformance, ::testing::Values(testing::KafkaFactory()),
                         EngineName);
#endif

}  // namespace
}  // namespace crmhub::queue
