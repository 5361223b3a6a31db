// model::CompareStatus: the precedence of payment and refund statuses, as a
// table of (kind, stored, incoming) -> order.

#include "mapping/model/status_precedence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string_view>
#include <vector>

namespace crmhub::model {
namespace {

struct Row {
  EntityKind kind;
  std::string_view stored;
  std::string_view incoming;
  StatusOrder want;
};

constexpr EntityKind P = EntityKind::kPayment;
constexpr EntityKind R = EntityKind::kRefund;
using O = StatusOrder;

const Row kRows[] = {
    // A payment moves forward...
    {P, "pending", "authorized", O::kNewer},
    {P, "pending", "succeeded", O::kNewer},
    {P, "authorized", "succeeded", O::kNewer},
    {P, "authorized", "canceled", O::kNewer},
    {P, "pending", "failed", O::kNewer},
    {P, "succeeded", "refunded", O::kNewer},
    // ...a late status never walks it back...
    {P, "succeeded", "pending", O::kOlder},
    {P, "succeeded", "authorized", O::kOlder},
    {P, "succeeded", "failed", O::kOlder},
    {P, "refunded", "succeeded", O::kOlder},
    {P, "canceled", "pending", O::kOlder},
    {P, "authorized", "pending", O::kOlder},
    // ...money that came after a cancellation is recorded...
    {P, "canceled", "succeeded", O::kNewer},
    {P, "failed", "succeeded", O::kNewer},
    // ...a cancellation of what succeeded is a contradiction...
    {P, "succeeded", "canceled", O::kConflict},
    {P, "refunded", "canceled", O::kConflict},
    // ...and equal ranks or unknown statuses leave it to the version.
    {P, "succeeded", "succeeded", O::kSame},
    {P, "canceled", "failed", O::kSame},
    {P, "pending", "paid", O::kSame},
    {P, "", "pending", O::kSame},
    // Refunds are their own entities with their own order.
    {R, "pending", "succeeded", O::kNewer},
    {R, "pending", "canceled", O::kNewer},
    {R, "succeeded", "pending", O::kOlder},
    {R, "canceled", "succeeded", O::kNewer},
    {R, "succeeded", "canceled", O::kConflict},
    {R, "succeeded", "failed", O::kConflict},
    {R, "succeeded", "refunded", O::kSame},  // not a refund status
    // Other kinds have no precedence.
    {EntityKind::kOrder, "delivered", "new", O::kSame},
    {EntityKind::kOrder, "succeeded", "canceled", O::kSame},
};

TEST(StatusPrecedenceTest, Table) {
  for (const Row& r : kRows) {
    EXPECT_EQ(CompareStatus(r.kind, r.stored, r.incoming), r.want)
        << KindName(r.kind) << " " << r.stored << " -> " << r.incoming << ": got "
        << StatusOrderName(CompareStatus(r.kind, r.stored, r.incoming)) << ", want "
        << StatusOrderName(r.want);
  }
}

TEST(StatusPrecedenceTest, RanksAreTheModelsStatuses) {
  EXPECT_TRUE(HasStatusPrecedence(EntityKind::kPayment));
  EXPECT_TRUE(HasStatusPrecedence(EntityKind::kRefund));
  EXPECT_FALSE(HasStatusPrecedence(EntityKind::kOrder));
  for (std::string_view s :
       {"pending", "authorized", "succeeded", "canceled", "failed", "refunded"}) {
    EXPECT_TRUE(StatusRank(EntityKind::kPayment, s).has_value()) << s;
  }
  for (std::string_view s : {"pending", "succeeded", "canceled", "failed"}) {
    EXPECT_TRUE(StatusRank(EntityKind::kRefund, s).has_value()) << s;
  }
  EXPECT_FALSE(StatusRank(EntityKind::kRefund, "refunded").has_value());
  EXPECT_FALSE(StatusRank(EntityKind::kCall, "pending").has_value());
}

// Any order of a set of statuses ends at the highest-ranked one: the
// comparison is a total preorder on the ranked statuses.
TEST(StatusPrecedenceTest, EveryOrderOfAPaymentsStatusesEndsAtTheHighest) {
  std::vector<std::string_view> statuses = {"pending", "authorized", "succeeded", "refunded"};
  std::sort(statuses.begin(), statuses.end());
  do {
    std::string_view held = statuses[0];
    for (size_t i = 1; i < statuses.size(); ++i) {
      if (CompareStatus(EntityKind::kPayment, held, statuses[i]) == StatusOrder::kNewer) {
        held = statuses[i];
      }
    }
    EXPECT_EQ(held, "refunded");
  } while (std::next_permutation(statuses.begin(), statuses.end()));
}

// An order's statuses are the business's own: the precedence is declared
// (1C's names here) and compared like the payments' table.
TEST(StatusPrecedenceTest, ADeclaredPrecedenceForOrders) {
  const DeclaredStatusPrecedence orders(
      {{"new"}, {"Принят", "В работе"}, {"Отгружен"}, {"Выполнен"}}, {{"Выполнен", "Отменен"}});
  EXPECT_EQ(orders.Rank("new"), 1);
  EXPECT_EQ(orders.Rank("В работе"), 2);
  EXPECT_FALSE(orders.Rank("Отменен").has_value());
  EXPECT_EQ(orders.Compare("Принят", "Отгружен"), StatusOrder::kNewer);
  EXPECT_EQ(orders.Compare("Отгружен", "new"), StatusOrder::kOlder);
  EXPECT_EQ(orders.Compare("Принят", "В работе"), StatusOrder::kSame);
  EXPECT_EQ(orders.Compare("Выполнен", "Отменен"), StatusOrder::kConflict);
  EXPECT_EQ(orders.Compare("Отгружен", "Отменен"), StatusOrder::kSame);  // undeclared
  // Stale: what must not replace the held status (older, or contradicting
  // it); a sender of orders drops it, as the store does on receipt.
  EXPECT_TRUE(orders.Stale("Отгружен", "new"));
  EXPECT_TRUE(orders.Stale("Выполнен", "Отменен"));
  EXPECT_FALSE(orders.Stale("Принят", "В работе"));
  EXPECT_FALSE(orders.Stale("Принят", "Отгружен"));
  EXPECT_FALSE(orders.Stale("Отгружен", "Отменен"));
  EXPECT_TRUE(DeclaredStatusPrecedence().empty());
  // From the config's entries.
  auto declared = DeclaredStatusPrecedence::FromEntries({"new", "Принят|В работе", "Отгружен"});
  ASSERT_TRUE(declared.ok()) << declared.status().ToString();
  EXPECT_EQ(declared->Rank("В работе"), 2);
  EXPECT_EQ(declared->Compare("Отгружен", "Принят"), StatusOrder::kOlder);
  EXPECT_FALSE(DeclaredStatusPrecedence::FromEntries({"new", "a||b"}).ok());
  EXPECT_FALSE(DeclaredStatusPrecedence::FromEntries({"new", "Принят|new"}).ok());
  // The payments' table is unchanged by it.
  EXPECT_EQ(CompareStatus(EntityKind::kPayment, "succeeded", "pending"), StatusOrder::kOlder);
}

}  // namespace
}  // namespace crmhub::model
