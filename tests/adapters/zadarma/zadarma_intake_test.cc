// Zadarma through the daemon's intake (a real loopback HTTP server and
// SQLite queue): the GET ?zd_echo= URL check answered with the echo, a
// notification queued once, a replay a duplicate, a refusal stored nowhere.

#include <gtest/gtest.h>

#include "adapters/zadarma/zadarma_adapter.h"
#include "net/api_client.h"
#include "net/hmac.h"
#include "tests/daemon/http_routes_harness.h"

namespace crmhub::adapters::zadarma {
namespace {

using daemon::testing::Answer;
using daemon::testing::Harness;

constexpr char kSecret[] = "zd-secret";
const std::string kEnd =
    "event=NOTIFY_END&call_start=2024-03-15+14%3A30%3A00&pbx_call_id=in_1&caller_id=%2B74951234567"
    "&called_did=74957654321&internal=&duration=0&disposition=no+answer&status_code=19"
    "&is_recorded=0&call_id_with_rec=";

std::string Signature(std::string_view message) {
  return net::Base64Encode(net::HmacHex(net::HmacAlgorithm::kSha1, kSecret, message));
}

class ZadarmaIntakeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> allow) {
    ZadarmaConfig c;
    c.id = "zd";
    c.account_key = Secret("key");
    c.signing_key = Secret(kSecret);
    c.allow_ips = *net::CidrList::Parse(allow);
    h.AddAdapter(std::make_shared<ZadarmaAdapter>(std::move(c), nullptr));
    h.Start(/*serve=*/true);
  }
  Answer Post(const std::string& body, const std::string& signature) {
    return h.Http(
        "POST", "/hooks/zd", body,
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Signature", signature}});
  }
  Harness h;
};

TEST_F(ZadarmaIntakeTest, TheUrlCheckIsAnsweredWithTheEcho) {
  Start({"127.0.0.0/8"});
  Answer a = h.Http("GET", "/hooks/zd?zd_echo=Xy12");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "Xy12");
  EXPECT_EQ(h.Http("GET", "/hooks/zd").status, 400);
  EXPECT_EQ(h.Http("PUT", "/hooks/zd?zd_echo=Xy12").status, 405);
  EXPECT_TRUE(h.Drain("in.zd").empty());
}

TEST_F(ZadarmaIntakeTest, QueuedOnceAReplayIsADuplicate) {
  Start({"127.0.0.0/8"});
  const std::string sig = Signature(
      "+7495123456774957654321"
      "2024-03-15 14:30:00");
  ASSERT_EQ(Post(kEnd, sig).status, 200);
  ASSERT_EQ(Post(kEnd, sig).status, 200);
  // The call's end, and the task to call back (nobody answered).
  auto msgs = h.Drain("in.zd");
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].idempotency_key, "end:in_1");
  // 2024-03-15 14:30:00 Moscow is 11:30:00 UTC; the day's window starts at midnight UTC.
  EXPECT_EQ(msgs[1].idempotency_key, "missed-call:+74951234567:1710460800");
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_duplicate_total{adapter="zd"})"), 2);
}

TEST_F(ZadarmaIntakeTest, RefusalsAreCountedAndStoreNothing) {
  Start({"127.0.0.0/8"});
  const std::string sig = Signature(
      "+7495123456774957654321"
      "2024-03-15 14:30:00");
  std::string tampered = kEnd;
  tampered.replace(tampered.find("pbx_call_id=in_1"), 16,
                   "pbx_call_id=in_1&caller_id=%2B70000000000");
  tampered.replace(tampered.find("&caller_id=%2B74951234567"), 25, "");
  EXPECT_EQ(Post(tampered, sig).status, 401);
  EXPECT_EQ(Post(kEnd, Signature("other")).status, 401);
  EXPECT_EQ(Post("event=NOTIFY_SOMETHING", sig).status, 400);
  EXPECT_TRUE(h.Drain("in.zd").empty());
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="zd",reason="unauthenticated"})"),
            2);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="zd",reason="malformed"})"), 1);
}

TEST_F(ZadarmaIntakeTest, ASenderOutsideTheAllowListIs403) {
  Start(PublishedSenders());
  EXPECT_EQ(Post(kEnd, Signature("+7495123456774957654321"
                                 "2024-03-15 14:30:00"))
                .status,
            403);
  EXPECT_EQ(h.Http("GET", "/hooks/zd?zd_echo=Xy12").status, 403);
  EXPECT_TRUE(h.Drain("in.zd").empty());
}

}  // namespace
}  // namespace crmhub::adapters::zadarma
