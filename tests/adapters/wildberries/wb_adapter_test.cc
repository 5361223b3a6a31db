// The Wildberries adapter against the in-process simulator over loopback
// HTTP: orders and status changes (with faults), stock and price pushes,
// pacing, multiple accounts.

#include <set>

#include "simkit_check.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

adapters::Command MakeCommand(std::string command, json item, int64_t id = 0) {
  adapters::Command m;
  m.key = std::to_string(id);
  m.name = std::move(command);
  m.payload = item.dump();
  return m;
}

size_t sim_cards(WildberriesSimulator& sim) {
  return sim.log().Find("POST", "/content/v2/get/cards/list").size();
}

// Runs pulls until the world has ended and a full scan has passed after
// that, then compares with the simulator's final state.
void SyncAndCheck(WildberriesSimulator& sim, WildberriesAdapter& adapter, ManualClock& clock,
                  PullDriver& driver, int max_pulls) {
  const SystemTime end = sim.AllFinalAt();
  bool done = false;
  while (!done && driver.pulls < max_pulls) {
    driver.Step(adapter, clock);
    if (clock.Now() > end + seconds(30)) {
      // One more complete scan after the end of the world.
      for (int i = 0; i < 200; ++i) {
        auto before = driver.pulls;
        driver.Step(adapter, clock);
        json c = json::parse(*driver.cursor);
        if (c["scan"].is_null() && driver.pulls > before) break;
      }
      done = true;
    }
  }
  ASSERT_TRUE(done) << "not finished after " << driver.pulls << " pulls";
  json state = sim.State();
  ASSERT_TRUE(state["all_final"].get<bool>());
  auto latest = LatestStatuses(driver.events);
  ASSERT_EQ(latest.size(), state["orders"].size());
  for (const auto& o : state["orders"]) {
    auto it = latest.find(o["id"].get<int64_t>());
    ASSERT_NE(it, latest.end()) << o.dump();
    EXPECT_EQ(it->second.first, o["finalSupplierStatus"].get<std::string>()) << o.dump();
    EXPECT_EQ(it->second.second, o["finalWbStatus"].get<std::string>()) << o.dump();
  }
  // The cursor follows no order any more.
  EXPECT_TRUE(json::parse(*driver.cursor)["open"].empty());
}

TEST(WildberriesAdapterTest, PullsOrdersAndEveryStatusChangeWithoutFaults) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 150;
  so.seed = 7;
  so.arrival = seconds(60);
  so.lifetime = seconds(60);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.orders_page_size = 100;
  WildberriesAdapter adapter(o, &http, clock);
  PullDriver driver;
  SyncAndCheck(sim, adapter, clock, driver, 5000);
  EXPECT_EQ(driver.errors, 0);
  // Several statuses per order were seen (the world moved between scans).
  EXPECT_GT(driver.events.size(), 300u);
  // Event shape: the Order object plus the statuses.
  const json& any = driver.events.begin()->second;
  for (const char* key : {"id", "rid", "createdAt", "skus", "nmId", "chrtId", "price",
                          "warehouseId", "supplierStatus", "wbStatus", "statusObservedMs"}) {
    EXPECT_TRUE(any.contains(key)) << key;
  }
  // Statuses were asked in batches of at most 1000 ids, pages with limit 100.
  for (const auto& r : sim.log().Find("POST", "/api/v3/orders/status")) {
    auto body = json::parse(r.body);
    EXPECT_LE(body["orders"].size(), 1000u);
    EXPECT_GE(body["orders"].size(), 1u);
  }
  for (const auto& r : sim.log().Snapshot()) {
    EXPECT_NE(r.status, 429) << r.path << " " << r.note;  // paced under the limits
    EXPECT_NE(r.status, 401);
  }
}

TEST(WildberriesAdapterTest, FaultsAndDuplicatesLoseNothing) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 200;
  so.seed = 11;
  so.arrival = seconds(40);
  so.lifetime = seconds(40);
  so.faults = simkit::ParseFaultSpec(
                  "429=0.05,500=0.04,503=0.03,timeout=0.02,slow=0.02,dup=0.02,malformed=0.02")
                  .value();
  so.faults.slow_delay = milliseconds(50);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.orders_page_size = 100;
  o.client.timeout = milliseconds(300);
  WildberriesAdapter adapter(o, &http, clock);
  PullDriver driver;
  SyncAndCheck(sim, adapter, clock, driver, 20000);
  EXPECT_GT(driver.errors, 0);  // faults did happen and were survived
  std::set<simkit::Fault> seen;
  for (const auto& r : sim.log().Snapshot()) seen.insert(r.fault);
  EXPECT_GE(seen.size(), 6u);  // "none" and at least five kinds of fault
  sim.Stop();
}

