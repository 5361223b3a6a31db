// SimPipeline: the order of its checks (route, auth, body, limits, faults,
// handler), the limits per account with weights and extra costs, the fault
// answers, and the log. Called without a socket and a ManualClock, except
// the slow answer, which is held in real time.

#include "adapters/simkit/sim_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "net/http_client.h"

namespace crmhub::simkit {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Limit = SimPipeline::Limit;
using Route = SimPipeline::Route;

// A system of the test's own: token auth in "X-Token", errors as
// {"shape":"test","status","message"}, throttling as 429 naming the group.
SimPipeline::Options TestOptions() {
  SimPipeline::Options o;
  o.dialect.server_header = "test-sim";
  o.dialect.auth_headers = {"X-Token"};
  o.dialect.accepted = {{"token-a", "a"}, {"token-b", "b"}};
  o.dialect.unauthorized = [](bool missing) {
    return net::HttpResponse::Json(401, json{{"shape", "test"}, {"missing", missing}}.dump());
  };
  o.dialect.error = [](int status, std::string_view message) {
    return net::HttpResponse::Json(
        status, json{{"shape", "test"}, {"status", status}, {"message", message}}.dump());
  };
  o.dialect.throttled = [](const LimitRefusal& r) {
    net::HttpResponse response = net::HttpResponse::Json(
        429, json{{"shape", "test"},
                  {"group", r.group},
                  {"limit", r.limit},
                  {"retry_ms", std::chrono::duration_cast<milliseconds>(r.retry_after).count()},
                  {"injected", r.injected}}
                 .dump());
    return response;
  };
  o.limits = {Limit::Window("items", 10, std::chrono::minutes(1)),
              Limit::Bucket("wb", net::RateLimit::Every(milliseconds(200), 20)),
              Limit::Window("pair", 2, std::chrono::minutes(1))};
  o.limits[1].extra_cost = [](int status) { return status == 409 ? 9 : 0; };
  o.routes = {
      {.method = "GET",
       .path = "/things/{}",
       .limits = {"pair"},
       .handler =
           [](const SimRequest& r) {
             return net::HttpResponse::Json(
                 200, json{{"id", r.params.at(0)}, {"account", r.account}, {"dup", r.dup}}.dump());
           }},
      {.method = "POST",
       .path = "/items",
       .limits = {"items"},
       .json_body = true,
       .weight =
           [](const SimRequest& r) {
             return static_cast<int64_t>(r.body.value("items", json::array()).size());
           },
       .handler = [](const SimRequest&) { return net::HttpResponse::Json(200, R"({"ok":true})"); }},
      {.method = "POST",
       .path = "/own-shape",
       .json_body = true,
       .error = [](int status,
                   std::string_view) { return net::HttpResponse::Text(status, "own shape"); },
       .handler = [](const SimRequest&) { return net::HttpResponse::Json(200, "{}"); }},
      {.method = "PUT",
       .path = "/wb/{}",
       .limits = {"wb"},
       .handler =
           [](const SimRequest& r) {
             // "conflict": a 409 (billed as 10); otherwise a 404 from the handler.
             return r.params[0] == "conflict" ? net::HttpResponse::Json(409, "[]")
                                              : net::HttpResponse::Json(200, "{}");
           }},
  };
  o.state = [] { return std::string(R"({"world":1})"); };
  return o;
}

struct Answer {
  int status = 0;
  json body;
  std::string raw;
  net::HeaderMap headers;
};

// One request through Handle, answered synchronously (or nullopt: held).
std::optional<Answer> Ask(SimPipeline& p, std::string method, std::string path,
                          std::optional<std::string> token = "token-a", std::string body = {}) {
  net::HttpRequest r;
  r.method = std::move(method);
  auto q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) r.query = path.substr(q + 1);
  if (token) r.headers.Set("X-Token", *token);
  r.body = std::move(body);
  std::optional<Answer> out;
  p.Handle(std::move(r), [&](net::HttpResponse response) {
    out = Answer{response.status, json::parse(response.body, nullptr, false), response.body,
                 response.headers};
  });
  return out;
}

