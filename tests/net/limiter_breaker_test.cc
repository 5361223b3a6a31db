#include <gtest/gtest.h>

#include <thread>

#include "base/metrics.h"
#include "net/circuit_breaker.h"
#include "net/http_server.h"
#include "net/rate_limiter.h"
#include "net/upstream.h"
#include "tests/net/test_util.h"

namespace crmhub::net {
namespace {

using namespace std::chrono_literals;
using testing::IoThreads;

TEST(TokenBucketTest, BurstThenSteadyRate) {
  ManualClock clock;
  TokenBucket bucket(clock, RateLimit::PerSecond(10, 5));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.TryAcquire().acquired) << i;
  auto r = bucket.TryAcquire();
  EXPECT_FALSE(r.acquired);
  EXPECT_EQ(r.wait, 100ms);
  clock.Advance(99ms);
  EXPECT_FALSE(bucket.TryAcquire().acquired);
  clock.Advance(1ms);
  EXPECT_TRUE(bucket.TryAcquire().acquired);

  // A greedy caller over 10 s of simulated time gets the rate, no more.
  int taken = 0;
  for (int ms = 0; ms < 10'000; ++ms) {
    clock.Advance(1ms);
    while (bucket.TryAcquire().acquired) ++taken;
  }
  EXPECT_EQ(taken, 100);

  // After idling, at most `burst` tokens are banked.
  clock.Advance(1h);
  taken = 0;
  while (bucket.TryAcquire().acquired) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucketTest, PerMinuteAndUnlimited) {
  ManualClock clock;
  TokenBucket per_minute(clock, RateLimit::PerMinute(60));
  EXPECT_TRUE(per_minute.TryAcquire().acquired);
  EXPECT_EQ(per_minute.TryAcquire().wait, 1s);
  TokenBucket unlimited(clock, RateLimit::Unlimited());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(unlimited.TryAcquire().acquired);
}

TEST(TokenBucketTest, PauseHoldsTokensBack) {
  ManualClock clock;
  TokenBucket bucket(clock, RateLimit::PerSecond(100, 10));
  bucket.PauseUntil(clock.SteadyNow() + 30s);
  bucket.PauseUntil(clock.SteadyNow() + 5s);  // an earlier pause does not shorten it
  auto r = bucket.TryAcquire();
  EXPECT_FALSE(r.acquired);
  EXPECT_EQ(r.wait, 30s);
  clock.Advance(30s);
  EXPECT_TRUE(bucket.TryAcquire().acquired);
}

TEST(TokenBucketTest, BlockingAcquire) {
  ManualClock clock;
  TokenBucket bucket(clock, RateLimit::PerSecond(10, 1));
  ASSERT_TRUE(bucket.TryAcquire().acquired);
  // The next token is 100 ms away: more than 50 ms of patience fails at once.
  EXPECT_FALSE(bucket.Acquire(50ms).has_value());

  // The wait runs on the clock: it ends when the clock reaches the token,
  // not before, and no real time passes.
  std::optional<Duration> waited;
  std::thread worker([&] { waited = bucket.Acquire(10s); });
  ASSERT_TRUE(clock.AwaitWaiting(1));
  clock.Advance(60ms);
  ASSERT_TRUE(clock.AwaitWaiting(1));  // still waiting: 40 ms to go
  clock.Advance(40ms);
  worker.join();
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(*waited, 100ms);

  // Cancel releases a caller that would otherwise wait an hour.
  bucket.PauseUntil(clock.SteadyNow() + 1h);
  std::optional<Duration> cancelled = 1ns;
  std::thread stuck([&] { cancelled = bucket.Acquire(2h); });
  bucket.Cancel();
  stuck.join();
  EXPECT_FALSE(cancelled.has_value());
}

TEST(CircuitBreakerTest, OpensProbesAndCloses) {
  ManualClock clock;
  CircuitBreaker b(clock, {.failure_threshold = 3, .cool_down = 10s});
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  b.RecordFailure();
  b.RecordFailure();
  b.RecordSuccess();  // resets the streak
  b.RecordFailure();
  b.RecordFailure();
  EXPECT_TRUE(b.Allow());
  b.RecordFailure();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  EXPECT_EQ(b.consecutive_failures(), 3u);
  EXPECT_FALSE(b.Allow());
  EXPECT_EQ(b.RetryAfter(), 10s);

  clock.Advance(10s);
  EXPECT_TRUE(b.Allow());  // the probe
  EXPECT_EQ(b.state(), CircuitBreaker::State::kHalfOpen);
  EXPECT_FALSE(b.Allow());  // only one
  b.RecordFailure();        // probe failed: open again, new cool-down
  EXPECT_EQ(b.state(), CircuitBreaker::State::kOpen);
  clock.Advance(9s);
  EXPECT_FALSE(b.Allow());
  clock.Advance(1s);
  EXPECT_TRUE(b.Allow());
  b.RecordSuccess();
  EXPECT_EQ(b.state(), CircuitBreaker::State::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 0u);
  EXPECT_TRUE(b.Allow());
  EXPECT_EQ(CircuitStateName(b.state()), "closed");
}

TEST(CircuitBreakerTest, LostProbeIsReplacedAfterCoolDown) {
  ManualClock clock;
  CircuitBreaker b(clock, {.failure_threshold = 1, .cool_down = 5s});
  b.RecordFailure();
  clock.Advance(5s);
  EXPECT_TRUE(b.Allow());
  EXPECT_FALSE(b.Allow());
  clock.Advance(5s);  // the probe never reported
  EXPECT_TRUE(b.Allow());
}

class UpstreamTest : public ::testing::Test {
 protected:
  UpstreamTest()
      : server_(io_.io(), {},
                [this](HttpRequest req, Responder respond) {
                  hits_++;
                  if (req.path == "/500") {
                    respond(HttpResponse::Error(500, "down"));
                  } else if (req.path == "/429") {
                    HttpResponse r = HttpResponse::Error(429, "slow down");
                    r.headers.Set("Retry-After", "120");
                    respond(std::move(r));
                  } else {
                    respond(HttpResponse::Text(200, "ok"));
                  }
                }),
        client_(io_.io(), {}) {
    EXPECT_TRUE(server_.Listen("127.0.0.1:0").ok());
  }
  OutboundRequest Get(std::string_view path) {
    OutboundRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(server_.port()) + std::string(path);
    return r;
  }
  bool HasLine(const std::string& line) {
    return metrics_.RenderPrometheus().find(line + "\n") != std::string::npos;
  }

