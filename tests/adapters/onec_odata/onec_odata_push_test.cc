// The onec-odata target against its simulator over loopback: an order and a
// contact created in 1C by POST, found again by our id (the 1C attribute)
// and changed by PATCH with If-Match; a create whose answer was lost (the
// simulator's timeout: processed, never answered) retried by the queue
// makes one document; a 412 (saved in 1C meanwhile) is re-read and retried
// once, and a second 412 is a dead letter naming both versions.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/onec_odata/onec_odata_adapter.h"
#include "adapters/onec_odata/onec_odata_sim.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

constexpr char kOrders[] = "Document_ЗаказКлиента";
constexpr char kCounterparties[] = "Catalog_Контрагенты";

class OnecODataPushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    simkit::SimOptions so;
    so.orders = 10;
    sim_ = std::make_unique<OnecODataSimulator>(so, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
    OnecODataConfig c;
    c.id = "onec";
    c.sets = DefaultEntitySets();
    net::Transport inner = http_.transport();
    // A POST while lose_next_create_ is set meets the simulator's timeout
    // fault: 1C creates the document, the answer never comes.
    net::Transport transport = [this, inner](std::string_view group, net::OutboundRequest r) {
      const bool lose = r.method == "POST" && lose_next_create_.exchange(false);
      if (lose) {
        simkit::FaultSpec f;
        f.timeout = 1.0;
        f.timeout_hold = std::chrono::seconds(1);
        sim_->SetFaults(f);
      }
      net::OutboundResult result = inner(group, std::move(r));
      if (lose) sim_->SetFaults({});
      return result;
    };
    auto client = std::make_unique<OnecODataClient>(
        OnecODataClientOptions{.base_url = sim_->base_url(),
                               .user = "crmhub",
                               .password = Secret("sim-onec-password"),
                               .timeout = std::chrono::milliseconds(400)},
        std::move(transport), clock_);
    adapter_ = std::make_unique<OnecODataAdapter>(std::move(c), std::move(client));
  }
  DeliveryOutcome Deliver(std::string name, const json& item, int attempt = 1) {
    Command c{.name = std::move(name), .payload = item.dump(), .key = "k", .attempt = attempt};
    auto out = adapter_->target()->Deliver(std::span<const Command>(&c, 1));
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? DeliveryOutcome::Fail("none") : out[0];
  }
  std::vector<simkit::LoggedRequest> Logged(const std::string& method) {
    std::vector<simkit::LoggedRequest> out;
    for (auto& r : sim_->log().Snapshot()) {
      if (r.method == method) out.push_back(std::move(r));
    }
    return out;
  }
  std::vector<json> Marked(const std::string& set, const std::string& id) {
    std::vector<json> out;
    for (json& row : sim_->Rows(set)) {
      if (row.value("Комментарий", "") == "crmhub:" + id) out.push_back(std::move(row));
    }
    return out;
  }
  json Order(const std::string& id, int quantity) {
    const std::string good = sim_->Rows("Catalog_Номенклатура")[1]["Ref_Key"];
    const std::string buyer = sim_->Rows(kCounterparties)[0]["Ref_Key"];
    return {{"external_id", id},
            {"counterparty_key", buyer},
            {"created_ms", 1'765'000'000'000},
            {"total", 12345 * quantity},
            {"lines", json::array({{{"product_key", good},
                                    {"quantity", quantity},
                                    {"price", 12345},
                                    {"total", 12345 * quantity}}})}};
  }
  ManualClock clock_{FromUnixMillis(1'765'000'000'000)};
  crmhub::testing::ClientThread http_{std::chrono::milliseconds(400)};
  std::unique_ptr<OnecODataSimulator> sim_;
  std::atomic<bool> lose_next_create_{false};
  std::unique_ptr<OnecODataAdapter> adapter_;
};

