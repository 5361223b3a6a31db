// T-Bank create_payment out (Init with the Token) against the simulator over
// loopback: one payment per order however often the command is delivered, a
// refusal a dead letter with T-Bank's code.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/tbank/tbank_adapter.h"
#include "adapters/tbank/tbank_sim.h"
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
  static DeliveryOutcome Deliver(TbankAdapter& a, const json& item, int attempt = 1) {
    Command c{.name = "create_payment", .payload = item.dump(), .key = "k", .attempt = attempt};
    return a.Deliver(std::span<const Command>(&c, 1)).at(0);
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
