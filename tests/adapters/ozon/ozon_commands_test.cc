// Ship and cancel of FBS postings: the simulator's status machine (from the
// spec), and the adapter's commands against it over loopback HTTP.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/adapters/ozon/ozon_test_support.h"

namespace crmhub::adapters::ozon {
namespace {

using nlohmann::json;
using testing::ClientThread;
using testing::ConfigFor;

adapters::Command MakeCommand(const std::string& name, const json& item, int attempt = 1) {
  adapters::Command m;
  m.name = name;
  m.payload = item.dump();
  m.attempt = attempt;
  return m;
}

TEST(OzonSimStatusMachine, FollowsTheSpecsTransitionsAndErrors) {
  EXPECT_EQ(SellerWriteRefusal("ship", "awaiting_packaging"), "");
  EXPECT_EQ(SellerWriteRefusal("ship", "awaiting_deliver"), "POSTING_ALREADY_SHIPPED");
  EXPECT_EQ(SellerWriteRefusal("ship", "delivered"), "POSTING_ALREADY_SHIPPED");
  EXPECT_EQ(SellerWriteRefusal("ship", "cancelled"), "POSTING_ALREADY_CANCELLED");
  EXPECT_EQ(SellerWriteRefusal("ship", "awaiting_approve"), "HAS_INCORRECT_STATUS");
  EXPECT_EQ(SellerWriteRefusal("cancel", "awaiting_packaging"), "");
  EXPECT_EQ(SellerWriteRefusal("cancel", "awaiting_deliver"), "");
  EXPECT_EQ(SellerWriteRefusal("cancel", "delivering"), "HAS_INCORRECT_STATUS");
  EXPECT_EQ(SellerWriteRefusal("cancel", "cancelled"), "POSTING_ALREADY_CANCELLED");
}

class OzonCommandsTest : public ::testing::Test {
 protected:
  OzonCommandsTest() {
    options_.orders = 40;
    options_.products = 50;
    options_.fbo_share = 0.25;
    options_.await_seller = true;
    options_.arrival = std::chrono::seconds(10);
    options_.lifetime = std::chrono::seconds(30);
    sim_ = std::make_unique<OzonSimulator>(options_, clock_);
    EXPECT_TRUE(sim_->Start("127.0.0.1:0").ok());
    clock_.Advance(std::chrono::minutes(1));
    adapter_ = std::make_unique<OzonAdapter>(ConfigFor("ozon-main", options_, sim_->base_url()),
                                             http_.transport(), clock_);
    const std::set<std::string> fbo = sim_->FboPostings();
    for (const auto& [number, status] : sim_->OrderStatuses(false)) {
      (fbo.contains(number) ? fbo_ : fbs_).push_back(number);
    }
  }
  std::string Status(const std::string& number) { return sim_->OrderStatuses(false).at(number); }
  // The requests to `path` the simulator was sent.
  size_t Sent(const std::string& path) {
    const auto log = sim_->log().Snapshot();
    return std::count_if(log.begin(), log.end(),
                         [&](const simkit::LoggedRequest& r) { return r.path == path; });
  }
  // A raw request to the simulator: (status, body).
  std::pair<int, json> Post(const std::string& path, const json& body) {
    net::OutboundRequest r;
    r.method = "POST";
    r.url = sim_->base_url() + path;
    r.headers.Set("Client-Id", options_.client_id());
    r.headers.Set("Api-Key", options_.api_key());
    r.headers.Set("Content-Type", "application/json");
    r.body = body.dump();
    auto answer = http_.transport()("", std::move(r));
    EXPECT_TRUE(answer.ok());
    if (!answer.ok()) return {0, json()};
    return {answer->status, json::parse(answer->body, nullptr, false)};
  }

