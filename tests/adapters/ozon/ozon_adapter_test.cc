// The Ozon adapter against the in-process simulator over real loopback HTTP.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "queue/sqlite_queue.h"
#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

adapters::Command MakeCommand(const std::string& command, json item) {
  adapters::Command m;
  m.name = command;
  m.payload = item.dump();
  return m;
}

TEST(OzonTime, IsTheSpecsDateTimeInUtcWithMilliseconds) {
  EXPECT_EQ(OzonTime(FromUnixMillis(1566656122123)), "2019-08-24T14:15:22.123Z");
}

// A cursor of the first version (FBS only, as persisted before FBO was
// pulled): {"v":1, <the FBS state>}.
std::string V1Cursor(const PullCursor& fbs) {
  json j = fbs.ToObject();
  j["v"] = 1;
  return j.dump();
}

TEST(OzonCursor, RoundTripsAndRejectsGarbage) {
  auto parsed = OzonCursor::Parse(V1Cursor(PullCursor{123, 456, 789}));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->fbs.watermark_ms, 123);
  EXPECT_EQ(parsed->fbs.window_to_ms, 456);
  EXPECT_EQ(parsed->fbs.offset, 789);
  for (const char* bad :
       {"nope", R"({"v":2})", R"({"v":1,"offset":-1})", R"([1])", R"({"v":"1"})"}) {
    EXPECT_FALSE(OzonCursor::Parse(bad).has_value()) << bad;
  }
}

TEST(OzonCursor, KeepsEachSchemesStateAndReadsTheFbsOnlyCursor) {
  OzonCursor c;
  c.scheme = Scheme::kFbo;
  c.fbs = PullCursor{123, 456, 7};
  c.fbo.window_from_ms = 1000;
  c.fbo.window_to_ms = 2000;
  c.fbo.span_ms = 500;
  c.fbo.last_window = false;
  auto parsed = OzonCursor::Parse(c.ToJson());
  ASSERT_TRUE(parsed.has_value()) << c.ToJson();
  EXPECT_EQ(parsed->scheme, Scheme::kFbo);
  EXPECT_EQ(parsed->fbs.watermark_ms, 123);
  EXPECT_EQ(parsed->fbs.window_to_ms, 456);
  EXPECT_EQ(parsed->fbs.offset, 7);
  EXPECT_EQ(parsed->fbo.window_from_ms, 1000);
  EXPECT_EQ(parsed->fbo.window_to_ms, 2000);
  EXPECT_EQ(parsed->fbo.span_ms, 500);
  EXPECT_FALSE(parsed->fbo.last_window);
  // A cursor persisted before FBO was pulled is the FBS state.
  auto v1 = OzonCursor::Parse(V1Cursor(PullCursor{123, 456, 7}));
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->scheme, Scheme::kFbs);
  EXPECT_EQ(v1->fbs.watermark_ms, 123);
  EXPECT_EQ(v1->fbs.offset, 7);
  EXPECT_EQ(v1->fbo.window_to_ms, 0);  // FBO starts a fresh pass
  EXPECT_FALSE(OzonCursor::Parse(R"({"v":2,"scheme":"dbs","fbs":{},"fbo":{}})").has_value());
  EXPECT_FALSE(OzonCursor::Parse(R"({"v":3})").has_value());
}

TEST(OzonSimAuth, AnswersOzonsErrorShapeForMissingOrWrongKeys) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 10;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ozon-a", so, sim.base_url());
  config.client.api_key = Secret("wrong");
  OzonAdapter adapter(config, http.transport(), clock);
  auto pulled = adapter.Pull(std::nullopt);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(pulled.status().message().find("Invalid Api-Key"), std::string::npos);

  net::OutboundRequest r;
  r.method = "POST";
  r.url = sim.base_url() + "/v3/posting/fbs/list";
  r.body = "{}";
  auto answer = http.client().SendBlocking(r);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 401);
  auto body = json::parse(answer->body);
  EXPECT_TRUE(body["code"].is_number_integer());
  EXPECT_TRUE(body["message"].is_string());
  EXPECT_TRUE(body["details"].is_array());
}

