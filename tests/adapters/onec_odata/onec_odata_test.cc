// The onec-odata adapter against its simulator over loopback: a sweep of
// every set by keyset pages (never $skip), each record once; a restart from
// the cursor re-reads nothing it had and misses nothing; a record changed
// in 1C (a new DataVersion) is the only new key of the next sweep; a wrong
// password is an auth error. The simulator's own reading of the contracts:
// $filter, paging, DataVersion, 412 on a stale If-Match. The shipped rules
// (config/mappings/onec-odata-trade.toml) on the contracts' captured
// Catalog_Номенклатура element (golden) and on every simulated set.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapters/onec_odata/onec_odata_adapter.h"
#include "adapters/onec_odata/onec_odata_sim.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

constexpr int kOrders = 95;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "missing " << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class OnecODataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    simkit::SimOptions so;
    so.orders = kOrders;
    sim_ = std::make_unique<OnecODataSimulator>(so, clock_);
    ASSERT_TRUE(sim_->Start("127.0.0.1:0").ok());
  }
  std::unique_ptr<OnecODataAdapter> Adapter(std::string password = "sim-onec-password",
                                            int page_size = 10) {
    OnecODataConfig c;
    c.id = "onec";
    c.sets = DefaultEntitySets();
    c.page_size = page_size;
    auto client = std::make_unique<OnecODataClient>(
        OnecODataClientOptions{.base_url = sim_->base_url(),
                               .user = "crmhub",
                               .password = Secret(std::move(password))},
        http_.transport(), clock_);
    return std::make_unique<OnecODataAdapter>(std::move(c), std::move(client));
  }
  // Pulls until a sweep over every set ends (`more` false); returns the
  // events and the last cursor.
  std::vector<InboundEvent> Sweep(OnecODataAdapter& adapter, std::optional<std::string>* cursor) {
    std::vector<InboundEvent> out;
    for (int i = 0; i < 1000; ++i) {
      auto page = adapter.Pull(*cursor);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      for (auto& e : page->events) out.push_back(std::move(e));
      if (page->next_cursor) *cursor = page->next_cursor;
      if (!page->more) break;
    }
    return out;
  }
  size_t WorldSize() const {
    size_t n = 0;
    for (const EntitySetSpec& s : DefaultEntitySets()) n += sim_->Rows(s.set).size();
    return n;
  }
  ManualClock clock_{FromUnixMillis(1'765'000'000'000)};
  crmhub::testing::ClientThread http_;
  std::unique_ptr<OnecODataSimulator> sim_;
};

TEST_F(OnecODataTest, OneSweepReadsEverySetByKeysetPagesEachRecordOnce) {
  auto adapter = Adapter();
  std::optional<std::string> cursor;
  std::vector<InboundEvent> events = Sweep(*adapter, &cursor);
  ASSERT_EQ(events.size(), WorldSize());
  std::set<std::string> keys;
  std::map<std::string, int> per_kind;
  for (const auto& e : events) {
    keys.insert(e.idempotency_key);
    ++per_kind[e.kind];
  }
  EXPECT_EQ(keys.size(), events.size());
  EXPECT_EQ(per_kind["orders"], kOrders);
  EXPECT_EQ(per_kind["payments"], (kOrders + 1) / 2);
  EXPECT_EQ(per_kind["counterparties"], kOrders / 10 + 1);
  EXPECT_EQ(per_kind["products"], 20);
  EXPECT_EQ(per_kind["prices"], 20);
  EXPECT_EQ(per_kind["stock"], 40);
  // Every request: $format=json, $orderby, $top; never $skip; pages after
  // the first of a set carry the keyset filter.
  int filtered = 0;
  for (const simkit::LoggedRequest& r : sim_->log().Snapshot()) {
    EXPECT_EQ(r.status, 200) << r.path << "?" << r.query;
    EXPECT_NE(r.query.find("$format=json"), std::string::npos) << r.query;
    EXPECT_NE(r.query.find("$orderby="), std::string::npos) << r.query;
    EXPECT_NE(r.query.find("$top=10"), std::string::npos) << r.query;
    EXPECT_EQ(r.query.find("$skip"), std::string::npos) << r.query;
    if (r.query.find("$filter=") != std::string::npos) ++filtered;
  }
  // 95 orders in pages of 10: 9 filtered pages after the first, and so on.
  EXPECT_GE(filtered, 9 + 4 + 1 + 1 + 1 + 3);
  // The order's key and payload.
  const InboundEvent* order = nullptr;
  for (const auto& e : events) {
    if (e.kind == "orders" && order == nullptr) order = &e;
  }
  ASSERT_NE(order, nullptr);
  json r = json::parse(order->payload);
  EXPECT_EQ(r["_set"], "orders");
  EXPECT_EQ(order->idempotency_key, "onec-odata:orders:" + r["Ref_Key"].get<std::string>() + ":" +
                                        r["DataVersion"].get<std::string>());
  EXPECT_EQ(r["_date"], r["Date"].get<std::string>() + "+03:00");
}