  ManualClock clock_;
  OzonSimOptions options_;
  ClientThread http_;
  std::unique_ptr<OzonSimulator> sim_;
  std::unique_ptr<OzonAdapter> adapter_;
  std::vector<std::string> fbs_, fbo_;
};

TEST_F(OzonCommandsTest, TheSimulatorMovesPostingsOnlyAsTheSpecDocuments) {
  ASSERT_GE(fbs_.size(), 3u);
  ASSERT_FALSE(fbo_.empty());
  const std::string a = fbs_[0], b = fbs_[1];
  EXPECT_EQ(Status(a), "awaiting_packaging");  // await_seller
  auto [got, posting] = Post("/v3/posting/fbs/get", {{"posting_number", a}});
  ASSERT_EQ(got, 200) << posting.dump();
  const json product = posting["result"]["products"][0];
  const json ship = {
      {"posting_number", a},
      {"packages",
       {{{"products", {{{"product_id", product["sku"]}, {"quantity", product["quantity"]}}}}}}}};
  // A wrong quantity or product is refused, the posting unmoved.
  json wrong = ship;
  wrong["packages"][0]["products"][0]["quantity"] = product["quantity"].get<int>() + 1;
  EXPECT_EQ(Post("/v4/posting/fbs/ship", wrong).second["message"],
            "HAS_INCORRECT_PRODUCT_QUANTITY");
  wrong["packages"][0]["products"][0]["product_id"] = 1;
  EXPECT_EQ(Post("/v4/posting/fbs/ship", wrong).second["message"], "UNKNOWN_PRODUCT_DEFINED");
  EXPECT_EQ(Status(a), "awaiting_packaging");
  // Shipped once; a second ship is POSTING_ALREADY_SHIPPED.
  EXPECT_EQ(Post("/v4/posting/fbs/ship", ship).first, 200);
  EXPECT_EQ(Status(a), "awaiting_deliver");
  auto again = Post("/v4/posting/fbs/ship", ship);
  EXPECT_EQ(again.first, 400);
  EXPECT_EQ(again.second["message"], "POSTING_ALREADY_SHIPPED");
  // Cancel: the reasons the spec lists, 402 with a message.
  EXPECT_EQ(Post("/v2/posting/fbs/cancel", {{"posting_number", b}, {"cancel_reason_id", 401}})
                .second["message"],
            "HAS_INCORRECT_CANCEL_REASON");
  EXPECT_EQ(
      Post("/v2/posting/fbs/cancel", {{"posting_number", b}, {"cancel_reason_id", 402}}).first,
      400);
  EXPECT_EQ(Status(b), "awaiting_packaging");
  auto cancelled =
      Post("/v2/posting/fbs/cancel", {{"posting_number", b}, {"cancel_reason_id", 352}});
  EXPECT_EQ(cancelled.first, 200);
  EXPECT_EQ(cancelled.second, json({{"result", true}}));
  EXPECT_EQ(Status(b), "cancelled");
  EXPECT_EQ(Post("/v3/posting/fbs/get", {{"posting_number", b}})
                .second["result"]["cancellation"]["cancel_reason_id"],
            352);
  // A shipped posting can still be cancelled before it is handed over.
  EXPECT_EQ(
      Post("/v2/posting/fbs/cancel", {{"posting_number", a}, {"cancel_reason_id", 352}}).first,
      200);
  EXPECT_EQ(Status(a), "cancelled");
  // A cancelled one is neither shipped nor cancelled again.
  EXPECT_EQ(Post("/v4/posting/fbs/ship", ship).second["message"], "POSTING_ALREADY_CANCELLED");
  EXPECT_EQ(Post("/v2/posting/fbs/cancel", {{"posting_number", b}, {"cancel_reason_id", 352}})
                .second["message"],
            "POSTING_ALREADY_CANCELLED");
  // FBO postings are not the FBS methods' to see.
  EXPECT_EQ(Post("/v3/posting/fbs/get", {{"posting_number", fbo_[0]}}).first, 404);
  EXPECT_EQ(Post("/v2/posting/fbs/cancel", {{"posting_number", fbo_[0]}, {"cancel_reason_id", 352}})
                .second["message"],
            "POSTING_NOT_FOUND");
}

TEST_F(OzonCommandsTest, ShipsAndCancelsPerItem) {
  ASSERT_GE(fbs_.size(), 4u);
  const std::vector<adapters::Command> batch = {
      MakeCommand("ship", {{"order_id", fbs_[0]}}),
      MakeCommand("cancel", {{"order_id", fbs_[1]}}),
      MakeCommand("cancel", {{"order_id", fbs_[2]}, {"cancel_reason_id", 352}}),
      MakeCommand("ship", {{"order_id", fbs_[3]}, {"delivery_schema", "fbo"}}),
      MakeCommand("cancel", {{"order_id", fbs_[3]}, {"cancel_reason_id", 666}}),
      MakeCommand("ship", {{"order_id", 12345}}),
      MakeCommand("set_status", {{"order_id", fbs_[3]}, {"status", "delivered"}}),
  };
  const auto out = adapter_->Deliver(batch);
  ASSERT_EQ(out.size(), batch.size());
  EXPECT_TRUE(out[0].ok()) << out[0].error;
  EXPECT_TRUE(out[1].ok()) << out[1].error;
  EXPECT_TRUE(out[2].ok()) << out[2].error;
  for (size_t i = 3; i < out.size(); ++i) {
    EXPECT_EQ(out[i].kind, DeliveryOutcome::Kind::kFail) << i;
  }
  EXPECT_NE(out[3].error.find("read-only"), std::string::npos) << out[3].error;
  EXPECT_NE(out[4].error.find("352, 400, 402"), std::string::npos) << out[4].error;
  EXPECT_NE(out[5].error.find("posting_number"), std::string::npos) << out[5].error;
  EXPECT_EQ(Status(fbs_[0]), "awaiting_deliver");
  EXPECT_EQ(Status(fbs_[1]), "cancelled");
  EXPECT_EQ(Status(fbs_[2]), "cancelled");
  EXPECT_EQ(Status(fbs_[3]), "awaiting_packaging");
  // The default reason is 402 with its required message.
  const auto log = sim_->log().Snapshot();
  auto cancel = std::find_if(log.begin(), log.end(), [&](const simkit::LoggedRequest& r) {
    return r.path == "/v2/posting/fbs/cancel" && r.body.find(fbs_[1]) != std::string::npos;
  });
  ASSERT_NE(cancel, log.end());
  const json body = json::parse(cancel->body);
  EXPECT_EQ(body["cancel_reason_id"], 402);
  EXPECT_FALSE(body.value("cancel_reason_message", "").empty());
}

TEST_F(OzonCommandsTest, AnIllegalTransitionIsADeadLetterWithTheFreshStatus) {
  ASSERT_GE(fbs_.size(), 2u);
  ASSERT_TRUE(
      adapter_->Deliver(std::vector{MakeCommand("cancel", {{"order_id", fbs_[0]}})})[0].ok());
  // Shipping a cancelled posting (with packages: sent without a read).
  auto [got, posting] = Post("/v3/posting/fbs/get", {{"posting_number", fbs_[0]}});
  ASSERT_EQ(got, 200);
  const json product = posting["result"]["products"][0];
  const json packages = {
      {{"products", {{{"product_id", product["sku"]}, {"quantity", product["quantity"]}}}}}};
  const size_t ships = Sent("/v4/posting/fbs/ship");
  const auto out = adapter_->Deliver(
      std::vector{MakeCommand("ship", {{"order_id", fbs_[0]}, {"packages", packages}})});
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(out[0].error.find("POSTING_ALREADY_CANCELLED"), std::string::npos) << out[0].error;
  EXPECT_NE(out[0].error.find("the order is now cancelled"), std::string::npos) << out[0].error;
  EXPECT_EQ(Sent("/v4/posting/fbs/ship"), ships + 1);  // once, not retried
  // Without packages the posting is read first: sent, refused, re-read.
  const auto read_first =
      adapter_->Deliver(std::vector{MakeCommand("ship", {{"order_id", fbs_[0]}})});
  EXPECT_EQ(read_first[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_NE(read_first[0].error.find("the order is now cancelled"), std::string::npos);
  // A ship without packages packs the products the posting lists.
  ASSERT_TRUE(adapter_->Deliver(std::vector{MakeCommand("ship", {{"order_id", fbs_[1]}})})[0].ok());
  EXPECT_EQ(Status(fbs_[1]), "awaiting_deliver");
}

TEST_F(OzonCommandsTest, ARedeliverySendsNothingTwice) {
  ASSERT_GE(fbs_.size(), 2u);
  const std::vector<adapters::Command> first = {MakeCommand("ship", {{"order_id", fbs_[0]}}),
                                                MakeCommand("cancel", {{"order_id", fbs_[1]}})};
  for (const auto& o : adapter_->Deliver(first)) EXPECT_TRUE(o.ok()) << o.error;
  const size_t ships = Sent("/v4/posting/fbs/ship"), cancels = Sent("/v2/posting/fbs/cancel");
  // The same commands again, as after a lost answer or a crash.
  const std::vector<adapters::Command> again = {MakeCommand("ship", {{"order_id", fbs_[0]}}, 2),
                                                MakeCommand("cancel", {{"order_id", fbs_[1]}}, 3)};
  for (const auto& o : adapter_->Deliver(again)) EXPECT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(Sent("/v4/posting/fbs/ship"), ships);
  EXPECT_EQ(Sent("/v2/posting/fbs/cancel"), cancels);
  EXPECT_EQ(Status(fbs_[0]), "awaiting_deliver");
  EXPECT_EQ(Status(fbs_[1]), "cancelled");
}

TEST_F(OzonCommandsTest, AFailureInPassingIsRetriedAndStopsTheRest) {
  ASSERT_GE(fbs_.size(), 3u);
  sim_->Stop();  // nothing answers
  const auto out = adapter_->Deliver(std::vector{MakeCommand("cancel", {{"order_id", fbs_[0]}}),
                                                 MakeCommand("ship", {{"order_id", fbs_[1]}})});
  for (const auto& o : out) EXPECT_EQ(o.kind, DeliveryOutcome::Kind::kRetry) << o.error;
}

}  // namespace
}  // namespace crmhub::adapters::ozon
