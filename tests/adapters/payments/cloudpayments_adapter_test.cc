// The CloudPayments adapter on the contract: the Content-HMAC vector, what
// it queues and keys, every refusal (counted by rule, logged without the
// secret), type confusion, the factory's keys, and the shipped rules on
// what it queues, in any order.

#include "adapters/cloudpayments/cloudpayments_adapter.h"

#include <gtest/gtest.h>

#include "net/api_client.h"
#include "tests/adapters/payments/payment_test_support.h"

namespace crmhub::adapters::cloudpayments {
namespace {

using nlohmann::json;
using namespace payments_testing;

const json kVector = Contract("cloudpayments/hmac_test_vector.THIRD_PARTY.json");
const std::string kSecret = kVector.value("api_secret", "");

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += k + "=" + net::UrlEncode(v);
  }
  return out;
}

std::string PayForm(const std::string& id, const std::string& status) {
  return Form({{"TransactionId", id},
               {"Amount", "150.50"},
               {"Currency", "RUB"},
               {"OperationType", "Payment"},
               {"Status", status},
               {"InvoiceId", "ORDER-7"},
               {"TestMode", "0"}});
}

class CloudPaymentsAdapterTest : public ::testing::Test {
 protected:
  CloudPaymentsAdapterTest() : adapter_(Config({}), &metrics_) {}
  static CloudPaymentsConfig Config(const std::vector<std::string>& allow) {
    CloudPaymentsConfig c;
    c.id = "cp";
    c.account = "pk_test";
    c.secrets = {Secret(kSecret)};
    c.allow_ips = *net::CidrList::Parse(allow);
    return c;
  }
  static net::HttpRequest Signed(const std::string& body, const std::string& path = "/hooks/cp",
                                 const std::string& type = "application/x-www-form-urlencoded") {
    net::HttpRequest r = Request(path, body, "10.1.2.3", type);
    r.headers.Set("Content-HMAC", ContentHmac(kSecret, body));
    return r;
  }
  MetricsRegistry metrics_;
  CloudPaymentsAdapter adapter_;
};

TEST(CloudPaymentsHmac, ContractVector) {
  ASSERT_FALSE(kSecret.empty()) << "contract file missing";
  EXPECT_EQ(ContentHmac(kSecret, kVector.value("raw_body", "")), kVector.value("Content-HMAC", ""));
}

// The vector's request, byte for byte: the signature passes; on the Check
// path it is answered {"code":0} (the vector's expected reply) with nothing
// queued; on the payment path its lack of a TransactionId is a 400 after the
// signature, not a signature failure.
TEST_F(CloudPaymentsAdapterTest, AcceptsTheVectorsRequest) {
  net::HttpRequest r = Request("/hooks/cp/check", kVector.value("raw_body", ""), "10.1.2.3",
                               "application/x-www-form-urlencoded");
  r.headers.Set("Content-HMAC", kVector.value("Content-HMAC", ""));
  auto check = adapter_.HandleWebhook(r);
  ASSERT_TRUE(check.ok()) << check.status().ToString();
  EXPECT_TRUE(check->events.empty());
  EXPECT_EQ(json::parse(check->accepted.body), kVector["expected_reply"]);
  r.path = r.target = "/hooks/cp";
  EXPECT_EQ(adapter_.HandleWebhook(r).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Refusals(metrics_, "cp", "signature"), 0);
  EXPECT_EQ(Refusals(metrics_, "cp", "body"), 1);
}

TEST_F(CloudPaymentsAdapterTest, KeysPaymentsByTransactionAndStatusRefundsByTransaction) {
  auto pay = adapter_.HandleWebhook(Signed(PayForm("504", "Authorized"), "/hooks/cp/pay"));
  ASSERT_TRUE(pay.ok()) << pay.status().ToString();
  ASSERT_EQ(pay->events.size(), 1u);
  EXPECT_EQ(pay->events[0].kind, "payment");
  EXPECT_EQ(pay->events[0].idempotency_key, "payment:504:Authorized");
  EXPECT_EQ(pay->events[0].ordering_key, "504");
  EXPECT_EQ(json::parse(pay->events[0].payload).value("InvoiceId", ""), "ORDER-7");
  EXPECT_EQ(pay->accepted.status, 200);
  EXPECT_EQ(pay->accepted.body, R"({"code":0})");
  auto confirm = adapter_.HandleWebhook(Signed(PayForm("504", "Completed"), "/hooks/cp/confirm"));
  ASSERT_TRUE(confirm.ok());
  EXPECT_EQ(confirm->events[0].idempotency_key, "payment:504:Completed");
  auto refund = adapter_.HandleWebhook(Signed(Form({{"TransactionId", "900"},
                                                    {"PaymentTransactionId", "504"},
                                                    {"Amount", "50.00"},
                                                    {"OperationType", "Refund"}}),
                                              "/hooks/cp/refund"));
  ASSERT_TRUE(refund.ok()) << refund.status().ToString();
  EXPECT_EQ(refund->events[0].kind, "refund");
  EXPECT_EQ(refund->events[0].idempotency_key, "refund:900");
  EXPECT_EQ(refund->events[0].ordering_key, "504");
}