// Postings whose status changes while a pass pages through a window leave
// the window (their change is now after it) and shift every later posting
// to a lower offset: offset paging then skips postings, and with a short
// overlap a skipped final status is never read again (the e2e test lost 450
// of 10,000 postings this way). Here each page takes 2 s of simulated time
// during which postings change; every posting must still arrive with its
// final status.
TEST(OzonPull, PostingsChangingDuringAPassAreNotSkipped) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 400;
  so.seed = 11;
  so.arrival = std::chrono::seconds(1);
  so.lifetime = std::chrono::seconds(60);
  so.fbo_share = 0;  // FBS only: see config.schemes below
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.page_size = 50;
  config.overlap = std::chrono::milliseconds(0);  // nothing re-read: a skip is a loss
  config.poll_interval = std::chrono::seconds(1);
  // FBS's change-time windows are what this is about (FBO re-reads its
  // whole lookback each round: tests/adapters/ozon/ozon_fbo_test.cc).
  config.schemes = {Scheme::kFbs};
  OzonAdapter adapter(config, http.transport(), clock);
  std::optional<std::string> cursor;
  std::map<std::string, std::string> last_status;
  // Until the world has ended and a pass after that has completed.
  const SystemTime done_at = sim.AllFinalAt() + std::chrono::seconds(5);
  bool more = true;
  for (int pulls = 0; clock.Now() <= done_at || more; ++pulls) {
    ASSERT_LT(pulls, 5000) << "pull loop does not converge";
    auto pulled = adapter.Pull(cursor);
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    ASSERT_FALSE(pulled->not_before.has_value()) << "throttled: raise the test's rate";
    more = pulled->more;
    for (const auto& e : pulled->events) {
      auto posting = json::parse(e.payload);
      last_status[posting["posting_number"]] = posting["status"];
    }
    cursor = pulled->next_cursor;
    clock.Advance(std::chrono::seconds(2));  // a slow page: the world moves on
  }
  auto finals = sim.OrderStatuses(/*final_only=*/true);
  int missing = 0, stale = 0;
  for (const auto& [number, status] : finals) {
    auto it = last_status.find(number);
    if (it == last_status.end()) {
      ++missing;
    } else if (it->second != status) {
      ++stale;
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(stale, 0);
}

// A first pass over a busy account's history starts with a window of
// first_window and sizes each next one from the density the last one held,
// so it reads each posting about once. Starting with the whole lookback (the
// old way, kept below as the contrast) read the first pages only to halve
// the window and read them again: FBO up to its offset cap, more than once.
TEST(OzonPull, AFirstPassReadsABusyHistoryAboutOnce) {
  struct Pass {
    size_t distinct = 0;
    size_t events = 0;
    std::vector<simkit::LoggedRequest> requests;
    // The round after it, nothing having changed.
    size_t next_fbs_requests = 0, next_fbo_requests = 0, next_events = 0;
  };
  auto first_pass = [](std::optional<std::chrono::milliseconds> first_window) {
    Pass pass;
    ManualClock clock;
    OzonSimOptions so;
    so.orders = 3000;
    so.seed = 5;
    so.fbo_share = 0.5;
    so.arrival = std::chrono::hours(23);
    so.lifetime = std::chrono::seconds(3);
    so.enforce_rate_limits = false;  // the clock stands still: requests are counted below
    OzonSimulator sim(so, clock);
    EXPECT_TRUE(sim.Start("127.0.0.1:0").ok());
    clock.Advance(std::chrono::minutes(23 * 60 + 30));
    ClientThread http;
    auto config = ConfigFor("ozon-main", so, sim.base_url());
    config.page_size = 100;
    config.max_offset = 1000;  // FBO: ten pages a window at most
    if (first_window) config.first_window = *first_window;
    OzonAdapter adapter(config, http.transport(), clock);
    std::optional<std::string> cursor;
    auto round = [&](size_t& events) {
      auto numbers =
          testing::PullRound(adapter, cursor, 500, [&](const InboundEvent&) { ++events; });
      EXPECT_TRUE(numbers.ok()) << numbers.status().ToString();
      return numbers.ok() ? numbers->size() : 0;
    };
    pass.distinct = round(pass.events);
    pass.requests = sim.log().Snapshot();
    clock.Advance(config.poll_interval);
    round(pass.next_events);
    const auto all = sim.log().Snapshot();
    for (size_t i = pass.requests.size(); i < all.size(); ++i) {
      ++(all[i].path == "/v3/posting/fbs/list" ? pass.next_fbs_requests : pass.next_fbo_requests);
    }
    return pass;
  };
  auto span_of = [](const json& range, const char* from, const char* to) {
    return ToUnixMillis(*testing::ParseOzonTime(range[to].get<std::string>())) -
           ToUnixMillis(*testing::ParseOzonTime(range[from].get<std::string>()));
  };

  const Pass pass = first_pass(std::nullopt);
  EXPECT_EQ(pass.distinct, 3000u);
  // Each scheme's first request asks for one hour (OzonConfig::first_window).
  const int64_t hour_ms = 3600 * 1000;
  bool fbs_seen = false, fbo_seen = false;
  for (const auto& r : pass.requests) {
    auto body = json::parse(r.body);
    if (r.path == "/v3/posting/fbs/list" && !fbs_seen) {
      fbs_seen = true;
      EXPECT_EQ(span_of(body["filter"]["last_changed_status_date"], "from", "to"), hour_ms);
    } else if (r.path == "/v2/posting/fbo/list" && !fbo_seen) {
      fbo_seen = true;
      EXPECT_EQ(span_of(body["filter"], "since", "to"), hour_ms);
    }
  }
  EXPECT_TRUE(fbs_seen && fbo_seen);
  EXPECT_LE(pass.events, pass.distinct * 11 / 10) << "more than 10% read twice";
  // The next round starts each scheme with the span the last window was
  // sized with, not with the sliver the pass's end cut it to: FBS's few
  // minutes of changes are one request; FBO re-reads its ~1,500 postings
  // in about one request per 100-posting page.
  EXPECT_EQ(pass.next_fbs_requests, 1u);
  EXPECT_GE(pass.next_fbo_requests, 15u);
  EXPECT_LE(pass.next_fbo_requests, 20u);
  EXPECT_LE(pass.next_events, 1650u);

  const Pass whole = first_pass(std::chrono::hours(24));  // the whole lookback
  EXPECT_EQ(whole.distinct, 3000u);
  EXPECT_GT(whole.events, pass.events + 1000) << "the contrast no longer shows the re-reading";
  EXPECT_GT(whole.requests.size(), pass.requests.size());
}

// Each posting is queued as the bytes Ozon sent (split from the page without
// a parsed tree), with "delivery_schema" and "total_minor" added as its last
// members; a page that is not valid JSON fails the pull, retryable, and
// queues nothing.
TEST(OzonPull, PostingsAreQueuedAsSentWithTheirSchemeAddedLast) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 30;
  so.fbo_share = 0.5;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(5));
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  OzonAdapter adapter(config, http.transport(), clock);
  std::optional<std::string> cursor;
  size_t seen = 0;
  auto numbers = testing::PullRound(adapter, cursor, 100, [&](const InboundEvent& e) {
    std::string scheme;
    for (const auto& [k, v] : e.headers) {
      if (k == "ozon_scheme") scheme = v;
    }
    auto posting = json::parse(e.payload);
    // The amount: Σ price × quantity in kopecks (prices are "123.00").
    int64_t total = 0;
    for (const auto& p : posting["products"]) {
      total += std::llround(std::stod(p["price"].get<std::string>()) * 100) *
               p["quantity"].get<int64_t>();
    }
    const std::string suffix =
        R"(,"delivery_schema":")" + scheme + R"(","total_minor":)" + std::to_string(total) + "}";
    ASSERT_GE(e.payload.size(), suffix.size());
    EXPECT_EQ(e.payload.substr(e.payload.size() - suffix.size()), suffix) << e.payload;
    EXPECT_EQ(posting["delivery_schema"], scheme);
    EXPECT_EQ(e.idempotency_key, posting["posting_number"].get<std::string>() + ":" +
                                     posting["status"].get<std::string>());
    EXPECT_EQ(json(sim.OrderStatuses(/*final_only=*/true)
                       .at(posting["posting_number"].get<std::string>())),
              posting["status"]);
    EXPECT_TRUE(posting.contains("products") && posting["products"].is_array()) << e.payload;
    ++seen;
  });
  ASSERT_TRUE(numbers.ok()) << numbers.status().ToString();
  EXPECT_EQ(seen, 30u);

  // Every answer malformed: the pull fails with the reason, nothing queued,
  // the cursor not moved.
  OzonSimOptions broken = so;
  broken.faults = *simkit::ParseFaultSpec("malformed=1");
  OzonSimulator bad(broken, clock);
  ASSERT_TRUE(bad.Start("127.0.0.1:0").ok());
  OzonAdapter bad_adapter(ConfigFor("ozon-main", broken, bad.base_url()), http.transport(), clock);
  auto pulled = bad_adapter.Pull(std::nullopt);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kUnavailable) << pulled.status().ToString();
  EXPECT_NE(pulled.status().message().find("malformed JSON"), std::string::npos)
      << pulled.status().ToString();
}

