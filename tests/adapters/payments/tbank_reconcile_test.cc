// T-Bank's reconciliation sweep against the simulator over loopback:
// payments a notification left not final are re-read with GetState once
// pending for reconcile_after, queued when final (mapped by the shipped
// rules to the simulator's final statuses), remembered across a restart
// through the cursor; a PaymentId GetState refuses is forgotten.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/tbank/tbank_adapter.h"
#include "adapters/tbank/tbank_sim.h"
#include "tests/adapters/payments/payment_test_support.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::tbank {
namespace {

using nlohmann::json;
using payments_testing::MappedStore;

class TbankReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TbankSimOptions o;
    o.orders = 4;
    sim_ = std::make_unique<TbankSimulator>(o, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  void TearDown() override { sim_->Stop(); }
  std::unique_ptr<TbankAdapter> Adapter() {
    TbankConfig c;
    c.id = "tb";
    c.account = "SimTerminal";
    c.secrets = {Secret("sim-password")};
    c.base_url = sim_->base_url() + "/v2";
    c.reconcile_after = std::chrono::hours(1);
    c.reconcile_every = std::chrono::minutes(5);
    return std::make_unique<TbankAdapter>(c, nullptr, http_.transport(), clock_);
  }
  // A signed NEW notification of `payment`, as T-Bank sends before the end.
  static net::HttpRequest New(const std::string& payment) {
    json body = {{"TerminalKey", "SimTerminal"},
                 {"OrderId", "o-" + payment},
                 {"Success", true},
                 {"Status", "NEW"},
                 {"PaymentId", payment},
                 {"ErrorCode", "0"},
                 {"Amount", 1000}};
    body["Token"] = TbankToken(body, "sim-password");
    return payments_testing::Request("/hooks/tb", body.dump(), "10.1.2.3", "application/json");
  }
  ManualClock clock_;
  crmhub::testing::ClientThread http_;
  std::unique_ptr<TbankSimulator> sim_;
};

TEST_F(TbankReconcileTest, PendingPaymentsAreReReadWithGetStateAndQueuedWhenFinal) {
  const std::map<std::string, std::string> expected = sim_->OrderStatuses(true);
  ASSERT_EQ(expected.size(), 4u);
  auto adapter = Adapter();
  for (const auto& [payment, status] : expected) {
    auto r = adapter->HandleWebhook(New(payment));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  // Not yet pending for reconcile_after: nothing re-read, all remembered.
  auto first = adapter->Pull(std::nullopt);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->events.empty());
  ASSERT_TRUE(first->next_cursor);
  EXPECT_EQ(json::parse(*first->next_cursor).size(), 4u);

  // A restart: the cursor carries what is pending; a day later all ended.
  clock_.Advance(std::chrono::hours(24));
  auto restarted = Adapter();
  auto swept = restarted->Pull(first->next_cursor);
  ASSERT_TRUE(swept.ok());
  ASSERT_EQ(swept->events.size(), 4u);
  MappedStore store("tbank-payments.toml");
  ASSERT_TRUE(store.rules_ok());
  for (const InboundEvent& e : swept->events) {
    EXPECT_EQ(e.kind, "payment");
    EXPECT_EQ(e.ordering_key + ":" + json::parse(e.payload).value("Status", ""), e.idempotency_key);
    store.Apply("tb", e);
  }
  EXPECT_TRUE(store.errors.empty()) << store.errors.front();
  for (const auto& [payment, status] : expected) {
    EXPECT_EQ(store.Status(model::EntityKind::kPayment, "tb", payment), status) << payment;
  }
  // Final: forgotten.
  EXPECT_EQ(swept->next_cursor, std::optional<std::string>("{}"));
}

TEST_F(TbankReconcileTest, ReReadsOnlyEveryReconcileEveryAndForgetsWhatGetStateRefuses) {
  auto adapter = Adapter();
  ASSERT_TRUE(adapter->HandleWebhook(New("999")).ok());  // unknown to the simulator
  const std::string known = sim_->OrderStatuses(true).begin()->first;
  ASSERT_TRUE(adapter->HandleWebhook(New(known)).ok());
  EXPECT_TRUE(adapter->Pull(std::nullopt)->events.empty());  // the first look: none due
  clock_.Advance(std::chrono::hours(2));
  // Within reconcile_every of the last look? No: 2 h since; this one reads.
  auto swept = adapter->Pull(std::nullopt);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->events.size(), 1u);
  EXPECT_EQ(swept->next_cursor, std::optional<std::string>("{}"));  // 999 forgotten too
  // Long pending (restored from a cursor) but 1 min after the last look:
  // the next look waits for reconcile_every.
  const std::string old_entry = json{{known, {"payment", known, 0}}}.dump();
  clock_.Advance(std::chrono::minutes(1));
  auto early = adapter->Pull(old_entry);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->events.empty());
  EXPECT_EQ(json::parse(*early->next_cursor).size(), 1u);
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(adapter->Pull(early->next_cursor)->events.size(), 1u);
}

TEST_F(TbankReconcileTest, LookUpPaymentIsGetStatesRecordWithoutRemembering) {
  auto adapter = Adapter();
  clock_.Advance(std::chrono::hours(24));
  const std::string known = sim_->OrderStatuses(true).begin()->first;
  Result<InboundEvent> record = adapter->LookUpPayment(known);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const json payload = json::parse(record->payload);
  EXPECT_EQ(payload.value("PaymentId", ""), known);
  EXPECT_TRUE(TbankFinalStatus(payload.value("Status", "")));
  EXPECT_EQ(adapter->LookUpPayment("999").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(adapter->Pull(std::nullopt)->next_cursor, std::optional<std::string>("{}"));
}

}  // namespace
}  // namespace crmhub::adapters::tbank
