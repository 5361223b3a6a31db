// The simulator answers like the contract says: auth, batch maxima, rate
// limits with WB's headers, the request log and state endpoints; and the
// `crmhub sim` command line.

#include "tests/daemon/test_support.h"
#include "wb_fixture.h"

namespace crmhub::adapters::wildberries::test {
namespace {

using nlohmann::json;

net::OutboundResponse Send(net::HttpClient& http, const std::string& method, const std::string& url,
                           const std::string& body,
                           std::optional<std::string> token = "sim-token") {
  net::OutboundRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  if (token) req.headers.Set("Authorization", *token);
  auto r = http.SendBlocking(std::move(req));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::OutboundResponse{};
}

TEST(WildberriesSimTest, AnswersLikeTheContract) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 5;
  so.arrival = std::chrono::seconds(1);
  WildberriesSimulator sim(so, clock);
  ASSERT_TRUE(sim.Start("127.0.0.1:0").ok());
  clock.Advance(std::chrono::seconds(2));
  net::HttpClient http(loop.io(), {});
  const std::string base = sim.base_url();

  // 401 without or with a wrong token, in the documented shape.
  for (std::optional<std::string> token :
       {std::optional<std::string>{}, std::optional<std::string>{"nope"}}) {
    auto r = Send(http, "GET", base + "/api/v3/orders?limit=1&next=0", "", token);
    EXPECT_EQ(r.status, 401);
    json body = json::parse(r.body);
    EXPECT_EQ(body["title"], "unauthorized");
    EXPECT_EQ(body["status"], 401);
    EXPECT_EQ(body["statusText"], "Unauthorized");
  }
  // Parameters and batch maxima: 400 {code, message}.
  auto bad_limit = Send(http, "GET", base + "/api/v3/orders?limit=1001&next=0", "");
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_EQ(json::parse(bad_limit.body)["code"], "IncorrectParameter");
  std::vector<int64_t> ids(1001, 10'000'000);
  auto too_many = Send(http, "POST", base + "/api/v3/orders/status", json{{"orders", ids}}.dump());
  EXPECT_EQ(too_many.status, 400);
  EXPECT_EQ(json::parse(too_many.body)["code"], "IncorrectRequestBody");
  json stocks = json::array();
  for (int i = 0; i < 1001; ++i) stocks.push_back({{"sku", SimBarcode(1)}, {"amount", 1}});
  auto big_put = Send(http, "PUT", base + "/api/v3/stocks/507", json{{"stocks", stocks}}.dump());
  EXPECT_EQ(big_put.status, 400);
  auto unknown_wh =
      Send(http, "PUT", base + "/api/v3/stocks/1", R"({"stocks":[{"sku":"x","amount":1}]})");
  EXPECT_EQ(unknown_wh.status, 404);

