// The YooKassa adapter on the contract: the SDK's notification fixtures,
// the sender ranges, hints queued and answered 200, the worker-side re-fetch
// (Basic auth, acting only on the fetched status, a disagreeing
// notification not trusted), refusals, type confusion, the factory's keys,
// and the shipped rules on what Resolve queues, in any order.

#include "adapters/yookassa/yookassa_adapter.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "net/hmac.h"
#include "tests/adapters/payments/payment_test_support.h"

namespace crmhub::adapters::yookassa {
namespace {

using nlohmann::json;
using namespace payments_testing;

const json kWaiting =
    Contract("yookassa/notification_payment_waiting_for_capture.sdk_test_fixture.json");
const json kRefund = Contract("yookassa/notification_refund_succeeded.sdk_test_fixture.json");
constexpr char kYooKassa[] = "185.71.76.5";
constexpr char kShop[] = "123456";
constexpr char kKey[] = "test_secret_key";

// The API as a stub transport: objects by path, every request recorded.
struct FakeApi {
  std::mutex mu;
  std::map<std::string, std::pair<int, std::string>> answers;  // path -> status, body
  std::vector<net::OutboundRequest> requests;
  net::Transport transport() {
    return [this](std::string_view, net::OutboundRequest r) -> net::OutboundResult {
      std::lock_guard lock(mu);
      requests.push_back(r);
      const std::string path = r.url.substr(r.url.find("/v3"));
      auto it = answers.find(path);
      if (it == answers.end()) return net::OutboundResponse{.status = 404, .body = "{}"};
      return net::OutboundResponse{.status = it->second.first, .body = it->second.second};
    };
  }
  void Payment(const std::string& id, const std::string& status) {
    json object = kWaiting["object"];
    object["id"] = id;
    object["status"] = status;
    answers["/v3/payments/" + id] = {200, object.dump()};
  }
};

json Notification(const std::string& event, const std::string& id, const std::string& status = "") {
  json n = kWaiting;
  n["event"] = event;
  n["object"]["id"] = id;
  n["object"]["status"] = status.empty() ? event.substr(event.find('.') + 1) : status;
  return n;
}

class YooKassaAdapterTest : public ::testing::Test {
 protected:
  YooKassaAdapterTest() : adapter_(Config(), &metrics_, api_.transport(), clock_) {}
  static YooKassaConfig Config() {
    YooKassaConfig c;
    c.id = "yk";
    c.account = kShop;
    c.secrets = {Secret(kKey)};
    c.allow_ips = *net::CidrList::Parse(PublishedSenders());
    c.base_url = "http://127.0.0.1:9/v3";
    return c;
  }
  static net::HttpRequest Post(const std::string& body, const std::string& from = kYooKassa) {
    return Request("/hooks/yk", body, from, "application/json");
  }
  Hint AsHint(const InboundEvent& e) {
    return Hint{
        .key = e.idempotency_key, .kind = e.kind, .headers = e.headers, .payload = e.payload};
  }
  // The notification through HandleWebhook then Resolve.
  ResolveResult Through(const json& notification) {
    auto r = adapter_.HandleWebhook(Post(notification.dump()));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->events.empty()) return {DeliveryOutcome::Fail("no hint"), {}};
    return adapter_.Resolve(AsHint(r->events[0]));
  }
  MetricsRegistry metrics_;
  ManualClock clock_;
  FakeApi api_;
  YooKassaAdapter adapter_;
};

TEST_F(YooKassaAdapterTest, TheSdkFixturesAreHintsAnswered200) {
  ASSERT_TRUE(kWaiting.is_object() && kRefund.is_object()) << "contract files missing";
  auto w = adapter_.HandleWebhook(Post(kWaiting.dump()));
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->events.size(), 1u);
  EXPECT_TRUE(w->events[0].resolve);
  EXPECT_EQ(w->events[0].idempotency_key,
            "hint:22d6d597-000f-5000-9000-145f6df21d6f:payment.waiting_for_capture");
  EXPECT_EQ(w->events[0].ordering_key, "22d6d597-000f-5000-9000-145f6df21d6f");
  EXPECT_EQ(w->accepted.status, 200);
  auto r = adapter_.HandleWebhook(Post(kRefund.dump()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->events[0].idempotency_key,
            "hint:21b23b5b-000f-5061-a000-0674e49a8c10:refund.succeeded");
  EXPECT_EQ(r->events[0].ordering_key, "21b23365-000f-500b-9000-070fa3554403");  // its payment
  EXPECT_TRUE(api_.requests.empty());  // nothing is fetched on the I/O thread
}

TEST_F(YooKassaAdapterTest, ResolveFetchesWithBasicAuthAndQueuesTheFetchedObject) {
  api_.Payment("p-1", "succeeded");
  ResolveResult r = Through(Notification("payment.succeeded", "p-1"));
  ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kind, "payment");
  EXPECT_EQ(r.events[0].idempotency_key, "payment:p-1:succeeded");
  EXPECT_EQ(json::parse(r.events[0].payload).value("event", ""), "payment.succeeded");
  ASSERT_EQ(api_.requests.size(), 1u);
  EXPECT_EQ(api_.requests[0].method, "GET");
  EXPECT_EQ(api_.requests[0].url, "http://127.0.0.1:9/v3/payments/p-1");
  EXPECT_EQ(api_.requests[0].headers.Get("Authorization").value_or(""),
            "Basic " + net::Base64Encode(std::string(kShop) + ":" + kKey));
  // A refund is fetched from /v3/refunds.
  json refund = kRefund["object"];
  refund["status"] = "succeeded";
  api_.answers["/v3/refunds/" + refund.value("id", "")] = {200, refund.dump()};
  ResolveResult rr = Through(kRefund);
  ASSERT_TRUE(rr.outcome.ok()) << rr.outcome.error;
  EXPECT_EQ(rr.events.at(0).kind, "refund");
  EXPECT_EQ(rr.events.at(0).ordering_key, "21b23365-000f-500b-9000-070fa3554403");
}

