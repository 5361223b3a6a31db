// click_to_call out: the adapter's Deliver through MangoClient against the
// Mango simulator over loopback: the signed form Mango expects, the
// command's key as command_id so a redelivered command is one callback,
// a wrong salt refused, an item without its fields a dead letter, and the
// callback limit of 4 a second kept on our side.

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "adapters/mango/mango_adapter.h"
#include "adapters/mango/mango_sim.h"
#include "net/http_client.h"
#include "net/upstream.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::mango {
namespace {

using crmhub::testing::ClientThread;

class MangoCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MangoSimOptions so;
    so.orders = 0;
    sim_ = std::make_unique<MangoSimulator>(so, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  std::unique_ptr<MangoAdapter> Adapter(std::string salt = "sim-vpbx-salt") {
    MangoConfig c;
    c.id = "mango-main";
    c.account_key = Secret("sim-vpbx-key");
    c.signing_key = Secret(std::move(salt));
    c.base_url = sim_->base_url() + "/vpbx";
    return std::make_unique<MangoAdapter>(
        c, nullptr,
        net::MakeUpstreamTransport("mango:test", &http_.client(), clock_, nullptr,
                                   {{"commands", {}}}),
        clock_);
  }
  static Command ClickToCall(std::string key, std::string item) {
    return {.name = "click_to_call", .payload = std::move(item), .key = std::move(key)};
  }
  SystemClock clock_;
  ClientThread http_;
  std::unique_ptr<MangoSimulator> sim_;
};

TEST_F(MangoCommandTest, ARedeliveredCommandIsOneCallback) {
  auto adapter = Adapter();
  ASSERT_NE(adapter->target(), nullptr);
  EXPECT_EQ(adapter->commands(), std::vector<std::string>{"click_to_call"});
  const std::vector<Command> batch = {
      ClickToCall("cmd-1", R"({"from_extension":"101","to_number":"79161234567"})"),
      ClickToCall(
          "cmd-2",
          R"({"from_extension":102,"to_number":"79160000000","line_number":"74950000000"})")};
  auto first = adapter->Deliver(batch);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].kind, DeliveryOutcome::Kind::kOk) << first[0].error;
  EXPECT_EQ(first[1].kind, DeliveryOutcome::Kind::kOk) << first[1].error;
  // The queue delivers cmd-1 again (the answer was lost): same command_id.
  auto again = adapter->Deliver(std::span<const Command>(batch.data(), 1));
  EXPECT_EQ(again[0].kind, DeliveryOutcome::Kind::kOk);
  EXPECT_EQ(sim_->Callbacks(), (std::vector<std::string>{"cmd-1", "cmd-2"}));
  EXPECT_EQ(sim_->log().Find("POST", "/vpbx/commands/callback").size(), 3u);
}

TEST_F(MangoCommandTest, AWrongSaltIsRefusedByMango) {
  auto out = Adapter("not-the-salt")
                 ->Deliver(std::vector<Command>{ClickToCall(
                     "cmd-1", R"({"from_extension":"101","to_number":"79161234567"})")});
  EXPECT_NE(out[0].kind, DeliveryOutcome::Kind::kOk);
  EXPECT_NE(out[0].error.find("401"), std::string::npos) << out[0].error;
  EXPECT_TRUE(sim_->Callbacks().empty());
}

TEST_F(MangoCommandTest, AnItemWithoutItsFieldsIsADeadLetter) {
  auto out = Adapter()->Deliver(
      std::vector<Command>{ClickToCall("a", R"({"to_number":"79161234567"})"),
                           ClickToCall("b", R"({"from_extension":"101","to_number":null})"),
                           ClickToCall("c", R"([1,2])"),
                           {.name = "set_stock", .payload = "{}", .key = "d"}});
  for (const DeliveryOutcome& o : out) EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kFail) << o.error;
  EXPECT_TRUE(sim_->log().Find("POST", "/vpbx/commands/callback").empty());
}

// Five at once: the fifth waits for our own limiter (4 a second), not for
// Mango's 429.
TEST_F(MangoCommandTest, TheCallbackLimitIsKeptOnOurSide) {
  auto adapter = Adapter();
  std::vector<Command> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(ClickToCall("cmd-" + std::to_string(i),
                                R"({"from_extension":"101","to_number":"79161234567"})"));
  }
  auto out = adapter->Deliver(batch);
  int ok = 0;
  for (const DeliveryOutcome& o : out) ok += o.kind == DeliveryOutcome::Kind::kOk;
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(out[4].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(sim_->log().Find("POST", "/vpbx/commands/callback").size(), 4u);
}

}  // namespace
}  // namespace crmhub::adapters::mango
