// Pipeline workers against real parts: a SQLite queue and the SQLite CRM
// store in a fresh temp dir, the shipped site-lead mapping rules, and small
// real adapters. Waits are on events (the sink or adapter signalling a
// condition variable), never sleeps.

#include "daemon/pipeline.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "crm/sqlite_store.h"
#include "daemon/lane_wakeup.h"
#include "daemon/queued_events.h"
#include "mapping/rules/rule_set.h"
#include "queue/forwarding_queue.h"
#include "queue/sqlite_queue.h"
#include "tests/daemon/test_support.h"
#include "tests/support/log_capture.h"

namespace crmhub::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// spdlog makes its registry on first use, inside libspdlog, which is not built
// with TSan: two workers logging for the first time at once look like a race
// to TSan (their guard is invisible to it). Made here, before any worker.
[[maybe_unused]] const bool kSpdlogRegistryMade = (spdlog::default_logger_raw(), true);

// Signals waiters whenever `counter` grows.
class EventCount {
 public:
  void Add(int n = 1) {
    {
      std::lock_guard lock(mu_);
      value_ += n;
    }
    cv_.notify_all();
  }
  bool WaitFor(int at_least, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return value_ >= at_least; });
  }
  int value() {
    std::lock_guard lock(mu_);
    return value_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int value_ = 0;
};

// The real CRM store, counting applied events so tests can wait on them.
class CountingSink final : public crm::CrmSink {
 public:
  explicit CountingSink(crm::SqliteCrmStore& store) : store_(store) {}
  std::vector<DeliveryOutcome> Apply(const std::vector<crm::SinkEvent>& events) override {
    auto outcomes = store_.Apply(events);
    {
      std::lock_guard lock(mu_);
      batch_sizes_.push_back(events.size());
    }
    applied.Add(static_cast<int>(events.size()));
    return outcomes;
  }
  std::string_view name() const override { return "counting-sqlite"; }
  std::vector<size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }
  EventCount applied;

 private:
  crm::SqliteCrmStore& store_;
  std::mutex mu_;
  std::vector<size_t> batch_sizes_;  // GUARDED_BY(mu_)
};

std::string Form(const std::string& id) {
  return R"({"id":")" + id + R"(","name":"Ivan )" + id + R"(","phone":"+7 900 000-00-00"})";
}

