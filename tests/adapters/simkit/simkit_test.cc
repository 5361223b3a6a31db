// Unit tests of the shared simulator kit, plus its fault answers over a real
// loopback HTTP server. The limits simulators enforce are net's RateLimiters
// (tests/net); SimPipeline's use of them is in sim_pipeline_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/simkit/fault_responder.h"
#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/json_text.h"
#include "adapters/simkit/request_log.h"
#include "adapters/simkit/rng.h"
#include "net/http_client.h"
#include "net/http_server.h"

namespace crmhub::simkit {
namespace {

using std::chrono::milliseconds;

TEST(FaultSpecTest, ParsesTheDocumentedExample) {
  auto spec = ParseFaultSpec("429=0.1,500=0.05,timeout=0.02,slow=0.05,dup=0.1,malformed=0.01");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_DOUBLE_EQ(spec->p429, 0.1);
  EXPECT_DOUBLE_EQ(spec->p500, 0.05);
  EXPECT_DOUBLE_EQ(spec->p503, 0);
  EXPECT_DOUBLE_EQ(spec->timeout, 0.02);
  EXPECT_DOUBLE_EQ(spec->slow, 0.05);
  EXPECT_DOUBLE_EQ(spec->dup, 0.1);
  EXPECT_DOUBLE_EQ(spec->malformed, 0.01);
  EXPECT_NEAR(spec->Total(), 0.33, 1e-12);
  // Round trip through the canonical form.
  auto again = ParseFaultSpec(spec->ToString());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToString(), spec->ToString());
}

TEST(FaultSpecTest, EmptyAndNoneMeanNoFaults) {
  for (const char* text : {"", "none", "  "}) {
    auto spec = ParseFaultSpec(text);
    ASSERT_TRUE(spec.ok()) << text;
    EXPECT_TRUE(spec->empty());
    EXPECT_EQ(spec->Pick(0.0), Fault::kNone);
  }
}

TEST(FaultSpecTest, AcceptsSpacesAndLeadingDot) {
  auto spec = ParseFaultSpec(" 503 = .5 , dup=0 ");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_DOUBLE_EQ(spec->p503, 0.5);
}

TEST(FaultSpecTest, RejectsGarbageWithAClearMessage) {
  struct Case {
    const char* text;
    const char* expect_in_message;
  };
  const Case cases[] = {
      {"418=0.1", "unknown fault \"418\""}, {"429", "not name=probability"},
      {"429=abc", "not a probability"},     {"429=-0.1", "not a probability"},
      {"429=1.5", "not a probability"},     {"429=0.1e1", "not a probability"},
      {"429=", "not a probability"},        {"429=0.1,,500=0.1", "empty entry"},
      {"429=0.1,", "empty entry"},          {"429=0.1,429=0.2", "given twice"},
      {"429=0.6,500=0.6", "add up to"},
  };
  for (const auto& c : cases) {
    auto spec = ParseFaultSpec(c.text);
    ASSERT_FALSE(spec.ok()) << c.text;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(spec.status().message().find(c.expect_in_message), std::string::npos)
        << c.text << " -> " << spec.status().message();
  }
}

TEST(FaultSpecTest, PickSlicesTheUnitIntervalInGrammarOrder) {
  auto spec = ParseFaultSpec("429=0.1,500=0.1,slow=0.1").value();
  EXPECT_EQ(spec.Pick(0.05), Fault::k429);
  EXPECT_EQ(spec.Pick(0.15), Fault::k500);
  EXPECT_EQ(spec.Pick(0.25), Fault::kSlow);
  EXPECT_EQ(spec.Pick(0.35), Fault::kNone);
  // Frequencies follow the probabilities.
  SeededRng rng(7);
  std::map<Fault, int> counts;
  for (int i = 0; i < 100'000; ++i) counts[spec.Pick(rng.Uniform())]++;
  EXPECT_NEAR(counts[Fault::k429], 10'000, 600);
  EXPECT_NEAR(counts[Fault::kNone], 70'000, 1'000);
}

TEST(SeededRngTest, SameSeedSameSequenceDifferentSeedDifferent) {
  SeededRng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs = differs || x != c.Next();
  }
  EXPECT_TRUE(differs);
  // Pinned values: the sequence must not change between builds/platforms.
  SeededRng pinned(1);
  EXPECT_EQ(pinned.Next(), 0x910a2dec89025cc1ULL);
}

TEST(SeededRngTest, ForkDependsOnSeedAndSaltOnly) {
  SeededRng a(5), b(5);
  a.Next();
  a.Next();
  EXPECT_EQ(a.Fork(99).Next(), b.Fork(99).Next());
  EXPECT_NE(a.Fork(99).Next(), a.Fork(100).Next());
  for (int i = 0; i < 1000; ++i) {
    int64_t v = a.Int(3, 9);
    ASSERT_GE(v, 3);
    ASSERT_LE(v, 9);
    double u = a.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(RequestLogTest, RecordsRedactsQueriesAndDumpsJson) {
  RequestLog log;
  net::HttpRequest req;
  req.method = "PUT";
  req.path = "/api/v3/stocks/507";
  req.query = "a=1";
  req.headers.Add("Authorization", "secret-token");
  req.headers.Add("Content-Type", "application/json");
  req.body = R"({"stocks":[]})";
  uint64_t seq = log.Record(req, 12);
  log.Complete(seq, 429, Fault::k429, "injected");
  req.method = "GET";
  req.path = "/api/v3/orders";
  log.Complete(log.Record(req, 20), 200);

  EXPECT_EQ(log.size(), 2u);
  auto puts = log.Find("PUT", "/api/v3/stocks/507");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].status, 429);
  EXPECT_EQ(puts[0].fault, Fault::k429);
  EXPECT_EQ(puts[0].headers[0].second, "***");

  auto json = nlohmann::json::parse(log.ToJson());
  ASSERT_EQ(json["requests"].size(), 2u);
  EXPECT_EQ(json["requests"][0]["headers"]["Authorization"], "***");
  EXPECT_EQ(json["requests"][0]["fault"], "429");
  EXPECT_EQ(json["requests"][1]["path"], "/api/v3/orders");
  EXPECT_EQ(log.ToJson().find("secret-token"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(log.ToJson(seq))["requests"].size(), 1u);
}

TEST(RequestLogTest, KeepsTheNewestWhenFull) {
  RequestLog::Options options;
  options.max_entries = 3;
  options.max_body_bytes = 4;
  RequestLog log(options);
  net::HttpRequest req;
  req.body = "0123456789";
  for (int i = 0; i < 5; ++i) {
    req.path = "/p" + std::to_string(i);
    log.Complete(log.Record(req, i), 200 + i);
  }
  auto all = log.Snapshot();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].path, "/p2");
  EXPECT_EQ(all[2].path, "/p4");
  EXPECT_EQ(all[2].status, 204);
  EXPECT_EQ(all[0].body, "0123");
  EXPECT_EQ(all[0].body_bytes, 10u);
  EXPECT_EQ(log.dropped(), 2u);
}

TEST(JsonTextTest, WritesNestedValuesWithCommasInTheRightPlaces) {
  JsonText out;
  out.BeginObject()
      .Member("id", int64_t{-9007199254740993})
      .Member("name", "Товар")
      .Member("ok", true)
      .Key("empty")
      .BeginArray()
      .EndArray()
      .Key("lines")
      .BeginArray()
      .BeginObject()
      .Member("qty", 2)
      .EndObject()
      .BeginObject()
      .EndObject()
      .Raw(R"({"raw":[1,2]})")
      .EndArray()
      .Member("last", false)
      .EndObject();
  EXPECT_EQ(out.str(), R"({"id":-9007199254740993,"name":"Товар","ok":true,"empty":[],)"
                       R"("lines":[{"qty":2},{},{"raw":[1,2]}],"last":false})");
  auto parsed = nlohmann::json::parse(out.str());
  EXPECT_EQ(parsed["id"].get<int64_t>(), -9007199254740993);
  EXPECT_EQ(parsed["lines"][2]["raw"][1], 2);
}

TEST(JsonTextTest, EscapesWhatJsonRequiresAndNothingElse) {
  const std::string nasty = std::string("q\"b\\n\nr\rt\tz") + '\0' + "\x01\x1fЯ/";
  JsonText out;
  out.BeginArray().String(nasty).EndArray();
  EXPECT_EQ(out.str(), R"(["q\"b\\n\nr\rt\tz\u0000\u0001\u001fЯ/"])");
  EXPECT_EQ(nlohmann::json::parse(out.str())[0].get<std::string>(), nasty);
}