TEST(WildberriesAdapterTest, RestartFromAnOldCursorDoublesNothing) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 100;
  so.arrival = seconds(30);
  so.lifetime = seconds(30);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.orders_page_size = 50;
  PullDriver driver;
  {
    WildberriesAdapter adapter(o, &http, clock);
    for (int i = 0; i < 20; ++i) driver.Step(adapter, clock);
  }
  // "Crash": the runtime saved an older cursor than the last one.
  auto saved = driver.cursor;
  for (int i = 0; i < 3; ++i) {
    WildberriesAdapter adapter(o, &http, clock);
    driver.Step(adapter, clock);
  }
  driver.cursor = saved;
  WildberriesAdapter adapter(o, &http, clock);
  SyncAndCheck(sim, adapter, clock, driver, 5000);
  EXPECT_GT(driver.duplicates, 0);  // repeats came, and were absorbed by key
}

// Every FBS and DBS order of the simulator ends with its final statuses.
void ExpectFinalStatuses(const json& state, const PullDriver& driver) {
  auto latest = LatestStatuses(driver.events);
  size_t expected = 0;
  for (const char* list : {"orders", "dbs_orders"}) {
    for (const auto& o : state[list]) {
      ++expected;
      auto it = latest.find(o["id"].get<int64_t>());
      ASSERT_NE(it, latest.end()) << o.dump();
      EXPECT_EQ(it->second.first, o["finalSupplierStatus"].get<std::string>()) << o.dump();
      EXPECT_EQ(it->second.second, o["finalWbStatus"].get<std::string>()) << o.dump();
    }
  }
  EXPECT_EQ(latest.size(), expected);
}

// Pulls until the world has ended, then for two more poll intervals (a full
// FBS scan and a full DBS cycle after the end).
void PullPastTheEnd(WildberriesSimulator& sim, WildberriesAdapter& adapter, ManualClock& clock,
                    PullDriver& driver, int max_pulls) {
  const SystemTime until = sim.AllFinalAt() + seconds(30) + 2 * adapter.poll_interval();
  while (clock.Now() < until && driver.pulls < max_pulls) driver.Step(adapter, clock);
  ASSERT_GE(clock.Now(), until) << "not finished after " << driver.pulls << " pulls";
  // Finish the cycles in progress.
  for (int i = 0; i < 50; ++i) {
    driver.Step(adapter, clock);
    json c = json::parse(*driver.cursor);
    if (c["scan"].is_null() && c["dbs"]["stage"] == "new") break;
  }
}

TEST(WildberriesAdapterTest, PullsDbsOrdersAndEveryStatusChange) {
  WildberriesSimOptions so;
  so.orders = 0;
  so.dbs_orders = 300;
  so.seed = 5;
  World w(so);
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  net::HttpClient& http = *w.http;
  WildberriesAdapter adapter(OptionsFor(sim), &http, clock);
  PullDriver driver;
  PullPastTheEnd(sim, adapter, clock, driver, 5000);
  json state = sim.State();
  ASSERT_TRUE(state["all_final"].get<bool>());
  ASSERT_EQ(state["dbs_orders"].size(), 300u);
  ExpectFinalStatuses(state, driver);
  // Intermediate statuses were seen too (new -> confirm -> deliver -> receive).
  int in_delivery = 0;
  for (const auto& [key, p] : driver.events) {
    EXPECT_EQ(key.rfind("dbs-", 0), 0u) << key;
    EXPECT_EQ(p["deliveryType"], "dbs");
    EXPECT_TRUE(p["address"].is_object()) << p.dump();
    if (p["supplierStatus"] == "deliver") ++in_delivery;
  }
  EXPECT_GT(in_delivery, 50);
  json cursor = json::parse(*driver.cursor);
  EXPECT_TRUE(cursor["dbs"]["open"].empty());  // every order reached a final status
  EXPECT_FALSE(sim.log().Find("GET", "/api/v3/dbs/orders").empty());
  EXPECT_NE(adapter.DescribeJson().find("\"dbs\""), std::string::npos);
}