TEST_F(OnecODataTest, ARestartFromTheCursorMissesAndRepeatsNothing) {
  std::set<std::string> keys;
  size_t events = 0;
  std::optional<std::string> cursor;
  // A new adapter (a restarted daemon) for every page, from the saved cursor.
  for (int i = 0; i < 1000; ++i) {
    auto adapter = Adapter();
    auto page = adapter->Pull(cursor);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->events) keys.insert(e.idempotency_key);
    events += page->events.size();
    ASSERT_TRUE(page->next_cursor.has_value());
    cursor = page->next_cursor;
    if (!page->more) break;
  }
  EXPECT_EQ(events, WorldSize());
  EXPECT_EQ(keys.size(), WorldSize());
  // The sweep is over: the cursor starts the sets again.
  json state = json::parse(*cursor);
  EXPECT_EQ(state["next"], 0);
  EXPECT_TRUE(state["after"].empty()) << state.dump();
}

TEST_F(OnecODataTest, AChangedRecordIsTheOnlyNewKeyOfTheNextSweep) {
  auto adapter = Adapter();
  std::optional<std::string> cursor;
  std::set<std::string> first;
  for (const auto& e : Sweep(*adapter, &cursor)) first.insert(e.idempotency_key);
  const std::string order(sim_->Rows("Document_ЗаказКлиента")[7]["Ref_Key"]);
  ASSERT_TRUE(sim_->Touch("Document_ЗаказКлиента", order, "Статус", "Закрыт"));
  std::vector<std::string> fresh;
  for (const auto& e : Sweep(*adapter, &cursor)) {
    if (!first.count(e.idempotency_key)) fresh.push_back(e.payload);
  }
  ASSERT_EQ(fresh.size(), 1u);
  json r = json::parse(fresh[0]);
  EXPECT_EQ(r["Ref_Key"], order);
  EXPECT_EQ(r["Статус"], "Закрыт");
}

TEST_F(OnecODataTest, AWrongPasswordIsAnAuthErrorAndMovesNothing) {
  auto adapter = Adapter("wrong");
  auto page = adapter->Pull(std::nullopt);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kUnauthenticated) << page.status().ToString();
}

TEST(OnecODataKeysetTest, FilterContinuesAfterTheLastKey) {
  EXPECT_EQ(KeysetFilter({"Ref_Key"}, {}), "");
  EXPECT_EQ(KeysetFilter({"Ref_Key"}, {"a-1"}), "Ref_Key gt guid'a-1'");
  EXPECT_EQ(
      KeysetFilter({"Period", "Номенклатура_Key", "Вид"}, {"2026-01-01T00:00:00", "g", "it's"}),
      "Period gt datetime'2026-01-01T00:00:00' or (Period eq datetime'2026-01-01T00:00:00' "
      "and Номенклатура_Key gt guid'g') or (Period eq datetime'2026-01-01T00:00:00' and "
      "Номенклатура_Key eq guid'g' and Вид gt 'it''s')");
}

TEST(OnecODataKeysetTest, QueuedRecordAddsTheSetZonedDatesAndContacts) {
  json r = QueuedRecord(
      {{"Date", "2016-12-26T16:00:52"},
       {"Period", "0001-01-01T00:00:00"},
       {"КонтактнаяИнформация",
        json::array({{{"Тип", "Адрес"}, {"Представление", "Москва"}},
                     {{"Тип", "Телефон"}, {"Представление", "+7 916 1"}},
                     {{"Тип", "Телефон"}, {"Представление", "+7 916 2"}},
                     {{"Тип", "АдресЭлектроннойПочты"}, {"Представление", "a@b.ru"}}})}},
      "orders", -330);
  EXPECT_EQ(r["_set"], "orders");
  EXPECT_EQ(r["_date"], "2016-12-26T16:00:52-05:30");
  EXPECT_FALSE(r.contains("_period"));  // 1C's empty date
  EXPECT_EQ(r["_phone"], "+7 916 1");
  EXPECT_EQ(r["_email"], "a@b.ru");
}

