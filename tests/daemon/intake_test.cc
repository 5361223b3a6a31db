// POST /hooks/{adapter_id} over a real loopback HttpServer, with the generic
// webhook adapter and a real SQLite queue; plus /healthz, /readyz, /metrics.

#include "daemon/intake.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/webhook/webhook_adapter.h"
#include "tests/daemon/http_routes_harness.h"
#include "tests/queue/failing_vfs.h"
#include "tests/support/log_capture.h"

namespace crmhub::daemon {
namespace {

using adapters::webhook::HmacSha256Hex;
using adapters::webhook::WebhookAdapter;
using adapters::webhook::WebhookConfig;
using testing::Answer;
using testing::Harness;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kKey[] = "site-hmac-key";

WebhookConfig SiteConfig() {
  WebhookConfig c;
  c.id = "site";
  c.secret = Secret(kKey);
  c.signature = net::SignatureScheme::Parse("hmac-sha256", "hex", "{body}").value();
  c.signature_header = "X-Signature";
  c.key = adapters::kit::CompositeKey::Parse({"/id"}).value();
  c.allow_ips = net::CidrList::Parse({"127.0.0.0/8"}).value();
  c.max_body = 1024;
  return c;
}

Headers Signed(const std::string& body) { return {{"X-Signature", HmacSha256Hex(kKey, body)}}; }

void ExpectErrorShape(const Answer& a, const std::string& error) {
  auto j = nlohmann::json::parse(a.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << a.body;
  EXPECT_EQ(j.value("error", ""), error) << a.body;
  EXPECT_TRUE(j.contains("detail")) << a.body;
  EXPECT_EQ(a.Header("content-type"), "application/json");
}

class IntakeTest : public ::testing::Test {
 protected:
  void StartWith(WebhookConfig config) {
    h.AddAdapter(std::make_shared<WebhookAdapter>(std::move(config)));
    h.Start(/*serve=*/true);
  }
  Answer Post(const std::string& body, const Headers& headers, const std::string& id = "site") {
    return h.Http("POST", "/hooks/" + id, body, headers);
  }
  Harness h;
};

TEST_F(IntakeTest, GoodSignatureIsQueuedOnceThenAnswered) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-1","name":"Anna","phone":"+79990000000"})";
  Answer a = Post(body, Signed(body));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body, R"({"status":"accepted"})");

  auto msgs = h.Drain("in.site");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].source, "site");
  EXPECT_EQ(msgs[0].idempotency_key, "form-1");
  EXPECT_EQ(msgs[0].payload, body);  // the raw body, byte for byte
  ASSERT_EQ(msgs[0].headers.size(), 1u);
  EXPECT_EQ(msgs[0].headers[0], (std::pair<std::string, std::string>{"kind", "webhook"}));
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_received_total{adapter="site"})"), 1);
}

TEST_F(IntakeTest, SignatureWithPrefixAndUpperCaseHexIsAccepted) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":7})";
  std::string sig = HmacSha256Hex(kKey, body);
  for (char& c : sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Answer a = Post(body, {{"x-signature", "sha256=" + sig}});
  EXPECT_EQ(a.status, 200) << a.body;
  auto msgs = h.Drain("in.site");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].idempotency_key, "7");  // a number is used in its JSON form
}

TEST_F(IntakeTest, BadOrMissingSignatureIs401AndNothingQueued) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-1"})";
  Answer wrong = Post(body, Signed(body + " "));
  EXPECT_EQ(wrong.status, 401);
  ExpectErrorShape(wrong, "unauthorized");
  Answer missing = Post(body, {});
  EXPECT_EQ(missing.status, 401);
  // A valid signature of another body is still wrong.
  Answer other = Post(body, Signed(R"({"id":"form-2"})"));
  EXPECT_EQ(other.status, 401);
  EXPECT_TRUE(h.Drain("in.site").empty());
  EXPECT_EQ(
      h.MetricValue(R"(crmhub_events_rejected_total{adapter="site",reason="unauthenticated"})"), 3);
}

// Issue 22, item 1: a refused signature is logged with the adapter, the
// peer and which check failed (never the secret or the signature), at most
// 10 lines a minute per adapter.
TEST_F(IntakeTest, ARefusedSignatureIsLoggedWithPeerAndCheckRateLimited) {
  testutil::LogCapture log;
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-1"})";
  const std::string wrong = HmacSha256Hex(kKey, body + " ");
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(Post(body, {{"X-Signature", wrong}}).status, 401);
  }
  auto lines = log.WithMessage("webhook refused");
  ASSERT_EQ(lines.size(), 10u) << log.All();
  const auto& f = lines[0].fields;
  EXPECT_EQ(f.value("adapter", ""), "site");
  EXPECT_EQ(f.value("peer", ""), "127.0.0.1");
  EXPECT_EQ(f.value("reason", ""), "unauthenticated");
  EXPECT_FALSE(f.value("check", "").empty()) << f.dump();
  EXPECT_EQ(log.All().find(kKey), std::string::npos);
  EXPECT_EQ(log.All().find(wrong), std::string::npos);
}