TEST(WildberriesAdapterTest, FbsAndDbsWithFaultsAndARestartLoseNothing) {
  WildberriesSimOptions so;
  so.orders = 300;
  so.dbs_orders = 300;
  so.seed = 9;
  World w(so);
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  auto faults = simkit::ParseFaultSpec("429=0.05,500=0.1,dup=0.1,malformed=0.05");
  ASSERT_TRUE(faults.ok());
  sim.SetFaults(*faults);
  net::HttpClient& http = *w.http;
  WildberriesConfig o = OptionsFor(sim);
  o.orders_page_size = 50;
  auto adapter = std::make_unique<WildberriesAdapter>(o, &http, clock);
  PullDriver driver;
  // Half-way, the process "restarts" from a cursor persisted earlier (what
  // came after it is pulled again; the queue drops repeated keys).
  std::optional<std::string> saved;
  while (clock.Now() < sim.AllFinalAt() - seconds(30)) {
    driver.Step(*adapter, clock);
    if (!saved && clock.Now() > sim.AllFinalAt() - seconds(60)) saved = driver.cursor;
  }
  ASSERT_TRUE(saved);
  adapter = std::make_unique<WildberriesAdapter>(o, &http, clock);
  driver.cursor = saved;
  PullPastTheEnd(sim, *adapter, clock, driver, 20000);
  json state = sim.State();
  ASSERT_TRUE(state["all_final"].get<bool>());
  ExpectFinalStatuses(state, driver);
  EXPECT_GT(driver.duplicates, 0);
}

// Pulls until the world has ended and a poll interval more.
void PullToTheEnd(World& w, WildberriesAdapter& adapter, PullDriver& driver) {
  const SystemTime until = w.sim->AllFinalAt() + seconds(30) + 2 * adapter.poll_interval();
  while (w.clock.Now() < until && driver.pulls < 5000) driver.Step(adapter, w.clock);
  ASSERT_GE(w.clock.Now(), until);
}

WildberriesSimOptions FbsAndDbs() {
  WildberriesSimOptions so;
  so.orders = 60;
  so.dbs_orders = 40;
  so.seed = 3;
  so.arrival = seconds(20);
  so.lifetime = seconds(20);
  return so;
}

TEST(WildberriesAdapterTest, ASellerWithoutDbsSwitchesTheDbsPollOff) {
  World w(FbsAndDbs());
  WildberriesConfig o = OptionsFor(*w.sim);
  o.dbs = false;
  WildberriesAdapter adapter(o, w.http.get(), w.clock);
  PullDriver driver;
  PullToTheEnd(w, adapter, driver);
  EXPECT_EQ(driver.errors, 0);
  EXPECT_EQ(LatestStatuses(driver.events).size(), 60u);  // every FBS order, no DBS one
  for (const auto& r : w.sim->log().Snapshot()) {
    EXPECT_EQ(r.path.rfind("/api/v3/dbs/", 0), std::string::npos) << r.method << " " << r.path;
  }
}

// What a seller without DBS gets is not documented (the DBS methods list
// 401 and 403 AccessDenied): a refusal is logged and shown, DBS waits
// kDbsAuthPause, FBS goes on; once DBS answers, its orders come in.
TEST(WildberriesAdapterTest, ADbsRefusalDoesNotStopFbs) {
  World w(FbsAndDbs());
  TamperedTransport transport;
  bool refuse = true;
  transport.tamper = [&](std::string_view path, net::OutboundResponse& answer) {
    if (!refuse || path.rfind("/api/v3/dbs/", 0) != 0) return;
    answer.status = 403;
    answer.body = R"({"code":"AccessDenied","message":""})";
  };
  WildberriesAdapter adapter(OptionsFor(*w.sim), transport.Bind(*w.http), w.clock);
  PullDriver driver;
  PullToTheEnd(w, adapter, driver);
  EXPECT_EQ(driver.errors, 0);
  auto latest = LatestStatuses(driver.events);
  EXPECT_EQ(latest.size(), 60u);  // FBS: every order to its final status
  EXPECT_EQ(w.sim->log().Find("GET", "/api/v3/dbs/orders/new").size(), 1u);  // tried once
  const json status = json::parse(adapter.DescribeJson());
  EXPECT_NE(status["dbs"]["last_error"].get<std::string>().find("HTTP 403"), std::string::npos)
      << status.dump();
  refuse = false;
  w.clock.Advance(kDbsAuthPause);
  for (int i = 0; i < 20; ++i) driver.Step(adapter, w.clock);
  EXPECT_EQ(LatestStatuses(driver.events).size(), 100u);  // and now DBS's too
  EXPECT_EQ(json::parse(adapter.DescribeJson())["dbs"]["last_error"], "");
}

