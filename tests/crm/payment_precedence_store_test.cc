// The CRM store honours model/status_precedence.h: a payment's or refund's
// status decides before its version, a late status never walks it back,
// and `canceled` after `succeeded` fails the event (dead letter) with both
// sides named while the stored record stays.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "tests/crm/crm_test_util.h"

namespace crmhub::crm {
namespace {

using model::EntityKind;
using testing::Event;
using ::testing::HasSubstr;

model::Entity Payment(std::string id, int64_t version, std::string status) {
  model::Entity e;
  e.kind = EntityKind::kPayment;
  e.source = "yk";
  e.external_id = std::move(id);
  e.version = version;
  e.fields = {{"provider", "yookassa"},
              {"amount", 10000},
              {"currency", "RUB"},
              {"status", std::move(status)}};
  return e;
}

model::Entity Refund(std::string id, int64_t version, std::string status) {
  model::Entity e;
  e.kind = EntityKind::kRefund;
  e.source = "yk";
  e.external_id = std::move(id);
  e.version = version;
  e.fields = {{"provider", "yookassa"},
              {"payment_external_id", "P-1"},
              {"amount", 500},
              {"currency", "RUB"},
              {"status", std::move(status)}};
  return e;
}

class PaymentPrecedenceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SqliteStoreOptions options;
    options.path = dir_.path() / std::string(kCrmDbFileName);
    auto store = SqliteCrmStore::Open(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }

  EventApplyResult Apply(const model::Entity& e) {
    auto r = store_->ApplyDetailed({Event("yk", "k" + std::to_string(++n_), {e})});
    EXPECT_EQ(r.size(), 1u);
    return r.at(0);
  }

  std::string Status(EntityKind kind, const std::string& id) {
    auto e = store_->Find(kind, "yk", id);
    if (!e.ok() || !e->has_value()) return "<absent>";
    return (**e).entity.fields.at("status").get<std::string>();
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<SqliteCrmStore> store_;
  int n_ = 0;
};

TEST_F(PaymentPrecedenceStoreTest, LateStatusesWithHigherVersionsAreStale) {
  ASSERT_TRUE(Apply(Payment("P-1", 5, "succeeded")).outcome.ok());
  // A provider's late pending/failed with a newer timestamp as its version.
  for (const char* late : {"pending", "authorized", "failed"}) {
    auto r = Apply(Payment("P-1", 9, late));
    ASSERT_TRUE(r.outcome.ok()) << r.outcome.error;
    ASSERT_EQ(r.entities.size(), 1u);
    EXPECT_EQ(r.entities[0].result, UpsertResult::kStale) << late;
  }
  EXPECT_EQ(Status(EntityKind::kPayment, "P-1"), "succeeded");
  EXPECT_EQ(store_->JournalSize().value(), 1);
}

TEST_F(PaymentPrecedenceStoreTest, AHigherStatusWinsOverALowerVersion) {
  ASSERT_TRUE(Apply(Payment("P-1", 50, "pending")).outcome.ok());
  auto r = Apply(Payment("P-1", 3, "succeeded"));
  ASSERT_TRUE(r.outcome.ok());
  EXPECT_EQ(r.entities.at(0).result, UpsertResult::kUpdated);
  EXPECT_EQ(Status(EntityKind::kPayment, "P-1"), "succeeded");
  ASSERT_TRUE(Apply(Payment("P-1", 1, "refunded")).outcome.ok());
  EXPECT_EQ(Status(EntityKind::kPayment, "P-1"), "refunded");
}

TEST_F(PaymentPrecedenceStoreTest, EqualStatusesLeaveItToTheVersion) {
  ASSERT_TRUE(Apply(Payment("P-1", 5, "succeeded")).outcome.ok());
  model::Entity newer = Payment("P-1", 6, "succeeded");
  newer.fields["description"] = "with a confirmation";
  EXPECT_EQ(Apply(newer).entities.at(0).result, UpsertResult::kUpdated);
  model::Entity older = Payment("P-1", 4, "succeeded");
  older.fields["description"] = "older";
  EXPECT_EQ(Apply(older).entities.at(0).result, UpsertResult::kStale);
}

TEST_F(PaymentPrecedenceStoreTest, CanceledAfterSucceededIsADeadLetterNamingBothSides) {
  ASSERT_TRUE(Apply(Payment("P-1", 3, "succeeded")).outcome.ok());
  auto r = Apply(Payment("P-1", 7, "canceled"));
  ASSERT_FALSE(r.outcome.ok());
  EXPECT_EQ(r.outcome.kind, DeliveryOutcome::Kind::kFail);  // dead letter, not retried
  EXPECT_THAT(r.outcome.error, HasSubstr("status precedence conflict for payment yk/P-1"));
  EXPECT_THAT(r.outcome.error, HasSubstr("\"status\":\"succeeded\""));
  EXPECT_THAT(r.outcome.error, HasSubstr("\"status\":\"canceled\""));
  EXPECT_TRUE(r.entities.empty());
  EXPECT_EQ(Status(EntityKind::kPayment, "P-1"), "succeeded");
  EXPECT_EQ(store_->JournalSize().value(), 1);
  // The failed event is not recorded as applied: a fixed rule may replay it.
  EXPECT_EQ(store_->AppliedEventCount().value(), 1);
}

TEST_F(PaymentPrecedenceStoreTest, AConflictFailsOnlyItsEventInABatch) {
  ASSERT_TRUE(Apply(Payment("P-1", 3, "succeeded")).outcome.ok());
  auto r = store_->ApplyDetailed({Event("yk", "a", {Payment("P-2", 1, "pending")}),
                                  Event("yk", "b", {Payment("P-1", 4, "canceled")}),
                                  Event("yk", "c", {Payment("P-2", 2, "succeeded")})});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].outcome.ok());
  EXPECT_FALSE(r[1].outcome.ok());
  EXPECT_TRUE(r[2].outcome.ok());
  EXPECT_EQ(Status(EntityKind::kPayment, "P-2"), "succeeded");
  EXPECT_EQ(Status(EntityKind::kPayment, "P-1"), "succeeded");
}

