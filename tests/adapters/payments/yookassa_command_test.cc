// YooKassa commands out (create_payment, refund) against the simulator over
// loopback: a create_payment retried after a timeout reuses its
// Idempotence-Key and makes one payment; YooKassa's response rules (202
// processing, 500, 4xx) as delivery outcomes.

#include <gtest/gtest.h>

#include <mutex>

#include <nlohmann/json.hpp>

#include "adapters/yookassa/yookassa_adapter.h"
#include "adapters/yookassa/yookassa_sim.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::yookassa {
namespace {

using nlohmann::json;

// The simulator over loopback, through a wrapper that records each
// request's Idempotence-Key and can lose the next answer (a timeout after
// YooKassa acted) or answer in YooKassa's stead.
class YooKassaCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    YooKassaSimOptions o;
    o.orders = 1;
    sim_ = std::make_unique<YooKassaSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    YooKassaConfig c;
    c.id = "yk";
    c.account = "sim-shop";
    c.secrets = {Secret("sim-secret-key")};
    c.base_url = sim_->base_url() + "/v3";
    adapter_ = std::make_unique<YooKassaAdapter>(
        c, nullptr,
        [this, send = http_.transport()](std::string_view group, net::OutboundRequest r) {
          std::optional<net::OutboundResponse> instead;
          bool lose = false;
          {
            std::lock_guard lock(mu_);
            keys_.push_back(std::string(r.headers.Get("Idempotence-Key").value_or("")));
            lose = std::exchange(lose_next_, false);
            instead = std::exchange(answer_next_, std::nullopt);
          }
          if (instead) return net::OutboundResult(*instead);
          net::OutboundResult answer = send(group, std::move(r));
          if (lose) return net::OutboundResult(Status::Unavailable("timed out"));
          return answer;
        },
        clock_);
  }
  void TearDown() override { sim_->Stop(); }
  DeliveryOutcome Deliver(const std::string& name, const json& item, const std::string& key,
                          int attempt = 1) {
    Command c{.name = name, .payload = item.dump(), .key = key, .attempt = attempt};
    auto out = adapter_->Deliver(std::span<const Command>(&c, 1));
    return out.at(0);
  }
  static json Payment() {
    return {{"amount", "1500.00"},
            {"currency", "RUB"},
            {"description", "Order 7"},
            {"order_id", "ORDER-7"},
            {"return_url", "https://shop.example/return"}};
  }
  ManualClock clock_;
  crmhub::testing::ClientThread http_;
  std::unique_ptr<YooKassaSimulator> sim_;
  std::unique_ptr<YooKassaAdapter> adapter_;
  std::mutex mu_;
  std::vector<std::string> keys_;
  bool lose_next_ = false;
  std::optional<net::OutboundResponse> answer_next_;
};

TEST_F(YooKassaCommandTest, ARetryAfterATimeoutReusesTheKeyAndMakesOnePayment) {
  lose_next_ = true;
  DeliveryOutcome first = Deliver("create_payment", Payment(), "cmd-1");
  EXPECT_EQ(first.kind, DeliveryOutcome::Kind::kRetry) << first.error;
  DeliveryOutcome second = Deliver("create_payment", Payment(), "cmd-1", 2);
  EXPECT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(sim_->CreatedPayments(), 1u);
  EXPECT_EQ(keys_, (std::vector<std::string>{"cmd-1", "cmd-1"}));
  // Another command is another payment.
  EXPECT_TRUE(Deliver("create_payment", Payment(), "cmd-2").ok());
  EXPECT_EQ(sim_->CreatedPayments(), 2u);
}

TEST_F(YooKassaCommandTest, KeysLongerThan64AreHashedTheSameEachTime) {
  const std::string long_key(100, 'k');
  EXPECT_EQ(IdempotenceKey("short"), "short");
  EXPECT_EQ(IdempotenceKey(long_key).size(), 64u);
  EXPECT_EQ(IdempotenceKey(long_key), IdempotenceKey(long_key));
  EXPECT_TRUE(Deliver("create_payment", Payment(), long_key).ok());
  EXPECT_TRUE(Deliver("create_payment", Payment(), long_key, 2).ok());
  EXPECT_EQ(sim_->CreatedPayments(), 1u);
  EXPECT_EQ(keys_.at(0), IdempotenceKey(long_key));
}

TEST_F(YooKassaCommandTest, ResponseRules) {
  answer_next_ =
      net::OutboundResponse{.status = 202, .body = R"({"type":"processing","retry_after":1800})"};
  DeliveryOutcome processing = Deliver("create_payment", Payment(), "cmd-3");
  EXPECT_EQ(processing.kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(processing.not_before.has_value());
  EXPECT_EQ(*processing.not_before, clock_.Now() + std::chrono::milliseconds(1800));
  answer_next_ = net::OutboundResponse{.status = 500, .body = R"({"type":"error"})"};
  EXPECT_EQ(Deliver("create_payment", Payment(), "cmd-3", 2).kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(Deliver("create_payment", Payment(), "cmd-3", 3).ok());
  EXPECT_EQ(keys_, (std::vector<std::string>{"cmd-3", "cmd-3", "cmd-3"}));
  // A 4xx: a dead letter carrying YooKassa's answer.
  answer_next_ = net::OutboundResponse{
      .status = 400,
      .body = R"({"type":"error","code":"invalid_request","description":"bad amount"})"};
  DeliveryOutcome rejected = Deliver("create_payment", Payment(), "cmd-4");
  EXPECT_EQ(rejected.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(rejected.error.find("invalid_request"), std::string::npos) << rejected.error;
  // What is wrong in the command itself never reaches YooKassa.
  json no_url = Payment();
  no_url.erase("return_url");
  const size_t sent = keys_.size();
  EXPECT_EQ(Deliver("create_payment", no_url, "cmd-5").kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(Deliver("refund", {{"amount", "1.00"}}, "cmd-6").kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(keys_.size(), sent);
  EXPECT_EQ(Deliver("pay_twice", Payment(), "cmd-7").kind, DeliveryOutcome::Kind::kFail);
}

// The payment a command created comes back to the CRM with its
// confirmation URL: the command's learned record, which the shipped rules
// map; the pull's sweep remembers the payment to reconcile it later.
TEST_F(YooKassaCommandTest, TheConfirmationUrlComesBackAsThePaymentEntity) {
  const DeliveryOutcome made = Deliver("create_payment", Payment(), "cmd-8");
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made.learned.size(), 1u);
  const InboundEvent& e = made.learned[0];
  EXPECT_EQ(e.kind, "payment");
  EXPECT_TRUE(e.idempotency_key.ends_with(":pending")) << e.idempotency_key;
  payments_testing::MappedStore store("yookassa-payments.toml");
  ASSERT_TRUE(store.rules_ok());
  store.Apply("yk", e);
  EXPECT_TRUE(store.errors.empty()) << store.errors.front();
  const std::string id = e.ordering_key;
  auto stored = store.store().Find(model::EntityKind::kPayment, "yk", id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).entity.fields.value("status", ""), "pending");
  EXPECT_EQ((**stored).entity.fields.value("order_external_id", ""), "ORDER-7");
  EXPECT_NE((**stored).entity.fields["extra"].value("confirmation_url", "").find(id),
            std::string::npos);
  auto pulled = adapter_->Pull(std::nullopt);
  ASSERT_TRUE(pulled.ok());
  EXPECT_TRUE(pulled->events.empty());                                      // not due yet
  EXPECT_NE(pulled->next_cursor.value_or("").find(id), std::string::npos);  // reconciled later
}

}  // namespace
}  // namespace crmhub::adapters::yookassa
