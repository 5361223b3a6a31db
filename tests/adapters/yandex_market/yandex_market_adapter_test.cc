// The Yandex Market adapter against the in-process simulator over real
// loopback HTTP, through net::Upstream and the real SQLite queue.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/timestamp.h"
#include "daemon/queued_events.h"
#include "queue/sqlite_queue.h"
#include "tests/adapters/yandex_market/ym_test_support.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;
using testing::MakeAdapter;
using testing::MakeCommand;

TEST(YandexMarketCursor, RoundTripsMigratesV1AndRejectsGarbage) {
  PullCursor c{123, 456, "o789"};
  auto parsed = PullCursor::Parse(c.ToJson());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->watermark_ms, 123);
  EXPECT_EQ(parsed->window_to_ms, 456);
  EXPECT_EQ(parsed->page_token, "o789");
  // getOrders' cursor: its watermark stands, its pass (and page token,
  // which getBusinessOrders would not understand) starts again.
  auto v1 = PullCursor::Parse(R"({"v":1,"watermark":1000,"window_to":2000,"page_token":"t"})");
  ASSERT_TRUE(v1.has_value());
  EXPECT_EQ(v1->watermark_ms, 1000);
  EXPECT_EQ(v1->window_to_ms, 0);
  EXPECT_EQ(v1->page_token, "");
  EXPECT_FALSE(PullCursor::Parse("nope").has_value());
  EXPECT_FALSE(PullCursor::Parse(R"({"v":3,"watermark":1})").has_value());
  EXPECT_FALSE(PullCursor::Parse(R"({"v":2,"watermark":"1"})").has_value());
}

TEST(YandexMarketSimAuth, AnswersApiErrorResponseForMissingOrWrongKeys) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 5;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ym", so, sim.base_url());
  config.client.api_key = Secret("wrong");
  auto pulled = MakeAdapter(config, &http.client(), clock)->Pull(std::nullopt);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(pulled.status().message().find("UNAUTHORIZED"), std::string::npos);

  net::OutboundRequest r;
  r.method = "POST";
  r.url = sim.base_url() + "/v1/businesses/" + std::to_string(so.business_id()) + "/orders";
  r.body = "{}";
  auto answer = http.client().SendBlocking(r);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 401);
  auto body = json::parse(answer->body);
  EXPECT_EQ(body["status"], "ERROR");
  EXPECT_EQ(body["errors"][0]["code"], "UNAUTHORIZED");
}