TEST(WildberriesAdapterTest, UnauthorizedTokenIsAnAuthError) {
  Loop loop;
  ManualClock clock;
  WildberriesSimulator sim(WildberriesSimOptions{}, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesAdapter adapter(OptionsFor(sim, "wrong"), &http, clock);
  auto r = adapter.Pull(std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  auto outcomes = adapter.Deliver(std::vector<adapters::Command>{
      MakeCommand("set_stock", {{"sku", SimBarcode(1)}, {"warehouse_id", "507"}, {"amount", 1}})});
  EXPECT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kRetry);
}

TEST(WildberriesAdapterTest, StockPushOf5000SkusUsesBatchesOf1000UnderTheRate) {
  Loop loop;
  SystemClock clock;  // real time: the simulator measures arrival times
  WildberriesSimOptions so;
  so.products = 6000;
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.warehouses = {507};
  WildberriesAdapter adapter(o, &http, clock);
  std::vector<adapters::Command> all;
  for (int i = 1; i <= 5000; ++i) {
    all.push_back(MakeCommand(
        "set_stock", {{"chrt_id", 300000000 + i}, {"warehouse_id", "507"}, {"amount", i % 50}}, i));
  }
  // The runtime hands at most max_batch() messages per Deliver and waits
  // for not_before on retries.
  std::vector<adapters::Command> pending = all;
  int rounds = 0;
  while (!pending.empty() && rounds++ < 100) {
    std::vector<adapters::Command> next;
    for (size_t start = 0; start < pending.size(); start += adapter.max_batch()) {
      size_t end = std::min(pending.size(), start + static_cast<size_t>(adapter.max_batch()));
      std::span<const adapters::Command> batch(pending.data() + start, end - start);
      auto outcomes = adapter.Deliver(batch);
      ASSERT_EQ(outcomes.size(), batch.size());
      for (size_t k = 0; k < batch.size(); ++k) {
        ASSERT_NE(outcomes[k].kind, DeliveryOutcome::Kind::kFail) << outcomes[k].error;
        if (outcomes[k].kind == DeliveryOutcome::Kind::kRetry) next.push_back(batch[k]);
      }
    }
    pending = std::move(next);
  }
  ASSERT_TRUE(pending.empty());
  for (int i = 1; i <= 5000; ++i) ASSERT_EQ(sim.StockOf(507, SimBarcode(i)), i % 50) << i;
  auto puts = sim.log().Find("PUT", "/api/v3/stocks/507");
  ASSERT_EQ(puts.size(), 5u);  // 5000 / 1000, nothing refused
  for (const auto& r : puts) {
    EXPECT_EQ(json::parse(r.body)["stocks"].size(), 1000u);
    EXPECT_EQ(r.status, 204);
  }
  // Replayed through the documented bucket (200 ms, burst 20), every
  // request was within the limit.
  EXPECT_TRUE(WithinDocumentedRate(puts, milliseconds(200), 20));
}

TEST(WildberriesAdapterTest, StockConflictsAreItemOutcomes) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.products = 10;
  so.kgt_plus_products = {3};
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesConfig o = OptionsFor(sim);
  o.warehouses = {507, 508};
  WildberriesAdapter adapter(o, &http, clock);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"sku", SimBarcode(1)}, {"warehouse_id", "507"}, {"amount", 5}}),
      MakeCommand("set_stock", {{"chrt_id", 300000003}, {"warehouse_id", "507"}, {"amount", 5}}),
      MakeCommand("set_stock", {{"sku", SimBarcode(2)}, {"warehouse_id", 508}, {"amount", 7}}),
      MakeCommand("set_stock", {{"sku", SimBarcode(3)}, {"warehouse_id", "999"}, {"amount", 1}}),
      MakeCommand("set_stock", {{"warehouse_id", "507"}, {"amount", 1}}),
      MakeCommand("set_stock", {{"chrt_id", 300000004}, {"warehouse_id", "508"}, {"amount", 9}}),
      MakeCommand("launch_rocket", json::object()),
      MakeCommand("set_stock", {{"sku", "0000000000000"}, {"warehouse_id", "507"}, {"amount", 5}}),
  };
  auto out = adapter.Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);  // same request as a failing item
  // WB names the failed item by its barcode; the command named its chrtID.
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[1].error.find("CargoWarehouseRestrictionKGTPlus"), std::string::npos)
      << out[1].error;
  EXPECT_NE(out[1].error.find(SimBarcode(3)), std::string::npos) << out[1].error;
  // WB bills a 409 as 10 requests: the 508 request waits for the bucket.
  EXPECT_EQ(out[2].kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(out[2].not_before.has_value());
  EXPECT_EQ(out[3].kind, DeliveryOutcome::Kind::kFail);  // not this adapter's warehouse
  EXPECT_EQ(out[4].kind, DeliveryOutcome::Kind::kFail);  // neither sku nor chrt_id
  EXPECT_EQ(out[5].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(out[6].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[7].kind, DeliveryOutcome::Kind::kFail);  // a barcode on no card
  EXPECT_NE(out[7].error.find("on no card"), std::string::npos) << out[7].error;
  EXPECT_EQ(sim.log().Find("PUT", "/api/v3/stocks/508").size(), 0u);
  // Sent by chrtId only (the barcode `sku` is deprecated).
  for (const auto& r : sim.log().Find("PUT", "/api/v3/stocks/507")) {
    const json body = json::parse(r.body);  // a range over a temporary's member would dangle
    for (const json& item : body["stocks"]) {
      EXPECT_TRUE(item.contains("chrtId")) << r.body;
      EXPECT_FALSE(item.contains("sku")) << r.body;
    }
  }
  clock.Advance(*out[2].not_before - clock.Now());
  std::vector<adapters::Command> later = {batch[2], batch[5]};
  auto second = adapter.Deliver(later);
  EXPECT_TRUE(second[0].ok()) << second[0].error;
  EXPECT_TRUE(second[1].ok()) << second[1].error;
  EXPECT_EQ(sim.StockOf(508, SimBarcode(2)), 7);
  EXPECT_EQ(sim.StockOf(508, SimBarcode(4)), 9);
  clock.Advance(seconds(2));
  // Retried alone, the good item goes through.
  auto again = adapter.Deliver(std::span(batch.data(), 1));
  EXPECT_TRUE(again[0].ok()) << again[0].error;
  EXPECT_EQ(sim.StockOf(507, SimBarcode(1)), 5);
  // The cards were read once (10 products: one page), not per Deliver.
  EXPECT_EQ(sim.log().Find("POST", "/content/v2/get/cards/list").size(), 1u);
}

// A 409 for commands that name their chrtID only: the barcodes WB names are
// matched through the cards, read then (the table was never needed before).
TEST(WildberriesAdapterTest, AConflictByBarcodeIsMatchedToAChrtIdCommandThroughTheCards) {
  WildberriesSimOptions so;
  so.products = 250;  // three pages of cards
  so.kgt_plus_products = {7};
  World w(so);
  WildberriesAdapter adapter(OptionsFor(*w.sim), w.http.get(), w.clock);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"chrt_id", 300000007}, {"warehouse_id", 507}, {"amount", 1}}, 1),
      MakeCommand("set_stock", {{"chrt_id", 300000008}, {"warehouse_id", 507}, {"amount", 2}}, 2),
      MakeCommand("set_stock", {{"chrt_id", 300000008}, {"warehouse_id", 507}, {"amount", 3}}, 3),
  };
  auto out = adapter.Deliver(batch);
  EXPECT_TRUE(out[0].kind == DeliveryOutcome::Kind::kFail) << out[0].error;
  EXPECT_NE(out[0].error.find(SimBarcode(7)), std::string::npos) << out[0].error;
  EXPECT_TRUE(out[1].ok()) << out[1].error;  // superseded by the newer command
  EXPECT_EQ(out[2].kind, DeliveryOutcome::Kind::kRetry) << out[2].error;
  EXPECT_EQ(sim_cards(*w.sim), 3u);
  // One chrtID once per request.
  auto puts = w.sim->log().Find("PUT", "/api/v3/stocks/507");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(json::parse(puts[0].body)["stocks"].size(), 2u);
  w.clock.Advance(seconds(3));
  auto retried = adapter.Deliver(std::span(batch.data() + 2, 1));
  EXPECT_TRUE(retried[0].ok()) << retried[0].error;
  EXPECT_EQ(w.sim->StockOf(507, SimBarcode(8)), 3);
}

