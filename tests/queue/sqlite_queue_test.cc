// Unit tests of SqliteQueue against a real SQLite file, with a ManualClock:
// no sleeps, time only moves when a test advances it.

#include "queue/sqlite_queue.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <future>
#include <set>
#include <thread>

#include "queue/paths.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::Msg;
using testing::TempDir;

class SqliteQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::unique_ptr<SqliteQueue> OpenQueue(SqliteQueueOptions options = {}) {
    options.data_dir = dir_.path();
    options.maintenance_interval = milliseconds(0);
    if (!options.jitter) options.jitter = [](int64_t cap) { return cap; };  // deterministic
    auto q = SqliteQueue::Open(clock_, std::move(options));
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  Leased LeaseOne(SqliteQueue& q, const std::string& lane, milliseconds d = seconds(30)) {
    auto leased = q.Lease(lane, 1, d);
    EXPECT_TRUE(leased.ok()) << leased.status().ToString();
    EXPECT_EQ(leased->size(), 1u);
    return leased->empty() ? Leased{} : (*leased)[0];
  }

  TempDir dir_;
  ManualClock clock_;
};

TEST_F(SqliteQueueTest, EnqueueLeaseAckRoundTripKeepsEveryField) {
  auto q = OpenQueue();
  NewMessage m = Msg("in.site", "k1", std::string("raw\0bytes", 9), "order-1");
  m.headers = {{"Content-Type", "application/json"}, {"X-Sig", std::string("a\0b", 3)}};
  ASSERT_EQ(q->Enqueue(m).value(), EnqueueOutcome::kAccepted);
  EXPECT_EQ(q->Depth(), 1);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / kQueueDbFileName));

  Leased l = LeaseOne(*q, "in.site");
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

  EXPECT_TRUE(q->Lease("in.site", 10, seconds(30))->empty()) << "leased messages are invisible";
  EXPECT_TRUE(q->Ack(l.lease).ok());
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_EQ(q->Ack(l.lease).code(), StatusCode::kFailedPrecondition) << "second ack";
  EXPECT_TRUE(q->Lease("in.site", 10, seconds(30))->empty());
  EXPECT_TRUE(q->Healthy());
}

TEST_F(SqliteQueueTest, InvalidMessagesAreRejected) {
  auto q = OpenQueue();
  EXPECT_EQ(q->Enqueue(Msg("in.a", "")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q->Enqueue(Msg("", "k")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k", "{}", "", "")).status().code(),
            StatusCode::kInvalidArgument);
  // All or nothing: one bad message rejects the batch.
  auto r = q->EnqueueBatch({Msg("in.a", "good"), Msg("in.a", "")});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(q->Depth(), 0);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "good")).value(), EnqueueOutcome::kAccepted);
}

TEST_F(SqliteQueueTest, DuplicateInsideWindowAlsoAfterDeliveryAndNewAfterWindow) {
  SqliteQueueOptions options;
  options.dedup_retention = hours(24 * 7);
  auto q = OpenQueue(options);
  ASSERT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kAccepted);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kDuplicate);
  // Keys are per source.
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k", "{}", "", "other")).value(), EnqueueOutcome::kAccepted);
  // Within one batch the first is accepted.
  auto batch = q->EnqueueBatch({Msg("in.a", "b"), Msg("in.a", "b"), Msg("in.a", "c")});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(*batch,
            (std::vector<EnqueueOutcome>{EnqueueOutcome::kAccepted, EnqueueOutcome::kDuplicate,
                                         EnqueueOutcome::kAccepted}));
  EXPECT_EQ(q->Depth(), 4);

  // Delivered: still a duplicate.
  auto leased = q->Lease("in.a", 10, seconds(30));
  ASSERT_EQ(leased->size(), 4u);
  for (const auto& l : *leased) ASSERT_TRUE(q->Ack(l.lease).ok());
  clock_.Advance(hours(24 * 7) - seconds(1));
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kDuplicate);

  // After the window (record not yet pruned): accepted again.
  clock_.Advance(seconds(2));
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kAccepted);
  // ... and that acceptance starts a new window.
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kDuplicate);

  // After the window and pruned by maintenance: accepted again too.
  clock_.Advance(hours(24 * 7) + seconds(1));
  auto pruned = q->RunMaintenance();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_GE(*pruned, 3);  // "k" (other source), "b", "c"
  EXPECT_EQ(q->Enqueue(Msg("in.a", "b")).value(), EnqueueOutcome::kAccepted);
}

TEST_F(SqliteQueueTest, DedupSurvivesReopen) {
  {
    auto q = OpenQueue();
    ASSERT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kAccepted);
  }
  auto q = OpenQueue();
  EXPECT_EQ(q->Depth(), 1);
  EXPECT_EQ(q->Enqueue(Msg("in.a", "k")).value(), EnqueueOutcome::kDuplicate);
}

