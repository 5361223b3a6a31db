// The T-Bank adapter on the contract: the Token vectors (Init and
// notification), what it queues and keys, every refusal (counted by rule,
// logged without the password), type confusion, the factory's keys, and the
// shipped rules on what it queues, in any order.

#include "adapters/tbank/tbank_adapter.h"

#include <gtest/gtest.h>

#include "tests/adapters/payments/payment_test_support.h"

namespace crmhub::adapters::tbank {
namespace {

using nlohmann::json;
using namespace payments_testing;

const json kVectors = Contract("tbank_acquiring/token_test_vectors.json");
const json kNote = kVectors.value("notification", json::object());
const std::string kPassword = kNote.value("password", "");
const std::string kTerminal = kNote.value("params", json::object()).value("TerminalKey", "");

// A notification as T-Bank sends it: the params and their Token.
std::string Notification(json params, const std::string& password = kPassword) {
  params["Token"] = TbankToken(params, password);
  return params.dump();
}

json Params(const std::string& payment_id, const std::string& status, int64_t amount = 1111) {
  json p = kNote.value("params", json::object());
  p["PaymentId"] = payment_id;
  p["Status"] = status;
  p["Amount"] = amount;
  return p;
}

class TbankAdapterTest : public ::testing::Test {
 protected:
  TbankAdapterTest() : adapter_(Config({}), &metrics_) {}
  static TbankConfig Config(const std::vector<std::string>& allow) {
    TbankConfig c;
    c.id = "tb";
    c.account = kTerminal;
    c.secrets = {Secret(kPassword)};
    c.allow_ips = *net::CidrList::Parse(allow);
    return c;
  }
  static net::HttpRequest Post(const std::string& body) {
    return Request("/hooks/tb", body, "10.1.2.3", "application/json");
  }
  MetricsRegistry metrics_;
  TbankAdapter adapter_;
};

TEST(TbankToken, ContractVectors) {
  ASSERT_FALSE(kPassword.empty()) << "contract file missing";
  const json init = kVectors.value("init_request", json::object());
  EXPECT_EQ(TbankToken(init.value("params", json::object()), init.value("password", "")),
            init.value("Token", ""));
  EXPECT_EQ(TbankToken(kNote.value("params", json::object()), kPassword), kNote.value("Token", ""));
  // The Token itself is not part of what it signs.
  json with_token = kNote.value("params", json::object());
  with_token["Token"] = "anything";
  EXPECT_EQ(TbankToken(with_token, kPassword), kNote.value("Token", ""));
}

// The vector's notification, its Token as the contract gives it.
TEST_F(TbankAdapterTest, AcceptsTheVectorsNotification) {
  json body = kNote.value("params", json::object());
  body["Token"] = kNote.value("Token", "");
  auto r = adapter_.HandleWebhook(Post(body.dump()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kind, "payment");
  EXPECT_EQ(r->events[0].idempotency_key, "0000000:AUTHORIZED");
  EXPECT_EQ(r->events[0].ordering_key, "0000000");
  EXPECT_EQ(r->events[0].payload, body.dump());
  EXPECT_EQ(r->accepted.status, 200);
  EXPECT_EQ(r->accepted.body, "OK");
}

TEST_F(TbankAdapterTest, AuthorizedAndConfirmedAreTwoEventsAnIntegerIdTheSameKey) {
  auto a = adapter_.HandleWebhook(Post(Notification(Params("700", "AUTHORIZED"))));
  auto c = adapter_.HandleWebhook(Post(Notification(Params("700", "CONFIRMED"))));
  ASSERT_TRUE(a.ok() && c.ok());
  EXPECT_NE(a->events[0].idempotency_key, c->events[0].idempotency_key);
  json numeric = Params("700", "CONFIRMED");
  numeric["PaymentId"] = 700;
  auto n = adapter_.HandleWebhook(Post(Notification(numeric)));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->events[0].idempotency_key, c->events[0].idempotency_key);
}

TEST_F(TbankAdapterTest, RefusesWrongTokensTamperingAndOtherTerminals) {
  LogCapture log;
  EXPECT_EQ(
      adapter_.HandleWebhook(Post(Notification(Params("1", "CONFIRMED"), "wrong"))).status().code(),
      StatusCode::kUnauthenticated);
  json tampered = json::parse(Notification(Params("1", "CONFIRMED", 100)));
  tampered["Amount"] = 100000;
  EXPECT_EQ(adapter_.HandleWebhook(Post(tampered.dump())).status().code(),
            StatusCode::kUnauthenticated);
  json no_token = Params("1", "CONFIRMED");
  EXPECT_EQ(adapter_.HandleWebhook(Post(no_token.dump())).status().code(),
            StatusCode::kUnauthenticated);
  json other = Params("1", "CONFIRMED");
  other["TerminalKey"] = "SomeoneElse";
  EXPECT_EQ(adapter_.HandleWebhook(Post(Notification(other))).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Refusals(metrics_, "tb", "signature"), 3);
  EXPECT_EQ(Refusals(metrics_, "tb", "api_key"), 1);
  EXPECT_EQ(log.text().find(kPassword), std::string::npos);
  EXPECT_NE(log.text().find("Token"), std::string::npos);
}

TEST_F(TbankAdapterTest, ASenderOutsideTheAllowListIs403) {
  TbankAdapter guarded(Config({"192.0.2.0/24"}), &metrics_);
  EXPECT_EQ(guarded.HandleWebhook(Post(Notification(Params("1", "CONFIRMED")))).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(Refusals(metrics_, "tb", "sender"), 1);
}

// Signed bodies whose members have the wrong types: a clear 400 (or 401
// when the type change breaks the Token), never a crash.
TEST_F(TbankAdapterTest, TypeConfusionIsAClear4xx) {
  std::vector<json> cases;
  for (json bad : {json::array({1}), json(nullptr), json::object({{"a", 1}}), json(1.5), json(true),
                   json(std::string(100, '9'))}) {
    json p = Params("1", "CONFIRMED");
    p["PaymentId"] = bad;
    cases.push_back(p);
    json s = Params("1", "CONFIRMED");
    s["Status"] = bad;
    cases.push_back(s);
  }
  for (const json& p : cases) {
    auto r = adapter_.HandleWebhook(Post(Notification(p)));
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << p.dump();
  }
  for (const std::string& raw :
       {std::string(R"({"PaymentId":1e400})"), std::string("[1]"), std::string("not json"),
        std::string(300, '[') + std::string(300, ']'), std::string(R"({"TerminalKey":[1]})")}) {
    auto r = adapter_.HandleWebhook(Post(raw));
    EXPECT_FALSE(r.ok()) << raw;
    const StatusCode code = r.status().code();
    EXPECT_TRUE(code == StatusCode::kInvalidArgument || code == StatusCode::kUnauthenticated)
        << raw;
  }
}

TEST(TbankFactory, KeysAndErrors) {
  FactoryDir dir;
  const std::string password = dir.Secret("password", kPassword);
  auto a = dir.Build(
      Type(), "tb", "terminal_key = \"" + kTerminal + "\"\npassword_file = \"" + password + "\"\n");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  net::HttpRequest r = Request("/hooks/tb", Notification(Params("9", "CONFIRMED")), "203.0.113.9",
                               "application/json");
  EXPECT_TRUE((*a)->webhook()->HandleWebhook(r).ok());
  EXPECT_NE(dir.Build(Type(), "tb", "password_file = \"" + password + "\"\n")
                .status()
                .message()
                .find("terminal_key"),
            std::string::npos);
  EXPECT_NE(
      dir.Build(Type(), "tb", "terminal_key = \"x\"\n").status().message().find("password_file"),
      std::string::npos);
}

// AUTHORIZED and CONFIRMED sent together (README §3), a repeat, and a late
// NEW, in every order: one payment, succeeded.
TEST_F(TbankAdapterTest, AnyOrderEndsConfirmed) {
  std::vector<InboundEvent> events;
  for (const char* status : {"NEW", "AUTHORIZED", "CONFIRMED", "AUTHORIZED"}) {
    auto r = adapter_.HandleWebhook(Post(Notification(Params("700", status))));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    events.push_back(r->events.at(0));
  }
  std::vector<int> order = {0, 1, 2, 3};
  do {
    MappedStore store("tbank-payments.toml");
    ASSERT_TRUE(store.rules_ok());
    for (int i : order) store.Apply("tb", events[i]);
    EXPECT_TRUE(store.errors.empty()) << store.errors.front();
    EXPECT_EQ(store.Status(model::EntityKind::kPayment, "tb", "700"), "succeeded");
  } while (std::next_permutation(order.begin(), order.end()));
}

}  // namespace
}  // namespace crmhub::adapters::tbank
