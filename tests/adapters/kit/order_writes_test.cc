// kit::DeliverOrderWrites: read first on redelivery, a refusal read again,
// a failure in passing shared by the rest.

#include "adapters/kit/order_writes.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace crmhub::adapters::kit {
namespace {

net::ApiError Error(net::ApiError::Kind kind, std::string message) {
  return net::ApiError{.kind = kind, .http_status = 400, .message = std::move(message)};
}

// A system of orders "a", "b", ... with a status each; "ship" moves "new"
// to "shipped" and refuses anything else.
struct FakeSystem {
  std::map<std::string, std::string> status;
  std::vector<std::string> calls;  // "read a", "send a"
  std::optional<net::ApiError> send_error, read_error;
  OrderWriteCalls Calls() {
    OrderWriteCalls c;
    c.read = [this](const OrderWrite& w) -> net::ApiResult<std::string> {
      calls.push_back("read " + w.order_id);
      if (read_error) return *read_error;
      return status[w.order_id];
    };
    c.reached = [](const OrderWrite&, std::string_view s) { return s == "shipped"; };
    c.send = [this](const OrderWrite& w) -> std::optional<net::ApiError> {
      calls.push_back("send " + w.order_id);
      if (send_error) return send_error;
      if (status[w.order_id] != "new") {
        return Error(net::ApiError::Kind::kRejected, "ALREADY_" + status[w.order_id]);
      }
      status[w.order_id] = "shipped";
      return std::nullopt;
    };
    return c;
  }
};

std::vector<OrderWrite> Ships(std::initializer_list<const char*> ids) {
  std::vector<OrderWrite> out;
  for (const char* id : ids)
    out.push_back({.index = out.size(), .command = "ship", .order_id = id});
  return out;
}

TEST(KitOrderWrites, ReadsFirstOnlyWhenTriedBeforeOrAskedTo) {
  RefusedWrites refused;
  FakeSystem sys{.status = {{"a", "new"}, {"b", "shipped"}, {"c", "new"}}};
  std::vector<DeliveryOutcome> out(3);
  const std::vector<OrderWrite> writes = {
      {.index = 0, .command = "ship", .order_id = "a"},
      {.index = 1, .command = "ship", .order_id = "b", .attempt = 2},
      {.index = 2, .command = "ship", .order_id = "c", .read_first = true}};
  DeliverOrderWrites("sys", writes, sys.Calls(), refused, out);
  for (const auto& o : out) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "read b", "read c", "send c"}));
}

TEST(KitOrderWrites, ARefusalIsReadAgainAndDeadLetteredWithTheStatus) {
  RefusedWrites refused;
  FakeSystem sys{.status = {{"a", "cancelled"}}};
  std::vector<DeliveryOutcome> out(1);
  DeliverOrderWrites("sys",
                     std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a"}},
                     sys.Calls(), refused, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[0].error,
            "sys: ship order a: refused: ALREADY_cancelled; the order is now cancelled");
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "read a"}));
  // The re-read fails for good: the dead letter says so.
  sys.read_error = Error(net::ApiError::Kind::kRejected, "HTTP 400");
  DeliverOrderWrites("sys",
                     std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a"}},
                     sys.Calls(), refused, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[0].error.find("could not be re-read: HTTP 400"), std::string::npos) << out[0].error;
  EXPECT_EQ(refused.size(), 0u);
}

// The re-read fails in passing (our limiter, a 429, a 5xx): not a dead
// letter without the status, not a blind resend: a retry whose read first
// dead-letters it with the fresh status.
TEST(KitOrderWrites, ARefusalWhoseReReadFailsInPassingIsDeadLetteredByTheRetrysRead) {
  FakeSystem sys{.status = {{"a", "cancelled"}, {"b", "new"}}};
  RefusedWrites refused;
  std::vector<DeliveryOutcome> out(2);
  sys.read_error =
      net::ApiError{.kind = net::ApiError::Kind::kThrottled, .message = "local rate limit"};
  DeliverOrderWrites("sys", Ships({"a", "b"}), sys.Calls(), refused, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(out[0].throttled);
  EXPECT_EQ(out[0].error,
            "sys: ship order a: refused: ALREADY_cancelled; its status is re-read before the "
            "dead letter: local rate limit");
  // The same limit would meet b's reads: it waits, nothing sent.
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "read a"}));
  EXPECT_EQ(refused.size(), 1u);

  sys.read_error.reset();
  sys.calls.clear();
  std::vector<DeliveryOutcome> again(1);
  DeliverOrderWrites(
      "sys",
      std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a", .attempt = 2}},
      sys.Calls(), refused, again);
  EXPECT_EQ(again[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(again[0].error,
            "sys: ship order a: refused: ALREADY_cancelled; the order is now cancelled");
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"read a"}));  // not sent again
  EXPECT_EQ(refused.size(), 0u);
}