// A notification claiming more than the API holds is not trusted: only the
// fetched status is queued, and the disagreement is counted and logged.
TEST_F(YooKassaAdapterTest, ANotificationTheApiContradictsIsNotTrusted) {
  LogCapture log;
  api_.Payment("p-2", "pending");
  ResolveResult r = Through(Notification("payment.succeeded", "p-2"));
  ASSERT_TRUE(r.outcome.ok());
  EXPECT_EQ(r.events.at(0).idempotency_key, "payment:p-2:pending");
  EXPECT_EQ(json::parse(r.events.at(0).payload)["object"].value("status", ""), "pending");
  EXPECT_EQ(Refusals(metrics_, "yk", "refetch"), 1);
  api_.Payment("p-3", "succeeded");
  ResolveResult c = Through(Notification("payment.canceled", "p-3"));
  EXPECT_EQ(c.events.at(0).idempotency_key, "payment:p-3:succeeded");
  EXPECT_EQ(Refusals(metrics_, "yk", "refetch"), 2);
  // A payment that has moved on since is not a disagreement.
  api_.Payment("p-4", "succeeded");
  EXPECT_TRUE(Through(Notification("payment.waiting_for_capture", "p-4")).outcome.ok());
  EXPECT_EQ(Refusals(metrics_, "yk", "refetch"), 2);
  EXPECT_NE(log.text().find("the API says pending"), std::string::npos);
  EXPECT_EQ(log.text().find(kKey), std::string::npos);
  // An object the API does not know: a dead letter, nothing queued.
  ResolveResult unknown = Through(Notification("payment.succeeded", "forged"));
  EXPECT_EQ(unknown.outcome.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_TRUE(unknown.events.empty());
  // The API failing: retried.
  api_.answers["/v3/payments/p-5"] = {500, "{}"};
  EXPECT_EQ(Through(Notification("payment.succeeded", "p-5")).outcome.kind,
            DeliveryOutcome::Kind::kRetry);
}

TEST_F(YooKassaAdapterTest, SendersOutsideThePublishedRangesAre403) {
  for (const char* from :
       {"185.71.76.31", "185.71.77.1", "77.75.153.100", "77.75.156.11", "2a02:5180:0:1509::1"}) {
    EXPECT_TRUE(adapter_.HandleWebhook(Post(kWaiting.dump(), from)).ok()) << from;
  }
  for (const char* from : {"127.0.0.1", "185.71.76.32", "77.75.156.12", "2a02:5180:0:1510::1"}) {
    EXPECT_EQ(adapter_.HandleWebhook(Post(kWaiting.dump(), from)).status().code(),
              StatusCode::kPermissionDenied)
        << from;
  }
  EXPECT_EQ(Refusals(metrics_, "yk", "sender"), 4);
}

TEST_F(YooKassaAdapterTest, OtherProductsAreAnsweredAndNotQueued) {
  json payout = kWaiting;
  payout["event"] = "payout.succeeded";
  auto r = adapter_.HandleWebhook(Post(payout.dump()));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->accepted.status, 200);
  payout["event"] = "payment_method.active";
  EXPECT_TRUE(adapter_.HandleWebhook(Post(payout.dump()))->events.empty());
}