TEST(FaultResponderTest, MalformedJsonDoesNotParse) {
  for (std::string_view valid : {"{}", R"({"orders":[{"id":1}],"next":5})", ""}) {
    auto r = MalformedJson(valid);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(nlohmann::json::accept(r.body)) << r.body;
  }
}

// A loopback server whose handler holds answers: slow answers arrive, a
// "timeout" outlasts the client's deadline, Stop() answers what is left.
TEST(FaultResponderTest, HeldAnswersOverRealHttp) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  HeldResponses held(io);
  net::HttpServer server(io, {}, [&](net::HttpRequest req, net::Responder respond) {
    if (req.path == "/slow") {
      held.AnswerLater(std::move(respond), net::HttpResponse::Json(200, R"({"ok":true})"),
                       milliseconds(50));
    } else {
      held.AnswerLater(std::move(respond), net::HttpResponse::Json(200, "{}"),
                       std::chrono::hours(1));
    }
  });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  std::thread runner([&] { io.run(); });
  net::HttpClient client(io, {});
  std::string base = "http://127.0.0.1:" + std::to_string(server.port());

  net::OutboundRequest slow;
  slow.url = base + "/slow";
  auto a = client.SendBlocking(slow);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->status, 200);
  EXPECT_GE(a->elapsed, std::chrono::milliseconds(50));

  net::OutboundRequest hang;
  hang.url = base + "/hang";
  hang.timeout = milliseconds(200);
  auto b = client.SendBlocking(hang);
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(held.held(), 1u);
  held.Stop();
  EXPECT_EQ(held.held(), 0u);

  server.Stop();
  work.reset();
  io.stop();
  runner.join();
}

}  // namespace
}  // namespace crmhub::simkit