// Orders changing status, pulled through faults (420, 5xx, malformed JSON,
// duplicated orders in a page, slow answers) into the real SQLite queue,
// the cursor saved only after the events are durable, with a crash (events
// enqueued, cursor not saved) in the middle. Every order's last event
// carries its final status; no idempotency key is accepted twice.
TEST(YandexMarketPull, OrdersThroughFaultsAndACrashEndInTheirFinalStatus) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 300;
  so.seed = 11;
  so.arrival = std::chrono::seconds(30);
  so.lifetime = std::chrono::seconds(15);
  auto faults =
      simkit::ParseFaultSpec("429=0.05,500=0.04,503=0.02,malformed=0.03,dup=0.05,slow=0.01");
  ASSERT_TRUE(faults.ok());
  so.faults = *faults;
  so.faults.slow_delay = std::chrono::milliseconds(30);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http(std::chrono::milliseconds(1000));

  auto dir = std::filesystem::temp_directory_path() / ("ym-pull-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  queue::SqliteQueueOptions qo;
  qo.data_dir = dir;
  auto q = queue::SqliteQueue::Open(clock, qo);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  std::unique_ptr<queue::SqliteQueue> queue = std::move(*q);

  auto config = ConfigFor("ym-main", so, sim.base_url());
  config.overlap = std::chrono::seconds(10);
  auto adapter = MakeAdapter(config, &http.client(), clock);
  const std::string cursor_key = "cursor.ym-main";
  int accepted = 0, duplicates = 0, errors = 0, throttled = 0, pulls = 0;
  bool crashed = false;
  SystemTime done_at = sim.AllFinalAt() + config.overlap + std::chrono::seconds(10);
  while (true) {
    auto cursor = queue->GetState(cursor_key);
    ASSERT_TRUE(cursor.ok());
    auto pulled = adapter->Pull(*cursor);
    ++pulls;
    ASSERT_LT(pulls, 5000) << "pull loop does not converge";
    if (!pulled.ok()) {
      ++errors;
      clock.Advance(std::chrono::milliseconds(500));
      continue;
    }
    std::vector<queue::NewMessage> batch;
    for (auto& e : pulled->events)
      batch.push_back(daemon::ToNewMessage(std::move(e), "in.ym-main", "ym-main"));
    if (!batch.empty()) {
      auto outcomes = queue->EnqueueBatch(std::move(batch));
      ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
      for (auto o : *outcomes) (o == queue::EnqueueOutcome::kAccepted ? accepted : duplicates)++;
    }
    if (!crashed && accepted > so.orders) {
      crashed = true;
      queue.reset();
      adapter.reset();
      auto reopened = queue::SqliteQueue::Open(clock, qo);
      ASSERT_TRUE(reopened.ok());
      queue = std::move(*reopened);
      adapter = MakeAdapter(config, &http.client(), clock);
      continue;
    }
    if (pulled->next_cursor) {
      ASSERT_TRUE(queue->PutState(cursor_key, *pulled->next_cursor).ok());
    }
    if (pulled->not_before) {
      ++throttled;
      clock.Advance(std::chrono::milliseconds(
          std::max<int64_t>(1, ToUnixMillis(*pulled->not_before) - ToUnixMillis(clock.Now()))));
    } else if (!pulled->more) {
      if (clock.Now() > done_at) break;
      clock.Advance(std::chrono::seconds(1));
    } else {
      clock.Advance(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(crashed);
  EXPECT_GT(errors, 0) << "faults were injected";
  EXPECT_GT(throttled, 0) << "420 answers become not_before";
  EXPECT_GT(duplicates, 0) << "overlaps, dup pages and the crash re-pull are absorbed";

  std::map<std::string, std::pair<int64_t, std::string>> store;  // id -> (updated, status)
  std::map<std::string, int> events_per_key;
  std::map<int64_t, int64_t> returns;  // return id -> order id
  while (true) {
    auto leased = queue->Lease("in.ym-main", 1000, std::chrono::minutes(5));
    ASSERT_TRUE(leased.ok());
    if (leased->empty()) break;
    std::vector<queue::LeaseToken> tokens;
    for (const auto& l : *leased) {
      auto order = json::parse(l.message.payload);
      if (order.contains("returnType")) {  // the second stream: getReturns
        returns[order["id"].get<int64_t>()] = order["orderId"].get<int64_t>();
        events_per_key[l.message.idempotency_key]++;
        tokens.push_back(l.lease);
        continue;
      }
      const std::string id = std::to_string(order["orderId"].get<int64_t>());
      const int64_t updated = *ParseTimestampMs(order["updateDate"].get<std::string>(), 0);
      // The rules' version: the later updateDate wins.
      if (updated >= store[id].first) {
        store[id] = {updated, order["status"].get<std::string>() + "/" +
                                  order["substatus"].get<std::string>()};
      }
      events_per_key[l.message.idempotency_key]++;
      tokens.push_back(l.lease);
    }
    for (const auto& s : queue->AckBatch(tokens)) ASSERT_TRUE(s.ok());
  }
  for (const auto& [key, n] : events_per_key) EXPECT_EQ(n, 1) << key;
  auto finals = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(store.size(), finals.size());
  int mismatched = 0;
  for (const auto& [id, status] : finals) mismatched += store[id].second != status;
  EXPECT_EQ(mismatched, 0);
  // Every return the world made, pulled with its cursor beside the orders'.
  EXPECT_FALSE(returns.empty());
  EXPECT_EQ(returns, sim.ReturnOrders());
  // Market's page limit and the filters on every request.
  for (const auto& r : sim.log().Find("POST", sim.Wiring().orders_path)) {
    EXPECT_NE(r.query.find("limit=50"), std::string::npos) << r.query;
    auto body = json::parse(r.body);
    EXPECT_EQ(body["campaignIds"], json::array({so.campaign_id()})) << r.body;
    EXPECT_TRUE(body["dates"].contains("updateDateFrom")) << r.body;
    EXPECT_TRUE(body["dates"].contains("creationDateTo")) << r.body;
  }
  queue.reset();
  std::filesystem::remove_all(dir);
}

// A notification's hint resolves into the order keyed exactly as the pull
// keys it, so the pull's copy is a duplicate; PING and unknown types queue
// nothing; another campaign's notification is dropped.
TEST(YandexMarketWebhook, HintsResolveIntoTheOrderThePullThenDuplicates) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 3;
  so.arrival = std::chrono::seconds(0);
  so.lifetime = std::chrono::hours(10);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ym", so, sim.base_url());
  config.push.token = Secret("tok");
  auto allow = net::CidrList::Parse(DefaultPushAllowIps());
  ASSERT_TRUE(allow.ok());
  config.push.allow_ips = std::move(allow).value();
  auto adapter = MakeAdapter(config, &http.client(), clock);
  EXPECT_TRUE(adapter->ServesPath("notification"));
  EXPECT_TRUE(adapter->ServesPath(""));
  EXPECT_FALSE(adapter->ServesPath("other"));

  net::HttpRequest r;
  r.method = "POST";
  r.path = "/hooks/ym/notification";
  r.query = "token=tok";
  r.remote_address = "5.45.207.10";
  r.body = R"({"notificationType":"PING","time":"2025-01-01T00:00:00Z"})";
  auto ping = adapter->HandleWebhook(r);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_TRUE(ping->events.empty());
  EXPECT_EQ(ping->accepted.status, 200);
  auto answer = json::parse(ping->accepted.body);
  EXPECT_TRUE(answer["version"].is_string());
  EXPECT_EQ(answer["name"], "crmhub");
  EXPECT_TRUE(ParseTimestamp(answer["time"].get<std::string>(), kNoDefaultOffset).has_value());

  // A second on: the pull's window (end exclusive) then holds the orders.
  clock.Advance(std::chrono::seconds(1));
  const std::string id = sim.OrderStatuses(false).begin()->first;
  r.body = R"({"notificationType":"ORDER_CREATED","campaignId":)" +
           std::to_string(so.campaign_id()) + R"(,"orderId":)" + id +
           R"(,"createdAt":"2025-01-01T00:00:00Z"})";
  auto hint = adapter->HandleWebhook(r);
  ASSERT_TRUE(hint.ok());
  ASSERT_EQ(hint->events.size(), 1u);
  EXPECT_TRUE(hint->events[0].resolve);
  EXPECT_EQ(hint->events[0].kind, "order_hint");
  EXPECT_EQ(hint->events[0].ordering_key, id);
  adapters::Hint queued;
  queued.payload = hint->events[0].payload;
  ResolveResult resolved = adapter->Resolve(queued);
  ASSERT_TRUE(resolved.outcome.ok()) << resolved.outcome.error;
  ASSERT_EQ(resolved.events.size(), 1u);
  auto requests = sim.log().Find("POST", sim.Wiring().orders_path);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(json::parse(requests[0].body)["orderIds"], json::array({std::stoll(id)}));
  auto pulled = adapter->Pull(std::nullopt);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  bool found = false;
  for (const auto& e : pulled->events) {
    if (e.ordering_key != id) continue;
    found = true;
    EXPECT_EQ(e.idempotency_key, resolved.events[0].idempotency_key);
    EXPECT_EQ(e.payload, resolved.events[0].payload);
  }
  EXPECT_TRUE(found);

  r.body = R"({"notificationType":"ORDER_CREATED","campaignId":1,"orderId":5})";
  EXPECT_TRUE(adapter->HandleWebhook(r)->events.empty()) << "another campaign's";
  queued.payload = R"({"notificationType":"ORDER_CREATED","orderId":99999999})";
  EXPECT_EQ(adapter->Resolve(queued).outcome.kind, DeliveryOutcome::Kind::kRetry);
  r.body = R"({"notificationType":"PING"})";
  r.remote_address = "10.0.0.1";
  EXPECT_EQ(adapter->HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  r.remote_address = "141.8.142.1";
  r.query = "token=nope";
  EXPECT_EQ(adapter->HandleWebhook(r).status().code(), StatusCode::kUnauthenticated);
}

// 5,000 skus -> requests of <= 2000 distinct skus; the 100,000 skus/minute
// budget is kept locally (Retry with not_before, nothing sent) and a 420
// from Market also becomes Retry with not_before.
TEST(YandexMarketStocks, BatchesOfTwoThousandAndTheSkuBudget) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  so.stock_skus_per_minute = 6000;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ym", so, sim.base_url());
  config.client.stock_skus_per_minute = 5000;
  auto adapter = MakeAdapter(config, &http.client(), clock);
  std::vector<adapters::Command> batch;
  for (int i = 0; i < 5000; ++i) {
    batch.push_back(MakeCommand("set_stock", {{"sku", "SKU-" + std::to_string(i)}, {"stock", i}}));
  }
  batch.push_back(MakeCommand("set_stock", {{"sku", "SKU-1"}, {"stock", -1}}));  // invalid
  batch.push_back(MakeCommand("set_stock", {{"sku", ""}, {"stock", 1}}));        // invalid
  auto outcomes = adapter->Deliver(batch);
  ASSERT_EQ(outcomes.size(), batch.size());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(outcomes[i].ok()) << i << outcomes[i].error;
  EXPECT_EQ(outcomes[5000].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(outcomes[5001].kind, DeliveryOutcome::Kind::kFail);
  auto puts =
      sim.log().Find("PUT", "/v2/campaigns/" + std::to_string(so.campaign_id()) + "/offers/stocks");
  ASSERT_EQ(puts.size(), 3u);
  std::vector<size_t> sizes;
  for (const auto& p : puts) sizes.push_back(json::parse(p.body)["skus"].size());
  EXPECT_EQ(sizes, (std::vector<size_t>{2000, 2000, 1000}));
  EXPECT_EQ(sim.Stocks().size(), 5000u);
  EXPECT_EQ(sim.Stocks().at("SKU-4999"), 4999);

  // The local budget (5000/min) is spent: nothing is sent, Retry later.
  std::vector<adapters::Command> more = {MakeCommand("set_stock", {{"sku", "A"}, {"stock", 1}})};
  auto again = adapter->Deliver(more);
  ASSERT_EQ(again[0].kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(again[0].not_before.has_value());
  EXPECT_LE(*again[0].not_before, clock.Now() + std::chrono::minutes(1));
  EXPECT_EQ(sim.log().Find("PUT", puts[0].path).size(), 3u);

  // A second adapter on the same campaign overruns Market's 6000/min: 420.
  auto other = MakeAdapter(config, &http.client(), clock);
  std::vector<adapters::Command> big;
  for (int i = 0; i < 2000; ++i) {
    big.push_back(MakeCommand("set_stock", {{"sku", "B-" + std::to_string(i)}, {"stock", 1}}));
  }
  auto limited = other->Deliver(big);
  EXPECT_EQ(limited[0].kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(limited[0].not_before.has_value());
  EXPECT_NE(limited[0].error.find("LIMIT_EXCEEDED"), std::string::npos) << limited[0].error;
  // The simulator's X-RateLimit-Resource-Until: when its budget frees up.
  EXPECT_GT(*limited[0].not_before, clock.Now());
  EXPECT_LE(*limited[0].not_before,
            clock.Now() + std::chrono::minutes(1) + std::chrono::seconds(1));

  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(adapter->Deliver(more)[0].ok());
}

// ShopSku is counted in characters and trimmed: 255 Cyrillic letters (510
// bytes) pass, 256 fail; "A" and " A\t" are one sku, so they go to two
// requests and the later command wins.
TEST(YandexMarketStocks, SkusAreCharactersTrimmedAndDistinctAfterTrimming) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto adapter = MakeAdapter(ConfigFor("ym", so, sim.base_url()), &http.client(), clock);
  std::string cyrillic;
  for (int i = 0; i < 255; ++i) cyrillic += "Ж";
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", {{"sku", "A"}, {"stock", 1}}),
      MakeCommand("set_stock", {{"sku", "Y"}, {"stock", 2}}),
      MakeCommand("set_stock", {{"sku", " A\t"}, {"stock", 3}}),
      MakeCommand("set_stock", {{"sku", cyrillic}, {"stock", 4}}),
      MakeCommand("set_stock", {{"sku", cyrillic + "Ж"}, {"stock", 5}}),
      MakeCommand("set_stock", {{"sku", "   "}, {"stock", 6}}),
      MakeCommand("set_stock", {{"sku", "A\nB"}, {"stock", 7}}),
      MakeCommand("set_stock", {{"sku", 12345}, {"stock", 8}})};
  auto outcomes = adapter->Deliver(batch);
  for (size_t i : {0, 1, 2, 3}) EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i].error;
  for (size_t i : {4, 5, 6, 7}) {
    EXPECT_EQ(outcomes[i].kind, DeliveryOutcome::Kind::kFail) << i;
    EXPECT_NE(outcomes[i].error.find("sku"), std::string::npos) << outcomes[i].error;
  }
  EXPECT_EQ(sim.Stocks().at("A"), 3);
  EXPECT_EQ(sim.Stocks().at("Y"), 2);
  EXPECT_EQ(sim.Stocks().at(cyrillic), 4);
  EXPECT_EQ(sim.log()
                .Find("PUT", "/v2/campaigns/" + std::to_string(so.campaign_id()) + "/offers/stocks")
                .size(),
            2u);
}

TEST(YandexMarketClient, LimitAnswersAreRetriedWhenMarketSaysNotAMinuteLater) {
  ManualClock clock;  // 1,700,000,000 s: Tue, 14 Nov 2023 22:13:20 GMT
  std::vector<std::pair<std::string, std::string>> headers;
  int status = 420;
  net::Transport transport = [&](std::string_view, net::OutboundRequest) -> net::OutboundResult {
    net::OutboundResponse r;
    r.status = status;
    for (const auto& [k, v] : headers) r.headers.Set(k, v);
    r.body = R"({"status":"ERROR","errors":[{"code":"LIMIT_EXCEEDED","message":"limit"}]})";
    return r;
  };
  YandexMarketClient client({.base_url = "http://127.0.0.1:1",
                             .api_key = Secret("k"),
                             .campaign_id = 1,
                             .business_id = 2},
                            transport, clock);
  headers = {{"X-RateLimit-Resource-Until", "Tue, 14 Nov 2023 22:14:00 GMT"}};
  auto limited = client.GetBusinessOrders({});
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().kind, net::ApiError::Kind::kThrottled);
  EXPECT_EQ(ToUnixMillis(*limited.error().not_before), 1'700'000'040'000);
  EXPECT_EQ(limited.error().ToStatus().code(), StatusCode::kResourceExhausted);
  headers = {};
  EXPECT_EQ(*client.GetBusinessOrders({}).error().not_before, clock.Now() + kParallelLimitPause);
  headers = {{"Retry-After", "7"}, {"X-RateLimit-Resource-Until", "Tue, 14 Nov 2023 22:14:00 GMT"}};
  EXPECT_EQ(*client.GetBusinessOrders({}).error().not_before,
            clock.Now() + std::chrono::seconds(7));
  // 423 Locked: the store's state, retried like an auth failure.
  status = 423;
  auto locked = client.UpdatePrices({{"A", json(1), "RUR", json(), json()}});
  EXPECT_EQ(locked.error().kind, net::ApiError::Kind::kAuth);
  EXPECT_EQ(locked.error().ToOutcome().kind, DeliveryOutcome::Kind::kRetry);
  status = 400;
  EXPECT_EQ(client.UpdatePrices({{"A", json(1), "RUR", json(), json()}}).error().ToOutcome().kind,
            DeliveryOutcome::Kind::kFail);
}

// A price update keeps what the cabinet set earlier: discountBase and
// minimumForBestseller left out of a command are read back
// (getDefaultPrices) and sent again; a command that names them sends what
// it says (null: removed). Currency RUB is sent as RUR; other codes outside
// CurrencyType fail naming the value.
TEST(YandexMarketPrices, KeepsDiscountBaseAndMinimumForBestsellerAndChecksCurrency) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto adapter = MakeAdapter(ConfigFor("ym", so, sim.base_url()), &http.client(), clock);
  sim.SetPrice("KEEP", {json(1000), "RUR", json(1500), json(900)});
  sim.SetPrice("SET", {json(1000), "RUR", json(1500), json(900)});
  sim.SetPrice("DROP", {json(1000), "RUR", json(1500), json(900)});
  std::vector<adapters::Command> batch = {
      MakeCommand("set_price", {{"offer_id", "KEEP"}, {"price", "1100.50"}, {"currency", "RUB"}}),
      MakeCommand("set_price", {{"offer_id", "SET"},
                                {"price", 990},
                                {"discount_base", 2000},
                                {"minimum_for_bestseller", 800.5}}),
      MakeCommand("set_price", {{"offer_id", "DROP"},
                                {"price", 99},
                                {"discount_base", nullptr},
                                {"minimum_for_bestseller", nullptr}}),
      MakeCommand("set_price", {{"offer_id", "NEW"}, {"price", 10}}),
      MakeCommand("set_price", {{"offer_id", "X1"}, {"price", 10}, {"currency", "XYZ"}}),
      MakeCommand("set_price", {{"offer_id", "X2"}, {"price", "-1"}}),
      MakeCommand("set_price", {{"offer_id", "X3"}, {"price", 10}, {"discount_base", 10.5}}),
      MakeCommand("set_price",
                  {{"offer_id", "X4"}, {"price", 10}, {"minimum_for_bestseller", 1e9}}),
      MakeCommand("set_price", {{"offer_id", "KEEP"}, {"price", 1490}}),  // 0.7% off 1500
      MakeCommand("frobnicate", json::object())};
  auto outcomes = adapter->Deliver(batch);
  for (size_t i : {0, 1, 2, 3}) EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i].error;
  for (size_t i : {4, 5, 6, 7, 8, 9})
    EXPECT_EQ(outcomes[i].kind, DeliveryOutcome::Kind::kFail) << i;
  EXPECT_NE(outcomes[4].error.find("\"XYZ\""), std::string::npos) << outcomes[4].error;
  EXPECT_NE(outcomes[8].error.find("5..99%"), std::string::npos) << outcomes[8].error;
  EXPECT_EQ(testing::PriceOf(sim, "KEEP"),
            json::parse(R"({"value":1100.5,"currencyId":"RUR","discountBase":1500,)"
                        R"("minimumForBestseller":900})"));
  EXPECT_EQ(testing::PriceOf(sim, "SET"),
            json::parse(R"({"value":990,"currencyId":"RUR","discountBase":2000,)"
                        R"("minimumForBestseller":800.5})"));
  EXPECT_EQ(testing::PriceOf(sim, "DROP"),
            json::parse(R"({"value":99,"currencyId":"RUR","discountBase":null,)"
                        R"("minimumForBestseller":null})"));
  EXPECT_TRUE(testing::PriceOf(sim, "NEW")["discountBase"].is_null());
  const std::string business = "/v2/businesses/" + std::to_string(so.business_id());
  auto reads = sim.log().Find("POST", business + "/offer-prices");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(json::parse(reads[0].body)["offerIds"], json::array({"KEEP", "NEW"}));
  EXPECT_EQ(sim.log().Find("POST", business + "/offer-prices/updates").size(), 1u);
}