TEST_F(YooKassaAdapterTest, TypeConfusionIsAClear400) {
  std::vector<json> cases;
  for (json bad :
       {json::array({1}), json(nullptr), json::object({{"a", 1}}), json(1.5), json(true),
        json("../../v3/refunds/x"), json("id with space"), json(std::string(100, 'a'))}) {
    json n = kWaiting;
    n["object"]["id"] = bad;
    cases.push_back(n);
  }
  for (json bad : {json(1), json(nullptr), json::array()}) {
    json n = kWaiting;
    n["event"] = bad;
    cases.push_back(n);
    json o = kWaiting;
    o["object"] = bad;
    cases.push_back(o);
    json t = kWaiting;
    t["type"] = bad;
    cases.push_back(t);
  }
  for (const json& n : cases) {
    EXPECT_EQ(adapter_.HandleWebhook(Post(n.dump())).status().code(), StatusCode::kInvalidArgument)
        << n.dump();
  }
  for (const std::string& raw :
       {std::string(R"({"type":"notification","event":"payment.succeeded","object":{"id":1e400}})"),
        std::string("[1]"), std::string("not json"),
        std::string(300, '[') + std::string(300, ']')}) {
    EXPECT_EQ(adapter_.HandleWebhook(Post(raw)).status().code(), StatusCode::kInvalidArgument)
        << raw;
  }
  EXPECT_TRUE(api_.requests.empty());
}