// A pass's last window is cut at `now`, often to a sliver. The next pass
// starts with the span the window was sized with (span in the cursor), so
// the sliver must not shrink it: from a 2-second window, the next pass would
// start with 4 seconds and take a dozen doublings to reach hours again.
TEST(OzonPull, APassEndingInASliverKeepsItsWindowSize) {
  for (Scheme scheme : {Scheme::kFbs, Scheme::kFbo}) {
    ManualClock clock;
    OzonSimOptions so;
    so.orders = 10;
    so.arrival = std::chrono::minutes(1);
    so.lifetime = std::chrono::seconds(3);
    OzonSimulator sim(so, clock);
    ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
    clock.Advance(std::chrono::hours(2));  // nothing changes in the sliver
    ClientThread http;
    auto config = ConfigFor("ozon-main", so, sim.base_url());
    config.schemes = {scheme};
    OzonAdapter adapter(config, http.transport(), clock);
    const int64_t now_ms = ToUnixMillis(clock.Now());
    const int64_t six_hours_ms = 6 * 3600 * 1000;
    OzonCursor cursor;
    cursor.scheme = scheme;
    PullCursor& state = scheme == Scheme::kFbs ? cursor.fbs : cursor.fbo;
    state.watermark_ms = now_ms - 2000;
    state.window_from_ms = now_ms - 2000;  // the pass's last window: 2 s up to now
    state.window_to_ms = now_ms;
    state.last_window = true;
    state.span_ms = six_hours_ms;  // what it was sized with
    auto pulled = adapter.Pull(cursor.ToJson());
    ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
    EXPECT_FALSE(pulled->more) << "the pass is over";
    ASSERT_TRUE(pulled->next_cursor.has_value());
    auto next = OzonCursor::Parse(*pulled->next_cursor);
    ASSERT_TRUE(next.has_value());
    const PullCursor& after = scheme == Scheme::kFbs ? next->fbs : next->fbo;
    EXPECT_EQ(after.window_to_ms, 0);
    EXPECT_GE(after.span_ms, six_hours_ms) << SchemeName(scheme);
    EXPECT_LE(after.span_ms, std::chrono::milliseconds(config.order_lookback).count());
  }
}

