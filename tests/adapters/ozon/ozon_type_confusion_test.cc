// Outside data of the wrong shape: answers and push notifications with
// numbers where strings are expected, arrays where objects are, nulls,
// numbers too large for any integer (1e400, 18446744073709551616) and
// documents nested 100,000 deep. Each gives a clear per-record error, a
// retryable pull error or a dead letter -- never a crash -- and the adapter
// goes on: the good answer after them is processed.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;

const std::string kDeep = std::string(100000, '[') + std::string(100000, ']');

// Ozon as a script: every request to a path is answered 200 with the body
// set for it.
class ScriptedOzon {
 public:
  std::map<std::string, std::string> body;  // path -> answer
  int sent = 0;
  net::Transport transport() {
    return [this](std::string_view, net::OutboundRequest r) -> net::OutboundResult {
      ++sent;
      net::OutboundResponse response;
      response.status = 200;
      response.body = body[std::string(net::UrlPath(r.url))];
      return response;
    };
  }
};

class OzonTypeConfusion : public ::testing::Test {
 protected:
  OzonConfig Config() {
    OzonConfig c;
    c.id = "ozon-main";
    c.client.base_url = "http://ozon.test";
    c.client.client_id = "1";
    c.client.api_key = Secret("k");
    c.schemes = {Scheme::kFbs};
    c.catalog_refresh = std::chrono::milliseconds(0);
    return c;
  }
  static adapters::Command MakeCommand(const std::string& name, const std::string& payload) {
    adapters::Command m;
    m.name = name;
    m.payload = payload;
    return m;
  }
  ManualClock clock_;
  ScriptedOzon ozon_;
};

TEST_F(OzonTypeConfusion, ListAnswersOfTheWrongShapeFailThePullOrSkipThePosting) {
  OzonAdapter adapter(Config(), ozon_.transport(), clock_);
  auto& page = ozon_.body["/v3/posting/fbs/list"];
  // A retryable pull error, the cursor unchanged (no next_cursor).
  for (
      const std::string& bad : std::vector<std::string>{
          R"({"result":[]})",
          R"({"result":{"postings":{"posting_number":"1-1-1","status":"delivered"}}})",
          R"([1,2])",
          "null",
          R"("result")",
          "",
          R"({"result":{"postings":[{"posting_number":"1-1-1","status":"delivered","products":[{"price":"1.00","quantity":1e400}]}]}})",
          R"({"result":{"postings":[{"posting_number":"1-1-1","status":"delivered","x":)" + kDeep +
              "}]}}",
      }) {
    page = bad;
    auto pulled = adapter.Pull(std::nullopt);
    ASSERT_FALSE(pulled.ok()) << bad.substr(0, 200);
    EXPECT_EQ(pulled.status().code(), StatusCode::kUnavailable) << pulled.status().ToString();
    EXPECT_NE(pulled.status().message().find("/v3/posting/fbs/list"), std::string::npos)
        << pulled.status().ToString();
  }
  // Postings that cannot be keyed are skipped; the rest of the page is read.
  page = R"({"result":{"postings":[{"posting_number":null,"status":"delivered"},
      {"posting_number":{"a":1},"status":"x"},{"posting_number":"2-2-2","status":[1]},7,"s",null,[],
      {"posting_number":18446744073709551616,"status":"delivered"},
      {"posting_number":"3-3-3","status":"delivered","products":[{"price":5,"quantity":"x"}]}],
      "has_next":"maybe"}})";
  auto odd = adapter.Pull(std::nullopt);
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  ASSERT_EQ(odd->events.size(), 1u);
  EXPECT_EQ(odd->events[0].idempotency_key, "3-3-3:delivered");
  EXPECT_EQ(json::parse(odd->events[0].payload).count("total_minor"), 0u) << "no exact amount";
  // And a good page after all that.
  page = R"({"result":{"postings":[{"posting_number":"9-9-9","status":"delivered",
      "products":[{"price":"10.00","quantity":2,"currency_code":"RUB"}]}],"has_next":false}})";
  auto good = adapter.Pull(std::nullopt);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(good->events.size(), 1u);
  EXPECT_EQ(json::parse(good->events[0].payload)["total_minor"], 2000);
}