// The simulator, as the contracts describe 1C.
TEST_F(OnecODataTest, SimulatorFiltersPagesAndRefusesAStaleIfMatch) {
  OnecODataClient client(
      {.base_url = sim_->base_url(), .user = "crmhub", .password = Secret("sim-onec-password")},
      http_.transport(), clock_);
  auto all = client.List({.set = "Catalog_Номенклатура", .orderby = "Ref_Key"});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 20u);
  for (size_t i = 1; i < all->size(); ++i) {
    EXPECT_LT((*all)[i - 1]["Ref_Key"].get<std::string>(), (*all)[i]["Ref_Key"].get<std::string>());
  }
  const std::string third = (*all)[2]["Ref_Key"];
  auto after = client.List({.set = "Catalog_Номенклатура",
                            .filter = "Ref_Key gt guid'" + third + "'",
                            .orderby = "Ref_Key",
                            .top = 5});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 5u);
  EXPECT_EQ((*after)[0]["Ref_Key"], (*all)[3]["Ref_Key"]);
  auto none = client.List({.set = "Catalog_Номенклатура", .filter = "DeletionMark eq true"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto bad = client.List({.set = "Catalog_Номенклатура", .filter = "substringof('x', Code)"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().http_status, 400);

  // DataVersion: a write changes it; a write against the old one is a 412.
  auto got = client.Get("Catalog_Номенклатура", third);
  ASSERT_TRUE(got.ok()) << got.error().message;
  const std::string version = (*got)["DataVersion"];
  auto patched = client.Patch("Catalog_Номенклатура", third, version, {{"Description", "Новое"}});
  ASSERT_TRUE(patched.ok()) << patched.error().message;
  EXPECT_NE((*patched)["DataVersion"], version);
  auto stale = client.Patch("Catalog_Номенклатура", third, version, {{"Description", "Старое"}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().http_status, 412);
  EXPECT_EQ(client.Get("Catalog_Номенклатура", third).value()["Description"], "Новое");
  auto missing = client.Get("Catalog_Номенклатура", "00000000-0000-0000-0000-000000000001");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, net::ApiError::Kind::kNotFound);
}

mapping::RuleSet Rules() {
  auto rules =
      mapping::LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/onec-odata-trade.toml");
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  return std::move(rules).value();
}

// Golden: the contracts' captured Catalog_Номенклатура element, queued as
// the adapter queues a products record, through the shipped rules. (The
// contracts hold no counterparty, order, payment or register sample: those
// sets are mapped below on the simulator's rows.)
TEST(OnecODataGoldenTest, CapturedNomenclatureElementMapsToItsProduct) {
  const std::string path =
      std::string(CRMHUB_CONTRACTS_DIR) + "/onec/odata/captured_Catalog_Номенклатура_element.json";
  json record = json::parse(ReadFile(path));
  auto entities =
      Rules().Apply(QueuedRecord(record, "products", 180), {"onec", nullptr, 1'700'000'000'000});
  ASSERT_TRUE(entities.ok()) << entities.status().ToString();
  json got = json::array();
  for (const auto& e : *entities) got.push_back(model::ToJson(e));
  const std::string golden = std::string(CRMHUB_ODATA_GOLDEN_DIR) + "/nomenclature_element.json";
  EXPECT_EQ(got, json::parse(ReadFile(golden))) << got.dump(2);
}

TEST_F(OnecODataTest, EverySimulatedSetMapsWithTheShippedRules) {
  mapping::RuleSet rules = Rules();
  auto adapter = Adapter("sim-onec-password", 100);
  std::optional<std::string> cursor;
  std::map<std::string, int> kinds;
  for (const auto& e : Sweep(*adapter, &cursor)) {
    auto entities = rules.ApplyText(e.payload, {"onec", nullptr, 1'700'000'000'000});
    ASSERT_TRUE(entities.ok()) << e.payload << "\n" << entities.status().ToString();
    ASSERT_EQ(entities->size(), 1u) << e.payload;
    const json j = model::ToJson((*entities)[0]);
    ++kinds[j["kind"].get<std::string>()];
    if (j["kind"] == "order") {
      json r = json::parse(e.payload);
      EXPECT_EQ(j["fields"]["lines"].size(), r["Товары"].size());
      EXPECT_EQ(j["fields"]["status"], r["Статус"]);
      EXPECT_TRUE(j["fields"]["total"].is_number_integer());
    }
  }
  const int counterparties = kOrders / 10 + 1;
  EXPECT_EQ(kinds["company"] + kinds["contact"], counterparties);
  EXPECT_EQ(kinds["contact"], counterparties / 3);  // every third is a person
  EXPECT_EQ(kinds["product"], 20);
  EXPECT_EQ(kinds["price"], 20);
  EXPECT_EQ(kinds["stock_level"], 40);
  EXPECT_EQ(kinds["order"], kOrders);
  EXPECT_EQ(kinds["payment"], (kOrders + 1) / 2);
}

}  // namespace
}  // namespace crmhub::adapters::onec_odata