// Acceptance 1 (in-process chain): postings changing status, pulled
// through 20% faults (429, 5xx, malformed JSON, duplicated pages, slow and
// timed-out answers) into the real SQLite queue, cursor saved only after
// the events are durable, with a simulated crash (events enqueued, cursor
// not saved) in the middle. Every posting ends up exactly once with its
// final status; nothing accepted twice.
// 1,000 postings here to keep the suite fast on 2 cores (the 10,000-posting
// run is `OZON_PULL_ORDERS=10000 ozon_adapter_test --gtest_filter=OzonPull.*`).
TEST(OzonPull, PostingsThroughFaultsAndACrashArriveExactlyOnce) {
  ManualClock clock;
  OzonSimOptions so;
  const char* env_orders = std::getenv("OZON_PULL_ORDERS");
  so.orders = env_orders != nullptr ? std::atoi(env_orders) : 1000;
  so.seed = 7;
  so.arrival = std::chrono::seconds(30);
  so.lifetime = std::chrono::seconds(15);
  auto faults = simkit::ParseFaultSpec(
      "429=0.05,500=0.04,503=0.02,malformed=0.03,dup=0.04,slow=0.01,timeout=0.01");
  ASSERT_TRUE(faults.ok());
  so.faults = *faults;
  so.faults.slow_delay = std::chrono::milliseconds(50);
  // The client gives up after 400 ms; the simulator stops holding after
  // 1.5 s either way, so a stuck client cannot hang the test.
  so.faults.timeout_hold = std::chrono::milliseconds(1500);
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http(std::chrono::milliseconds(400));

  auto dir = std::filesystem::temp_directory_path() / ("ozon-pull-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  queue::SqliteQueueOptions qo;
  qo.data_dir = dir;
  auto q = queue::SqliteQueue::Open(clock, qo);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::unique_ptr<queue::SqliteQueue> queue = std::move(*q);

  auto config = ConfigFor("ozon-main", so, sim.base_url());
  config.overlap = std::chrono::seconds(10);
  auto adapter = std::make_unique<OzonAdapter>(config, http.transport(), clock);
  const std::string cursor_key = "cursor.ozon-main";
  int accepted = 0, duplicates = 0, errors = 0, pulls = 0;
  bool crashed = false;
  SystemTime done_at = sim.AllFinalAt() + config.overlap + std::chrono::seconds(10);
  while (true) {
    auto cursor = queue->GetState(cursor_key);
    ASSERT_TRUE(cursor.ok());
    auto pulled = adapter->Pull(*cursor);
    ++pulls;
    ASSERT_LT(pulls, 5000) << "pull loop does not converge";
    if (!pulled.ok()) {
      ++errors;
      clock.Advance(std::chrono::milliseconds(500));  // the runtime's backoff
      continue;
    }
    std::vector<queue::NewMessage> batch;
    for (auto& e : pulled->events) {
      batch.push_back({.lane = "in.ozon-main",
                       .source = "ozon-main",
                       .idempotency_key = e.idempotency_key,
                       .ordering_key = e.ordering_key,
                       .headers = e.headers,
                       .payload = e.payload});
    }
    if (!batch.empty()) {
      auto outcomes = queue->EnqueueBatch(std::move(batch));
      ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
      for (auto o : *outcomes) (o == queue::EnqueueOutcome::kAccepted ? accepted : duplicates)++;
    }
    if (!crashed && accepted > so.orders / 2) {
      // Crash after the enqueue, before the cursor is saved: a new process
      // (queue reopened, adapter rebuilt) resumes from the persisted cursor.
      crashed = true;
      queue.reset();
      adapter.reset();
      auto reopened = queue::SqliteQueue::Open(clock, qo);
      ASSERT_TRUE(reopened.ok());
      queue = std::move(*reopened);
      adapter = std::make_unique<OzonAdapter>(config, http.transport(), clock);
      continue;
    }
    if (pulled->next_cursor) {
      ASSERT_TRUE(queue->PutState(cursor_key, *pulled->next_cursor).ok());
    }
    if (pulled->not_before) {
      clock.Advance(std::chrono::milliseconds(
          std::max<int64_t>(1, ToUnixMillis(*pulled->not_before) - ToUnixMillis(clock.Now()))));
    } else if (!pulled->more) {
      if (clock.Now() > done_at) break;
      clock.Advance(config.poll_interval);
    } else {
      clock.Advance(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(crashed);
  EXPECT_GT(errors, 0) << "faults were injected";
  EXPECT_GT(duplicates, 0) << "overlaps and the crash re-pull produce repeats the queue absorbs";

  // Drain the lane in order, as the delivery worker would, into a store
  // keyed by posting_number: ordering keys keep each posting's changes in order.
  std::map<std::string, std::string> store;
  std::map<std::string, int> events_per_key;
  std::set<std::string> stored_fbo;
  while (true) {
    auto leased = queue->Lease("in.ozon-main", 1000, std::chrono::minutes(5));
    ASSERT_TRUE(leased.ok());
    if (leased->empty()) break;
    std::vector<queue::LeaseToken> tokens;
    for (const auto& l : *leased) {
      auto posting = json::parse(l.message.payload);
      store[posting["posting_number"]] = posting["status"];
      if (posting.value("delivery_schema", "") == "fbo")
        stored_fbo.insert(posting["posting_number"]);
      events_per_key[l.message.idempotency_key]++;
      tokens.push_back(l.lease);
    }
    for (const auto& s : queue->AckBatch(tokens)) ASSERT_TRUE(s.ok());
  }
  for (const auto& [key, n] : events_per_key) EXPECT_EQ(n, 1) << key;
  EXPECT_EQ(static_cast<int>(events_per_key.size()), accepted);
  auto finals = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(store.size(), finals.size());
  int mismatched = 0;
  for (const auto& [number, status] : finals) {
    if (store[number] != status) ++mismatched;
  }
  EXPECT_EQ(mismatched, 0);
  // The simulator ships a share of its postings FBO: they came through the
  // same faults and crash.
  EXPECT_EQ(stored_fbo.size(), sim.FboPostings().size());
  EXPECT_GT(stored_fbo.size(), finals.size() / 10);
  queue.reset();
  std::filesystem::remove_all(dir);
}

// Acceptance 2: 5,000 SKUs in batches of the documented 100, never above the
// documented rates (80/min for stocks, 50/s overall), read from the
// simulator's request log.
// Through the account's net::Upstream, as the daemon sends (its bucket
// holds the 50/s; the client's window the 80/min of stocks).
TEST(OzonStocks, FiveThousandSkusUseTheDocumentedBatchAndRate) {
  testing::AdvancingClock clock;
  OzonSimOptions so;
  so.orders = 0;
  so.products = 5000;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ozon-main", so, sim.base_url());
  OzonAdapter adapter(config, testing::UpstreamTransport(http.client(), clock), clock);

  std::deque<adapters::Command> pending;
  char offer[32];
  for (int i = 0; i < 5000; ++i) {
    std::snprintf(offer, sizeof(offer), "SKU-%06d", i + 1);
    pending.push_back(
        MakeCommand("set_stock", {{"offer_id", offer}, {"warehouse_id", "22"}, {"stock", i % 50}}));
  }
  int delivered = 0, rounds = 0;
  while (!pending.empty()) {
    ASSERT_LT(++rounds, 1000);
    size_t n = std::min<size_t>(pending.size(), static_cast<size_t>(adapter.max_batch()));
    std::vector<adapters::Command> batch(pending.begin(), pending.begin() + static_cast<long>(n));
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(n));
    auto outcomes = adapter.Deliver(batch);
    ASSERT_EQ(outcomes.size(), batch.size());
    std::optional<SystemTime> wait;
    for (size_t i = 0; i < n; ++i) {
      if (outcomes[i].ok()) {
        ++delivered;
      } else {
        ASSERT_EQ(outcomes[i].kind, DeliveryOutcome::Kind::kRetry) << outcomes[i].error;
        pending.push_back(batch[i]);
        if (outcomes[i].not_before)
          wait = std::max(wait.value_or(SystemTime{}), *outcomes[i].not_before);
      }
    }
    if (wait && *wait > clock.Now()) clock.Advance(*wait - clock.Now());
  }
  EXPECT_EQ(delivered, 5000);
  EXPECT_EQ(sim.Stocks().size(), 5000u);
  EXPECT_EQ(sim.Stocks().at("100001:22"), 0);
  EXPECT_EQ(sim.Stocks().at("105000:22"), 4999 % 50);

  auto log = sim.log().Snapshot();
  std::vector<int64_t> stock_times, all_times;
  for (const auto& r : log) {
    EXPECT_NE(r.status, 429) << r.path << " at " << r.at_ms;
    all_times.push_back(r.at_ms);
    if (r.path != "/v2/products/stocks") continue;
    stock_times.push_back(r.at_ms);
    auto body = json::parse(r.body);
    EXPECT_LE(body["stocks"].size(), 100u);
    EXPECT_EQ(body["stocks"].size(), 100u) << "5,000 SKUs pack into full batches";
  }
  EXPECT_EQ(stock_times.size(), 50u);
  auto max_in_window = [](const std::vector<int64_t>& times, int64_t window_ms) {
    size_t best = 0;
    for (size_t i = 0, j = 0; i < times.size(); ++i) {
      while (times[i] - times[j] >= window_ms) ++j;
      best = std::max(best, i - j + 1);
    }
    return best;
  };
  EXPECT_LE(max_in_window(stock_times, 60000), 80u);
  EXPECT_LE(max_in_window(all_times, 1000), 50u);
}

TEST(OzonStocks, PerItemErrorsBecomePerItemOutcomes) {
  ManualClock clock;
  OzonSimOptions so;
  so.orders = 0;
  so.products = 10;
  OzonSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  OzonAdapter adapter(ConfigFor("ozon-main", so, sim.base_url()), http.transport(), clock);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"offer_id", "SKU-000001"}, {"warehouse_id", 22}, {"stock", 5}}),
      MakeCommand(
          "set_stock",
          {{"product_id", 100002}, {"warehouse_id", 99}, {"stock", 5}}),  // unknown warehouse
      MakeCommand("set_stock",
                  {{"offer_id", "NOPE"}, {"warehouse_id", 22}, {"stock", 5}}),  // not in catalogue
      MakeCommand("set_stock",
                  {{"offer_id", "SKU-000003"}, {"warehouse_id", 22}, {"stock", 5000000}}),
      MakeCommand("set_price", {{"offer_id", "SKU-000004"}, {"price", 199.9}}),
      MakeCommand("set_price", {{"offer_id", "SKU-999999"}, {"price", "10"}}),
      MakeCommand("frobnicate", {{"x", 1}}),
  };
  auto out = adapter.Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[1].error.find("WAREHOUSE_NOT_FOUND"), std::string::npos) << out[1].error;
  EXPECT_EQ(out[2].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[2].error.find("catalogue"), std::string::npos) << out[2].error;
  EXPECT_EQ(out[3].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[3].error.find("STOCK_TOO_BIG"), std::string::npos) << out[3].error;
  EXPECT_TRUE(out[4].ok()) << out[4].error;
  EXPECT_EQ(out[5].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[6].kind, DeliveryOutcome::Kind::kFail);
  // The same pair again within 30 s is held back (nothing sent), to be
  // retried when the pair's 30 s are over.
  const size_t sent = sim.log().size();
  clock.Advance(std::chrono::seconds(10));
  auto again = adapter.Deliver(std::vector<adapters::Command>{batch[0]});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(again[0].not_before, clock.Now() + std::chrono::seconds(20)) << again[0].error;
  EXPECT_EQ(sim.log().size(), sent);
  // Ozon's own TOO_MANY_REQUESTS (another process updated the pair) is
  // retryable too.
  OzonAdapter other(ConfigFor("ozon-main", so, sim.base_url()), http.transport(), clock);
  auto theirs = other.Deliver(std::vector<adapters::Command>{batch[0]});
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_NE(theirs[0].error.find("TOO_MANY_REQUESTS"), std::string::npos) << theirs[0].error;
}

