// T-Bank commands out against the simulator over loopback: create_payment
// (Init with the Token), one payment per order however often the command is
// delivered, its PaymentURL back in the payment entity through the shipped
// rules; refund (Cancel with the Token), whole or in part, once however
// often it is redelivered, the refunded status back the same way; a refusal
// a dead letter with T-Bank's code.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/tbank/tbank_adapter.h"
#include "adapters/tbank/tbank_sim.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::tbank {
namespace {

using nlohmann::json;

class TbankCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TbankSimOptions o;
    o.orders = 1;
    sim_ = std::make_unique<TbankSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override { sim_->Stop(); }
  std::unique_ptr<TbankAdapter> Adapter(const std::string& password) {
    TbankConfig c;
    c.id = "tb";
    c.account = "SimTerminal";
    c.secrets = {Secret(password)};
    c.base_url = sim_->base_url() + "/v2";
    return std::make_unique<TbankAdapter>(c, nullptr, http_.transport(), clock_);
  }
  static DeliveryOutcome Deliver(TbankAdapter& a, const json& item, int attempt = 1,
                                 const std::string& name = "create_payment") {
    Command c{.name = name, .payload = item.dump(), .key = "k", .attempt = attempt};
    return a.Deliver(std::span<const Command>(&c, 1)).at(0);
  }
  static DeliveryOutcome Refund(TbankAdapter& a, const json& item, int attempt = 1) {
    return Deliver(a, item, attempt, "refund");
  }
  // The simulator's first paid payment, and the clock past its end.
  const simkit::SimPayment& PaidPayment() {
    for (const simkit::SimPayment& p : sim_->payments()) {
      if (p.paid) {
        clock_.Advance(std::chrono::hours(24));
        return p;
      }
    }
    ADD_FAILURE() << "the world has no paid payment";
    return sim_->payments().front();
  }
  static std::string Id(const simkit::SimPayment& p) {
    return std::to_string(3000000000LL + p.index);
  }
  // Maps what the commands learned (their outcomes' records, in order) into
  // a fresh crm.db; the store.
  static std::unique_ptr<payments_testing::MappedStore> MapLearned(
      const std::vector<DeliveryOutcome>& outcomes, size_t expected) {
    auto store = std::make_unique<payments_testing::MappedStore>("tbank-payments.toml");
    EXPECT_TRUE(store->rules_ok());
    size_t learned = 0;
    for (const DeliveryOutcome& o : outcomes) {
      for (const InboundEvent& e : o.learned) store->Apply("tb", e);
      learned += o.learned.size();
    }
    EXPECT_EQ(learned, expected);
    EXPECT_TRUE(store->errors.empty()) << store->errors.front();
    return store;
  }
  ManualClock clock_;
  crmhub::testing::ClientThread http_;
  std::unique_ptr<TbankSimulator> sim_;
};

TEST_F(TbankCommandTest, InitOncePerOrderSignedWithTheToken) {
  auto a = Adapter("sim-password");
  const json item = {{"order_id", "ORDER-1"}, {"amount", "192.00"}, {"description", "Gift card"}};
  EXPECT_TRUE(Deliver(*a, item).ok());
  EXPECT_TRUE(Deliver(*a, item, 2).ok());
  EXPECT_EQ(sim_->Inits(), 1u);
  EXPECT_TRUE(Deliver(*a, {{"order_id", "ORDER-2"}, {"amount", "1"}}).ok());
  EXPECT_EQ(sim_->Inits(), 2u);
}

// The payment link comes back as an update of the payment entity: Init's
// answer, the command's learned record, mapped by the shipped rules.
TEST_F(TbankCommandTest, ThePaymentUrlComesBackInThePaymentEntity) {
  auto a = Adapter("sim-password");
  const std::vector<DeliveryOutcome> made = {
      Deliver(*a, {{"order_id", "ORDER-7"}, {"amount", "1500.00"}}),
      Deliver(*a, {{"order_id", "ORDER-7"}, {"amount", "1500.00"}}, 2)};
  for (const DeliveryOutcome& o : made) ASSERT_TRUE(o.ok()) << o.error;
  auto store = MapLearned(made, 2);  // both deliveries' answers: one payment
  const std::string id = "4000000000";
  auto stored = store->store().Find(model::EntityKind::kPayment, "tb", id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).entity.fields.value("status", ""), "pending");
  EXPECT_EQ((**stored).entity.fields.value("order_external_id", ""), "ORDER-7");
  EXPECT_EQ((**stored).entity.fields["extra"].value("payment_url", ""),
            "https://securepay.tinkoff.ru/sim/" + id);
}