TEST_F(SqliteQueueTest, NotBeforeDelaysFirstDelivery) {
  auto q = OpenQueue();
  NewMessage m = Msg("in.a", "k");
  m.not_before = clock_.Now() + seconds(10);
  ASSERT_TRUE(q->Enqueue(m).ok());
  EXPECT_TRUE(q->Lease("in.a", 10, seconds(30))->empty());
  auto stats = q->Stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].delayed, 1);
  clock_.Advance(seconds(10));
  EXPECT_EQ(q->Lease("in.a", 10, seconds(30))->size(), 1u);
}

TEST_F(SqliteQueueTest, LeaseExpiryRedeliversAndStaleTokenIsRejected) {
  auto q = OpenQueue();
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "k")).ok());
  Leased first = LeaseOne(*q, "in.a", seconds(5));
  clock_.Advance(seconds(4));
  EXPECT_TRUE(q->Lease("in.a", 1, seconds(5))->empty());
  clock_.Advance(seconds(1));
  // Expired but not yet leased again: the ack is already stale.
  EXPECT_EQ(q->Ack(first.lease).code(), StatusCode::kFailedPrecondition);
  Leased second = LeaseOne(*q, "in.a", seconds(5));
  EXPECT_EQ(second.message.id, first.message.id);
  EXPECT_EQ(second.message.attempts, 2);
  EXPECT_NE(second.lease.token, first.lease.token);
  EXPECT_EQ(q->Ack(first.lease).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q->Retry(first.lease, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q->Fail(first.lease, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q->Depth(), 1) << "stale settlements changed nothing";
  EXPECT_TRUE(q->Ack(second.lease).ok());
  EXPECT_EQ(q->Depth(), 0);
}

// Leases live in the engine's memory (one lease_batches row per batch, not a
// rewrite of each message): a restart makes every leased message due again
// at once, and a token from before it is stale.
TEST_F(SqliteQueueTest, ARestartMakesLeasedMessagesDueAgain) {
  LeaseToken before;
  {
    auto q = OpenQueue();
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "k1")).ok());
    ASSERT_TRUE(q->Enqueue(Msg("in.a", "k2")).ok());
    auto leased = q->Lease("in.a", 10, hours(1));
    ASSERT_TRUE(leased.ok());
    ASSERT_EQ(leased->size(), 2u);
    before = (*leased)[0].lease;
    auto stats = q->Stats();
    ASSERT_TRUE(stats.ok());
    ASSERT_EQ(stats->size(), 1u);
    EXPECT_EQ((*stats)[0].leased, 2);
    EXPECT_EQ((*stats)[0].ready, 0);
  }
  auto q = OpenQueue();
  auto again = q->Lease("in.a", 10, seconds(30));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 2u) << "not due again before the hour-long lease expired";
  EXPECT_EQ((*again)[0].message.attempts, 1) << "the delivery lost with the process is not counted";
  EXPECT_EQ(q->Ack(before).code(), StatusCode::kFailedPrecondition);
  for (const Leased& l : *again) EXPECT_TRUE(q->Ack(l.lease).ok());
  EXPECT_EQ(q->Depth(), 0);
}

TEST_F(SqliteQueueTest, AckBatchAnswersEachLease) {
  auto q = OpenQueue();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(q->Enqueue(Msg("in.a", "k" + std::to_string(i))).ok());
  auto leased = q->Lease("in.a", 10, seconds(30));
  ASSERT_EQ(leased->size(), 5u);
  std::vector<LeaseToken> tokens;
  for (const auto& l : *leased) tokens.push_back(l.lease);
  tokens.push_back({999999, 1});
  auto statuses = q->AckBatch(tokens);
  ASSERT_EQ(statuses.size(), 6u);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(statuses[i].ok()) << i;
  EXPECT_EQ(statuses[5].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(q->Depth(), 0);
}

// The flusher tells the writer it is free before it runs a batch's answers,
// so a slow answer (here one that waits for the next commit) does not hold
// the next batch's commit back. Were the writer told after the answers, the
// second message would stay uncommitted until this answer gave up.
TEST_F(SqliteQueueTest, TheNextBatchCommitsWhileTheFlusherStillAnswersTheLast) {
  auto q = OpenQueue();
  std::promise<bool> next_committed;
  q->EnqueueAsync({Msg("in.a", "k1")}, [&](Result<std::vector<EnqueueOutcome>> first) {
    EXPECT_TRUE(first.ok()) << first.status().ToString();
    q->EnqueueAsync({Msg("in.a", "k2")}, [](Result<std::vector<EnqueueOutcome>>) {});
    bool committed = false;
    for (int i = 0; i < 1000 && !committed; ++i) {
      committed = q->Depth() == 2;
      if (!committed) std::this_thread::sleep_for(milliseconds(10));
    }
    next_committed.set_value(committed);
  });
  EXPECT_TRUE(next_committed.get_future().get())
      << "the second enqueue was not committed while the first one's answer ran";
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "k3")).ok());  // the flusher went on
  EXPECT_EQ(q->Depth(), 3);
}

