// The Yandex Market adapter against the in-process simulator over real
// loopback HTTP, through net::Upstream and the real SQLite queue.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "adapters/yandex_market/adapter.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "net/http_client.h"
#include "queue/sqlite_queue.h"

namespace crmhub::adapters::yandex_market {
namespace {

using nlohmann::json;

class ClientThread {
 public:
  explicit ClientThread(std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : guard_(io_.get_executor()) {
    net::HttpClientOptions options;
    options.request_timeout = timeout;
    options.connect_timeout = std::chrono::seconds(5);
    client_ = std::make_unique<net::HttpClient>(io_, options);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ClientThread() {
    guard_.reset();
    client_.reset();
    io_.stop();
    thread_.join();
  }
  net::HttpClient& client() { return *client_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::unique_ptr<net::HttpClient> client_;
  std::thread thread_;
};

YmConfig ConfigFor(const std::string& id, const YandexMarketSimOptions& sim, const std::string& base_url) {
  YmConfig c;
  c.id = id;
  c.client.base_url = base_url;
  c.client.api_key = Secret(sim.api_key());
  c.client.campaign_id = sim.campaign_id();
  c.client.business_id = sim.business_id();
  c.client.timeout = std::chrono::milliseconds(2000);
  c.poll_interval = std::chrono::seconds(5);
  c.overlap = std::chrono::seconds(30);
  c.lookback = std::chrono::hours(24);
  return c;
}

// Through net::Upstream, as the daemon does (orders unlimited here: the
// ManualClock does not move while a caller would wait for a token).
std::unique_ptr<YmAdapter> MakeAdapter(const YmConfig& config, ClientThread& http,
                                       ManualClock& clock) {
  return std::make_unique<YmAdapter>(
      config, MakeUpstreamTransport("yandex-market:" + config.id, &http.client(), clock, 0, nullptr),
      clock);
}

queue::Message Command(const std::string& command, json item) {
  queue::Message m;
  m.headers = {{"command", command}};
  m.payload = item.dump();
  return m;
}

TEST(YmTime, FormatsAndParsesTheSpecsDates) {
  auto t = FromUnixMillis(1511214162000);  // 2017-11-20T21:42:42Z
  EXPECT_EQ(FormatIsoMsk(t), "2017-11-21T00:42:42+03:00");
  EXPECT_EQ(ParseIsoTime("2017-11-21T00:42:42+03:00"), t);
  EXPECT_EQ(ParseIsoTime("2017-11-20T21:42:42Z"), t);
  EXPECT_EQ(FormatMarketTime(t), "21-11-2017 00:42:42");
  EXPECT_EQ(ParseMarketTime("21-11-2017 00:42:42"), t);
  EXPECT_FALSE(ParseMarketTime("2017-11-21 00:42").has_value());
  EXPECT_FALSE(ParseIsoTime("2017-11-21T00:42:42").has_value());
}

TEST(YmCursor, RoundTripsAndRejectsGarbage) {
  PullCursor c{123, 456, "o789"};
  auto parsed = PullCursor::Parse(c.ToJson());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->watermark_ms, 123);
  EXPECT_EQ(parsed->window_to_ms, 456);
  EXPECT_EQ(parsed->page_token, "o789");
  EXPECT_FALSE(PullCursor::Parse("nope").has_value());
  EXPECT_FALSE(PullCursor::Parse(R"({"v":2,"watermark":1})").has_value());
}

TEST(YmSimAuth, AnswersApiErrorResponseForMissingOrWrongKeys) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 5;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ym", so, sim.base_url());
  config.client.api_key = Secret("wrong");
  auto adapter = MakeAdapter(config, http, clock);
  auto pulled = adapter->Pull(std::nullopt);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(pulled.status().message().find("UNAUTHORIZED"), std::string::npos);

  net::OutboundRequest r;
  r.method = "GET";
  r.url = sim.base_url() + "/v2/campaigns/" + std::to_string(so.campaign_id()) + "/orders";
  auto answer = http.client().SendBlocking(r);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->status, 401);
  auto body = json::parse(answer->body);
  EXPECT_EQ(body["status"], "ERROR");
  ASSERT_TRUE(body["errors"].is_array());
  EXPECT_EQ(body["errors"][0]["code"], "UNAUTHORIZED");
  EXPECT_TRUE(body["errors"][0]["message"].is_string());
}

// Orders changing status, pulled through faults (420, 5xx, malformed JSON,
// duplicated orders in a page, slow answers) into the real SQLite queue,
// the cursor saved only after the events are durable, with a crash (events
// enqueued, cursor not saved) in the middle. Every order's last event
// carries its final status; no idempotency key is accepted twice.
TEST(YmPull, OrdersThroughFaultsAndACrashEndInTheirFinalStatus) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 300;
  so.seed = 11;
  so.arrival = std::chrono::seconds(30);
  so.lifetime = std::chrono::seconds(15);
  auto faults = simkit::ParseFaultSpec("429=0.05,500=0.04,503=0.02,malformed=0.03,dup=0.05,slow=0.01");
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
  auto adapter = MakeAdapter(config, http, clock);
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
    for (auto& e : pulled->events) {
      batch.push_back({.lane = "in.ym-main",
                       .source = "ym-main",
                       .idempotency_key = e.idempotency_key,
                       .ordering_key = e.ordering_key,
                       .headers = e.headers,
                       .payload = e.payload});
    }
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
      adapter = MakeAdapter(config, http, clock);
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