TEST_F(TbankCommandTest, ARefundCancelsOnceAndTheRefundedStatusComesBack) {
  auto a = Adapter("sim-password");
  const simkit::SimPayment& p = PaidPayment();
  const json item = {{"payment_id", Id(p)}};
  std::vector<DeliveryOutcome> done = {Refund(*a, item)};
  ASSERT_TRUE(done.back().ok());
  EXPECT_EQ(sim_->Cancels(), 1u);
  // Redelivered (the answer was lost): read first, not refunded twice.
  done.push_back(Refund(*a, item, 2));
  EXPECT_TRUE(done.back().ok());
  EXPECT_EQ(sim_->Cancels(), 1u);
  auto store = MapLearned(done, 2);
  EXPECT_EQ(store->Status(model::EntityKind::kPayment, "tb", Id(p)), "refunded");
}

TEST_F(TbankCommandTest, APartialRefundIsNeverSentTwice) {
  auto a = Adapter("sim-password");
  const simkit::SimPayment& p = PaidPayment();
  const json part = {{"payment_id", Id(p)}, {"amount", "1.00"}};
  const DeliveryOutcome first = Refund(*a, part);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(sim_->Cancels(), 1u);
  // A redelivery cannot tell its own refund from another: a dead letter.
  DeliveryOutcome again = Refund(*a, part, 2);
  EXPECT_EQ(again.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(again.error.find("PARTIAL_REFUNDED"), std::string::npos) << again.error;
  EXPECT_TRUE(again.learned.empty());
  EXPECT_EQ(sim_->Cancels(), 1u);
  auto store = MapLearned({first, again}, 1);
  // A part refunded leaves the payment succeeded (the shipped rules).
  EXPECT_EQ(store->Status(model::EntityKind::kPayment, "tb", Id(p)), "succeeded");
  // The rest, as a whole refund: the payment ends refunded.
  const DeliveryOutcome rest = Refund(*a, {{"payment_id", Id(p)}});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(sim_->Cancels(), 2u);
  ASSERT_EQ(rest.learned.size(), 1u);
  store->Apply("tb", rest.learned[0]);
  EXPECT_EQ(store->Status(model::EntityKind::kPayment, "tb", Id(p)), "refunded");
}

TEST_F(TbankCommandTest, RefundRefusalsAreDeadLettersBadItemsNeverLeave) {
  auto a = Adapter("sim-password");
  // Not yet paid (the clock has not moved): T-Bank refuses.
  DeliveryOutcome early = Refund(*a, {{"payment_id", Id(sim_->payments().front())}});
  EXPECT_EQ(early.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(early.error.find("ErrorCode 9999"), std::string::npos) << early.error;
  DeliveryOutcome unknown = Refund(*a, {{"payment_id", "1"}});
  EXPECT_EQ(unknown.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(unknown.error.find("ErrorCode 7"), std::string::npos) << unknown.error;
  const simkit::SimPayment& p = PaidPayment();
  DeliveryOutcome unsigned_refund = Refund(*Adapter("wrong-password"), {{"payment_id", Id(p)}});
  EXPECT_NE(unsigned_refund.error.find("ErrorCode 204"), std::string::npos);
  for (const json& bad : {json::object(), json{{"payment_id", json::array()}},
                          json{{"payment_id", Id(p)}, {"amount", "0"}},
                          json{{"payment_id", Id(p)}, {"amount", "abc"}},
                          json{{"payment_id", Id(p)}, {"amount", nullptr}}}) {
    const DeliveryOutcome refused = Refund(*a, bad);
    EXPECT_EQ(refused.kind, DeliveryOutcome::Kind::kFail) << bad.dump();
    EXPECT_TRUE(refused.learned.empty()) << bad.dump();
  }
  EXPECT_EQ(sim_->Cancels(), 0u);
}

TEST_F(TbankCommandTest, ARefusalIsADeadLetterBadItemsNeverLeave) {
  auto wrong = Adapter("wrong-password");
  DeliveryOutcome refused = Deliver(*wrong, {{"order_id", "ORDER-1"}, {"amount", "10.00"}});
  EXPECT_EQ(refused.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(refused.error.find("ErrorCode 204"), std::string::npos) << refused.error;
  EXPECT_EQ(sim_->Inits(), 0u);
  auto a = Adapter("sim-password");
  for (const json& bad :
       {json{{"amount", "10.00"}}, json{{"order_id", "o"}, {"amount", "0"}},
        json{{"order_id", "o"}, {"amount", "1.005"}}, json{{"order_id", "o"}, {"amount", "-1"}},
        json{{"order_id", "o"}, {"amount", json::array()}}}) {
    EXPECT_EQ(Deliver(*a, bad).kind, DeliveryOutcome::Kind::kFail) << bad.dump();
  }
  EXPECT_EQ(sim_->Inits(), 0u);
}

}  // namespace
}  // namespace crmhub::adapters::tbank