TEST(SimPipelineTest, UnknownPathsAndMethodsAnswerInTheDialectsShapeBeforeAuth) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  auto unknown = Ask(p, "GET", "/nothing/here", std::nullopt);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown->body["shape"], "test");
  auto method = Ask(p, "DELETE", "/things/1", std::nullopt);
  ASSERT_TRUE(method);
  EXPECT_EQ(method->status, 405);
  EXPECT_EQ(method->body["shape"], "test");
  // The same path with the right method matches, "{}" standing for a segment.
  auto ok = Ask(p, "GET", "/things/42");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body["id"], "42");
  EXPECT_EQ(ok->body["account"], "a");
  const auto log = p.log().Snapshot();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status, 404);
  EXPECT_EQ(log[0].note, "unknown path");
  EXPECT_EQ(log[1].note, "method not allowed");
  EXPECT_EQ(log[2].status, 200);
}

TEST(SimPipelineTest, AuthFailuresNeverCountAgainstTheLimits) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  auto missing = Ask(p, "GET", "/things/1", std::nullopt);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(missing->body["missing"], true);
  for (int i = 0; i < 5; ++i) {
    auto wrong = Ask(p, "GET", "/things/1", "token-c");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    EXPECT_EQ(wrong->body["missing"], false);
  }
  // "pair" allows two a minute: both still there.
  EXPECT_EQ(Ask(p, "GET", "/things/1")->status, 200);
  EXPECT_EQ(Ask(p, "GET", "/things/1")->status, 200);
  EXPECT_EQ(Ask(p, "GET", "/things/1")->status, 429);
  const auto log = p.log().Snapshot();
  EXPECT_EQ(log[0].note, "no auth");
  EXPECT_EQ(log[1].note, "bad auth");
  // The log never holds the credential.
  EXPECT_EQ(p.log().ToJson().find("token-c"), std::string::npos);
}

TEST(SimPipelineTest, ARefusedLimitIsTheDialectsThrottledAnswerAndTheLogSaysSo) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  ASSERT_EQ(Ask(p, "GET", "/things/1")->status, 200);
  clock.Advance(seconds(10));
  ASSERT_EQ(Ask(p, "GET", "/things/1")->status, 200);
  auto refused = Ask(p, "GET", "/things/1");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->body["group"], "pair");
  EXPECT_EQ(refused->body["limit"], 2);
  EXPECT_EQ(refused->body["retry_ms"], 50'000);  // the first leaves the window then
  EXPECT_EQ(refused->body["injected"], false);
  EXPECT_EQ(p.log().Snapshot().back().status, 429);
  EXPECT_EQ(p.log().Snapshot().back().note, "rate limited");
  EXPECT_EQ(p.log().Snapshot().back().fault, Fault::kNone);
  clock.Advance(seconds(50));
  EXPECT_EQ(Ask(p, "GET", "/things/1")->status, 200);
}

TEST(SimPipelineTest, EachAccountHasItsOwnLimiters) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  EXPECT_EQ(Ask(p, "GET", "/things/1", "token-a")->status, 200);
  EXPECT_EQ(Ask(p, "GET", "/things/1", "token-a")->status, 200);
  EXPECT_EQ(Ask(p, "GET", "/things/1", "token-a")->status, 429);
  auto b = Ask(p, "GET", "/things/1", "token-b");
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(b->body["account"], "b");
  EXPECT_EQ(Ask(p, "GET", "/things/1", "token-b")->status, 200);
  EXPECT_EQ(Ask(p, "GET", "/things/1", "token-b")->status, 429);
}

TEST(SimPipelineTest, ARouteWeighsItsRequestsInItems) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  auto items = [](int n) {
    return json{{"items", std::vector<int>(static_cast<size_t>(n), 1)}}.dump();
  };
  EXPECT_EQ(Ask(p, "POST", "/items", "token-a", items(6))->status, 200);
  auto refused = Ask(p, "POST", "/items", "token-a", items(5));
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->body["group"], "items");
  EXPECT_EQ(Ask(p, "POST", "/items", "token-a", items(4))->status, 200);
  EXPECT_EQ(Ask(p, "POST", "/items", "token-a", items(1))->status, 429);
}

TEST(SimPipelineTest, AnAnswerMayCostExtraAndABucketPassesItsDocumentedRate) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  // A 409 costs 10 of the 20-token burst.
  EXPECT_EQ(Ask(p, "PUT", "/wb/conflict")->status, 409);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Ask(p, "PUT", "/wb/x")->status, 200) << i;
  auto refused = Ask(p, "PUT", "/wb/x");
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->body["retry_ms"], 200);
  EXPECT_EQ(refused->body["limit"], 20);
  // "1 минута | 300 запросов | 200 миллисекунд | 20": from an empty
  // bucket, a minute of steady traffic gets 60 s / 200 ms through.
  int passed = 0;
  for (int ms = 0; ms < 60'000; ms += 10) {
    clock.Advance(milliseconds(10));
    passed += Ask(p, "PUT", "/wb/x")->status == 200 ? 1 : 0;
  }
  EXPECT_EQ(passed, 300);
}

