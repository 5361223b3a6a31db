// Orders' statuses by a declared precedence ([crm] order_status_precedence,
// model::DeclaredStatusPrecedence): two sides changing one order (1C and the
// CRM core, through one store) resolve by the declared rank first, then by
// the version (the time of the change); an undeclared precedence leaves the
// version alone to decide, as before.

#include <gtest/gtest.h>

#include <string>

#include "base/json_get.h"
#include "crm/sink_factory.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "tests/crm/crm_test_util.h"

namespace crmhub::crm {
namespace {

using model::EntityKind;
using testing::Event;

model::Entity Order(std::string source, int64_t version, std::string status) {
  model::Entity e;
  e.kind = EntityKind::kOrder;
  e.source = std::move(source);
  e.external_id = "36";
  e.version = version;
  e.fields = {{"status", std::move(status)},
              {"total", 673447},
              {"currency", "RUB"},
              {"lines", nlohmann::json::array({{{"sku", "a"}, {"quantity", 1}}})}};
  return e;
}

class OrderPrecedenceStoreTest : public ::testing::Test {
 protected:
  void Open(std::vector<std::string> entries) {
    store_.reset();
    SqliteStoreOptions options;
    options.path = dir_.path() / std::string(kCrmDbFileName);
    auto precedence = model::DeclaredStatusPrecedence::FromEntries(entries);
    ASSERT_TRUE(precedence.ok());
    options.order_status_precedence = *precedence;
    auto store = SqliteCrmStore::Open(options, clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  UpsertResult Apply(const model::Entity& e) {
    auto r = store_->ApplyDetailed({Event(e.source, "k" + std::to_string(++n_), {e})});
    EXPECT_EQ(r.size(), 1u);
    EXPECT_TRUE(r.at(0).outcome.ok()) << r.at(0).outcome.error;
    return r.at(0).entities.empty() ? UpsertResult::kUnchanged : r.at(0).entities[0].result;
  }
  std::string Status(const std::string& source) {
    auto e = store_->Find(EntityKind::kOrder, source, "36");
    if (!e.ok() || !e->has_value()) return "<absent>";
    return std::string(JsonString((**e).entity.fields, "status").value_or(""));
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<SqliteCrmStore> store_;
  int n_ = 0;
};

TEST_F(OrderPrecedenceStoreTest, TheDeclaredRankFirstThenTheTime) {
  Open({"new", "Принят|В работе", "Отгружен", "Выполнен"});
  EXPECT_EQ(Apply(Order("onec", 1000, "new")), UpsertResult::kCreated);
  EXPECT_EQ(Apply(Order("onec", 3000, "Отгружен")), UpsertResult::kUpdated);
  // A later version of an earlier status (an out-of-order or echoed copy):
  // stale, the order stays shipped.
  EXPECT_EQ(Apply(Order("onec", 9000, "Принят")), UpsertResult::kStale);
  EXPECT_EQ(Status("onec"), "Отгружен");
  // A higher rank wins even with an older version.
  EXPECT_EQ(Apply(Order("onec", 2000, "Выполнен")), UpsertResult::kUpdated);
  EXPECT_EQ(Status("onec"), "Выполнен");
  // Equal ranks and undeclared statuses: the time of the change decides.
  EXPECT_EQ(Apply(Order("crm", 1000, "Принят")), UpsertResult::kCreated);
  EXPECT_EQ(Apply(Order("crm", 500, "В работе")), UpsertResult::kStale);
  EXPECT_EQ(Apply(Order("crm", 1500, "В работе")), UpsertResult::kUpdated);
  EXPECT_EQ(Apply(Order("crm", 1200, "На согласовании")), UpsertResult::kStale);
  EXPECT_EQ(Apply(Order("crm", 1800, "На согласовании")), UpsertResult::kUpdated);
  EXPECT_EQ(Status("crm"), "На согласовании");
}

TEST_F(OrderPrecedenceStoreTest, WithoutADeclarationTheVersionAloneDecides) {
  Open({});
  EXPECT_EQ(Apply(Order("onec", 3000, "Отгружен")), UpsertResult::kCreated);
  EXPECT_EQ(Apply(Order("onec", 9000, "new")), UpsertResult::kUpdated);
  EXPECT_EQ(Status("onec"), "new");
}

TEST(OrderPrecedenceSinkTest, ABadDeclarationIsRefusedByName) {
  testing::TempDir dir;
  ManualClock clock;
  SinkOptions options;
  options.data_dir = dir.path();
  options.order_status_precedence = {"new", "Принят|new"};
  auto sink = MakeSink(options, clock, nullptr);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("order_status_precedence"), std::string::npos)
      << sink.status().message();
  options.order_status_precedence = {"new", "Принят|В работе"};
  EXPECT_TRUE(MakeSink(options, clock, nullptr).ok());
}

}  // namespace
}  // namespace crmhub::crm
