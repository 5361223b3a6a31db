// Ozon push notifications (spec section «Пуш-уведомления»): the documented
// answers, the keys, and the sender checks.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/ozon/ozon_adapter.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

class OzonWebhookTest : public ::testing::Test {
 protected:
  OzonWebhookTest()
      : adapter_(
            Config(),
            [](std::string_view, net::OutboundRequest) -> net::OutboundResult {
              return Status::Internal("no I/O in webhook tests");
            },
            clock_) {}

  static OzonConfig Config() {
    OzonConfig c;
    c.id = "ozon-main";
    c.client.client_id = "1";
    c.client.api_key = Secret("k");
    c.push.allow_ips = *net::CidrList::Parse(DefaultPushAllowIps());
    c.push.token = Secret("s3cret");
    return c;
  }
  static net::HttpRequest Request(std::string body, std::string ip = "195.34.21.7",
                                  std::string token = "s3cret") {
    net::HttpRequest r;
    r.method = "POST";
    r.path = "/hooks/ozon-main";
    r.query = token.empty() ? "" : "token=" + token;
    r.target = r.path + (r.query.empty() ? "" : "?" + r.query);
    r.body = std::move(body);
    r.remote_address = std::move(ip);
    return r;
  }

  ManualClock clock_{FromUnixMillis(1611644196294)};
  OzonAdapter adapter_;
};

TEST_F(OzonWebhookTest, PingIsAnsweredWithVersionNameAndTime) {
  auto r = adapter_.HandleWebhook(
      Request(R"({"message_type":"TYPE_PING","time":"2019-08-24T14:15:22Z"})"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->accepted.status, 200);
  auto body = json::parse(r->accepted.body);
  EXPECT_TRUE(body["version"].is_string());
  EXPECT_EQ(body["name"], "crmhub");
  // The spec's example: "2019-08-24T14:15:22Z", whole seconds.
  EXPECT_EQ(body["time"], "2021-01-26T06:56:36Z");
}

TEST_F(OzonWebhookTest, StateChangeBecomesAnEventWithTheSellerApiStatus) {
  std::string body = R"({"message_type":"TYPE_STATE_CHANGED","posting_number":"24219509-0020-2",
    "new_state":"posting_delivered","changed_state_date":"2021-02-02T15:07:46.765Z","warehouse_id":0,"seller_id":15})";
  auto r = adapter_.HandleWebhook(Request(body));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->accepted.status, 200);
  EXPECT_EQ(json::parse(r->accepted.body), json::parse(R"({"result":true})"));
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].idempotency_key, "push:24219509-0020-2:delivered");
  EXPECT_EQ(r->events[0].ordering_key, "24219509-0020-2");
  EXPECT_EQ(r->events[0].payload, body);

  auto cancelled = adapter_.HandleWebhook(Request(
      R"({"message_type":"TYPE_POSTING_CANCELLED","posting_number":"24219509-0020-1","new_state":"posting_canceled"})"));
  ASSERT_TRUE(cancelled.ok());
  ASSERT_EQ(cancelled->events.size(), 1u);
  EXPECT_EQ(cancelled->events[0].idempotency_key, "push:24219509-0020-1:cancelled");
}

TEST_F(OzonWebhookTest, OtherTypesAreAcknowledgedWithoutEvents) {
  auto r = adapter_.HandleWebhook(Request(R"({"message_type":"TYPE_NEW_MESSAGE","chat_id":"x"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->accepted.status, 200);
}

TEST_F(OzonWebhookTest, NotANotificationGetsTheDocumentedErrorShape) {
  auto r = adapter_.HandleWebhook(Request("not json"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->accepted.status, 400);
  auto body = json::parse(r->accepted.body);
  EXPECT_EQ(body["error"]["code"], "ERROR_PARAMETER_VALUE_MISSED");
  EXPECT_TRUE(body["error"]["message"].is_string());
}

TEST_F(OzonWebhookTest, SendersOutsideOzonsRangesOrWithoutTheTokenAreRefused) {
  std::string body = R"({"message_type":"TYPE_PING","time":"2019-08-24T14:15:22Z"})";
  auto outsider = adapter_.HandleWebhook(Request(body, "10.1.2.3"));
  ASSERT_FALSE(outsider.ok());
  EXPECT_EQ(outsider.status().code(), StatusCode::kPermissionDenied);
  auto no_token = adapter_.HandleWebhook(Request(body, "185.73.193.1", ""));
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.status().code(), StatusCode::kUnauthenticated);
  auto wrong = adapter_.HandleWebhook(Request(body, "91.223.93.200", "guess"));
  EXPECT_FALSE(wrong.ok());
  EXPECT_TRUE(adapter_.HandleWebhook(Request(body, "91.223.93.200")).ok());
}

TEST(OzonPushStates, FollowTheSpecsTable) {
  EXPECT_EQ(PushStateToStatus("posting_created"), "awaiting_packaging");
  EXPECT_EQ(PushStateToStatus("posting_in_courier_service"), "delivering");
  EXPECT_EQ(PushStateToStatus("posting_canceled"), "cancelled");
  EXPECT_EQ(PushStateToStatus("posting_unknown"), "");
}

}  // namespace
}  // namespace crmhub::adapters::ozon
