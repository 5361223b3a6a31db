// Mango notifications through the daemon's intake (a real loopback HTTP
// server and SQLite queue): queued once and answered 200, a replay answered
// the same and not stored again, a refusal stored nowhere and counted.

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
  auto msgs = h.Drain("in.mango");
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].idempotency_key, "summary:E1");
  EXPECT_EQ(msgs[0].payload, kSummary);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="mango"})"), 1);
  EXPECT_EQ(Post(body, "/hooks/mango/events/sms").status, 404);
  EXPECT_EQ(h.Http("GET", "/hooks/mango/events/summary").status, 405);
}

TEST_F(MangoIntakeTest, RefusalsAreCountedAndStoreNothing) {
  Start({"127.0.0.0/8"});
  EXPECT_EQ(Post(Form(kSummary, MangoSign(kKey, kSummary, "wrong-salt"))).status, 401);
  std::string tampered = kSummary;
  tampered.replace(tampered.find("\"entry_result\":0"), 16, "\"entry_result\":1");
  EXPECT_EQ(Post(Form(tampered, MangoSign(kKey, kSummary, kSalt))).status, 401);
  EXPECT_EQ(Post("vpbx_api_key=other&sign=" + MangoSign("other", kSummary, kSalt) + "&json=" +
                 net::UrlEncode(kSummary))
                .status,
            401);
  EXPECT_EQ(Post(Form("[1]", MangoSign(kKey, "[1]", kSalt))).status, 400);
  EXPECT_TRUE(h.Drain("in.mango").empty());
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="unauthenticated"})"), 3);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="malformed"})"), 1);
}

TEST_F(MangoIntakeTest, ASenderOutsideTheAllowListIs403) {
  Start(PublishedSenders());  // loopback is not Mango
  EXPECT_EQ(Post(Form(kSummary, MangoSign(kKey, kSummary, kSalt))).status, 403);
  EXPECT_TRUE(h.Drain("in.mango").empty());
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="mango",reason="forbidden"})"), 1);
}

}  // namespace
}  // namespace crmhub::adapters::mango