TEST_F(CloudPaymentsAdapterTest, RefusesWrongMissingAndTamperedSignatures) {
  LogCapture log;
  const std::string body = PayForm("1", "Completed");
  net::HttpRequest wrong =
      Request("/hooks/cp", body, "10.1.2.3", "application/x-www-form-urlencoded");
  wrong.headers.Set("Content-HMAC", ContentHmac("other-secret", body));
  EXPECT_EQ(adapter_.HandleWebhook(wrong).status().code(), StatusCode::kUnauthenticated);
  net::HttpRequest missing = wrong;
  missing.headers = {};
  EXPECT_EQ(adapter_.HandleWebhook(missing).status().code(), StatusCode::kUnauthenticated);
  net::HttpRequest tampered = Signed(body);
  tampered.body = PayForm("1", "Completed").replace(body.find("150.50"), 6, "950.50");
  EXPECT_EQ(adapter_.HandleWebhook(tampered).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(Refusals(metrics_, "cp", "signature"), 3);
  EXPECT_NE(log.text().find("signature"), std::string::npos);
  EXPECT_EQ(log.text().find(kSecret), std::string::npos);
  EXPECT_EQ(log.text().find(ContentHmac(kSecret, body)), std::string::npos);
}

TEST_F(CloudPaymentsAdapterTest, ASenderOutsideTheAllowListIs403) {
  CloudPaymentsAdapter guarded(Config({"192.0.2.0/24"}), &metrics_);
  EXPECT_EQ(guarded.HandleWebhook(Signed(PayForm("1", "Completed"))).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Refusals(metrics_, "cp", "sender"), 1);
  EXPECT_FALSE(adapter_.ServesPath("other"));
  EXPECT_TRUE(adapter_.ServesPath("pay"));
}

// JSON bodies (the cabinet's option): ids of the wrong type, huge numbers
// and deep nesting are clear 400s after the signature, never a crash.
TEST_F(CloudPaymentsAdapterTest, TypeConfusionIsAClear400) {
  const std::vector<std::string> bodies = {
      R"({"TransactionId":[1],"Status":"Completed"})",
      R"({"TransactionId":null,"Status":"Completed"})",
      R"({"TransactionId":{"a":1},"Status":"Completed"})",
      R"({"TransactionId":1e400,"Status":"Completed"})",
      R"({"TransactionId":1.5,"Status":"Completed"})",
      R"({"TransactionId":true,"Status":"Completed"})",
      R"({"TransactionId":5,"Status":[1]})",
      R"({"TransactionId":5,"Status":null})",
      R"({"TransactionId":5,"OperationType":"Refund","PaymentTransactionId":[5]})",
      R"([1,2,3])",
      std::string(200, '[') + std::string(200, ']'),
      R"({"TransactionId":")" + std::string(100, '9') + R"(","Status":"Completed"})",
  };
  for (const std::string& b : bodies) {
    auto r = adapter_.HandleWebhook(Signed(b, "/hooks/cp", "application/json"));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b;
  }
  auto number =
      adapter_.HandleWebhook(Signed(R"({"TransactionId":504,"Status":"Completed","Amount":10})",
                                    "/hooks/cp", "application/json"));
  ASSERT_TRUE(number.ok()) << number.status().ToString();
  EXPECT_EQ(number->events[0].idempotency_key, "payment:504:Completed");
  EXPECT_EQ(adapter_.HandleWebhook(Signed("TransactionId=%zz")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(CloudPaymentsFactory, KeysAndErrors) {
  FactoryDir dir;
  const std::string secret = dir.Secret("secret", kSecret);
  auto a = dir.Build(Type(), "cp", "public_id = \"pk_1\"\napi_secret_file = \"" + secret + "\"\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  net::HttpRequest r = Request("/hooks/cp", PayForm("7", "Completed"), "203.0.113.9",
                               "application/x-www-form-urlencoded");
  r.headers.Set("Content-HMAC", ContentHmac(kSecret, r.body));
  EXPECT_TRUE((*a)->webhook()->HandleWebhook(r).ok());  // no sender list by default
  auto missing = dir.Build(Type(), "cp", "public_id = \"pk_1\"\n");
  EXPECT_NE(missing.status().message().find("api_secret_file"), std::string::npos);
  auto empty = dir.Build(
      Type(), "cp", "public_id = \"pk_1\"\napi_secret_file = \"" + dir.Secret("e", "") + "\"\n");
  EXPECT_NE(empty.status().message().find("api_secret_file"), std::string::npos);
}

// Pay (Authorized), Confirm (Completed), a repeat and a refund, in every
// order: one payment, succeeded, and one refund linked to it.
TEST_F(CloudPaymentsAdapterTest, AnyOrderEndsSucceededWithItsRefund) {
  std::vector<InboundEvent> events;
  for (const auto& [path, body] : std::vector<std::pair<std::string, std::string>>{
           {"/hooks/cp/pay", PayForm("504", "Authorized")},
           {"/hooks/cp/confirm", PayForm("504", "Completed")},
           {"/hooks/cp/pay", PayForm("504", "Authorized")},
           {"/hooks/cp/refund", Form({{"TransactionId", "900"},
                                      {"PaymentTransactionId", "504"},
                                      {"Amount", "50.00"},
                                      {"Currency", "RUB"},
                                      {"OperationType", "Refund"}})}}) {
    auto r = adapter_.HandleWebhook(Signed(body, path));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    events.push_back(r->events.at(0));
  }
  std::vector<int> order = {0, 1, 2, 3};
  do {
    MappedStore store("cloudpayments-payments.toml");
    ASSERT_TRUE(store.rules_ok());
    for (int i : order) store.Apply("cp", events[i]);
    EXPECT_TRUE(store.errors.empty()) << store.errors.front();
    EXPECT_EQ(store.Status(model::EntityKind::kPayment, "cp", "504"), "succeeded");
    EXPECT_EQ(store.Status(model::EntityKind::kRefund, "cp", "900"), "succeeded");
    EXPECT_EQ(store.store().Count(model::EntityKind::kPayment).value(), 1);
  } while (std::next_permutation(order.begin(), order.end()));
}

}  // namespace
}  // namespace crmhub::adapters::cloudpayments

namespace crmhub::adapters::cloudpayments {
namespace {

using namespace payments_testing;

// A run of refusals of one rule (a provider changed its signing) raises
// the drift alarm once, naming the provider and the rule; an accepted
// notification ends the run.
TEST(CloudPaymentsDrift, ARunOfSignatureFailuresRaisesTheAlarmOnce) {
  MetricsRegistry metrics;
  CloudPaymentsConfig c;
  c.id = "cp";
  c.account = "pk";
  c.secrets = {Secret("secret")};
  CloudPaymentsAdapter adapter(c, &metrics);
  auto request = [](const std::string& secret) {
    const std::string body = "TransactionId=1&Status=Completed&Amount=1&Currency=RUB";
    net::HttpRequest r =
        Request("/hooks/cp", body, "10.0.0.1", "application/x-www-form-urlencoded");
    r.headers.Set("Content-HMAC", ContentHmac(secret, body));
    return r;
  };
  auto alarms = [&] {
    return metrics
        .GetCounter("crmhub_webhook_drift_alarms_total", "",
                    {{"adapter", "cp"}, {"rule", "signature"}})
        .value();
  };
  LogCapture log;
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(adapter.HandleWebhook(request("changed")).ok());
  EXPECT_TRUE(adapter.HandleWebhook(request("secret")).ok());  // the run ends
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(adapter.HandleWebhook(request("changed")).ok());
  EXPECT_EQ(alarms(), 0);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(adapter.HandleWebhook(request("changed")).ok());
  EXPECT_EQ(alarms(), 1);
  EXPECT_NE(log.text().find("cloudpayments cp: 5 notifications in a row refused by rule "
                            "\"signature\""),
            std::string::npos)
      << log.text();
  EXPECT_EQ(log.text().find("secret"), std::string::npos);
}

}  // namespace
}  // namespace crmhub::adapters::cloudpayments
