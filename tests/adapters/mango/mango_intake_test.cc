// Mango notifications through the daemon's intake (a real loopback HTTP
// server and SQLite queue): queued once and answered 200, a replay answered
// the same and not stored again, a refusal stored nowhere and counted.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "adapters/mango/mango_adapter.h"
#include "net/api_client.h"
#include "tests/daemon/http_routes_harness.h"

namespace crmhub::adapters::mango {
namespace {

using daemon::testing::Answer;
using daemon::testing::Harness;

constexpr char kKey[] = "vpbx-key";
constexpr char kSalt[] = "vpbx-salt";
constexpr char kSummary[] =
    R"({"entry_id":"E1","call_direction":1,"from":{"number":"79990000001"},)"
    R"("to":{"extension":"101","number":"74950000000"},"create_time":1700000000,)"
    R"("talk_time":0,"end_time":1700000030,"entry_result":0,"disconnect_reason":1110})";

std::string Form(const std::string& json, const std::string& sign) {
  return std::string("vpbx_api_key=") + kKey + "&sign=" + sign + "&json=" + net::UrlEncode(json);
}

class MangoIntakeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> allow) {
    MangoConfig c;
    c.id = "mango";
    c.account_key = Secret(kKey);
    c.signing_key = Secret(kSalt);
    c.allow_ips = *net::CidrList::Parse(allow);
    h.AddAdapter(std::make_shared<MangoAdapter>(std::move(c), nullptr));
    h.Start(/*serve=*/true);
  }
  Answer Post(const std::string& body, const std::string& path = "/hooks/mango/events/summary") {
    return h.Http("POST", path, body, {{"Content-Type", "application/x-www-form-urlencoded"}});
  }
  Harness h;
};

TEST_F(MangoIntakeTest, QueuedOnceAReplayIsADuplicate) {
  Start({"127.0.0.0/8"});
  const std::string body = Form(kSummary, MangoSign(kKey, kSummary, kSalt));
  Answer first = Post(body);
  ASSERT_EQ(first.status, 200) << first.body;
  Answer replay = Post(body);
  ASSERT_EQ(replay.status, 200) << replay.body;
  // The call, and the task to call back (an incoming call nobody answered).
  auto msgs = h.Drain("in.mango");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].idempotency_key, "summary:E1");
  EXPECT_EQ(msgs[0].payload, kSummary);
  EXPECT_EQ(msgs[1].idempotency_key,
            "missed-call:79990000001:" + std::to_string(1700000030 - 1700000030 % 86400));
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="mango"})"), 2);
  EXPECT_EQ(Post(body, "/hooks/mango/events/sms").status, 404);
  EXPECT_EQ(h.Http("GET", "/hooks/mango/events/summary").status, 405);
}

// The caller tries three times in a day, nobody answers: three calls, one
// task; the next day's missed call is another task; an answered call none,
// but what closes the caller's task.
TEST_F(MangoIntakeTest, OneMissedCallTaskPerCallerPerWindow) {
  Start({"127.0.0.0/8"});
  auto summary = [](int n, int64_t end, int result) {
    return fmt::format(
        R"({{"entry_id":"E{}","call_direction":1,"from":{{"number":"79990000002"}},)"
        R"("to":{{"extension":"102"}},"create_time":{},"end_time":{},"entry_result":{}}})",
        n, end - 30, end, result);
  };
  const int64_t day = 1700006400;  // a UTC midnight
  for (const std::string& s :
       {summary(1, day + 100, 0), summary(2, day + 5000, 0), summary(3, day + 80000, 0),
        summary(4, day + 86400 + 10, 0), summary(5, day + 86400 + 20, 1)}) {
    ASSERT_EQ(Post(Form(s, MangoSign(kKey, s, kSalt))).status, 200);
  }
  int calls = 0;
  std::vector<std::string> tasks;
  std::vector<std::string> closures;
  // Acked as leased: events of one caller are ordered, so the next is
  // leased only once the one before is settled.
  for (;;) {
    auto leased = h.sqlite->Lease("in.mango", 100, std::chrono::minutes(1));
    ASSERT_TRUE(leased.ok());
    if (leased->empty()) break;
    for (const auto& l : *leased) {
      if (l.message.idempotency_key.starts_with("missed-call:")) {
        tasks.push_back(l.message.idempotency_key);
      } else if (l.message.idempotency_key.starts_with("missed-call-closed:")) {
        closures.push_back(l.message.idempotency_key);
      } else {
        ++calls;
      }
      ASSERT_TRUE(h.sqlite->Ack(l.lease).ok());
    }
  }
  EXPECT_EQ(calls, 5);
  EXPECT_EQ(tasks,
            (std::vector<std::string>{"missed-call:79990000002:" + std::to_string(day),
                                      "missed-call:79990000002:" + std::to_string(day + 86400)}));
  // The answered call queues what closes the caller's task.
  EXPECT_EQ(closures, std::vector<std::string>{"missed-call-closed:E5"});
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="mango"})"), 2);
}

TEST_F(MangoIntakeTest, RefusalsAreCountedAndStoreNothing) {
  Start({"127.0.0.0/8"});
  EXPECT_EQ(Post(Form(kSummary, MangoSign(kKey, kSummary, "wrong-salt"))).status, 401);
  std::string tampered = kSummary;
  tampered.replace(tampered.find("\"entry_result\":0"), 16, "\"entry_result\":1");
  EXPECT_EQ(Post(Form(tampered, MangoSign(kKey, kSummary, kSalt))).status, 401);
  EXPECT_EQ(Post("vpbx_api_key=other&sign=" + MangoSign("other", kSummary, kSalt) +
                 "&json=" + net::UrlEncode(kSummary))
                .status,
            401);
  EXPECT_EQ(Post(Form("[1]", MangoSign(kKey, "[1]", kSalt))).status, 400);
  EXPECT_TRUE(h.Drain("in.mango").empty());
  EXPECT_EQ(
      h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="unauthenticated"})"),
      3);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="malformed"})"),
            1);
}

TEST_F(MangoIntakeTest, ASenderOutsideTheAllowListIs403) {
  Start(PublishedSenders());  // loopback is not Mango
  EXPECT_EQ(Post(Form(kSummary, MangoSign(kKey, kSummary, kSalt))).status, 403);
  EXPECT_TRUE(h.Drain("in.mango").empty());
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="forbidden"})"),
            1);
}

}  // namespace
}  // namespace crmhub::adapters::mango