TEST_F(OzonTypeConfusion, StockAndPriceAnswersOfTheWrongShapeSettleEachItem) {
  OzonAdapter adapter(Config(), ozon_.transport(), clock_);
  const auto stock =
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":22,"stock":5})");
  auto deliver = [&](const adapters::Command& m) {
    clock_.Advance(std::chrono::seconds(31));  // past the pair's 30 s
    auto out = adapter.Deliver(std::vector<adapters::Command>{m});
    EXPECT_EQ(out.size(), 1u);
    return out.empty() ? DeliveryOutcome::Fail("no outcome") : out[0];
  };
  struct Case {
    std::string answer;
    DeliveryOutcome::Kind kind;
    std::string says;
  };
  const std::vector<Case> cases = {
      {R"({"result":{"a":1}})", DeliveryOutcome::Kind::kRetry, "no result for this item"},
      {"[]", DeliveryOutcome::Kind::kRetry, "no result for this item"},
      {"null", DeliveryOutcome::Kind::kRetry, "no result for this item"},
      {R"({"result":[{"product_id":"x","warehouse_id":[1],"updated":"yes","errors":{"code":1}}]})",
       DeliveryOutcome::Kind::kRetry, "updated=false without errors"},
      {R"({"result":[{"product_id":100001,"warehouse_id":22,"updated":false,
           "errors":[{"code":123,"message":null},"x",null]}]})",
       DeliveryOutcome::Kind::kFail, "123"},
      {R"({"result":[{"product_id":1e400}]})", DeliveryOutcome::Kind::kRetry, "unreadable body"},
      {kDeep, DeliveryOutcome::Kind::kRetry, "nested deeper"},
      {"{\"result\":", DeliveryOutcome::Kind::kRetry, "unreadable body"},
  };
  for (const Case& c : cases) {
    ozon_.body["/v2/products/stocks"] = c.answer;
    const DeliveryOutcome out = deliver(stock);
    EXPECT_EQ(out.kind, c.kind) << c.answer.substr(0, 200) << ": " << out.error;
    EXPECT_NE(out.error.find(c.says), std::string::npos) << out.error;
  }
  ozon_.body["/v2/products/stocks"] =
      R"({"result":[{"product_id":100001,"warehouse_id":22,"updated":true,"errors":[]}]})";
  EXPECT_TRUE(deliver(stock).ok());

  const auto price = MakeCommand("set_price", R"({"product_id":100001,"price":"12.50"})");
  ozon_.body["/v1/product/import/prices"] = R"({"result":[{"product_id":[1],"updated":null}]})";
  EXPECT_EQ(deliver(price).kind, DeliveryOutcome::Kind::kRetry);
  ozon_.body["/v1/product/import/prices"] =
      R"({"result":[{"product_id":100001,"updated":true,"errors":[]}]})";
  EXPECT_TRUE(deliver(price).ok());
}

// The catalogue's answer of the wrong shape: an offer it cannot name is a
// dead letter; an unreadable answer is retried; a good one resolves it.
TEST_F(OzonTypeConfusion, CatalogueAnswersOfTheWrongShape) {
  OzonAdapter adapter(Config(), ozon_.transport(), clock_);
  ozon_.body["/v2/products/stocks"] =
      R"({"result":[{"product_id":100001,"warehouse_id":22,"updated":true,"errors":[]}]})";
  const auto stock =
      MakeCommand("set_stock", R"({"offer_id":"SKU-1","warehouse_id":22,"stock":5})");
  auto deliver = [&] {
    clock_.Advance(std::chrono::seconds(31));
    return adapter.Deliver(std::vector<adapters::Command>{stock})[0];
  };
  ozon_.body["/v3/product/list"] =
      R"({"result":{"items":[{"offer_id":["SKU-1"],"product_id":100001},{"offer_id":"SKU-1",
          "product_id":"x"},{"offer_id":"SKU-1","product_id":18446744073709551616},7,null],"last_id":5}})";
  DeliveryOutcome out = deliver();
  EXPECT_EQ(out.kind, DeliveryOutcome::Kind::kFail) << out.error;
  EXPECT_NE(out.error.find("not in the Ozon catalogue"), std::string::npos) << out.error;
  for (const char* bad :
       {R"({"result":"x"})", R"({"result":{"items":[{"offer_id":"SKU-1","product_id":1e400}]}})"}) {
    ozon_.body["/v3/product/list"] = bad;
    out = deliver();
    EXPECT_EQ(out.kind, DeliveryOutcome::Kind::kRetry) << bad << ": " << out.error;
    EXPECT_NE(out.error.find("catalogue"), std::string::npos) << out.error;
  }
  ozon_.body["/v3/product/list"] =
      R"({"result":{"items":[{"offer_id":"SKU-1","product_id":"100001"}],"last_id":""}})";
  out = deliver();
  EXPECT_TRUE(out.ok()) << out.error;
}