TEST(SimPipelineTest, ABodyThatIsNotJsonIsRefusedInTheRoutesShapeWithoutCostingALimit) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  for (const char* body : {"not json", "[1,2]", "{\"a\":", ""}) {
    auto bad = Ask(p, "POST", "/items", "token-a", body);
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400) << body;
    EXPECT_EQ(bad->body["shape"], "test") << body;
    EXPECT_EQ(p.log().Snapshot().back().note, "bad body");
  }
  auto own = Ask(p, "POST", "/own-shape", "token-a", "nope");
  EXPECT_EQ(own->status, 400);
  EXPECT_EQ(own->raw, "own shape");
  // Deeper than the cap: refused, not parsed.
  auto deep = Ask(p, "POST", "/items", "token-a", std::string(200, '[') + std::string(200, ']'));
  EXPECT_EQ(deep->status, 400);
  // The item limit is untouched.
  EXPECT_EQ(
      Ask(p, "POST", "/items", "token-a", json{{"items", std::vector<int>(10, 1)}}.dump())->status,
      200);
}

TEST(SimPipelineTest, FaultsAreDrawnAfterTheLimitsAndShapedByTheDialect) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  FaultSpec spec;
  spec.p429 = 1;
  p.SetFaults(spec);
  auto injected = Ask(p, "GET", "/things/1");
  EXPECT_EQ(injected->status, 429);
  EXPECT_EQ(injected->body["injected"], true);
  EXPECT_EQ(injected->body["group"], "pair");  // the route's first limit
  EXPECT_EQ(injected->body["retry_ms"], 1000);
  EXPECT_EQ(p.log().Snapshot().back().fault, Fault::k429);
  for (auto [p500, p503, status] : {std::tuple{1.0, 0.0, 500}, std::tuple{0.0, 1.0, 503}}) {
    spec = FaultSpec{};
    spec.p500 = p500;
    spec.p503 = p503;
    p.SetFaults(spec);
    clock.Advance(std::chrono::minutes(1));
    auto error = Ask(p, "GET", "/things/1");
    EXPECT_EQ(error->status, status);
    EXPECT_EQ(error->body["shape"], "test");
  }
  // "dup" reaches the handler.
  spec = FaultSpec{};
  spec.dup = 1;
  p.SetFaults(spec);
  clock.Advance(std::chrono::minutes(1));
  auto dup = Ask(p, "GET", "/things/1");
  EXPECT_EQ(dup->status, 200);
  EXPECT_EQ(dup->body["dup"], true);
  EXPECT_EQ(p.log().Snapshot().back().fault, Fault::kDup);
  // "malformed" cuts a 200 short, and leaves other answers alone.
  spec = FaultSpec{};
  spec.malformed = 1;
  p.SetFaults(spec);
  clock.Advance(std::chrono::minutes(1));
  auto cut = Ask(p, "GET", "/things/1");
  EXPECT_EQ(cut->status, 200);
  EXPECT_TRUE(cut->body.is_discarded()) << cut->raw;
  auto conflict = Ask(p, "PUT", "/wb/conflict");
  EXPECT_EQ(conflict->status, 409);
  EXPECT_FALSE(conflict->body.is_discarded());
  // A refused limit is never a fault.
  Ask(p, "GET", "/things/1");
  auto limited = Ask(p, "GET", "/things/1");
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(p.log().Snapshot().back().fault, Fault::kNone);
}

TEST(SimPipelineTest, ATimeoutIsProcessedAndHeldUntilStop) {
  ManualClock clock;
  std::atomic<int> handled{0};
  SimPipeline::Options o = TestOptions();
  o.routes[0].handler = [&](const SimRequest&) {
    ++handled;
    return net::HttpResponse::Json(200, "{}");
  };
  o.faults.timeout = 1;
  SimPipeline p(std::move(o), clock);
  std::optional<int> answered;
  net::HttpRequest r;
  r.method = "GET";
  r.path = "/things/1";
  r.headers.Set("X-Token", "token-a");
  p.Handle(r, [&](net::HttpResponse response) { answered = response.status; });
  EXPECT_FALSE(answered.has_value());  // held
  EXPECT_EQ(handled, 1);               // but processed
  EXPECT_EQ(p.log().Snapshot().back().status, 0);
  EXPECT_EQ(p.log().Snapshot().back().note, "held");
  EXPECT_EQ(p.log().Snapshot().back().fault, Fault::kTimeout);
  p.Stop();
  EXPECT_EQ(answered, 503);
}