// A barcode on no card fails at once while the cards are fresh, and starts
// a new read once they are older than cards_refresh.
TEST(WildberriesAdapterTest, BarcodesAreResolvedFromCardsReadAtMostEveryRefresh) {
  WildberriesSimOptions so;
  so.products = 20;
  World w(so);
  WildberriesConfig o = OptionsFor(*w.sim);
  o.cards_refresh = std::chrono::minutes(5);
  WildberriesAdapter adapter(o, w.http.get(), w.clock);
  auto stock = [&](std::string sku) {
    std::vector<adapters::Command> one = {
        MakeCommand("set_stock", {{"sku", std::move(sku)}, {"warehouse_id", 507}, {"amount", 4}})};
    w.clock.Advance(seconds(1));
    return adapter.Deliver(one)[0];
  };
  EXPECT_TRUE(stock(SimBarcode(5)).ok());
  EXPECT_EQ(w.sim->StockOf(507, SimBarcode(5)), 4);
  EXPECT_EQ(stock("4600000000000").kind, DeliveryOutcome::Kind::kFail);
  EXPECT_TRUE(stock(SimBarcode(6)).ok());
  EXPECT_EQ(sim_cards(*w.sim), 1u);  // one read for all three
  w.clock.Advance(std::chrono::minutes(5));
  EXPECT_EQ(stock("4600000000000").kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(sim_cards(*w.sim), 2u);  // read again, still unknown
  EXPECT_EQ(stock("4600000000000").kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(sim_cards(*w.sim), 2u);
}

TEST(WildberriesAdapterTest, PricesAreUploadedAsOneTaskAndAckedWhenItIsProcessed) {
  World w(WildberriesSimOptions{});
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  net::HttpClient& http = *w.http;
  WildberriesAdapter adapter(OptionsFor(sim), &http, clock);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_price", {{"nm_id", 100000001}, {"price", 1000}, {"discount", 10}}, 1),
      MakeCommand("set_price", {{"nm_id", 100000002}, {"price", 2000}}, 2),
      MakeCommand("set_price", {{"nm_id", 100000001}, {"price", 1100}, {"discount", 5}}, 3),
      MakeCommand("set_price", {{"price", 5}}, 4),
  };
  auto out = adapter.Deliver(batch);
  EXPECT_TRUE(out[0].ok());  // superseded by message 3
  EXPECT_EQ(out[3].kind, DeliveryOutcome::Kind::kFail);
  // Accepted by WB as a task: not acked before the task's result is known.
  for (size_t i : {1u, 2u}) {
    ASSERT_EQ(out[i].kind, DeliveryOutcome::Kind::kRetry) << out[i].error;
    ASSERT_TRUE(out[i].not_before);
    EXPECT_EQ(*out[i].not_before - clock.Now(), seconds(2));
  }
  auto tasks = sim.log().Find("POST", "/api/v2/upload/task");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(json::parse(tasks[0].body)["data"].size(), 2u);  // no duplicate nmID
  // Still in processing (the buffer): retried again, nothing uploaded again.
  clock.Advance(seconds(1));
  std::vector<adapters::Command> pending = {batch[1], batch[2]};
  auto again = adapter.Deliver(pending);
  EXPECT_EQ(again[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_NE(again[0].error.find("in processing"), std::string::npos) << again[0].error;
  EXPECT_EQ(sim.log().Find("GET", "/api/v2/buffer/tasks").size(), 1u);
  clock.Advance(seconds(2));
  auto done = adapter.Deliver(pending);
  EXPECT_TRUE(done[0].ok()) << done[0].error;
  EXPECT_TRUE(done[1].ok()) << done[1].error;
  EXPECT_EQ(sim.log().Find("POST", "/api/v2/upload/task").size(), 1u);
  EXPECT_EQ(sim.log().Find("GET", "/api/v2/history/tasks").size(), 2u);
  json state = sim.State();
  EXPECT_EQ(state["prices"]["100000001"]["price"], 1100);
  EXPECT_EQ(state["prices"]["100000002"]["price"], 2000);
  // The same task again is "already exists" (208): followed like a new one.
  clock.Advance(seconds(1));
  auto repeat = adapter.Deliver(std::span(batch.data(), 3));
  EXPECT_EQ(repeat[2].kind, DeliveryOutcome::Kind::kRetry) << repeat[2].error;
  clock.Advance(seconds(2));
  auto repeat_done = adapter.Deliver(pending);
  EXPECT_TRUE(repeat_done[1].ok()) << repeat_done[1].error;
}

TEST(WildberriesAdapterTest, PricesTheTaskRejectsAreDeadLettersWithWbsText) {
  WildberriesSimOptions so;
  so.price_item_errors = 0.3;
  so.seed = 11;
  World w(so);
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  net::HttpClient& http = *w.http;
  WildberriesAdapter adapter(OptionsFor(sim), &http, clock);
  std::vector<adapters::Command> batch;
  for (int i = 1; i <= 40; ++i) {
    batch.push_back(MakeCommand("set_price", {{"nm_id", 100000000 + i}, {"price", 500 + i}}, i));
  }
  batch.push_back(MakeCommand("set_price", {{"nm_id", 999}, {"price", 1}}, 41));  // no such article
  auto first = adapter.Deliver(batch);
  for (const auto& o : first) ASSERT_EQ(o.kind, DeliveryOutcome::Kind::kRetry) << o.error;
  // The queue brings them back at not_before; the task is processed by then
  // or a little later: retried until it is.
  std::vector<DeliveryOutcome> settled(batch.size());
  std::vector<size_t> open(batch.size());
  for (size_t i = 0; i < open.size(); ++i) open[i] = i;
  for (int round = 0; round < 10 && !open.empty(); ++round) {
    clock.Advance(seconds(2));
    std::vector<adapters::Command> again;
    for (size_t i : open) again.push_back(batch[i]);
    auto out = adapter.Deliver(again);
    std::vector<size_t> still;
    for (size_t k = 0; k < open.size(); ++k) {
      if (out[k].kind == DeliveryOutcome::Kind::kRetry) {
        still.push_back(open[k]);
      } else {
        settled[open[k]] = out[k];
      }
    }
    open = still;
  }
  ASSERT_TRUE(open.empty());
  EXPECT_EQ(sim.log().Find("POST", "/api/v2/upload/task").size(), 1u);
  json state = sim.State();
  int failed = 0;
  for (int i = 1; i <= 40; ++i) {
    const DeliveryOutcome& o = settled[static_cast<size_t>(i - 1)];
    const std::string nm = std::to_string(100000000 + i);
    if (o.ok()) {
      EXPECT_EQ(state["prices"][nm]["price"], 500 + i) << nm;  // applied
    } else {
      ++failed;
      EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kFail);
      EXPECT_NE(o.error.find("Item has been moved to Price Quarantine"), std::string::npos)
          << o.error;
      EXPECT_NE(o.error.find(nm), std::string::npos) << o.error;
      EXPECT_FALSE(state["prices"].contains(nm)) << nm;  // not applied
    }
  }
  EXPECT_GT(failed, 3);
  EXPECT_LT(failed, 25);
  EXPECT_EQ(settled[40].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(settled[40].error.find("Item not found"), std::string::npos) << settled[40].error;
}

TEST(WildberriesAdapterTest, APriceTaskLongInTheBufferIsSettledFromItsBufferedGoods) {
  WildberriesSimOptions so;
  so.price_task_delay = std::chrono::hours(1);  // e.g. a discount waiting for a promotion
  World w(so);
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  net::HttpClient& http = *w.http;
  WildberriesConfig o = OptionsFor(sim);
  o.price_task_wait = seconds(5);
  WildberriesAdapter adapter(o, &http, clock);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_price", {{"nm_id", 100000007}, {"discount", 15}}, 7)};
  ASSERT_EQ(adapter.Deliver(batch)[0].kind, DeliveryOutcome::Kind::kRetry);
  clock.Advance(seconds(2));
  auto waiting = adapter.Deliver(batch);
  ASSERT_EQ(waiting[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_NE(waiting[0].error.find("in processing"), std::string::npos) << waiting[0].error;
  EXPECT_TRUE(sim.log().Find("GET", "/api/v2/buffer/goods/task").empty());
  clock.Advance(seconds(4));
  auto settled = adapter.Deliver(batch);
  EXPECT_TRUE(settled[0].ok()) << settled[0].error;
  EXPECT_EQ(sim.log().Find("GET", "/api/v2/buffer/goods/task").size(), 1u);
  EXPECT_EQ(sim.log().Find("POST", "/api/v2/upload/task").size(), 1u);
}

TEST(WildberriesAdapterTest, ClientPacesItselfAndHonoursServerThrottling) {
  Loop loop;
  ManualClock clock;
  WildberriesSimulator sim(WildberriesSimOptions{}, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  net::HttpClient http(loop.io(), {});
  WildberriesClientOptions co = OptionsFor(sim).client;
  WildberriesClient client(co, &http, clock);
  int sent = 0;
  std::optional<SystemTime> not_before;
  for (int i = 0; i < 30; ++i) {
    auto r = client.Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
    if (r.ok()) {
      ++sent;
    } else {
      ASSERT_EQ(r.error().kind, ApiError::Kind::kThrottled);
      EXPECT_EQ(r.error().http_status, 0);  // refused by our own bucket
      not_before = r.error().not_before;
    }
  }
  EXPECT_EQ(sent, 10);  // the default burst
  ASSERT_TRUE(not_before);
  EXPECT_EQ(*not_before - clock.Now(), milliseconds(220));
  EXPECT_EQ(sim.log().size(), 10u);
  // A client with no pacing meets the server's limit: 429 + X-Ratelimit-Retry.
  co.pacing[static_cast<size_t>(Group::kOrders)] = {milliseconds(1), 1000};
  WildberriesClient greedy(co, &http, clock);
  ApiError last;
  for (int i = 0; i < 30 && last.http_status != 429; ++i) {
    auto r = greedy.Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
    if (!r.ok()) last = r.error();
  }
  EXPECT_EQ(last.kind, ApiError::Kind::kThrottled);
  EXPECT_EQ(last.http_status, 429);
  ASSERT_TRUE(last.not_before);
  EXPECT_GE(*last.not_before - clock.Now(), seconds(1));
  // The 429 empties the client's own bucket until the server's time: the
  // next call is refused locally and nothing is sent...
  const size_t sent_before = sim.log().size();
  auto held = greedy.Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().kind, ApiError::Kind::kThrottled);
  EXPECT_EQ(held.error().http_status, 0);
  ASSERT_TRUE(held.error().not_before);
  EXPECT_GE(*held.error().not_before, *last.not_before);
  EXPECT_EQ(sim.log().size(), sent_before);
  // ...and once that time has passed, requests go out again.
  clock.Advance(*held.error().not_before - clock.Now());
  auto after = greedy.Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
  EXPECT_EQ(sim.log().size(), sent_before + 1);
  EXPECT_TRUE(after.ok() || after.error().http_status != 0) << "refused locally after the pause";
}

// The series of one metric line in the Prometheus text, or -1.
double Series(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(WildberriesAdapterTest, RequestsGoThroughUpstreamsWithMetricsAndABreaker) {
  WildberriesSimOptions so;
  so.orders = 20;
  so.arrival = seconds(1);
  World w(so);
  ManualClock& clock = w.clock;
  WildberriesSimulator& sim = *w.sim;
  clock.Advance(seconds(2));
  net::HttpClient& http = *w.http;
  MetricsRegistry metrics;
  WildberriesAdapter adapter(OptionsFor(sim), &http, clock, &metrics);
  ASSERT_TRUE(adapter.Pull(std::nullopt).ok());  // GET orders + POST status
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"chrt_id", 300000001}, {"warehouse_id", "507"}, {"amount", 5}}, 1),
      MakeCommand("set_price", {{"nm_id", 100000001}, {"price", 1000}}, 2)};
  adapter.Deliver(batch);
  // Our own bucket refuses (burst 3 for prices): counted as throttled.
  for (int i = 0; i < 5; ++i) (void)adapter.client().PriceTaskStatus(TaskList::kHistory, 1);
  std::string text = metrics.RenderPrometheus();
  const std::string up = "upstream=\"wildberries:wb-main:";
  EXPECT_EQ(Series(text, "crmhub_upstream_requests_total{code=\"200\"," + up + "orders\"}"), 2)
      << text;
  EXPECT_EQ(Series(text, "crmhub_upstream_requests_total{code=\"204\"," + up + "stocks\"}"), 1)
      << text;
  EXPECT_EQ(Series(text, "crmhub_upstream_requests_total{code=\"200\"," + up + "prices\"}"), 3)
      << text;
  EXPECT_EQ(Series(text, "crmhub_upstream_throttled_total{" + up + "prices\"}"), 3) << text;
  EXPECT_EQ(Series(text, "crmhub_upstream_throttled_total{" + up + "orders\"}"), 0) << text;
  EXPECT_EQ(Series(text, "crmhub_circuit_open{" + up + "content\"}"), 0) << text;

  // Five 500s in a row open the orders breaker: the sixth call is not sent.
  simkit::FaultSpec all500;
  all500.p500 = 1;
  sim.SetFaults(all500);
  for (int i = 0; i < 5; ++i) {
    clock.Advance(seconds(1));
    auto r = adapter.client().Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().http_status, 500);
  }
  clock.Advance(seconds(1));
  const size_t sent = sim.log().size();
  auto open = adapter.client().Orders(Scheme::kFbs, 10, 0, std::nullopt, std::nullopt);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.error().kind, ApiError::Kind::kTransient);
  EXPECT_NE(open.error().message.find("circuit open"), std::string::npos) << open.error().message;
  EXPECT_EQ(sim.log().size(), sent);
  text = metrics.RenderPrometheus();
  EXPECT_EQ(Series(text, "crmhub_circuit_open{" + up + "orders\"}"), 1) << text;
  EXPECT_EQ(Series(text, "crmhub_upstream_requests_total{code=\"500\"," + up + "orders\"}"), 5)
      << text;
  // Stocks are another upstream: still closed.
  EXPECT_EQ(Series(text, "crmhub_circuit_open{" + up + "stocks\"}"), 0) << text;
}

TEST(WildberriesAdapterTest, TwoAccountsInOneProcessHaveTheirOwnTokensAndBuckets) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.credentials = {"token-a", "token-b"};
  so.orders = 20;
  so.arrival = seconds(1);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(seconds(2));
  net::HttpClient http(loop.io(), {});
  WildberriesConfig a = OptionsFor(sim, "token-a");
  a.id = "wb-a";
  WildberriesConfig b = OptionsFor(sim, "token-b");
  b.id = "wb-b";
  WildberriesAdapter wa(a, &http, clock), wb(b, &http, clock);
  auto ra = wa.Pull(std::nullopt);
  auto rb = wb.Pull(std::nullopt);
  ASSERT_TRUE(ra.ok()) << ra.status().ToString();
  ASSERT_TRUE(rb.ok()) << rb.status().ToString();
  EXPECT_EQ(ra->events.size(), 20u);
  EXPECT_EQ(rb->events.size(), 20u);
  for (const auto& r : sim.log().Snapshot()) {
    for (const auto& [k, v] : r.headers) {
      if (k == "Authorization") {
        EXPECT_EQ(v, "***");  // the log never keeps it
      }
    }
  }
  EXPECT_NE(wa.DescribeJson().find("wb-a"), std::string::npos);
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
