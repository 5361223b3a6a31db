// What an adapter is handed for a queued message: the command's name, item,
// identity and attempt, or the hint as its webhook queued it -- never the
// queue's own bookkeeping.

#include "daemon/queued_events.h"

#include <gtest/gtest.h>

namespace crmhub::daemon {
namespace {

TEST(QueuedEventsTest, AnEventQueuedAsAHintComesBackAsTheHint) {
  adapters::InboundEvent event{.idempotency_key = "ym:notification:7",
                               .ordering_key = "7",
                               .kind = "order_hint",
                               .headers = {{"ym_type", "ORDER_CREATED"}},
                               .payload = R"({"orderId":7})",
                               .resolve = true};
  queue::NewMessage queued = ToNewMessage(event, "in.ym", "ym");
  EXPECT_EQ(queued.lane, "in.ym");
  EXPECT_EQ(queued.source, "ym");
  EXPECT_EQ(queued.ordering_key, "7");
  queue::Message leased{.id = 42,
                        .lane = queued.lane,
                        .source = queued.source,
                        .idempotency_key = queued.idempotency_key,
                        .ordering_key = queued.ordering_key,
                        .headers = queued.headers,
                        .payload = queued.payload,
                        .attempts = 3};
  ASSERT_TRUE(IsHint(leased));
  adapters::Hint hint = ToHint(leased);
  EXPECT_EQ(hint.key, "ym:notification:7");
  EXPECT_EQ(hint.kind, "order_hint");
  EXPECT_EQ(hint.payload, R"({"orderId":7})");
  EXPECT_EQ(hint.attempt, 3);
  // The event's own headers, without the runtime's marks.
  ASSERT_EQ(hint.headers.size(), 1u);
  EXPECT_EQ(hint.headers[0], (std::pair<std::string, std::string>{"ym_type", "ORDER_CREATED"}));

  event.resolve = false;
  leased.headers = ToNewMessage(event, "in.ym", "ym").headers;
  EXPECT_FALSE(IsHint(leased));
}

TEST(QueuedEventsTest, ACommandCarriesItsNameItemIdentityAndAttempt) {
  queue::Message leased{.id = 9,
                        .lane = "out.wb",
                        .source = "commands",
                        .idempotency_key = "req-1:0",
                        .headers = {{std::string(kCommandHeader), "set_price"}},
                        .payload = R"({"nm_id":1,"price":100})",
                        .attempts = 0};
  adapters::Command command = ToCommand(leased);
  EXPECT_EQ(command.name, "set_price");
  EXPECT_EQ(command.payload, R"({"nm_id":1,"price":100})");
  EXPECT_EQ(command.key, "req-1:0");  // the same on every redelivery, unlike a lease
  EXPECT_EQ(command.attempt, 1) << "a message not yet counted is on its first attempt";
  leased.attempts = 4;
  EXPECT_EQ(ToCommand(leased).attempt, 4);
  // A throttled retry gives its attempt back to the queue (attempts is 1
  // again on the next lease), but that delivery may have sent something:
  // the adapter is told it is a retry.
  leased.attempts = 1;
  leased.last_error =
      "wildberries: set_status deliver order 1: refused: HTTP 409; its status "
      "is re-read before the dead letter: throttled";
  EXPECT_EQ(ToCommand(leased).attempt, 2);
  EXPECT_EQ(ToHint(leased).attempt, 2);
  leased.last_error.clear();
  EXPECT_EQ(ToCommand(leased).attempt, 1);
  leased.headers.clear();
  EXPECT_EQ(ToCommand(leased).name, "") << "no command header: a name no target knows";
}

}  // namespace
}  // namespace crmhub::daemon