TEST(YooKassaFactory, KeysAndErrors) {
  FactoryDir dir;
  const std::string keys = std::string("shop_id = \"") + kShop + "\"\nsecret_key_file = \"" +
                           dir.Secret("key", kKey) + "\"\n";
  auto a = dir.Build(Type(), "yk", keys);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  net::HttpRequest r = Request("/hooks/yk", kWaiting.dump(), kYooKassa, "application/json");
  EXPECT_TRUE((*a)->webhook()->HandleWebhook(r).ok());
  r.remote_address = "203.0.113.9";
  EXPECT_EQ((*a)->webhook()->HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(dir.Build(Type(), "yk", "shop_id = \"1\"\n").status().message().find("secret_key_file"),
            std::string::npos);
  // Without an HTTP client (check-config) a hint is retried, never trusted.
  auto hint = (*a)->webhook()->HandleWebhook(
      Request("/hooks/yk", kWaiting.dump(), kYooKassa, "application/json"));
  ASSERT_TRUE(hint.ok());
  EXPECT_EQ((*a)->webhook()
                ->Resolve({.key = "k", .kind = "payment_hint", .payload = kWaiting.dump()})
                .outcome.kind,
            DeliveryOutcome::Kind::kRetry);
}

// A payment's notifications (waiting_for_capture, succeeded, a repeat and a
// refund) arrive in every order while the API already says succeeded: one
// payment, succeeded, and one refund.
TEST_F(YooKassaAdapterTest, AnyOrderEndsAtTheFetchedFinalState) {
  api_.Payment("p-9", "succeeded");
  json refund = kRefund;
  refund["object"]["payment_id"] = "p-9";
  json fetched_refund = refund["object"];
  fetched_refund["status"] = "succeeded";
  api_.answers["/v3/refunds/" + fetched_refund.value("id", "")] = {200, fetched_refund.dump()};
  std::vector<InboundEvent> events;
  for (const json& n : {Notification("payment.waiting_for_capture", "p-9"),
                        Notification("payment.succeeded", "p-9"),
                        Notification("payment.waiting_for_capture", "p-9"), refund}) {
    ResolveResult r = Through(n);
    ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
    events.push_back(r.events.at(0));
  }
  std::vector<int> order = {0, 1, 2, 3};
  do {
    MappedStore store("yookassa-payments.toml");
    ASSERT_TRUE(store.rules_ok());
    for (int i : order) store.Apply("yk", events[i]);
    EXPECT_TRUE(store.errors.empty()) << store.errors.front();
    EXPECT_EQ(store.Status(model::EntityKind::kPayment, "yk", "p-9"), "succeeded");
    EXPECT_EQ(store.Status(model::EntityKind::kRefund, "yk", fetched_refund.value("id", "")),
              "succeeded");
  } while (std::next_permutation(order.begin(), order.end()));
}

}  // namespace
}  // namespace crmhub::adapters::yookassa

namespace crmhub::adapters::yookassa {
namespace {

// The reconciliation sweep: a payment Resolve found pending is re-read once
// it has been pending for reconcile_after, and queued when final, with the
// key a later notification would have; the remembered set is the cursor.
TEST_F(YooKassaAdapterTest, PaymentsPendingTooLongAreReReadAndSurviveARestart) {
  api_.Payment("p-slow", "pending");
  ResolveResult r = Through(Notification("payment.waiting_for_capture", "p-slow", "pending"));
  ASSERT_TRUE(r.outcome.ok());
  EXPECT_EQ(r.events.at(0).idempotency_key, "payment:p-slow:pending");
  auto first = adapter_.Pull(std::nullopt);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->events.empty());
  ASSERT_TRUE(first->next_cursor.has_value());
  EXPECT_NE(first->next_cursor->find("p-slow"), std::string::npos);
  const size_t requests = api_.requests.size();
  clock_.Advance(std::chrono::minutes(59));
  EXPECT_TRUE(adapter_.Pull(first->next_cursor)->events.empty());
  EXPECT_EQ(api_.requests.size(), requests);  // not due yet: nothing asked
  clock_.Advance(std::chrono::minutes(6));    // due, and reconcile_every since the last look
  auto still = adapter_.Pull(first->next_cursor);
  EXPECT_TRUE(still->events.empty());  // still pending: asked, kept
  EXPECT_EQ(api_.requests.size(), requests + 1);

  // A restart: a new adapter with only the cursor.
  YooKassaAdapter restarted(Config(), &metrics_, api_.transport(), clock_);
  api_.Payment("p-slow", "succeeded");
  auto done = restarted.Pull(still->next_cursor);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->events.size(), 1u);
  EXPECT_EQ(done->events[0].idempotency_key, "payment:p-slow:succeeded");
  EXPECT_EQ(done->events[0].kind, "payment");
  EXPECT_EQ(done->next_cursor.value_or(""), "{}");
  EXPECT_EQ(restarted.poll_interval(), std::chrono::seconds(5));
}

}  // namespace
}  // namespace crmhub::adapters::yookassa