// A source whose pages are keyed by the cursor they follow.
class PagedSource final : public adapters::Adapter, public adapters::SourceCapability {
 public:
  explicit PagedSource(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-source"; }
  SourceCapability* source() override { return this; }

  Result<adapters::PullResult> Pull(const std::optional<std::string>& cursor) override {
    std::string c = cursor.value_or("");
    {
      std::lock_guard lock(mu_);
      cursors_seen.push_back(c);
    }
    pulls.Add();
    if (fail_first > 0) {
      --fail_first;
      return Status::Unavailable("upstream down");
    }
    adapters::PullResult page;
    if (c.empty()) {
      page.events = {{.idempotency_key = "e1", .payload = Form("e1")},
                     {.idempotency_key = "e2", .payload = Form("e2")}};
      page.next_cursor = "1";
      page.more = true;
    } else if (c == "1") {
      // An event without an idempotency key: the queue refuses the page.
      const bool refuse = refuse_page_1 > 0;
      if (refuse) --refuse_page_1;
      page.events = {{.idempotency_key = refuse ? "" : "e3", .payload = Form("e3")}};
      page.next_cursor = "2";
      page.more = third_page;
    } else if (c == "2" && third_page) {
      page.events = {{.idempotency_key = "e4", .payload = Form("e4")}};
      page.next_cursor = "3";
    }
    return page;
  }
  std::chrono::milliseconds poll_interval() const override { return seconds(60); }

  std::mutex mu_;
  std::vector<std::string> cursors_seen;  // GUARDED_BY(mu_)
  EventCount pulls;
  std::atomic<int> fail_first{0};
  std::atomic<bool> third_page{false};  // page "1" says `more`; page "2" holds e4
  std::atomic<int> refuse_page_1{0};    // times page "1" is served unacceptable

 private:
  std::string id_;
};

// A backlog that never ends: page n (cursor "n") holds event "b<n>" and says
// `more`, with next cursor "n+1".
class EndlessSource final : public adapters::Adapter, public adapters::SourceCapability {
 public:
  explicit EndlessSource(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-endless"; }
  SourceCapability* source() override { return this; }
  Result<adapters::PullResult> Pull(const std::optional<std::string>& cursor) override {
    const int n = cursor ? std::stoi(*cursor) : 0;
    adapters::PullResult page;
    const std::string key = "b" + std::to_string(n);
    page.events = {{.idempotency_key = key, .payload = Form(key)}};
    page.next_cursor = std::to_string(n + 1);
    page.more = true;
    last_next.store(n + 1);
    pulls.Add();
    return page;
  }
  std::chrono::milliseconds poll_interval() const override { return seconds(60); }

  EventCount pulls;
  std::atomic<int> last_next{0};

 private:
  std::string id_;
};

// A webhook-only adapter: its lane in.<id> is filled by the test.
class HookOnly final : public adapters::Adapter, public adapters::WebhookCapability {
 public:
  explicit HookOnly(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-hook"; }
  WebhookCapability* webhook() override { return this; }
  Result<adapters::WebhookResult> HandleWebhook(const net::HttpRequest&) override {
    return Status::Internal("not used");
  }

 private:
  std::string id_;
};

// A webhook adapter whose hints name form ids: Resolve "fetches" the form
// (or fails as scripted), keyed as a pull would key it.
class HintedHook final : public adapters::Adapter, public adapters::WebhookCapability {
 public:
  explicit HintedHook(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-hinted"; }
  WebhookCapability* webhook() override { return this; }
  Result<adapters::WebhookResult> HandleWebhook(const net::HttpRequest&) override {
    return Status::Internal("not used");
  }
  adapters::ResolveResult Resolve(const adapters::Hint& hint) override {
    resolved.Add();
    if (hint.payload == "throw") throw std::runtime_error("a bug in Resolve");
    if (hint.payload == "down" && hint.attempt < 2) {
      return {DeliveryOutcome::Retry("the system is down"), {}};
    }
    adapters::InboundEvent record{.idempotency_key = "form:" + hint.payload,
                                  .ordering_key = hint.payload,
                                  .kind = "form",
                                  .payload = Form(hint.payload)};
    return {DeliveryOutcome::Ok(), {record}};
  }
  EventCount resolved;

 private:
  std::string id_;
};

// A source and a target that throw, as a bug would.
class ThrowingAdapter final : public adapters::Adapter,
                              public adapters::SourceCapability,
                              public adapters::TargetCapability {
 public:
  explicit ThrowingAdapter(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-throwing"; }
  SourceCapability* source() override { return this; }
  TargetCapability* target() override { return this; }
  Result<adapters::PullResult> Pull(const std::optional<std::string>&) override {
    pulls.Add();
    throw std::out_of_range("json.exception.type_error.302: type must be string");
  }
  std::chrono::milliseconds poll_interval() const override { return seconds(60); }
  std::vector<DeliveryOutcome> Deliver(std::span<const adapters::Command>) override {
    delivers.Add();
    throw std::logic_error("a bug in Deliver");
  }
  int max_batch() const override { return 10; }
  std::vector<std::string> commands() const override { return {"set_stock"}; }
  EventCount pulls;
  EventCount delivers;

 private:
  std::string id_;
};

// A target answering by payload: "ok", "retry", "throttle" or "fail".
class ScriptedTarget final : public adapters::Adapter, public adapters::TargetCapability {
 public:
  explicit ScriptedTarget(std::string id) : id_(std::move(id)) {}
  const std::string& id() const override { return id_; }
  std::string_view type() const override { return "test-target"; }
  TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const adapters::Command> batch) override {
    std::vector<DeliveryOutcome> out;
    for (const auto& m : batch) {
      if (m.payload == "ok") out.push_back(DeliveryOutcome::Ok());
      if (m.payload == "retry") {
        out.push_back(DeliveryOutcome::Retry("429", SystemTime::max() - std::chrono::hours(1)));
      }
      if (m.payload == "throttle") {
        out.push_back(
            DeliveryOutcome::Throttled("HTTP 429", SystemTime::max() - std::chrono::hours(1)));
      }
      if (m.payload == "fail") out.push_back(DeliveryOutcome::Fail("400 bad sku"));
      if (m.payload.starts_with("learn:")) {  // Ok, and a record for the CRM
        const std::string name = m.payload.substr(6);
        out.push_back(DeliveryOutcome::Ok(
            {{.idempotency_key = "form:" + name, .kind = "lead", .payload = Form(name)}}));
      }
    }
    batches.Add();
    delivered.Add(static_cast<int>(batch.size()));
    return out;
  }
  int max_batch() const override { return 10; }
  std::vector<std::string> commands() const override { return {"set_stock"}; }
  EventCount batches;
  EventCount delivered;

 private:
  std::string id_;
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    queue::SqliteQueueOptions qo;
    qo.data_dir = dir_.path();
    auto q = queue::SqliteQueue::Open(clock_, qo);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    engine_ = std::move(*q);
    queue_ = std::make_unique<NotifyingQueue>(*engine_, wakeup_);
    crm::SqliteStoreOptions so;
    so.path = dir_.path() / "crm.db";
    auto s = crm::SqliteCrmStore::Open(so, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    sink_ = std::make_unique<CountingSink>(*store_);
    auto rules = mapping::LoadRules(std::filesystem::path(CRMHUB_SOURCE_DIR) /
                                    "config/mappings/site-lead.toml");
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    mapper_ = [rules = *rules](const queue::Message& m) {
      mapping::ApplyContext ctx;
      ctx.source = m.source;
      ctx.received_ms = ToUnixMillis(m.created_at);
      return rules.ApplyText(m.payload, ctx);
    };
  }

  std::unique_ptr<Pipeline> MakePipeline(PipelineOptions options = {}) {
    options.source_backoff_initial = milliseconds(1);
    options.source_backoff_max = milliseconds(5);
    return std::make_unique<Pipeline>(*queue_, *sink_, clock_, metrics_, wakeup_, options);
  }

  // Commands for the ScriptedTarget "tgt", one per payload, each its own.
  void QueueCommands(std::initializer_list<const char*> payloads) {
    for (const char* p : payloads) {
      ASSERT_TRUE(queue_
                      ->Enqueue({.lane = "out.tgt",
                                 .source = "crm",
                                 .idempotency_key = std::string(p) + std::to_string(rand()),
                                 .payload = p})
                      .ok());
    }
  }
  bool HasLead(const std::string& source, const std::string& external_id) {
    auto found = store_->Find(model::EntityKind::kLead, source, external_id);
    return found.ok() && found->has_value();
  }

  static auto Deadline() { return std::chrono::steady_clock::now() + seconds(30); }

  // One message with `payload` ("retry", "throttle", ...) delivered once to
  // a ScriptedTarget on lane out.tgt at max_attempts = 1, through a queue of
  // its own; that queue, for the checks (nullptr after a failed check).
  std::unique_ptr<queue::SqliteQueue> DeliverOnceAtOneAttempt(const std::string& payload) {
    queue::SqliteQueueOptions qo;
    qo.data_dir = dir_.path() / "limited";
    qo.lane_policies["out.tgt"] = queue::RetryPolicy{.max_attempts = 1};
    auto opened = queue::SqliteQueue::Open(clock_, qo);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return nullptr;
    NotifyingQueue q(**opened, wakeup_);
    EXPECT_TRUE(
        q.Enqueue({.lane = "out.tgt", .source = "crm", .idempotency_key = "k1", .payload = payload})
            .ok());
    PipelineOptions options;
    options.retry_policy = [&](const std::string& lane) {
      auto it = qo.lane_policies.find(lane);
      return it == qo.lane_policies.end() ? qo.default_policy : it->second;
    };
    auto target = std::make_shared<ScriptedTarget>("tgt");
    Pipeline pipeline(q, *sink_, clock_, metrics_, wakeup_, options);
    EXPECT_TRUE(pipeline.Start(target, nullptr).ok());
    EXPECT_TRUE(target->delivered.WaitFor(1, seconds(30)));
    EXPECT_TRUE(pipeline.StopAll(Deadline()));
    return std::move(opened).value();
  }

  // crmhub_deliveries_total of target "tgt" with `outcome`.
  int64_t DeliveriesCounted(const char* outcome) {
    return static_cast<int64_t>(
        metrics_
            .GetCounter("crmhub_deliveries_total", "",
                        {{"adapter", "tgt"}, {"target", "tgt"}, {"outcome", outcome}})
            .value());
  }

  // Whether the deliver capability recorded a success within 30 s.
  static bool StatusDeliverOnce(const AdapterHealth& health) {
    const auto deadline = Deadline();
    while (std::chrono::steady_clock::now() < deadline) {
      if (health.Get(Capability::kDeliver).last_success) return true;
      std::this_thread::yield();
    }
    return false;
  }

  // The adapter's status once it has succeeded and saved `cursor` (or the
  // last one seen, after 30 s). The last page's events can be applied before
  // the pull loop saves the cursor that follows them (the save comes after
  // the enqueue, concurrently with delivery), so tests wait for the save.
  static std::optional<WorkerStatus> StatusOnceCursorIs(Pipeline& pipeline, const std::string& id,
                                                        const std::string& cursor) {
    std::optional<WorkerStatus> status;
    const auto deadline = Deadline();
    while (std::chrono::steady_clock::now() < deadline) {
      status = pipeline.StatusOf(id);
      if (status && status->last_success && status->cursor.value_or("") == cursor) break;
      std::this_thread::yield();
    }
    return status;
  }

  testutil::TempDir dir_;
  SystemClock clock_;
  MetricsRegistry metrics_;
  LaneWakeup wakeup_{clock_};
  std::unique_ptr<queue::SqliteQueue> engine_;
  std::unique_ptr<NotifyingQueue> queue_;
  std::unique_ptr<crm::SqliteCrmStore> store_;
  std::unique_ptr<CountingSink> sink_;
  RecordMapper mapper_;
};

TEST_F(PipelineTest, SourcePagesAreEnqueuedThenCursorSavedThenDelivered) {
  auto source = std::make_shared<PagedSource>("shop");
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(3, seconds(30)));
  // `more` pulled page 2 at once; after it the loop waits poll_interval.
  ASSERT_TRUE(source->pulls.WaitFor(2, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  EXPECT_EQ(source->pulls.value(), 2);
  {
    std::lock_guard lock(source->mu_);
    EXPECT_EQ(source->cursors_seen, (std::vector<std::string>{"", "1"}));
  }
  auto cursor = engine_->GetState(CursorKey("shop"));
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->value_or(""), "2");
  for (const char* id : {"site-e1", "site-e2", "site-e3"}) EXPECT_TRUE(HasLead("shop", id)) << id;
  auto& ok = metrics_.GetCounter("crmhub_deliveries_total", "",
                                 {{"adapter", "shop"}, {"target", "crm"}, {"outcome", "ok"}});
  EXPECT_EQ(ok.value(), 3);
  EXPECT_EQ(engine_->Depth(), 0);
}

// Several daemons on one Kafka cluster (queue/kafka/source_owner.h): a
// source this daemon does not own is not pulled; once it is, the pull starts
// from the cursor in the queue's state, the one the previous owner saved.
TEST_F(PipelineTest, ASourceIsPulledOnlyWhileThisDaemonOwnsIt) {
  auto source = std::make_shared<PagedSource>("shop");
  std::atomic<bool> owned{false};
  std::atomic<int> asked{0};
  PipelineOptions options;
  options.owns_source = [&](const std::string& id) {
    EXPECT_EQ(id, "shop");
    asked.fetch_add(1);
    return owned.load();
  };
  options.owns_source_recheck = milliseconds(5);
  auto pipeline = MakePipeline(options);
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  const auto deadline = Deadline();
  while (asked.load() < 5 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_GE(asked.load(), 5) << "the loop asks again while it does not own the source";
  EXPECT_EQ(source->pulls.value(), 0) << "pulled a source another daemon owns";

  ASSERT_TRUE(engine_->PutState(CursorKey("shop"), "1").ok());  // the previous owner's
  owned.store(true);
  ASSERT_TRUE(sink_->applied.WaitFor(1, seconds(30)));
  auto status = StatusOnceCursorIs(*pipeline, "shop", "2");
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  {
    std::lock_guard lock(source->mu_);
    ASSERT_FALSE(source->cursors_seen.empty());
    EXPECT_EQ(source->cursors_seen.front(), "1") << "started from the saved cursor";
  }
  EXPECT_TRUE(HasLead("shop", "site-e3"));
  EXPECT_FALSE(HasLead("shop", "site-e1")) << "the page before the cursor was pulled";
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->cursor.value_or(""), "2");
}

// While a backlog is read the cursor is saved at most once a second, not
// after every page; stopping saves the cursor of the last durable page, so
// nothing is pulled twice after a clean restart.
TEST_F(PipelineTest, ABacklogsCursorIsSavedAtStopAfterItsLastPage) {
  auto source = std::make_shared<EndlessSource>("feed");
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  ASSERT_TRUE(source->pulls.WaitFor(20, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  const int pages = source->last_next.load();
  ASSERT_GE(pages, 20);
  auto cursor = engine_->GetState(CursorKey("feed"));
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->value_or(""), std::to_string(pages));
  // Every pulled page's event is durable: in the lane or already in the store.
  auto& received = metrics_.GetCounter("crmhub_events_received_total", "", {{"adapter", "feed"}});
  EXPECT_EQ(received.value(), pages);
}

// During a backlog the next page is pulled while the previous one's events
// are being made durable. When the queue refuses a page, the page pulled
// ahead of it is dropped and the pull starts again from the last durable
// cursor: nothing is skipped, nothing doubled, and the cursor never passes
// events that were not enqueued.
TEST_F(PipelineTest, ARefusedPageIsPulledAgainAndThePageAfterItDropped) {
  auto source = std::make_shared<PagedSource>("feed");
  source->third_page = true;
  source->refuse_page_1 = 1;
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(4, seconds(30)));
  std::optional<WorkerStatus> status = StatusOnceCursorIs(*pipeline, "feed", "3");
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  {
    std::lock_guard lock(source->mu_);
    // "2" was pulled ahead while page "1" was being enqueued, then dropped
    // when the queue refused page "1"; both were pulled again.
    EXPECT_EQ(source->cursors_seen, (std::vector<std::string>{"", "1", "2", "1", "2"}));
  }
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(status->last_error.has_value());
  EXPECT_NE(status->last_error->find("idempotency_key is empty"), std::string::npos)
      << *status->last_error;
  auto cursor = engine_->GetState(CursorKey("feed"));
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(cursor->value_or(""), "3");
  for (const char* id : {"site-e1", "site-e2", "site-e3", "site-e4"}) {
    EXPECT_TRUE(HasLead("feed", id)) << id;
  }
  // The refused page counted nothing; each event was received once.
  auto& received = metrics_.GetCounter("crmhub_events_received_total", "", {{"adapter", "feed"}});
  EXPECT_EQ(received.value(), 4);
  EXPECT_EQ(sink_->applied.value(), 4);
}

// The source loop backs off on queue::ComputeBackoff's schedule, with the
// injected jitter, and waits on the clock: on a ManualClock the next pull
// comes when the clock reaches the backoff's end, not before, and the test
// spends no real time waiting for seconds of backoff.
TEST_F(PipelineTest, SourceErrorsBackOffOnTheClockAndAreRecorded) {
  ManualClock clock;
  LaneWakeup wakeup(clock);
  NotifyingQueue queue(*engine_, wakeup);
  std::mutex caps_mu;
  std::vector<int64_t> caps;  // GUARDED_BY(caps_mu)
  PipelineOptions options{.delivery_workers = 1,
                          .source_backoff_initial = seconds(10),
                          .source_backoff_max = seconds(60),
                          .source_jitter = [&](int64_t cap_ms) {
                            std::lock_guard lock(caps_mu);
                            caps.push_back(cap_ms);
                            return cap_ms;  // the longest wait the schedule allows
                          }};
  auto source = std::make_shared<PagedSource>("shop");
  source->fail_first = 2;
  Pipeline pipeline(queue, *sink_, clock, metrics_, wakeup, options);
  ASSERT_TRUE(pipeline.Start(source, mapper_).ok());

  // The first pull failed; the source loop and the idle worker wait.
  ASSERT_TRUE(source->pulls.WaitFor(1, seconds(30)));
  ASSERT_TRUE(clock.AwaitWaiting(2));
  clock.Advance(milliseconds(9'999));
  ASSERT_TRUE(clock.AwaitWaiting(2));
  EXPECT_EQ(source->pulls.value(), 1);  // 1 ms of the 10 s backoff to go
  clock.Advance(milliseconds(1));
  ASSERT_TRUE(source->pulls.WaitFor(2, seconds(30)));  // failed again: 20 s now
  ASSERT_TRUE(clock.AwaitWaiting(2));
  clock.Advance(seconds(19));
  ASSERT_TRUE(clock.AwaitWaiting(2));
  EXPECT_EQ(source->pulls.value(), 2);
  clock.Advance(seconds(1));
  ASSERT_TRUE(sink_->applied.WaitFor(3, seconds(30)));
  {
    std::lock_guard lock(caps_mu);
    EXPECT_EQ(caps, (std::vector<int64_t>{10'000, 20'000}));
  }

  std::optional<WorkerStatus> status = StatusOnceCursorIs(pipeline, "shop", "2");
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(status->last_error.has_value());
  EXPECT_NE(status->last_error->find("upstream down"), std::string::npos) << *status->last_error;
  EXPECT_TRUE(status->last_success.has_value());
  EXPECT_EQ(status->cursor.value_or(""), "2");
  ASSERT_TRUE(pipeline.StopAll(Deadline()));
}

TEST_F(PipelineTest, UnmappableRecordIsDeadLetteredWithTheRuleError) {
  PipelineOptions options;
  options.delivery_workers = 1;
  // Enqueued before the workers start: one lease takes both, oldest first.
  ASSERT_TRUE(queue_
                  ->Enqueue({.lane = "in.form",
                             .source = "form",
                             .idempotency_key = "bad",
                             .payload = R"({"name":"no id"})"})
                  .ok());
  ASSERT_TRUE(queue_
                  ->Enqueue({.lane = "in.form",
                             .source = "form",
                             .idempotency_key = "good",
                             .payload = Form("good")})
                  .ok());
  auto pipeline = MakePipeline(options);
  ASSERT_TRUE(pipeline->Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(1, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  EXPECT_TRUE(HasLead("form", "site-good"));
  auto dead = engine_->ListDeadLetters({.lane = std::string("in.form")});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].idempotency_key, "bad");
  EXPECT_EQ((*dead)[0].payload, R"({"name":"no id"})");  // the raw record is kept
  EXPECT_NE((*dead)[0].reason.find("mapping: rule \"contact\""), std::string::npos)
      << (*dead)[0].reason;
}

// Issue 22, item 1: a dead letter is not silent. Each writes one warning
// with its fields; past the per-adapter rate the rest are counted, and the
// next line says how many were left out.
TEST_F(PipelineTest, EachDeadLetterWritesOneRateLimitedLogLineWithFields) {
  testutil::LogCapture log;
  PipelineOptions options;
  options.delivery_workers = 1;
  options.log_lines_per_minute = 2;
  for (const char* key : {"bad-1", "bad-2", "bad-3", "bad-4"}) {
    ASSERT_TRUE(queue_
                    ->Enqueue({.lane = "in.form",
                               .source = "form",
                               .idempotency_key = key,
                               .payload = R"({"name":"no id"})"})
                    .ok());
  }
  ASSERT_TRUE(queue_
                  ->Enqueue({.lane = "in.form",
                             .source = "form",
                             .idempotency_key = "good",
                             .payload = Form("good")})
                  .ok());
  auto pipeline = MakePipeline(options);
  ASSERT_TRUE(pipeline->Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(1, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  auto dead = engine_->ListDeadLetters({.lane = std::string("in.form")});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 4u);
  auto lines = log.WithMessage("dead letter");
  ASSERT_EQ(lines.size(), 2u) << log.All();  // the rate: 2 a minute for this adapter
  const auto& f = lines[0].fields;
  EXPECT_EQ(f.value("adapter", ""), "form");
  EXPECT_EQ(f.value("lane", ""), "in.form");
  EXPECT_EQ(f.value("key", ""), "bad-1");
  EXPECT_EQ(f.value("message_id", ""), std::to_string((*dead)[0].id));
  EXPECT_NE(f.value("reason", "").find("mapping: rule \"contact\""), std::string::npos) << f.dump();
}

// Issue 22, item 10: the JSON log put adapter, lane and key inside msg. A
// failed pull's line carries them as fields.
TEST_F(PipelineTest, AFailedPullIsLoggedWithFields) {
  testutil::LogCapture log;
  auto source = std::make_shared<PagedSource>("shop");
  source->fail_first = 1;
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  ASSERT_TRUE(StatusOnceCursorIs(*pipeline, "shop", "2"));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  auto lines = log.WithMessage("pull failed; retrying");
  ASSERT_EQ(lines.size(), 1u) << log.All();
  EXPECT_EQ(lines[0].fields.value("adapter", ""), "shop");
  EXPECT_EQ(lines[0].fields.value("step", ""), "pull");
  EXPECT_NE(lines[0].fields.value("error", "").find("upstream down"), std::string::npos);
}

// Issue 22, item 3: a Retry past the lane's max_attempts is the failure it
// is: counted as outcome="fail" (not "retry"), logged, and its dead letter
// says it gave up after N attempts.
TEST_F(PipelineTest, ARetryPastMaxAttemptsCountsAsFailLogsAndSaysItGaveUp) {
  testutil::LogCapture log;
  auto q = DeliverOnceAtOneAttempt("retry");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(DeliveriesCounted("fail"), 1);
  EXPECT_EQ(DeliveriesCounted("retry"), 0);
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].reason, "gave up after 1 attempt: 429");
  auto lines = log.WithMessage("dead letter");
  ASSERT_EQ(lines.size(), 1u) << log.All();
  EXPECT_EQ(lines[0].fields.value("adapter", ""), "tgt");
  EXPECT_EQ(lines[0].fields.value("reason", ""), "gave up after 1 attempt: 429");
  EXPECT_EQ(lines[0].fields.value("attempts", ""), "1");
}

// A throttled answer (the system's 429) is not a failed attempt: at
// max_attempts = 1 it stays a retry, waiting for its not_before, where a
// plain Retry gives up (the test above).
TEST_F(PipelineTest, AThrottledAnswerIsNotCountedAgainstMaxAttempts) {
  auto q = DeliverOnceAtOneAttempt("throttle");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(DeliveriesCounted("retry"), 1);
  EXPECT_EQ(DeliveriesCounted("fail"), 0);
  auto dead = q->ListDeadLetters({});
  ASSERT_TRUE(dead.ok());
  EXPECT_TRUE(dead->empty()) << (*dead)[0].reason;
  auto stats = q->Stats();
  ASSERT_TRUE(stats.ok());
  int64_t delayed = 0;
  for (const auto& s : *stats) delayed += s.lane == "out.tgt" ? s.delayed : 0;
  EXPECT_EQ(delayed, 1) << "waiting for its Retry-After";
}

// Issue 22, item 2: pull and delivery each have their status, which the
// book keeps when the adapter's workers are replaced (a reload), and the
// adapter's delivery series exist at zero before anything is delivered.
TEST_F(PipelineTest, EachCapabilityKeepsItsStatusAcrossARestartOfTheWorkers) {
  AdapterHealthBook book(clock_, metrics_);
  PipelineOptions options;
  options.health = &book;
  auto source = std::make_shared<PagedSource>("shop");
  source->fail_first = 1;
  auto pipeline = MakePipeline(options);
  ASSERT_TRUE(pipeline->Start(std::make_shared<ScriptedTarget>("tgt"), nullptr).ok());
  for (const char* outcome : {"ok", "retry", "fail"}) {
    const std::string series = std::string(R"(crmhub_deliveries_total{adapter="tgt",outcome=")") +
                               outcome + R"(",target="tgt"} 0)";
    EXPECT_NE(metrics_.RenderPrometheus().find(series), std::string::npos) << series;
  }
  ASSERT_TRUE(pipeline->Start(source, mapper_).ok());
  ASSERT_TRUE(StatusOnceCursorIs(*pipeline, "shop", "2"));
  ASSERT_TRUE(sink_->applied.WaitFor(3, seconds(30)));
  ASSERT_TRUE(pipeline->Stop("shop", Deadline()));
  auto health = book.Find("shop");
  ASSERT_TRUE(health);
  const CapabilityStatus pull = health->Get(Capability::kPull);
  EXPECT_TRUE(pull.last_success);
  EXPECT_NE(pull.last_error.value_or("").find("upstream down"), std::string::npos);
  EXPECT_EQ(pull.errors, 1);
  // The deliveries went well: their own status has no error.
  ASSERT_TRUE(StatusDeliverOnce(*health));
  EXPECT_FALSE(health->Get(Capability::kDeliver).last_error);
  // New workers for the same adapter (as a reload makes): the history stays.
  ASSERT_TRUE(pipeline->Start(std::make_shared<PagedSource>("shop"), mapper_).ok());
  EXPECT_EQ(book.Find("shop")->Get(Capability::kPull).errors, 1);
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
}

// [daemon] delivery_batch bounds what one worker leases and applies at once.
TEST_F(PipelineTest, AWorkerAppliesAtMostItsBatchAtOnce) {
  PipelineOptions options;
  options.delivery_workers = 1;
  options.inbound_batch = 2;
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    ASSERT_TRUE(
        queue_
            ->Enqueue(
                {.lane = "in.form", .source = "form", .idempotency_key = id, .payload = Form(id)})
            .ok());
  }
  auto pipeline = MakePipeline(options);
  ASSERT_TRUE(pipeline->Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(5, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  // Queued before the worker started: full batches, oldest first.
  EXPECT_EQ(sink_->batch_sizes(), (std::vector<size_t>{2, 2, 1}));
  for (const char* id : {"site-a", "site-b", "site-c", "site-d", "site-e"}) {
    EXPECT_TRUE(HasLead("form", id)) << id;
  }
}

TEST_F(PipelineTest, InboundAdapterWithoutMappingIsRefused) {
  auto pipeline = MakePipeline();
  Status st = pipeline->Start(std::make_shared<HookOnly>("form"), nullptr);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(pipeline->Running("form"));
}

TEST_F(PipelineTest, TargetOutcomesSettleEachMessage) {
  QueueCommands({"ok", "retry", "fail", "ok"});
  auto target = std::make_shared<ScriptedTarget>("tgt");
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(target, nullptr).ok());
  ASSERT_TRUE(target->delivered.WaitFor(4, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));  // joins: the batch is settled
  auto stats = engine_->Stats();
  ASSERT_TRUE(stats.ok());
  queue::LaneStats lane;
  for (const auto& s : *stats) {
    if (s.lane == "out.tgt") lane = s;
  }
  EXPECT_EQ(lane.ready, 0);
  EXPECT_EQ(lane.leased, 0);
  EXPECT_EQ(lane.delayed, 1);  // the retry, not before its Retry-After
  EXPECT_EQ(lane.dead, 1);     // the permanent failure
  EXPECT_EQ(DeliveriesCounted("ok"), 2);
  EXPECT_EQ(DeliveriesCounted("retry"), 1);
  EXPECT_EQ(DeliveriesCounted("fail"), 1);
  EXPECT_EQ(target->batches.value(), 1);
}

// What a command learned (a payment's URL, an act) is queued to the
// adapter's inbound lane before the command is settled, and mapped by the
// adapter's rules like a pulled record; a repeat is a duplicate.
TEST_F(PipelineTest, WhatACommandLearnedIsQueuedAndMapped) {
  QueueCommands({"learn:c1", "learn:c1", "ok"});
  auto target = std::make_shared<ScriptedTarget>("tgt");
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(target, mapper_).ok());
  ASSERT_TRUE(target->delivered.WaitFor(3, seconds(30)));
  ASSERT_TRUE(sink_->applied.WaitFor(1, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  EXPECT_TRUE(HasLead("tgt", "site-c1"));
  EXPECT_EQ(engine_->Depth(), 0);  // commands settled, the record delivered
  auto received = [&](const char* name) {
    return metrics_.GetCounter(name, "", {{"adapter", "tgt"}}).value();
  };
  EXPECT_EQ(received("crmhub_events_received_total"), 2);
  EXPECT_EQ(received("crmhub_events_duplicate_total"), 1);
  EXPECT_EQ(DeliveriesCounted("ok"), 3);
}

TEST_F(PipelineTest, WebhookEnqueueWakesAnIdleWorker) {
  auto pipeline =
      MakePipeline(PipelineOptions{.idle_wait_min = seconds(60), .idle_wait_max = seconds(60)});
  ASSERT_TRUE(pipeline->Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  // The worker found the lane empty and waits up to 60 s; the enqueue
  // through the NotifyingQueue wakes it at once.
  ASSERT_TRUE(
      queue_
          ->Enqueue(
              {.lane = "in.form", .source = "form", .idempotency_key = "w1", .payload = Form("w1")})
          .ok());
  ASSERT_TRUE(sink_->applied.WaitFor(1, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  EXPECT_TRUE(HasLead("form", "site-w1"));
}

// A hint is not mapped: the adapter's Resolve turns it into records, which
// are queued (keyed as the pull keys them) before the hint is settled, and
// mapped like any record. A failing Resolve is retried by the queue.
TEST_F(PipelineTest, HintsAreResolvedIntoRecordsBeforeMapping) {
  auto hook = std::make_shared<HintedHook>("ym");
  for (const char* form : {"h1", "down"}) {
    queue::NewMessage m = ToNewMessage({.idempotency_key = std::string("hint:") + form,
                                        .kind = "hint",
                                        .payload = form,
                                        .resolve = true},
                                       "in.ym", "ym");
    ASSERT_TRUE(queue_->Enqueue(std::move(m)).ok());
  }
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(hook, mapper_).ok());
  ASSERT_TRUE(sink_->applied.WaitFor(2, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  EXPECT_TRUE(HasLead("ym", "site-h1"));
  EXPECT_TRUE(HasLead("ym", "site-down"));
  EXPECT_EQ(hook->resolved.value(), 3);  // h1 once, "down" twice
  // The record a later pull brings is a duplicate of the resolved one.
  auto again = queue_->Enqueue(
      {.lane = "in.ym", .source = "ym", .idempotency_key = "form:h1", .payload = Form("h1")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, queue::EnqueueOutcome::kDuplicate);
  auto counter = [&](const char* outcome) {
    return metrics_
        .GetCounter("crmhub_deliveries_total", "",
                    {{"adapter", "ym"}, {"target", "ym/resolve"}, {"outcome", outcome}})
        .value();
  };
  EXPECT_EQ(counter("ok"), 2);
  EXPECT_EQ(counter("retry"), 1);
  EXPECT_EQ(engine_->Depth(), 0);
}

// What an adapter throws is caught at the loop's boundary, logged and
// counted; the pull backs off and tries again, the commands are retried, a
// hint whose Resolve throws is retried, and the process goes on.
TEST_F(PipelineTest, ExceptionsFromAdaptersAreCaughtCountedAndRetried) {
  auto thrower = std::make_shared<ThrowingAdapter>("bad");
  ASSERT_TRUE(
      queue_
          ->Enqueue({.lane = "out.bad", .source = "crm", .idempotency_key = "c1", .payload = "{}"})
          .ok());
  auto pipeline = MakePipeline();
  ASSERT_TRUE(pipeline->Start(thrower, mapper_).ok());
  ASSERT_TRUE(thrower->pulls.WaitFor(3, seconds(30)));  // backed off and pulled again
  ASSERT_TRUE(thrower->delivers.WaitFor(1, seconds(30)));
  auto hook = std::make_shared<HintedHook>("hk");
  ASSERT_TRUE(queue_
                  ->Enqueue(ToNewMessage(
                      {.idempotency_key = "t", .payload = "throw", .resolve = true}, "in.hk", "hk"))
                  .ok());
  ASSERT_TRUE(pipeline->Start(hook, mapper_).ok());
  ASSERT_TRUE(hook->resolved.WaitFor(1, seconds(30)));
  ASSERT_TRUE(pipeline->StopAll(Deadline()));
  auto exceptions = [&](const char* adapter, const char* step) {
    return metrics_
        .GetCounter("crmhub_worker_exceptions_total", "", {{"adapter", adapter}, {"step", step}})
        .value();
  };
  EXPECT_GE(exceptions("bad", "pull"), 3);
  EXPECT_GE(exceptions("bad", "deliver"), 1);
  EXPECT_GE(exceptions("hk", "resolve"), 1);
  auto stats = engine_->Stats();
  ASSERT_TRUE(stats.ok());
  for (const auto& lane : *stats) {
    if (lane.lane == "out.bad" || lane.lane == "in.hk") {
      EXPECT_EQ(lane.dead, 0) << lane.lane;  // retried, not lost
      EXPECT_EQ(lane.ready + lane.delayed + lane.leased, 1) << lane.lane;
    }
  }
}

// A CRM that throttles: every event is a retry not before an hour from now.
class ThrottlingSink final : public crm::CrmSink {
 public:
  explicit ThrottlingSink(Clock& clock) : clock_(clock) {}
  std::vector<DeliveryOutcome> Apply(const std::vector<crm::SinkEvent>& events) override {
    std::vector<DeliveryOutcome> out(
        events.size(),
        DeliveryOutcome::Retry("429 Too Many Requests", clock_.Now() + std::chrono::hours(1)));
    applied.Add(static_cast<int>(events.size()));
    return out;
  }
  std::string_view name() const override { return "throttling"; }
  EventCount applied;

 private:
  Clock& clock_;
};

// Issue 18: a throttled batch (with a few records that do not map among it)
// is settled in one durable commit, not one per retry or per dead letter.
TEST_F(PipelineTest, AThrottledThousandItemBatchSettlesInOneCommit) {
  std::vector<queue::NewMessage> batch;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "f" + std::to_string(i);
    batch.push_back({.lane = "in.form",
                     .source = "form",
                     .idempotency_key = id,
                     .payload = i % 100 == 0 ? R"({"name":"no id"})" : Form(id)});
  }
  ASSERT_TRUE(queue_->EnqueueBatch(std::move(batch)).ok());
  ThrottlingSink sink(clock_);
  PipelineOptions options;
  options.delivery_workers = 1;
  options.inbound_batch = 1024;
  const auto before = engine_->commit_counters();
  Pipeline pipeline(*queue_, sink, clock_, metrics_, wakeup_, options);
  ASSERT_TRUE(pipeline.Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  ASSERT_TRUE(sink.applied.WaitFor(990, seconds(30)));
  ASSERT_TRUE(pipeline.StopAll(Deadline()));  // joins: the batch is settled
  const auto after = engine_->commit_counters();
  // Two durable commits in all: the lease of the 1,000 and their settlement
  // (990 retries and 10 dead letters). Later leases find nothing due and
  // write nothing, so they need no fsync.
  EXPECT_EQ(after.syncs - before.syncs, 2);
  EXPECT_EQ(sink.applied.value(), 990);
  auto dead = engine_->ListDeadLetters({.lane = std::string("in.form")});
  ASSERT_TRUE(dead.ok());
  EXPECT_EQ(dead->size(), 10u);
  EXPECT_EQ(engine_->Depth(), 990);
}

// A queue that holds each SettleAsync answer until the next Lease has been
// made: a worker that waited for its settlement before leasing again would
// lease nothing until ReleaseHeld.
class AnswerAfterNextLease final : public queue::ForwardingQueue {
 public:
  explicit AnswerAfterNextLease(queue::Queue& inner) : queue::ForwardingQueue(inner) {}
  Result<std::vector<queue::Leased>> Lease(const std::string& lane, int max,
                                           std::chrono::milliseconds d) override {
    auto leased = inner().Lease(lane, max, d);
    // The lease was applied after the settlements before it (queue.h), so
    // their answers are in by now.
    const int released = ReleaseHeld();
    if (released > 0 && leased.ok() && !leased->empty()) leased_while_settling.Add();
    return leased;
  }
  void SettleAsync(std::vector<queue::Settlement> s, SettleCallback done) override {
    inner().SettleAsync(std::move(s), [this, done = std::move(done)](std::vector<Status> st) {
      {
        std::lock_guard lock(mu_);
        if (holding_) {
          held_.push_back([done, st = std::move(st)] { done(st); });
          return;
        }
      }
      done(st);
    });
  }
  // Answers every held settlement; returns how many.
  int ReleaseHeld() {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard lock(mu_);
      answers.swap(held_);
    }
    for (auto& answer : answers) answer();
    return static_cast<int>(answers.size());
  }
  // Answers what is held and every later settlement as it comes. The engine
  // answers after its fsync, which may be after the settled messages left
  // Depth(): a settlement's answer can arrive after any ReleaseHeld, with no
  // next lease to release it when the worker is idle.
  void StopHolding() {
    {
      std::lock_guard lock(mu_);
      holding_ = false;
    }
    ReleaseHeld();
  }

  EventCount leased_while_settling;  // leases that took messages with answers held

 private:
  std::mutex mu_;
  bool holding_ = true;                      // GUARDED_BY(mu_)
  std::vector<std::function<void()>> held_;  // GUARDED_BY(mu_)
};

// Delivery leases its next batch while the last one settles (SettleAsync):
// one durable wait per batch, not two, and nothing is lost or doubled.
TEST_F(PipelineTest, TheNextBatchIsLeasedWhileTheLastSettles) {
  std::vector<queue::NewMessage> batch;
  for (int i = 0; i < 30; ++i) {
    const std::string id = "p" + std::to_string(i);
    batch.push_back(
        {.lane = "in.form", .source = "form", .idempotency_key = id, .payload = Form(id)});
  }
  ASSERT_TRUE(queue_->EnqueueBatch(std::move(batch)).ok());
  AnswerAfterNextLease holding(*engine_);
  PipelineOptions options;
  options.delivery_workers = 1;
  options.inbound_batch = 10;
  Pipeline pipeline(holding, *sink_, clock_, metrics_, wakeup_, options);
  ASSERT_TRUE(pipeline.Start(std::make_shared<HookOnly>("form"), mapper_).ok());
  const bool all_applied = sink_->applied.WaitFor(30, seconds(30));
  // The second and third batches were leased with the one before unanswered.
  const bool overlapped = holding.leased_while_settling.WaitFor(2, seconds(30));
  holding.ReleaseHeld();  // whatever a failing worker still waits for
  EXPECT_TRUE(all_applied) << "applied " << sink_->applied.value();
  EXPECT_TRUE(overlapped) << "leases made while a settlement was held: "
                          << holding.leased_while_settling.value();
  // Every batch settles: the queue drains (the last answer comes with the
  // next, empty, lease or at the stop).
  const auto guard = std::chrono::steady_clock::now() + seconds(30);
  while (engine_->Depth() > 0 && std::chrono::steady_clock::now() < guard) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(engine_->Depth(), 0);
  holding.StopHolding();
  ASSERT_TRUE(pipeline.StopAll(Deadline()));
  EXPECT_EQ(sink_->batch_sizes(), (std::vector<size_t>{10, 10, 10}));
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(HasLead("form", "site-p" + std::to_string(i))) << i;
}

}  // namespace
}  // namespace crmhub::daemon