  IoThreads io_;
  std::atomic<int> hits_{0};
  HttpServer server_;
  HttpClient client_;
  ManualClock clock_;
  MetricsRegistry metrics_;
};

TEST_F(UpstreamTest, BreakerOpensOnServerErrorsAndFailsFast) {
  UpstreamOptions options;
  options.breaker = {.failure_threshold = 3, .cool_down = 30s};
  Upstream up("ozon", client_, clock_, options, &metrics_);
  for (int i = 0; i < 3; ++i) {
    OutboundResult r = up.Call(Get("/500"));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 500);
  }
  EXPECT_EQ(up.breaker().state(), CircuitBreaker::State::kOpen);
  OutboundResult fast = up.Call(Get("/ok"));
  ASSERT_FALSE(fast.ok());
  EXPECT_EQ(fast.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(fast.status().message().find("circuit open"), std::string::npos);
  EXPECT_EQ(hits_.load(), 3);
  EXPECT_TRUE(HasLine("crmhub_upstream_requests_total{code=\"500\",upstream=\"ozon\"} 3"));
  EXPECT_TRUE(HasLine("crmhub_circuit_open{upstream=\"ozon\"} 1"));

  clock_.Advance(30s);
  OutboundResult probe = up.Call(Get("/ok"));
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(probe->status, 200);
  EXPECT_EQ(up.breaker().state(), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(HasLine("crmhub_circuit_open{upstream=\"ozon\"} 0"));
  EXPECT_TRUE(HasLine("crmhub_upstream_requests_total{code=\"200\",upstream=\"ozon\"} 1"));
}

TEST_F(UpstreamTest, UpstreamRetryAfterPausesTheBucket) {
  UpstreamOptions options;
  options.max_wait = 1s;
  Upstream up("wb", client_, clock_, options, &metrics_);
  OutboundResult r = up.Call(Get("/429"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 429);
  // Paused for 120 s: the next call is turned away locally, not sent.
  OutboundResult local = up.Call(Get("/ok"));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->status, 429);
  EXPECT_EQ(local->headers.Get("X-Crmhub-Local"), "rate-limit");
  EXPECT_EQ(local->headers.Get("Retry-After"), "120");
  DeliveryOutcome o = ClassifyResponse(local, clock_.Now());
  EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(o.not_before, clock_.Now() + 120s);
  EXPECT_EQ(hits_.load(), 1);
  EXPECT_TRUE(HasLine("crmhub_upstream_throttled_total{upstream=\"wb\"} 2"));
  EXPECT_EQ(up.breaker().state(), CircuitBreaker::State::kClosed);  // 429 is not a failure

  clock_.Advance(120s);
  OutboundResult again = up.Call(Get("/ok"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(hits_.load(), 2);
}

TEST_F(UpstreamTest, OwnRateLimitAndTransportErrors) {
  UpstreamOptions options;
  options.rate_limit = RateLimit::PerSecond(1, 1);
  options.max_wait = Duration(0);
  Upstream up("bank", client_, clock_, options, &metrics_);
  EXPECT_EQ(up.Call(Get("/ok"))->status, 200);
  OutboundResult local = up.Call(Get("/ok"));
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->status, 429);
  EXPECT_EQ(local->headers.Get("Retry-After"), "1");
  EXPECT_EQ(hits_.load(), 1);

  clock_.Advance(1s);
  OutboundRequest dead;
  dead.url = "http://127.0.0.1:1/";  // nothing listens on port 1
  OutboundResult r = up.Call(dead);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(HasLine("crmhub_upstream_requests_total{code=\"error\",upstream=\"bank\"} 1"));
  EXPECT_EQ(up.breaker().consecutive_failures(), 1u);
}

}  // namespace
}  // namespace crmhub::net