  // A good page, then the burst runs out: 429 with WB's headers.
  auto page = Send(http, "GET", base + "/api/v3/orders?limit=1000&next=0", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(json::parse(page.body)["orders"].size(), 5u);
  EXPECT_TRUE(page.headers.Has("X-Ratelimit-Remaining"));
  net::OutboundResponse limited;
  for (int i = 0; i < 30 && limited.status != 429; ++i) {
    limited = Send(http, "GET", base + "/api/v3/orders/new", "");
  }
  ASSERT_EQ(limited.status, 429);
  EXPECT_EQ(json::parse(limited.body)["title"], "too many requests");
  EXPECT_EQ(limited.headers.Get("X-Ratelimit-Retry").value_or(""), "1");
  EXPECT_EQ(limited.headers.Get("X-Ratelimit-Limit").value_or(""), "20");
  EXPECT_TRUE(limited.headers.Has("X-Ratelimit-Reset"));
  // Stocks are another group: not limited by the orders bucket.
  auto put = Send(http, "PUT", base + "/api/v3/stocks/507",
                  json{{"stocks", {{{"sku", SimBarcode(3)}, {"amount", 8}}}}}.dump());
  EXPECT_EQ(put.status, 204);
  // "Названия параметров запроса не валидируются": 204, nothing updated.
  auto misnamed = Send(http, "PUT", base + "/api/v3/stocks/507",
                       json{{"stocks", {{{"chrtID", 300000004}, {"amount", 6}}}}}.dump());
  EXPECT_EQ(misnamed.status, 204);
  // An unknown size: 409 NotFound.
  auto unknown = Send(http, "PUT", base + "/api/v3/stocks/507",
                      json{{"stocks", {{{"chrtId", 1}, {"amount", 6}}}}}.dump());
  EXPECT_EQ(unknown.status, 409);
  EXPECT_EQ(json::parse(unknown.body)[0]["code"], "NotFound");

  // The log and the state, without auth.
  auto log = Send(http, "GET", base + "/__sim/requests", "", std::nullopt);
  json entries = json::parse(log.body)["requests"];
  ASSERT_GT(entries.size(), 20u);
  EXPECT_EQ(entries[0]["status"], 401);
  EXPECT_EQ(log.body.find("sim-token"), std::string::npos);
  auto state = json::parse(Send(http, "GET", base + "/__sim/state", "", std::nullopt).body);
  EXPECT_EQ(state["orders"].size(), 5u);
  EXPECT_EQ(state["stocks"]["507"][SimBarcode(3)], 8);
  EXPECT_FALSE(state["stocks"]["507"].contains(SimBarcode(4)));
}

TEST(WildberriesSimTest, WorldIsDeterministicBySeed) {
  Loop loop;
  ManualClock clock;
  WildberriesSimOptions so;
  so.orders = 50;
  WildberriesSimulator a(so, clock), b(so, clock);
  so.seed = 2;
  WildberriesSimulator c(so, clock);
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(a.State()["orders"], b.State()["orders"]);
  EXPECT_NE(a.State()["orders"], c.State()["orders"]);
  EXPECT_TRUE(a.State()["all_final"].get<bool>());
  EXPECT_EQ(SimBarcode(1), "2000000000015");
}

TEST(WildberriesSimTest, CommandLineRejectsGarbageAndListsSimulators) {
  auto bad = testutil::RunAndCapture({testutil::CrmhubBinary(), "sim", "wildberries", "--listen",
                                      "127.0.0.1:0", "--faults", "418=0.5"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("unknown fault \"418\""), std::string::npos) << bad.output;
  auto unknown = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "sim", "amazon", "--listen", "127.0.0.1:0"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("wildberries"), std::string::npos) << unknown.output;
  auto help = testutil::RunAndCapture({testutil::CrmhubBinary(), "sim", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--faults"), std::string::npos);
  EXPECT_NE(help.output.find("--dbs-orders"), std::string::npos);
  EXPECT_NE(help.output.find("--price-item-errors"), std::string::npos);
}

// The Wildberries-only knobs: refused by the other simulators, and checked.
TEST(WildberriesSimTest, CommandLineChecksTheWildberriesKnobs) {
  auto on_ozon = testutil::RunAndCapture(
      {testutil::CrmhubBinary(), "sim", "ozon", "--listen", "127.0.0.1:0", "--dbs-orders", "5"});
  EXPECT_EQ(on_ozon.exit_code, 2);
  EXPECT_NE(on_ozon.output.find("--dbs-orders is a wildberries option"), std::string::npos)
      << on_ozon.output;
  auto share = testutil::RunAndCapture({testutil::CrmhubBinary(), "sim", "wildberries", "--listen",
                                        "127.0.0.1:0", "--price-item-errors", "1.5"});
  EXPECT_EQ(share.exit_code, 2);
  EXPECT_NE(share.output.find("must be a share from 0 to 1, got \"1.5\""), std::string::npos)
      << share.output;
  auto word = testutil::RunAndCapture({testutil::CrmhubBinary(), "sim", "wildberries", "--listen",
                                       "127.0.0.1:0", "--price-item-errors", "some"});
  EXPECT_EQ(word.exit_code, 2);
  auto negative = testutil::RunAndCapture({testutil::CrmhubBinary(), "sim", "wildberries",
                                           "--listen", "127.0.0.1:0", "--dbs-orders", "-1"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.output.find("--dbs-orders must be 0..10000000"), std::string::npos)
      << negative.output;
}

}  // namespace
}  // namespace crmhub::adapters::wildberries::test