TEST(OzonAccounts, TwoAccountsInOneProcessStayApart) {
  ManualClock clock;
  OzonSimOptions a, b;
  a.orders = 30;
  a.credentials = {"111:key-a"};
  b.orders = 20;
  b.credentials = {"222:key-b"};
  b.seed = 99;
  OzonSimulator sim_a(a, clock), sim_b(b, clock);
  ASSERT_TRUE(sim_a.Start("127.0.0.1:0").ok());
  ASSERT_TRUE(sim_b.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::minutes(5));
  ClientThread http;
  OzonAdapter ad_a(ConfigFor("ozon-a", a, sim_a.base_url()), http.transport(), clock);
  OzonAdapter ad_b(ConfigFor("ozon-b", b, sim_b.base_url()), http.transport(), clock);
  // One round each: the FBS pass, then the FBO pass.
  std::optional<std::string> cursor_a, cursor_b;
  auto round_a = testing::PullRound(ad_a, cursor_a);
  auto round_b = testing::PullRound(ad_b, cursor_b);
  ASSERT_TRUE(round_a.ok()) << round_a.status().ToString();
  ASSERT_TRUE(round_b.ok()) << round_b.status().ToString();
  EXPECT_EQ(round_a->size(), 30u);
  EXPECT_EQ(round_b->size(), 20u);
  for (const auto& r : sim_a.log().Snapshot()) EXPECT_EQ(r.status, 200);
  for (const auto& r : sim_b.log().Snapshot()) EXPECT_EQ(r.status, 200);
}

}  // namespace
}  // namespace crmhub::adapters::ozon