  std::map<std::string, std::string> store;  // id -> "STATUS/SUBSTATUS"
  std::map<std::string, int> events_per_key;
  while (true) {
    auto leased = queue->Lease("in.ym-main", 1000, std::chrono::minutes(5));
    ASSERT_TRUE(leased.ok());
    if (leased->empty()) break;
    std::vector<queue::LeaseToken> tokens;
    for (const auto& l : *leased) {
      auto order = json::parse(l.message.payload);
      store[std::to_string(order["id"].get<int64_t>())] =
          order["status"].get<std::string>() + "/" + order["substatus"].get<std::string>();
      events_per_key[l.message.idempotency_key]++;
      tokens.push_back(l.lease);
    }
    for (const auto& s : queue->AckBatch(tokens)) ASSERT_TRUE(s.ok());
  }
  for (const auto& [key, n] : events_per_key) EXPECT_EQ(n, 1) << key;
  auto finals = sim.OrderStatuses(/*final_only=*/true);
  ASSERT_EQ(store.size(), finals.size());
  int mismatched = 0;
  for (const auto& [id, status] : finals) mismatched += store[id] != status;
  EXPECT_EQ(mismatched, 0);
  // Market's page limit is respected on every request.
  for (const auto& r : sim.log().Find("GET", "/v2/campaigns/" + std::to_string(so.campaign_id()) +
                                                 "/orders")) {
    EXPECT_NE(r.query.find("limit=50"), std::string::npos) << r.query;
    EXPECT_NE(r.query.find("updatedAtFrom="), std::string::npos);
  }
  queue.reset();
  std::filesystem::remove_all(dir);
}

// 5,000 skus -> requests of <= 2000 distinct skus; the 100,000 skus/minute
// budget is kept locally (Retry with not_before, nothing sent) and a 420
// from Market also becomes Retry with not_before.
TEST(YmStocks, BatchesOfTwoThousandAndTheSkuBudget) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  so.stock_skus_per_minute = 6000;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto config = ConfigFor("ym", so, sim.base_url());
  config.client.stock_skus_per_minute = 5000;
  auto adapter = MakeAdapter(config, http, clock);
  std::vector<queue::Message> batch;
  for (int i = 0; i < 5000; ++i) {
    batch.push_back(Command("set_stock", {{"sku", "SKU-" + std::to_string(i)}, {"stock", i}}));
  }
  batch.push_back(Command("set_stock", {{"sku", "SKU-1"}, {"stock", -1}}));  // invalid
  batch.push_back(Command("set_stock", {{"sku", ""}, {"stock", 1}}));        // invalid
  auto outcomes = adapter->Deliver(batch);
  ASSERT_EQ(outcomes.size(), batch.size());
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(outcomes[i].ok()) << i << outcomes[i].error;
  EXPECT_EQ(outcomes[5000].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(outcomes[5001].kind, DeliveryOutcome::Kind::kFail);
  auto puts = sim.log().Find("PUT", "/v2/campaigns/" + std::to_string(so.campaign_id()) +
                                        "/offers/stocks");
  ASSERT_EQ(puts.size(), 3u);
  std::vector<size_t> sizes;
  for (const auto& p : puts) sizes.push_back(json::parse(p.body)["skus"].size());
  EXPECT_EQ(sizes, (std::vector<size_t>{2000, 2000, 1000}));
  EXPECT_EQ(sim.Stocks().size(), 5000u);
  EXPECT_EQ(sim.Stocks().at("SKU-4999"), 4999);

  // The local budget (5000/min) is spent: nothing is sent, Retry later.
  std::vector<queue::Message> more = {Command("set_stock", {{"sku", "A"}, {"stock", 1}})};
  auto again = adapter->Deliver(more);
  ASSERT_EQ(again[0].kind, DeliveryOutcome::Kind::kRetry);
  ASSERT_TRUE(again[0].not_before.has_value());
  EXPECT_LE(*again[0].not_before, clock.Now() + std::chrono::minutes(1));
  EXPECT_EQ(sim.log().Find("PUT", puts[0].path).size(), 3u);

  // A second adapter on the same campaign overruns Market's 6000/min: 420.
  auto other = MakeAdapter(config, http, clock);
  std::vector<queue::Message> big;
  for (int i = 0; i < 2000; ++i)
    big.push_back(Command("set_stock", {{"sku", "B-" + std::to_string(i)}, {"stock", 1}}));
  auto limited = other->Deliver(big);
  EXPECT_EQ(limited[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(limited[0].not_before.has_value());
  EXPECT_NE(limited[0].error.find("LIMIT_EXCEEDED"), std::string::npos) << limited[0].error;
  // The simulator's X-RateLimit-Resource-Until: when its budget frees up.
  EXPECT_GT(*limited[0].not_before, clock.Now());
  EXPECT_LE(*limited[0].not_before,
            clock.Now() + std::chrono::minutes(1) + std::chrono::seconds(1));

  // After a minute both budgets have room again.
  clock.Advance(std::chrono::minutes(1));
  auto later = adapter->Deliver(more);
  EXPECT_TRUE(later[0].ok()) << later[0].error;
}

// A 420 is retried when Market says the limit frees up
// (X-RateLimit-Resource-Until), and a 420 naming no time (the parallel
// requests limit) after a short pause: it used to stall the pull for a
// minute each time, which at 5% injected 420s stopped the e2e test's pull.
TEST(YmClient, LimitAnswersAreRetriedWhenMarketSaysNotAMinuteLater) {
  ManualClock clock;  // 1,700,000,000 s: Tue, 14 Nov 2023 22:13:20 GMT
  std::vector<std::pair<std::string, std::string>> headers;
  Transport transport = [&](Group, net::OutboundRequest) -> net::OutboundResult {
    net::OutboundResponse r;
    r.status = 420;
    for (const auto& [k, v] : headers) r.headers.Set(k, v);
    r.body = R"({"status":"ERROR","errors":[{"code":"LIMIT_EXCEEDED","message":"limit"}]})";
    return r;
  };
  ClientOptions options;
  options.base_url = "http://127.0.0.1:1";
  options.api_key = Secret("k");
  options.campaign_id = 1;
  YmClient client(options, transport, clock);
  OrdersQuery query;
  query.updated_from = clock.Now() - std::chrono::hours(1);
  query.updated_to = clock.Now();

  headers = {{"X-RateLimit-Resource-Limit", "10000"},
             {"X-RateLimit-Resource-Remaining", "0"},
             {"X-RateLimit-Resource-Until", "Tue, 14 Nov 2023 22:14:00 GMT"}};
  ApiReply limited = client.GetOrders(query);
  EXPECT_EQ(limited.status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(limited.retryable);
  ASSERT_TRUE(limited.not_before.has_value());
  EXPECT_EQ(ToUnixMillis(*limited.not_before), 1'700'000'040'000);

  headers = {};
  ApiReply parallel = client.GetOrders(query);
  ASSERT_TRUE(parallel.not_before.has_value());
  EXPECT_EQ(*parallel.not_before, clock.Now() + kParallelLimitPause);

  headers = {{"Retry-After", "7"}, {"X-RateLimit-Resource-Until", "Tue, 14 Nov 2023 22:14:00 GMT"}};
  ApiReply retry_after = client.GetOrders(query);
  ASSERT_TRUE(retry_after.not_before.has_value());
  EXPECT_EQ(*retry_after.not_before, clock.Now() + std::chrono::seconds(7));
}

TEST(YmStocks, RepeatedSkuGoesToALaterRequestSoTheLastCommandWins) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto adapter = MakeAdapter(ConfigFor("ym", so, sim.base_url()), http, clock);
  std::vector<queue::Message> batch = {Command("set_stock", {{"sku", "X"}, {"stock", 1}}),
                                       Command("set_stock", {{"sku", "Y"}, {"stock", 2}}),
                                       Command("set_stock", {{"sku", "X"}, {"stock", 3}})};
  auto outcomes = adapter->Deliver(batch);
  for (const auto& o : outcomes) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(sim.Stocks().at("X"), 3);
  EXPECT_EQ(sim.Stocks().at("Y"), 2);
}

TEST(YmPrices, SetPriceGoesToTheBusinessAndBadItemsFailLocally) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 0;
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  auto adapter = MakeAdapter(ConfigFor("ym", so, sim.base_url()), http, clock);
  std::vector<queue::Message> batch = {
      Command("set_price", {{"offer_id", "YM-1"}, {"price", "123.45"}, {"currency", "RUR"}}),
      Command("set_price", {{"offer_id", "YM-2"}, {"price", 99}}),
      Command("set_price", {{"offer_id", "YM-3"}, {"price", "-1"}}),
      Command("frobnicate", {})};
  auto outcomes = adapter->Deliver(batch);
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].error;
  EXPECT_TRUE(outcomes[1].ok()) << outcomes[1].error;
  EXPECT_EQ(outcomes[2].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(outcomes[3].kind, DeliveryOutcome::Kind::kFail);
  auto posts = sim.log().Find(
      "POST", "/v2/businesses/" + std::to_string(so.business_id()) + "/offer-prices/updates");
  ASSERT_EQ(posts.size(), 1u);
  auto body = json::parse(posts[0].body);
  EXPECT_EQ(body["offers"][0]["price"]["value"], 123.45);
  EXPECT_EQ(body["offers"][0]["price"]["currencyId"], "RUR");
  auto state = json::parse(sim.StateJson());
  EXPECT_EQ(state["prices"]["YM-2"], "99 RUR");
}

TEST(YmWebhook, PingOrderHintsAuthAndBadBodies) {
  ManualClock clock;
  YmConfig config;
  config.id = "ym";
  config.push.token = Secret("tok");
  auto allow = net::CidrList::Parse(DefaultPushAllowIps());
  ASSERT_TRUE(allow.ok());
  config.push.allow_ips = std::move(allow).value();
  YmAdapter adapter(config, MakeUpstreamTransport("x", nullptr, clock, 0, nullptr), clock);
  net::HttpRequest r;
  r.method = "POST";
  r.path = "/hooks/ym";
  r.query = "token=tok";
  r.remote_address = "5.45.207.10";
  r.body = R"({"notificationType":"PING","time":"2025-01-01T00:00:00Z"})";
  auto ping = adapter.HandleWebhook(r);
  ASSERT_TRUE(ping.ok()) << ping.status().ToString();
  EXPECT_TRUE(ping->events.empty());
  EXPECT_EQ(ping->accepted.status, 200);
  auto answer = json::parse(ping->accepted.body);
  EXPECT_TRUE(answer["version"].is_string());
  EXPECT_EQ(answer["name"], "crmhub");
  EXPECT_TRUE(ParseIsoTime(answer["time"].get<std::string>()).has_value());

  r.body = R"({"notificationType":"ORDER_STATUS_UPDATED","campaignId":1,"orderId":777,)"
           R"("status":"DELIVERY","substatus":"DELIVERY_SERVICE_RECEIVED",)"
           R"("updatedAt":"2025-01-01T00:00:00Z"})";
  auto hint = adapter.HandleWebhook(r);
  ASSERT_TRUE(hint.ok());
  ASSERT_EQ(hint->events.size(), 1u);
  EXPECT_EQ(hint->events[0].ordering_key, "777");
  EXPECT_EQ(hint->events[0].headers[0], (std::pair<std::string, std::string>{"kind", "order_hint"}));
  EXPECT_EQ(hint->accepted.status, 200);

  r.body = "[1,2]";
  auto bad = adapter.HandleWebhook(r);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->accepted.status, 400);
  EXPECT_EQ(json::parse(bad->accepted.body)["error"]["type"], "WRONG_EVENT_FORMAT");

  r.body = R"({"notificationType":"PING"})";
  r.remote_address = "10.0.0.1";
  EXPECT_EQ(adapter.HandleWebhook(r).status().code(), StatusCode::kPermissionDenied);
  r.remote_address = "141.8.142.1";
  r.query = "token=nope";
  EXPECT_EQ(adapter.HandleWebhook(r).status().code(), StatusCode::kUnauthenticated);
}

TEST(YmSim, StateAndRequestLogEndpoints) {
  ManualClock clock;
  YandexMarketSimOptions so;
  so.orders = 3;
  so.arrival = std::chrono::seconds(0);
  YandexMarketSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  ClientThread http;
  net::OutboundRequest r;
  r.method = "GET";
  r.url = sim.base_url() + "/__sim/state";
  auto state = http.client().SendBlocking(r);
  ASSERT_TRUE(state.ok());
  auto j = json::parse(state->body);
  ASSERT_EQ(j["orders"].size(), 3u);
  EXPECT_EQ(j["orders"][0]["status"], "PROCESSING");
  EXPECT_EQ(j["orders"][0]["substatus"], "STARTED");
  r.url = sim.base_url() + "/v2/campaigns/1/orders";
  r.headers.Set("Api-Key", so.api_key());
  auto forbidden = http.client().SendBlocking(r);
  ASSERT_TRUE(forbidden.ok());
  EXPECT_EQ(forbidden->status, 403);
  r.url = sim.base_url() + "/__sim/requests";
  auto log = http.client().SendBlocking(r);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->body.find("/v2/campaigns/1/orders"), std::string::npos);
  EXPECT_EQ(log->body.find(so.api_key()), std::string::npos) << "Api-Key is redacted";
}

}  // namespace
}  // namespace crmhub::adapters::yandex_market