// The simulator keeps prices as the spec says: an update that leaves
// minimumForBestseller out deletes it (the adapter test of the test).
TEST(YandexMarketSim, APriceUpdateWithoutMinimumForBestsellerDeletesIt) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  YandexMarketSimulator sim(so, clock);
  sim.SetPrice("A", {json(1000), "RUR", json(1500), json(900)});
  net::HttpRequest r;
  r.method = "POST";
  r.path = "/v2/businesses/" + std::to_string(so.business_id()) + "/offer-prices/updates";
  r.headers.Set("Api-Key", so.api_key());
  r.body = R"({"offers":[{"offerId":"A","price":{"value":1200,"currencyId":"RUR"}}]})";
  int status = 0;
  sim.Handle(r, [&](net::HttpResponse response) { status = response.status; });
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(testing::PriceOf(sim, "A")["discountBase"].is_null());
  EXPECT_TRUE(testing::PriceOf(sim, "A")["minimumForBestseller"].is_null());
  r.body = R"({"offers":[{"offerId":"A","price":{"value":1200,"currencyId":"RUB"}}]})";
  sim.Handle(r, [&](net::HttpResponse response) { status = response.status; });
  EXPECT_EQ(status, 400) << "RUB is not a CurrencyType";
}

// Outside data of the wrong type: answers and webhooks with numbers where
// strings are expected, arrays where objects are, nulls, numbers beyond
// int64 or double, nesting deeper than anyone writes. Each is a clear
// per-record error, a retryable pull error or a 400: never a crash, and the
// next good answer is processed.
TEST(YandexMarketTypeConfusion, ClearErrorsNeverACrashAndTheAdapterGoesOn) {
  ManualClock clock;
  std::vector<std::string> answers;
  net::Transport transport = [&](std::string_view, net::OutboundRequest) -> net::OutboundResult {
    clock.Advance(std::chrono::seconds(1));  // the request-rate bucket refills
    net::OutboundResponse r;
    r.status = 200;
    // Empty pages of orders and of returns.
    r.body = answers.empty() ? R"({"orders":[],"result":{"returns":[]}})" : answers.front();
    if (!answers.empty()) answers.erase(answers.begin());
    return r;
  };
  YandexMarketConfig config;
  config.id = "ym";
  config.client.campaign_id = 1;
  config.client.business_id = 2;
  YandexMarketAdapter adapter(config, transport, clock);
  const std::string good =
      R"({"orderId":7,"status":"DELIVERY","substatus":"DELIVERY_SERVICE_RECEIVED",)"
      R"("updateDate":"2025-01-01T10:00:00+03:00","items":[]})";
  answers = {R"({"orders":{"orderId":1}})",
             R"({"orders":null})",
             "[1,2]",
             R"({"orders":[1e400]})",
             std::string(100000, '[') + std::string(100000, ']'),
             R"({"orders":[)" + good +
                 R"(,{"orderId":"7"},{"orderId":18446744073709551616},)"
                 R"({"orderId":8,"status":[5],"substatus":"X"},[],null,"x",)"
                 R"({"orderId":9,"status":"A","substatus":"B","updateDate":12},)"
                 R"({"orderId":"10","status":5,"substatus":"Y"}]})"};
  for (int i = 0; i < 5; ++i) {
    auto pulled = adapter.Pull(std::nullopt);
    ASSERT_FALSE(pulled.ok()) << i;
    EXPECT_EQ(pulled.status().code(), StatusCode::kUnavailable) << pulled.status().ToString();
  }
  auto pulled = adapter.Pull(std::nullopt);
  ASSERT_TRUE(pulled.ok()) << pulled.status().ToString();
  ASSERT_EQ(pulled->events.size(), 9u);
  EXPECT_EQ(pulled->events[0].idempotency_key,
            "7:DELIVERY:DELIVERY_SERVICE_RECEIVED:1735714800000");
  // Ids and statuses are read as text, numbers or strings alike (a status 5
  // is then no stage the rules know: a dead letter there).
  EXPECT_EQ(pulled->events[8].idempotency_key, "10:5:Y:");
  std::set<std::string> keys;
  for (size_t i = 1; i < 8; ++i) {  // not keyable: dead letters showing the record
    const auto& e = pulled->events[i];
    EXPECT_EQ(e.idempotency_key.rfind("unreadable:", 0), 0u) << e.idempotency_key;
    auto payload = json::parse(e.payload);
    EXPECT_TRUE(payload.contains("unreadable")) << e.payload;
    EXPECT_TRUE(payload["error"].is_string()) << e.payload;
    keys.insert(e.idempotency_key);
  }
  EXPECT_EQ(keys.size(), 7u) << "each unreadable record is its own dead letter";
  auto next = adapter.Pull(pulled->next_cursor);
  ASSERT_TRUE(next.ok()) << "and the pull goes on";
  EXPECT_FALSE(next->not_before.has_value());

  net::HttpRequest r;
  r.method = "POST";
  r.path = "/hooks/ym/notification";
  for (const std::string& body :
       {std::string(R"({"notificationType":5})"), std::string(R"({"notificationType":null})"),
        std::string("[]"), std::string(100000, '[') + std::string(100000, ']'),
        std::string(R"({"notificationType":"ORDER_CREATED","orderId":[1]})"),
        std::string(R"({"notificationType":"ORDER_CREATED","orderId":18446744073709551616})"),
        std::string(R"({"notificationType":"ORDER_CREATED","orderId":1e400})"),
        std::string(R"({"notificationType":"ORDER_CREATED","orderId":-3})")}) {
    r.body = body;
    auto answer = adapter.HandleWebhook(r);
    ASSERT_TRUE(answer.ok()) << body.substr(0, 60);
    EXPECT_EQ(answer->accepted.status, 400) << body.substr(0, 60);
    EXPECT_TRUE(answer->events.empty());
  }
  r.body = R"({"notificationType":"ORDER_CREATED","orderId":"7","campaignId":"1","createdAt":5})";
  auto loose = adapter.HandleWebhook(r);
  ASSERT_TRUE(loose.ok());
  ASSERT_EQ(loose->events.size(), 1u) << "ids as strings are read";
  adapters::Hint hint;
  hint.payload = "[]";
  EXPECT_EQ(adapter.Resolve(hint).outcome.kind, DeliveryOutcome::Kind::kFail);
  hint.payload = loose->events[0].payload;
  answers = {R"({"orders":[{"orderId":8}]})", R"({"orders":[{"orderId":"7"}]})",
             "{\"orders\":[" + good + "]}"};
  EXPECT_EQ(adapter.Resolve(hint).outcome.kind, DeliveryOutcome::Kind::kRetry);  // not the order
  ResolveResult unreadable = adapter.Resolve(hint);  // the order, unreadable: a dead letter
  ASSERT_TRUE(unreadable.outcome.ok());
  ASSERT_EQ(unreadable.events.size(), 1u);
  EXPECT_EQ(unreadable.events[0].idempotency_key.rfind("unreadable:", 0), 0u);
  EXPECT_TRUE(adapter.Resolve(hint).outcome.ok());

  std::vector<adapters::Command> commands = {
      MakeCommand("set_stock", {{"sku", "A"}, {"stock", "5"}}),
      MakeCommand("set_stock", {{"sku", json::array({"A"})}, {"stock", 5}}),
      MakeCommand("set_stock", {{"sku", "A"}, {"stock", 18446744073709551615ULL}}),
      MakeCommand("set_stock", {{"sku", nullptr}, {"stock", 5}}),
      MakeCommand("set_price", {{"offer_id", "A"}, {"price", json::object()}}),
      MakeCommand("set_price", {{"offer_id", "A"}, {"price", 10}, {"currency", 643}}),
      MakeCommand("set_price", {{"offer_id", "A"}, {"price", "1e400"}}),
      MakeCommand("set_price", {{"offer_id", "A"}, {"price", 10}, {"discount_base", "100"}})};
  adapters::Command deep;
  deep.name = "set_stock";
  deep.payload = std::string(100000, '[') + std::string(100000, ']');
  commands.push_back(deep);
  for (const DeliveryOutcome& o : adapter.Deliver(commands)) {
    EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kFail) << o.error;
    EXPECT_FALSE(o.error.empty());
  }
}

TEST(YandexMarketSim, StateAndRequestLogEndpoints) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 3;
  so.arrival = std::chrono::seconds(0);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  net::OutboundRequest r;
  r.url = sim.base_url() + "/__sim/state";
  auto state = http.client().SendBlocking(r);
  ASSERT_TRUE(state.ok());
  auto j = json::parse(state->body);
  ASSERT_EQ(j["orders"].size(), 3u);
  EXPECT_EQ(j["orders"][0]["status"], "PROCESSING");
  EXPECT_EQ(j["orders"][0]["substatus"], "STARTED");
  r.method = "POST";
  r.url = sim.base_url() + "/v1/businesses/1/orders";
  r.body = "{}";
  r.headers.Set("Api-Key", so.api_key());
  auto forbidden = http.client().SendBlocking(r);
  ASSERT_TRUE(forbidden.ok());
  EXPECT_EQ(forbidden->status, 403);
  r.method = "GET";
  r.body.clear();
  r.url = sim.base_url() + "/__sim/requests";
  auto log = http.client().SendBlocking(r);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->body.find("/v1/businesses/1/orders"), std::string::npos);
  EXPECT_EQ(log->body.find(so.api_key()), std::string::npos) << "Api-Key is redacted";
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