TEST_F(SqliteQueueTest, OrderingKeySerialisesWithinLaneOthersRunInParallel) {
  auto q = OpenQueue();
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "a1", "1", "sku-a")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "a2", "2", "sku-a")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "b1", "3", "sku-b")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "n1", "4")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.x", "a3", "5", "sku-a")).ok());
  ASSERT_TRUE(q->Enqueue(Msg("out.y", "y1", "6", "sku-a")).ok());  // other lane

  auto first = q->Lease("out.x", 10, seconds(30));
  ASSERT_TRUE(first.ok());
  std::set<std::string> keys;
  for (const auto& l : *first) keys.insert(l.message.idempotency_key);
  EXPECT_EQ(keys, (std::set<std::string>{"a1", "b1", "n1"}));
  EXPECT_EQ(q->Lease("out.y", 10, seconds(30))->size(), 1u) << "ordering keys are per lane";

  for (const auto& l : *first) {
    if (l.message.idempotency_key != "a1") {
      ASSERT_TRUE(q->Ack(l.lease).ok());
    }
  }
  // a2 waits for a1, also while a1 is retried with a delay.
  const Leased a1 = *std::find_if(first->begin(), first->end(), [](const Leased& l) {
    return l.message.idempotency_key == "a1";
  });
  ASSERT_TRUE(q->Retry(a1.lease, "busy", clock_.Now() + seconds(60)).ok());
  EXPECT_TRUE(q->Lease("out.x", 10, seconds(30))->empty());
  clock_.Advance(seconds(60));
  Leased again = LeaseOne(*q, "out.x");
  EXPECT_EQ(again.message.idempotency_key, "a1");
  ASSERT_TRUE(q->Ack(again.lease).ok());
  Leased a2 = LeaseOne(*q, "out.x");
  EXPECT_EQ(a2.message.idempotency_key, "a2");
  EXPECT_TRUE(q->Lease("out.x", 10, seconds(30))->empty()) << "a3 waits for a2";
  ASSERT_TRUE(q->Fail(a2.lease, "rejected").ok());  // a dead letter no longer blocks
  EXPECT_EQ(LeaseOne(*q, "out.x").message.idempotency_key, "a3");
}

TEST_F(SqliteQueueTest, StateRoundTrip) {
  auto q = OpenQueue();
  auto missing = q->GetState("cursor.ozon");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(q->PutState("cursor.ozon", "2026-11-24T10:00:00Z").ok());
  EXPECT_EQ(q->GetState("cursor.ozon")->value(), "2026-11-24T10:00:00Z");
  ASSERT_TRUE(q->PutState("cursor.ozon", std::string("v2\0", 3)).ok());
  q.reset();
  q = OpenQueue();
  EXPECT_EQ(q->GetState("cursor.ozon")->value(), std::string("v2\0", 3));
}

TEST_F(SqliteQueueTest, StatsPerLane) {
  auto q = OpenQueue();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(q->Enqueue(Msg("in.a", "a" + std::to_string(i))).ok());
  ASSERT_TRUE(q->Enqueue(Msg("in.b", "b0")).ok());
  const SystemTime t0 = clock_.Now();
  clock_.Advance(seconds(1));
  auto leased = q->Lease("in.a", 2, seconds(30));
  ASSERT_EQ(leased->size(), 2u);
  ASSERT_TRUE(q->Retry((*leased)[0].lease, "e").ok());
  ASSERT_TRUE(q->Fail((*leased)[1].lease, "e").ok());
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "a9")).ok());
  LeaseOne(*q, "in.b");
  auto stats = q->Stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 2u);
  const LaneStats& a = (*stats)[0];
  EXPECT_EQ(a.lane, "in.a");
  EXPECT_EQ(a.ready, 2);
  EXPECT_EQ(a.delayed, 1);
  EXPECT_EQ(a.leased, 0);
  EXPECT_EQ(a.dead, 1);
  EXPECT_EQ(a.oldest_created_at, FromUnixMillis(ToUnixMillis(t0)));
  EXPECT_EQ((*stats)[1].lane, "in.b");
  EXPECT_EQ((*stats)[1].leased, 1);
  EXPECT_EQ(q->Depth(), 4);
}

TEST_F(SqliteQueueTest, PeriodicMaintenancePrunesDedupOnTheInjectedClock) {
  SqliteQueueOptions options;
  options.data_dir = dir_.path();
  options.dedup_retention = hours(24);
  options.maintenance_interval = minutes(10);
  auto opened = SqliteQueue::Open(clock_, options);
  ASSERT_TRUE(opened.ok());
  auto& q = *opened;
  ASSERT_TRUE(q->Enqueue(Msg("in.a", "old")).ok());
  auto count_dedup = [&] {
    sqlite3* db = nullptr;
    sqlite3_open((dir_.path() / kQueueDbFileName).c_str(), &db);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM segment_keys", -1, &st, nullptr);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  };
  ASSERT_TRUE(q->PutState("x", "1").ok());
  EXPECT_EQ(count_dedup(), 1) << "not due yet";
  clock_.Advance(hours(25));
  // The writer checks the clock when it wakes: the first write runs the
  // maintenance step after its batch, the second is answered after it.
  ASSERT_TRUE(q->PutState("x", "2").ok());
  ASSERT_TRUE(q->PutState("x", "3").ok());
  EXPECT_EQ(count_dedup(), 0);
  EXPECT_EQ(q->Depth(), 1) << "the message itself stays";
}

}  // namespace
}  // namespace crmhub::queue