TEST_F(IntakeTest, AddressOutsideAllowListIs403) {
  WebhookConfig c = SiteConfig();
  c.allow_ips = net::CidrList::Parse({"10.0.0.0/8", "::1/128"}).value();
  StartWith(std::move(c));
  const std::string body = R"({"id":"form-1"})";
  Answer a = Post(body, Signed(body));  // from 127.0.0.1
  EXPECT_EQ(a.status, 403);
  ExpectErrorShape(a, "forbidden");
  EXPECT_TRUE(h.Drain("in.site").empty());
}

TEST_F(IntakeTest, MalformedJsonIs400WithReason) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-1",)";
  Answer a = Post(body, Signed(body));
  EXPECT_EQ(a.status, 400);
  ExpectErrorShape(a, "bad_request");
  EXPECT_NE(a.body.find("not valid JSON"), std::string::npos) << a.body;
  EXPECT_TRUE(h.Drain("in.site").empty());
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="site",reason="malformed"})"), 1);
}

TEST_F(IntakeTest, MissingIdempotencyKeyIs400) {
  StartWith(SiteConfig());
  for (const std::string body : {R"({"name":"no id"})", R"({"id":null})", R"({"id":""})", "[1]"}) {
    Answer a = Post(body, Signed(body));
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_NE(a.body.find("/id"), std::string::npos) << a.body;
  }
  EXPECT_TRUE(h.Drain("in.site").empty());
}

TEST_F(IntakeTest, OversizedBodyIs413) {
  StartWith(SiteConfig());  // max_body 1024
  const std::string body = R"({"id":"big","pad":")" + std::string(2000, 'x') + "\"}";
  Answer a = Post(body, Signed(body));
  EXPECT_EQ(a.status, 413);
  ExpectErrorShape(a, "payload_too_large");
  // Also when a server in front let it through: the intake checks itself.
  net::HttpRequest direct;
  direct.method = "POST";
  direct.path = "/hooks/site";
  direct.body = body;
  direct.remote_address = "127.0.0.1";
  direct.headers.Add("X-Signature", HmacSha256Hex(kKey, body));
  EXPECT_EQ(h.Call(std::move(direct)).status, 413);
  EXPECT_TRUE(h.Drain("in.site").empty());
}

TEST_F(IntakeTest, UnknownAdapterIs404AndGetIs405) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"x"})";
  Answer a = Post(body, Signed(body), "nosuch");
  EXPECT_EQ(a.status, 404);
  ExpectErrorShape(a, "not_found");
  EXPECT_EQ(h.Http("POST", "/hooks/site/extra", body, Signed(body)).status, 404);
  Answer get = h.Http("GET", "/hooks/site");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("allow"), "POST");
}

TEST_F(IntakeTest, SameWebhookTwiceIsOneMessageSameAnswer) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-1"})";
  Answer first = Post(body, Signed(body));
  Answer second = Post(body, Signed(body));
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(second.status, first.status);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(h.Drain("in.site").size(), 1u);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_received_total{adapter="site"})"), 2);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="site"})"), 1);
}

TEST_F(IntakeTest, SameWebhookConcurrentlyIsOneMessage) {
  StartWith(SiteConfig());
  const std::string body = R"({"id":"form-concurrent"})";
  constexpr int kClients = 8;
  std::vector<Answer> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { answers[i] = Post(body, Signed(body)); });
  }
  for (auto& t : threads) t.join();
  for (const Answer& a : answers) EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(h.Drain("in.site").size(), 1u);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="site"})"), kClients - 1);
}

TEST_F(IntakeTest, HeaderKeyGivesEachRequestItsIdentity) {
  WebhookConfig c = SiteConfig();
  c.key = adapters::kit::CompositeKey::Parse({"header:Idempotency-Key"}).value();
  StartWith(std::move(c));
  const std::string body = R"({"same":"body"})";
  Headers h1 = Signed(body);
  h1.emplace_back("Idempotency-Key", "req-1");
  Headers h2 = Signed(body);
  h2.emplace_back("Idempotency-Key", "req-2");
  EXPECT_EQ(Post(body, h1).status, 200);
  EXPECT_EQ(Post(body, h2).status, 200);
  EXPECT_EQ(Post(body, h1).status, 200);            // duplicate
  EXPECT_EQ(Post(body, Signed(body)).status, 400);  // no key header
  auto msgs = h.Drain("in.site");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_NE(msgs[0].idempotency_key, msgs[1].idempotency_key);
}

