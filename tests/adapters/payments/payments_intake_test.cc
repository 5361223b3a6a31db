// The four payment adapters through the daemon's intake (a real loopback
// HTTP server and SQLite queue): each notification queued once and answered
// as its provider requires, a replay answered the same and not stored
// again, a refusal stored nowhere and counted.

#include <gtest/gtest.h>

#include "adapters/cloudpayments/cloudpayments_adapter.h"
#include "adapters/robokassa/robokassa_adapter.h"
#include "adapters/tbank/tbank_adapter.h"
#include "adapters/yookassa/yookassa_adapter.h"
#include "net/api_client.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/daemon/http_routes_harness.h"

namespace crmhub::adapters {
namespace {

using daemon::testing::Answer;
using daemon::testing::Harness;
using nlohmann::json;

constexpr char kForm[] = "application/x-www-form-urlencoded";

kit::PaymentProviderConfig Config(std::string id, std::vector<std::string> secrets,
                                  std::vector<std::string> allow = {"127.0.0.0/8"}) {
  kit::PaymentProviderConfig c;
  c.id = std::move(id);
  c.account = "acct";
  for (auto& s : secrets) c.secrets.emplace_back(std::move(s));
  c.choice = "md5";
  c.allow_ips = *net::CidrList::Parse(allow);
  return c;
}

class PaymentsIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h.AddAdapter(std::make_shared<cloudpayments::CloudPaymentsAdapter>(Config("cp", {"cp-secret"}),
                                                                       nullptr));
    h.AddAdapter(std::make_shared<tbank::TbankAdapter>(Config("tb", {"tb-password"}), nullptr));
    h.AddAdapter(
        std::make_shared<robokassa::RobokassaAdapter>(Config("rk", {"p1", "p2"}), nullptr));
    h.AddAdapter(std::make_shared<yookassa::YooKassaAdapter>(Config("yk", {"key"}), nullptr));
    h.AddAdapter(std::make_shared<yookassa::YooKassaAdapter>(
        Config("yk-real", {"key"}, yookassa::PublishedSenders()), nullptr));
    h.Start(/*serve=*/true);
  }
  // Posts `body` twice; expects both answers equal to `want` and one message.
  void TwiceOnce(const std::string& lane, const std::string& path, const std::string& body,
                 const std::vector<std::pair<std::string, std::string>>& headers, int want_status,
                 const std::string& want_body) {
    for (int i = 0; i < 2; ++i) {
      Answer a = h.Http("POST", path, body, headers);
      EXPECT_EQ(a.status, want_status) << path << ": " << a.body;
      EXPECT_EQ(a.body, want_body) << path;
    }
    EXPECT_EQ(h.Drain(lane).size(), 1u) << lane;
  }
  Harness h;
};

std::string CloudPaymentsBody() {
  return "TransactionId=77&Amount=10.00&Currency=RUB&OperationType=Payment&Status=Completed";
}

std::string TbankBody(const std::string& password = "tb-password") {
  json p = {{"TerminalKey", "acct"}, {"PaymentId", "88"}, {"Status", "CONFIRMED"},
            {"Amount", 1000},        {"Success", true},   {"OrderId", "o-1"}};
  p["Token"] = tbank::TbankToken(p, password);
  return p.dump();
}

std::string RobokassaBody(const std::string& password2 = "p2") {
  return "OutSum=10.00&InvId=99&SignatureValue=" +
         robokassa::RobokassaHash("md5",
                                  robokassa::ResultSignatureText("10.00", "99", password2, {}))
             .value();
}

const char kYooKassaBody[] =
    R"({"type":"notification","event":"payment.succeeded","object":{"id":"p-1","status":"succeeded"}})";

TEST_F(PaymentsIntakeTest, EachAnsweredAsItsProviderRequiresAReplayIsADuplicate) {
  TwiceOnce("in.cp", "/hooks/cp", CloudPaymentsBody(),
            {{"Content-Type", kForm},
             {"Content-HMAC", cloudpayments::ContentHmac("cp-secret", CloudPaymentsBody())}},
            200, R"({"code":0})");
  TwiceOnce("in.tb", "/hooks/tb", TbankBody(), {{"Content-Type", "application/json"}}, 200, "OK");
  TwiceOnce("in.rk", "/hooks/rk", RobokassaBody(), {{"Content-Type", kForm}}, 200, "OK99");
  TwiceOnce("in.yk", "/hooks/yk", kYooKassaBody, {{"Content-Type", "application/json"}}, 200, "");
  for (const char* id : {"cp", "tb", "rk", "yk"}) {
    EXPECT_EQ(h.MetricValue(std::string(R"(crmhub_events_duplicate_total{adapter=")") + id + "\"}"),
              1)
        << id;
  }
}

TEST_F(PaymentsIntakeTest, RefusalsStoreNothing) {
  EXPECT_EQ(h.Http("POST", "/hooks/cp", CloudPaymentsBody(),
                   {{"Content-Type", kForm},
                    {"Content-HMAC", cloudpayments::ContentHmac("wrong", CloudPaymentsBody())}})
                .status,
            401);
  EXPECT_EQ(h.Http("POST", "/hooks/tb", TbankBody("wrong"), {{"Content-Type", "application/json"}})
                .status,
            401);
  EXPECT_EQ(h.Http("POST", "/hooks/rk", RobokassaBody("wrong"), {{"Content-Type", kForm}}).status,
            401);
  EXPECT_EQ(h.Http("POST", "/hooks/yk-real", kYooKassaBody, {{"Content-Type", "application/json"}})
                .status,
            403);  // loopback is not YooKassa
  EXPECT_EQ(h.Http("POST", "/hooks/tb", R"({"TerminalKey":"acct","PaymentId":[1]})",
                   {{"Content-Type", "application/json"}})
                .status,
            401);
  EXPECT_EQ(h.Http("POST", "/hooks/yk", R"({"type":"notification","event":1})",
                   {{"Content-Type", "application/json"}})
                .status,
            400);
  for (const char* lane : {"in.cp", "in.tb", "in.rk", "in.yk", "in.yk-real"}) {
    EXPECT_TRUE(h.Drain(lane).empty()) << lane;
  }
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="yk-real",reason="forbidden"})"),
            1);
  EXPECT_EQ(h.MetricValue(R"(crmhub_events_rejected_total{adapter="rk",reason="unauthenticated"})"),
            1);
}

}  // namespace
}  // namespace crmhub::adapters