TEST_F(OzonTypeConfusion, CommandsOfTheWrongShapeAreDeadLettered) {
  ozon_.body["/v2/products/stocks"] =
      R"({"result":[{"product_id":100001,"warehouse_id":22,"updated":true,"errors":[]}]})";
  ozon_.body["/v1/product/import/prices"] =
      R"({"result":[{"product_id":100002,"updated":true,"errors":[]}]})";
  OzonAdapter adapter(Config(), ozon_.transport(), clock_);
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", R"({"offer_id":{"x":1},"warehouse_id":22,"stock":5})"),
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":22,"stock":1e400})"),
      MakeCommand("set_stock",
                  R"({"product_id":18446744073709551616,"warehouse_id":22,"stock":5})"),
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":[22],"stock":5})"),
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":22,"stock":"many"})"),
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":22,"stock":null})"),
      MakeCommand("set_stock", R"([{"product_id":100001}])"),
      MakeCommand("set_stock", kDeep),
      MakeCommand("set_price", R"({"product_id":100002,"price":[1]})"),
      MakeCommand("set_price", R"({"product_id":100002,"price":null})"),
      MakeCommand("set_price", R"({"product_id":100002,"price":"1.999"})"),
      MakeCommand("set_price", R"({"product_id":100002,"price":"12.50","currency_code":643})"),
      MakeCommand("set_stock", R"({"product_id":100001,"warehouse_id":"22","stock":"5"})"),
      MakeCommand("set_price", R"({"product_id":100002,"price":12.5,"currency_code":"RUB"})"),
  };
  auto out = adapter.Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  for (size_t i = 0; i + 2 < batch.size(); ++i) {
    EXPECT_EQ(out[i].kind, DeliveryOutcome::Kind::kFail)
        << i << ": " << batch[i].payload.substr(0, 80);
    EXPECT_NE(out[i].error.rfind("ozon: ", 0), std::string::npos) << out[i].error;
  }
  EXPECT_TRUE(out[batch.size() - 2].ok()) << out[batch.size() - 2].error;
  EXPECT_TRUE(out[batch.size() - 1].ok()) << out[batch.size() - 1].error;
  EXPECT_EQ(ozon_.sent, 2) << "one stocks and one prices request, for the good commands alone";
}

TEST_F(OzonTypeConfusion, PushNotificationsOfTheWrongShapeGetTheDocumentedError) {
  OzonConfig config = Config();
  OzonAdapter adapter(config, ozon_.transport(), clock_);
  auto push = [&](const std::string& body) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = "/hooks/ozon-main";
    r.body = body;
    r.remote_address = "195.34.21.7";
    return adapter.HandleWebhook(r);
  };
  for (
      const std::string& bad : std::vector<std::string>{
          "[1,2,3]",
          "null",
          "17",
          R"({"message_type":123})",
          R"({"message_type":null})",
          R"({"message_type":["TYPE_PING"]})",
          R"({"message_type":"TYPE_STATE_CHANGED","posting_number":123,"new_state":"posting_delivered"})",
          R"({"message_type":"TYPE_STATE_CHANGED","posting_number":18446744073709551616,"new_state":"posting_delivered"})",
          R"({"message_type":"TYPE_STATE_CHANGED","posting_number":"1-2-3","new_state":{"x":1}})",
          R"({"message_type":"TYPE_POSTING_CANCELLED","posting_number":null})",
          R"({"message_type":"TYPE_PING","time":1e400})",
          R"({"message_type":"TYPE_NEW_POSTING","posting_number":"1-2-3","x":)" + kDeep + "}",
          // Not UTF-8: the parser's message quotes the bytes, and the answer
          // must still be written (a JSON writer throws on such text).
          "\xff\xfe{",
          "{\"message_type\":\"TYPE_PING\",\"time\":\"\xff\"}",
      }) {
    auto r = push(bad);
    ASSERT_TRUE(r.ok()) << bad.substr(0, 100) << ": " << r.status().ToString();
    EXPECT_TRUE(r->events.empty()) << bad.substr(0, 100);
    EXPECT_EQ(r->accepted.status, 400) << bad.substr(0, 100);
    auto answer = json::parse(r->accepted.body);
    EXPECT_EQ(answer["error"]["code"], "ERROR_PARAMETER_VALUE_MISSED") << r->accepted.body;
    EXPECT_TRUE(answer["error"]["message"].is_string()) << r->accepted.body;
  }
  auto good = push(R"({"message_type":"TYPE_STATE_CHANGED","posting_number":"1-2-3",
                       "new_state":"posting_delivered"})");
  ASSERT_TRUE(good.ok());
  ASSERT_EQ(good->events.size(), 1u);
  EXPECT_EQ(good->events[0].idempotency_key, "push:1-2-3:delivered");
}

}  // namespace
}  // namespace crmhub::adapters::ozon