TEST_F(IntakeTest, AboveHighWaterIs503WithRetryAfter) {
  h.options.queue_high_water = 2;
  StartWith(SiteConfig());
  for (const std::string body : {R"({"id":"a"})", R"({"id":"b"})"}) {
    ASSERT_EQ(Post(body, Signed(body)).status, 200);
  }
  const std::string body = R"({"id":"c"})";
  Answer a = Post(body, Signed(body));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.Header("retry-after"), "5");
  ExpectErrorShape(a, "unavailable");
  EXPECT_EQ(h.Drain("in.site").size(), 2u);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="site",reason="overloaded"})"),
            1);
}

TEST_F(IntakeTest, UnhealthyStoreIs503WithRetryAfter) {
  StartWith(SiteConfig());
  h.queue->unhealthy = true;
  const std::string body = R"({"id":"a"})";
  Answer a = Post(body, Signed(body));
  EXPECT_EQ(a.status, 503);
  EXPECT_FALSE(a.Header("retry-after").empty());
  EXPECT_EQ(a.body.find("sqlite"), std::string::npos);  // no internals
  h.queue->unhealthy = false;
  EXPECT_TRUE(h.Drain("in.site").empty());
}

TEST_F(IntakeTest, AnswerWaitsForTheDurableEnqueue) {
  StartWith(SiteConfig());
  h.queue->Hold();
  const std::string body = R"({"id":"slow"})";
  Answer a;
  std::atomic<bool> answered{false};
  std::thread client([&] {
    a = Post(body, Signed(body));
    answered = true;
  });
  ASSERT_TRUE(h.queue->WaitParked(1, std::chrono::seconds(20)));
  EXPECT_FALSE(answered.load());  // no answer while the enqueue is not durable
  h.queue->Release();
  client.join();
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(h.Drain("in.site").size(), 1u);
}

TEST_F(IntakeTest, HealthReadinessAndMetrics) {
  std::atomic<bool> draining{false};
  h.deps.readiness = [&] { return draining ? Readiness{false, "draining"} : Readiness{true, {}}; };
  StartWith(SiteConfig());
  Answer health = h.Http("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(h.Http("GET", "/readyz").status, 200);
  draining = true;
  Answer not_ready = h.Http("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("draining"), std::string::npos);
  draining = false;
  h.queue->unhealthy = true;
  EXPECT_EQ(h.Http("GET", "/readyz").status, 503);
  EXPECT_EQ(h.Http("GET", "/healthz").status, 200);  // alive all the same
  h.queue->unhealthy = false;

  const std::string body = R"({"id":"m"})";
  ASSERT_EQ(Post(body, Signed(body)).status, 200);
  Answer metrics = h.Http("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.Header("content-type").find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(crmhub_events_received_total{adapter="site"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_EQ(h.Http("GET", "/nosuch").status, 404);
}

// An adapter serves the sub-paths it claims under /hooks/<id>/ (a provider
// appends its own path to the registered URL); others are 404 before any
// check, and a method it does not serve is 405 with Allow.
TEST_F(IntakeTest, SubPathsTheAdapterClaimsAreServedOthersAre404) {
  WebhookConfig c = SiteConfig();
  c.paths = {"", "notification"};
  c.key = adapters::kit::CompositeKey::Parse({"/id", "path:"}).value();
  StartWith(std::move(c));
  const std::string body = R"({"id":"n-1"})";
  Answer a = h.Http("POST", "/hooks/site/notification", body, Signed(body));
  ASSERT_EQ(a.status, 200) << a.body;
  auto msgs = h.Drain("in.site");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].idempotency_key, "n-1:notification");
  Answer other = h.Http("POST", "/hooks/site/events/call", body, Signed(body));
  EXPECT_EQ(other.status, 404);
  ExpectErrorShape(other, "not_found");
  Answer get = h.Http("GET", "/hooks/site/notification", "", {});
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Header("allow"), "POST");
  EXPECT_TRUE(h.Drain("in.site").empty());
}

