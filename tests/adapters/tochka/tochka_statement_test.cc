// Tochka statements against the simulator over loopback: asked for, fetched
// until Ready with a pause between looks, every transaction once keyed by
// paymentId and status, two real identical payments kept apart by the
// occurrence counter, the watermark moving to today, a restart going on
// with the statement in flight; and the spec's date format asserted on what
// the adapter sent (the simulator's request log).

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "adapters/tochka/tochka_adapter.h"
#include "adapters/tochka/tochka_sim.h"
#include "mapping/rules/rule_set.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::tochka {
namespace {

using nlohmann::json;

class TochkaStatementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    simkit::SimOptions so;
    so.orders = 40;
    so.start = clock_.Now() - std::chrono::hours(30);
    so.arrival = std::chrono::hours(29);
    sim_ = std::make_unique<TochkaSimulator>(so, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  std::unique_ptr<TochkaAdapter> Adapter(std::string token = "sim-tochka-token") {
    TochkaConfig c;
    c.id = "tochka";
    c.customer_code = "300123123";
    c.accounts = {sim_->account()};
    c.lookback_days = 3;
    auto client = std::make_unique<TochkaClient>(
        TochkaClientOptions{.base_url = sim_->base_url() + "/uapi", .token = Secret(token)},
        http_.transport(), clock_);
    return std::make_unique<TochkaAdapter>(c, std::nullopt, clock_, std::move(client));
  }
  ManualClock clock_{FromUnixMillis(1'765'000'000'000)};
  crmhub::testing::ClientThread http_;
  std::unique_ptr<TochkaSimulator> sim_;
};

TEST_F(TochkaStatementTest, InitPollUntilReadyThenEveryTransactionOnce) {
  auto adapter = Adapter();
  ASSERT_NE(adapter->source(), nullptr);
  EXPECT_EQ(adapter->webhook(), nullptr);  // no key configured

  auto asked = adapter->Pull(std::nullopt);
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  EXPECT_TRUE(asked->events.empty());
  ASSERT_TRUE(asked->next_cursor.has_value());
  ASSERT_TRUE(asked->not_before.has_value());
  // Not ready yet: no events, the cursor unchanged, a pause.
  auto early = adapter->Pull(asked->next_cursor);
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  EXPECT_TRUE(early->events.empty());
  EXPECT_FALSE(early->next_cursor.has_value());
  EXPECT_TRUE(early->not_before.has_value());

  clock_.Advance(std::chrono::seconds(2));
  auto ready = adapter->Pull(asked->next_cursor);
  ASSERT_TRUE(ready.ok()) << ready.status().ToString();
  ASSERT_EQ(ready->events.size(), 40u);  // the whole world is within the three days
  EXPECT_FALSE(ready->more);             // one account: the poll interval next
  std::set<std::string> keys, ids;
  for (const auto& e : ready->events) {
    keys.insert(e.idempotency_key);
    json r = json::parse(e.payload);
    ids.insert(r["_id"].get<std::string>());
    EXPECT_EQ(r["_direction"], "in");
    EXPECT_EQ(r["_status"], "booked");
  }
  EXPECT_EQ(keys.size(), 40u);
  EXPECT_EQ(ids.size(), 40u);  // the repeats are #2 of their identity, not merged
  EXPECT_TRUE(keys.count("tochka:tx:pay-1:Booked"));
  // Mapped with the shipped rules: 40 bank transactions, 40 external ids.
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/tochka-payments.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  std::set<std::string> external_ids;
  for (const auto& e : ready->events) {
    auto entities = rules->ApplyText(e.payload, {"tochka", nullptr, 0});
    ASSERT_TRUE(entities.ok()) << entities.status().ToString();
    ASSERT_EQ(entities->size(), 1u);
    EXPECT_EQ((*entities)[0].kind, model::EntityKind::kBankTransaction);
    EXPECT_EQ((*entities)[0].fields["status"], "booked");
    external_ids.insert((*entities)[0].external_id);
  }
  EXPECT_EQ(external_ids.size(), 40u);
  const json tenth = json::parse(ready->events[9].payload);
  EXPECT_EQ(tenth["_occurrence"], 2);
  EXPECT_EQ(tenth["_identity"], json::parse(ready->events[8].payload)["_identity"]);

  // The watermark is today now: the next statement starts today.
  json cursor = json::parse(*ready->next_cursor);
  const std::string today = cursor["accounts"][sim_->account()]["from"];
  const uint64_t position = sim_->log().Snapshot().empty() ? 0 : sim_->log().Snapshot().back().seq;
  auto next = adapter->Pull(ready->next_cursor);
  ASSERT_TRUE(next.ok());
  for (const auto& req : sim_->log().Snapshot()) {
    if (req.seq <= position || req.method != "POST") continue;
    json body = json::parse(req.body);
    EXPECT_EQ(body["Data"]["Statement"]["startDateTime"], today);
    EXPECT_EQ(body["Data"]["Statement"]["endDateTime"], today);
  }
  // A restart with the statement in flight asks for that statement, not a new one.
  auto restarted = Adapter();
  clock_.Advance(std::chrono::seconds(2));
  auto after = restarted->Pull(next->next_cursor);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  for (const auto& e : after->events) {
    EXPECT_TRUE(keys.count(e.idempotency_key)) << "today's transactions again, as duplicates";
  }
}

TEST_F(TochkaStatementTest, AWrongTokenIsAnError) {
  auto adapter = Adapter("wrong");
  auto page = adapter->Pull(std::nullopt);
  EXPECT_FALSE(page.ok());
}

}  // namespace
}  // namespace crmhub::adapters::tochka