TEST_F(PaymentPrecedenceStoreTest, RefundsHaveTheirOwnPrecedence) {
  ASSERT_TRUE(Apply(Refund("R-1", 1, "pending")).outcome.ok());
  ASSERT_TRUE(Apply(Refund("R-1", 1, "succeeded")).outcome.ok());
  EXPECT_EQ(Apply(Refund("R-1", 9, "pending")).entities.at(0).result, UpsertResult::kStale);
  EXPECT_FALSE(Apply(Refund("R-1", 9, "failed")).outcome.ok());
  EXPECT_EQ(Status(EntityKind::kRefund, "R-1"), "succeeded");
}

// Every arrival order of one payment's statuses (its versions as a provider
// might stamp them, unrelated to the order) ends at the same record.
TEST_F(PaymentPrecedenceStoreTest, EveryArrivalOrderEndsAtTheSameRecord) {
  std::vector<model::Entity> events = {Payment("X", 30, "pending"), Payment("X", 10, "authorized"),
                                       Payment("X", 20, "succeeded"), Payment("X", 40, "failed")};
  std::vector<int> order = {0, 1, 2, 3};
  int run = 0;
  do {
    std::string id = "X" + std::to_string(run++);
    for (int i : order) {
      model::Entity e = events[i];
      e.external_id = id;
      ASSERT_TRUE(Apply(e).outcome.ok());
    }
    auto stored = store_->Find(EntityKind::kPayment, "yk", id);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((**stored).entity.fields.at("status"), "succeeded");
    EXPECT_EQ((**stored).entity.version, 20);
  } while (std::next_permutation(order.begin(), order.end()));
}

}  // namespace
}  // namespace crmhub::crm