// Regression: a signed webhook nested 300,000 deep (600 KB, under the
// default 1 MiB) used to be answered 200, then its mapping overflowed the
// delivery thread's stack at every restart. It is refused at the door now,
// and the daemon goes on serving.
TEST_F(IntakeTest, ADeepBodyIs400BeforeAnythingIsQueued) {
  WebhookConfig c = SiteConfig();
  c.max_body = 1024 * 1024;
  StartWith(std::move(c));
  const std::string deep =
      R"({"id":"x","name":)" + std::string(300'000, '[') + std::string(300'000, ']') + "}";
  Answer a = Post(deep, Signed(deep));
  EXPECT_EQ(a.status, 400) << a.body;
  ExpectErrorShape(a, "bad_request");
  EXPECT_NE(a.body.find("nested deeper than 64 levels"), std::string::npos) << a.body;
  EXPECT_TRUE(h.Drain("in.site").empty());
  // 64 levels are fine; the next request is served.
  const std::string ok = R"({"id":"y","name":)" + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_EQ(Post(ok, Signed(ok)).status, 200);
  EXPECT_EQ(h.Drain("in.site").size(), 1u);
}

// Regression: after a disk-full error the queue used to stay unhealthy
// forever (intake 503, /readyz 503) though space came back. Now it probes,
// heals, and intake answers 2xx again within seconds; nothing acknowledged
// is lost, and nothing refused is queued.
TEST(IntakeHealingTest, DiskFullThen503ThenSpaceBackThen2xx) {
  queue::testing::FailingVfs vfs("crmhub-intake-disk");
  Harness h(vfs.name());
  h.AddAdapter(std::make_shared<WebhookAdapter>(SiteConfig()));
  h.Start(/*serve=*/true);
  auto post = [&](const std::string& id) {
    const std::string body = R"({"id":")" + id + R"("})";
    return h.Http("POST", "/hooks/site", body, Signed(body));
  };
  ASSERT_EQ(post("before").status, 200);
  vfs.FailWrites(true);  // the disk is full
  EXPECT_EQ(post("during").status, 503);
  Answer refused = post("refused");
  EXPECT_EQ(refused.status, 503);
  EXPECT_FALSE(refused.Header("retry-after").empty());
  EXPECT_EQ(h.Http("GET", "/readyz").status, 503);
  vfs.FailWrites(false);                     // space is back
  h.clock.Advance(std::chrono::seconds(2));  // the next probe is due
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline && status != 200) {
    status = h.Http("GET", "/readyz").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status, 200) << "the queue did not heal within 10 s";
  EXPECT_EQ(post("after").status, 200);
  std::set<std::string> keys;
  for (const queue::Message& m : h.Drain("in.site")) keys.insert(m.idempotency_key);
  EXPECT_EQ(keys, (std::set<std::string>{"before", "after"}));
}

// Issue 18: EnqueueAsync never blocks the I/O thread. With the queue's disk
// held and the writer's backlog at its bound, a webhook is answered 503 +
// Retry-After at once (were intake waiting for the writer, this request
// would hang until the disk came back), and nothing of it is written.
TEST(IntakeBackpressureTest, AFullWriterBacklogIs503AtOnceAndNothingIsWritten) {
  queue::testing::FailingVfs vfs("crmhub-intake-full");
  Harness h(vfs.name(), [](queue::SqliteQueueOptions& o) {
    o.max_batch_size = 1;
    o.max_pending = 1;
  });
  h.AddAdapter(std::make_shared<WebhookAdapter>(SiteConfig()));
  h.Start(/*serve=*/true);
  vfs.HoldSyncs();
  struct Release {  // whatever happens below, the disk comes back first
    queue::testing::FailingVfs& vfs;
    ~Release() { vfs.ReleaseSyncs(); }
  } release{vfs};
  const int taken = testing::FillPendingBound(*h.queue, "in.site");
  ASSERT_GT(taken, 0) << "the queue never refused";

  const std::string body = R"({"id":"refused"})";
  Answer a = h.Http("POST", "/hooks/site", body, Signed(body));
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.Header("retry-after"), "5");
  ExpectErrorShape(a, "unavailable");
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="site",reason="overloaded"})"),
            1);

  vfs.ReleaseSyncs();
  std::vector<queue::Message> queued = h.Drain("in.site");
  EXPECT_EQ(queued.size(), static_cast<size_t>(taken));
  for (const queue::Message& m : queued) EXPECT_NE(m.idempotency_key, "refused");
  // Once the writer has caught up, the same webhook is taken.
  EXPECT_EQ(h.Http("POST", "/hooks/site", body, Signed(body)).status, 200);
}

}  // namespace
}  // namespace crmhub::daemon