TEST_F(OnecODataPushTest, AnOrderIsCreatedOnceThenChangedWithIfMatch) {
  ASSERT_NE(adapter_->target(), nullptr);
  EXPECT_EQ(adapter_->target()->commands(),
            (std::vector<std::string>{"upsert_order", "upsert_contact"}));
  DeliveryOutcome created = Deliver("upsert_order", Order("crm-1", 2));
  ASSERT_TRUE(created.ok()) << created.error;
  auto rows = Marked(kOrders, "crm-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Товары"][0]["Количество"], 2);
  EXPECT_EQ(rows[0]["Товары"][0]["Цена"], 123.45);
  EXPECT_EQ(rows[0]["СуммаДокумента"], 246.9);
  EXPECT_EQ(rows[0]["Date"], "2025-12-06T08:46:40");  // Moscow, the server's zone
  const std::string version = rows[0]["DataVersion"];

  DeliveryOutcome changed = Deliver("upsert_order", Order("crm-1", 3));
  ASSERT_TRUE(changed.ok()) << changed.error;
  rows = Marked(kOrders, "crm-1");
  ASSERT_EQ(rows.size(), 1u);  // the same document
  EXPECT_EQ(rows[0]["Товары"][0]["Количество"], 3);
  EXPECT_NE(rows[0]["DataVersion"], version);
  // The PATCH carried the DataVersion it was made against.
  auto patches = Logged("PATCH");
  ASSERT_EQ(patches.size(), 1u);
  bool if_match = false;
  for (const auto& [name, value] : patches[0].headers) {
    if_match = if_match || (name == "If-Match" && value == version);
  }
  EXPECT_TRUE(if_match);
}

TEST_F(OnecODataPushTest, ARetryAfterATimeoutCreatingMakesOneDocument) {
  lose_next_create_ = true;
  DeliveryOutcome first = Deliver("upsert_order", Order("crm-2", 1), 1);
  EXPECT_EQ(first.kind, DeliveryOutcome::Kind::kRetry) << first.error;
  ASSERT_EQ(Marked(kOrders, "crm-2").size(), 1u) << "the simulator created it all the same";
  DeliveryOutcome second = Deliver("upsert_order", Order("crm-2", 1), 2);
  ASSERT_TRUE(second.ok()) << second.error;
  EXPECT_EQ(Marked(kOrders, "crm-2").size(), 1u);
  EXPECT_EQ(Logged("POST").size(), 1u);
}

TEST_F(OnecODataPushTest, A412IsReReadAndRetriedOnceThenADeadLetterWithBothVersions) {
  ASSERT_TRUE(Deliver("upsert_contact", {{"external_id", "c-1"},
                                         {"name", "Петров Пётр"},
                                         {"phone", "+79161234567"},
                                         {"email", "p@example.ru"}})
                  .ok());
  auto rows = Marked(kCounterparties, "c-1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["ЮрФизЛицо"], "ФизЛицо");
  EXPECT_EQ(rows[0]["КонтактнаяИнформация"].size(), 2u);

  sim_->ConcurrentEdits(1);  // saved in 1C once while we write
  DeliveryOutcome once = Deliver("upsert_contact", {{"external_id", "c-1"}, {"name", "Петров П."}});
  ASSERT_TRUE(once.ok()) << once.error;
  EXPECT_EQ(Marked(kCounterparties, "c-1")[0]["Description"], "Петров П.");

  sim_->ConcurrentEdits(2);  // and again after the re-read
  const std::string before = Marked(kCounterparties, "c-1")[0]["DataVersion"];
  DeliveryOutcome twice = Deliver("upsert_contact", {{"external_id", "c-1"}, {"name", "Никто"}});
  ASSERT_EQ(twice.kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(twice.error.find(before), std::string::npos) << twice.error;
  EXPECT_NE(twice.error.find("412"), std::string::npos) << twice.error;
  EXPECT_EQ(Marked(kCounterparties, "c-1")[0]["Description"], "Петров П.");
}

TEST_F(OnecODataPushTest, ACommandWithoutWhatItNeedsFailsAndSendsNothing) {
  EXPECT_EQ(Deliver("upsert_order", {{"external_id", "x"}}).kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(Deliver("upsert_contact", {{"name", "x"}}).kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(Deliver("ship", {{"external_id", "x"}}).kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(sim_->log().size(), 0u);
}

}  // namespace
}  // namespace crmhub::adapters::onec_odata
