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

TEST(KitOrderWrites, ReadsFirstOnlyWhenTriedBeforeOrAskedTo) {
  FakeSystem sys{.status = {{"a", "new"}, {"b", "shipped"}, {"c", "new"}}};
  std::vector<DeliveryOutcome> out(3);
  const std::vector<OrderWrite> writes = {
      {.index = 0, .command = "ship", .order_id = "a"},
      {.index = 1, .command = "ship", .order_id = "b", .attempt = 2},
      {.index = 2, .command = "ship", .order_id = "c", .read_first = true}};
  DeliverOrderWrites("sys", writes, sys.Calls(), out);
  for (const auto& o : out) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "read b", "read c", "send c"}));
}

TEST(KitOrderWrites, ARefusalIsReadAgainAndDeadLetteredWithTheStatus) {
  FakeSystem sys{.status = {{"a", "cancelled"}}};
  std::vector<DeliveryOutcome> out(1);
  DeliverOrderWrites("sys",
                     std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a"}},
                     sys.Calls(), out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[0].error,
            "sys: ship order a: refused: ALREADY_cancelled; the order is now cancelled");
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a", "read a"}));
  // The re-read fails: the dead letter says so.
  sys.read_error = Error(net::ApiError::Kind::kTransient, "HTTP 503");
  DeliverOrderWrites("sys",
                     std::vector<OrderWrite>{{.index = 0, .command = "ship", .order_id = "a"}},
                     sys.Calls(), out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[0].error.find("could not be re-read: HTTP 503"), std::string::npos) << out[0].error;
}

std::vector<OrderWrite> Ships(std::initializer_list<const char*> ids) {
  std::vector<OrderWrite> out;
  for (const char* id : ids)
    out.push_back({.index = out.size(), .command = "ship", .order_id = id});
  return out;
}

TEST(KitOrderWrites, ThrottledStopsTheRest) {
  FakeSystem sys{.status = {{"a", "new"}, {"b", "new"}}};
  sys.send_error = Error(net::ApiError::Kind::kThrottled, "HTTP 429");
  std::vector<DeliveryOutcome> out(2);
  DeliverOrderWrites("sys", Ships({"a", "b"}), sys.Calls(), out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(sys.calls, (std::vector<std::string>{"send a"}));
}

TEST(KitOrderWrites, TransientFailuresStopTheRestOnlyInARow) {
  FakeSystem sys{.status = {{"a", "new"}, {"b", "new"}, {"c", "new"}, {"d", "new"}, {"e", "new"}}};
  sys.send_error = Error(net::ApiError::Kind::kTransient, "HTTP 500");
  std::vector<DeliveryOutcome> out(5);
  DeliverOrderWrites("sys", Ships({"a", "b", "c", "d", "e"}), sys.Calls(), out);
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
  DeliverOrderWrites("sys", Ships({"a", "b", "c"}), calls, mixed);
  EXPECT_EQ(mixed[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(mixed[1].ok());
  EXPECT_TRUE(mixed[2].ok());
}

}  // namespace
}  // namespace crmhub::adapters::kit