TEST(SimPipelineTest, ASlowAnswerArrivesAfterTheDelayOverHttp) {
  SystemClock clock;
  SimPipeline::Options o = TestOptions();
  o.faults.slow = 1;
  o.faults.slow_delay = milliseconds(150);
  SimPipeline p(std::move(o), clock);
  ASSERT_TRUE(p.Start("127.0.0.1:0", 1).ok());
  // The client's own loop, joined however the test ends.
  struct Loop {
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::thread runner{[this] { io.run(); }};
    ~Loop() {
      work.reset();
      runner.join();
    }
  } loop;
  {
    net::HttpClient http(loop.io, {});
    net::OutboundRequest req;
    req.url = "http://127.0.0.1:" + std::to_string(p.port()) + "/things/7";
    req.headers.Set("X-Token", "token-b");
    auto answer = http.SendBlocking(req);
    ASSERT_TRUE(answer.ok()) << answer.status().ToString();
    EXPECT_EQ(answer->status, 200);
    EXPECT_EQ(json::parse(answer->body)["account"], "b");
    EXPECT_GE(answer->elapsed, milliseconds(150));
    EXPECT_EQ(answer->headers.Get("Server").value_or(""), "test-sim");
    EXPECT_EQ(p.log().Snapshot().back().note, "slow");
    EXPECT_EQ(p.log().Snapshot().back().status, 200);
  }
  p.Stop();
}

TEST(SimPipelineTest, TheLogAndTheStateNeedNoAuthAndAreNotLogged) {
  ManualClock clock;
  SimPipeline p(TestOptions(), clock);
  Ask(p, "GET", "/things/1");
  Ask(p, "GET", "/things/2", std::nullopt);
  auto requests = Ask(p, "GET", "/__sim/requests", std::nullopt);
  ASSERT_TRUE(requests);
  EXPECT_EQ(requests->status, 200);
  EXPECT_EQ(requests->body["requests"].size(), 2u);
  auto since = Ask(p, "GET", "/__sim/requests?since=1", std::nullopt);
  EXPECT_EQ(since->body["requests"].size(), 1u);
  auto state = Ask(p, "GET", "/__sim/state", std::nullopt);
  EXPECT_EQ(state->status, 200);
  EXPECT_EQ(state->body["world"], 1);
  EXPECT_EQ(Ask(p, "GET", "/__sim/other", std::nullopt)->status, 404);
  EXPECT_EQ(p.log().size(), 2u);
}

TEST(SimPipelineTest, LimitsOffMeansNoLimiterIsAsked) {
  ManualClock clock;
  SimPipeline::Options o = TestOptions();
  o.enforce_limits = false;
  bool headers_asked = false;
  o.dialect.limit_headers = [&](net::HttpResponse&, const Limit&, net::RateLimiter&) {
    headers_asked = true;
  };
  SimPipeline p(std::move(o), clock);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Ask(p, "GET", "/things/1")->status, 200);
  EXPECT_FALSE(headers_asked);
}

TEST(SimPipelineTest, LimitHeadersGoOnAnswersThatPassed) {
  ManualClock clock;
  SimPipeline::Options o = TestOptions();
  o.dialect.limit_headers = [](net::HttpResponse& r, const Limit& limit,
                               net::RateLimiter& limiter) {
    r.headers.Set("X-Remaining", std::to_string(limiter.Available()));
    r.headers.Set("X-Limit", std::to_string(limit.size));
  };
  SimPipeline p(std::move(o), clock);
  auto first = Ask(p, "PUT", "/wb/x");
  EXPECT_EQ(first->headers.Get("X-Remaining").value_or(""), "19");
  EXPECT_EQ(first->headers.Get("X-Limit").value_or(""), "20");
  auto conflict = Ask(p, "PUT", "/wb/conflict");
  EXPECT_FALSE(conflict->headers.Has("X-Remaining"));
}

}  // namespace
}  // namespace crmhub::simkit