// Kept in memory only: without it (a restart) the retry sends once more,
// the system refuses again and the usual re-read follows; and a send of the
// same write supersedes what was kept.
TEST(KitOrderWrites, WithoutTheKeptRefusalTheRetrySendsAndIsRefusedAgain) {
  FakeSystem sys{.status = {{"a", "cancelled"}}};
  RefusedWrites before_restart, after_restart;
  std::vector<DeliveryOutcome> out(1);
  sys.read_error = net::ApiError{.kind = net::ApiError::Kind::kTransient, .message = "HTTP 503"};
  DeliverOrderWrites("sys", Ships({"a"}), sys.Calls(), before_restart, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_FALSE(out[0].throttled);
  sys.read_error.reset();
  sys.calls.clear();
  DeliverOrderWrites(
      "sys",
      std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a", .attempt = 2}},
      sys.Calls(), after_restart, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"read a", "send a", "read a"}));
  // A first attempt of the same write is sent: its own answer rules.
  sys.status["a"] = "new";
  DeliverOrderWrites("sys", Ships({"a"}), sys.Calls(), before_restart, out);
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_EQ(before_restart.size(), 0u);
}

TEST(KitRefusedWrites, KeepsAtMostItsCapacityForgettingTheOldest) {
  RefusedWrites refused(2);
  const net::ApiError busy{.kind = net::ApiError::Kind::kThrottled, .message = "429"};
  for (const char* id : {"a", "b", "c"}) refused.Unread("sys", "ship", id, "no", busy);
  EXPECT_EQ(refused.size(), 2u);
  auto read_first = [&](const char* command, const char* id) {
    return refused.ReadFirst("sys", command, id, "new", /*reached=*/false);
  };
  EXPECT_FALSE(read_first("ship", "a").has_value());
  EXPECT_TRUE(read_first("ship", "c").has_value());
  EXPECT_FALSE(read_first("cancel", "b").has_value());  // per command
  EXPECT_TRUE(read_first("ship", "b").has_value());
  EXPECT_EQ(refused.size(), 0u);
  // Refused again, a write is the newest: the oldest other one goes first.
  for (const char* id : {"a", "b", "a", "c"}) refused.Unread("sys", "ship", id, "no", busy);
  EXPECT_TRUE(read_first("ship", "a").has_value());
  EXPECT_FALSE(read_first("ship", "b").has_value());
  EXPECT_TRUE(read_first("ship", "c").has_value());
  // Forgotten ones are not kept.
  for (int i = 0; i < 100; ++i) {
    refused.Unread("sys", "ship", "x", "no", busy);
    refused.Forget("ship", "x");
  }
  EXPECT_EQ(refused.size(), 0u);
}

TEST(KitRefusedWrites, AnOrderThatGotThereIsOkAndForgetsItsRefusal) {
  RefusedWrites refused;
  const net::ApiError busy{.kind = net::ApiError::Kind::kThrottled, .message = "429"};
  auto got_there = refused.ReadFirst("sys", "ship", "a", "shipped", /*reached=*/true);
  ASSERT_TRUE(got_there.has_value());
  EXPECT_TRUE(got_there->ok());
  refused.Unread("sys", "ship", "a", "not now", busy);
  got_there = refused.ReadFirst("sys", "ship", "a", "shipped", /*reached=*/true);
  ASSERT_TRUE(got_there.has_value());
  EXPECT_TRUE(got_there->ok()) << got_there->error;
  EXPECT_EQ(refused.size(), 0u);
  // Not there and nothing kept: send it.
  EXPECT_FALSE(refused.ReadFirst("sys", "ship", "a", "new", /*reached=*/false).has_value());
}

TEST(KitOrderWrites, ThrottledStopsTheRest) {
  RefusedWrites refused;
  FakeSystem sys{.status = {{"a", "new"}, {"b", "new"}}};
  sys.send_error = Error(net::ApiError::Kind::kThrottled, "HTTP 429");
  std::vector<DeliveryOutcome> out(2);
  DeliverOrderWrites("sys", Ships({"a", "b"}), sys.Calls(), refused, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a"}));
}

TEST(KitOrderWrites, TransientFailuresStopTheRestOnlyInARow) {
  RefusedWrites refused;
  FakeSystem sys{.status = {{"a", "new"}, {"b", "new"}, {"c", "new"}, {"d", "new"}, {"e", "new"}}};
  sys.send_error = Error(net::ApiError::Kind::kTransient, "HTTP 500");
  std::vector<DeliveryOutcome> out(5);
  DeliverOrderWrites("sys", Ships({"a", "b", "c", "d", "e"}), sys.Calls(), refused, out);
  for (const auto& o : out) EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "send b", "send c"}));
  // One failure among successes: the others go.
  FakeSystem one{.status = {{"a", "new"}, {"b", "new"}, {"c", "new"}}};
  OrderWriteCalls calls = one.Calls();
  auto send = calls.send;
  calls.send = [&](const OrderWrite& w) -> std::optional<net::ApiError> {
    if (w.order_id == "a") return Error(net::ApiError::Kind::kTransient, "HTTP 503");
    return send(w);
  };
  std::vector<DeliveryOutcome> mixed(3);
  DeliverOrderWrites("sys", Ships({"a", "b", "c"}), calls, refused, mixed);
  EXPECT_EQ(mixed[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(mixed[1].ok());
  EXPECT_TRUE(mixed[2].ok());
}

}  // namespace
}  // namespace crmhub::adapters::kit
