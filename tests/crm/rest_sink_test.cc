// RestCrmSink against the reference CRM core (tests/crm/reference_crm_server)
// over real loopback HTTP (issue 5, acceptance 5).

#include "crm/rest_sink.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "crm/sink_factory.h"
#include "tests/crm/crm_test_util.h"
#include "tests/crm/reference_crm_server.h"

namespace crmhub::crm {
namespace {

using model::EntityKind;
using testing::Event;
using ::testing::HasSubstr;
using testing::Order;

// An io_context run by real threads for the client and the server.
class IoThreads {
 public:
  IoThreads() : guard_(io_.get_executor()) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    guard_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

class RestSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ReferenceCrmOptions options;
    options.db_path = dir_.path() / "reference.db";
    auto server = testing::ReferenceCrmServer::Start(io_.io(), clock_, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    client_ = std::make_unique<net::HttpClient>(io_.io(), net::HttpClientOptions{});
    sink_ = MakeRest("test-token");
  }
  void TearDown() override {
    sink_.reset();
    if (server_) server_->Stop();
  }

  std::unique_ptr<RestCrmSink> MakeRest(std::string token) {
    RestSinkOptions options;
    options.base_url = server_->base_url() + "/";  // a trailing slash is tolerated
    options.token = Secret(std::move(token));
    options.timeout = std::chrono::seconds(10);
    return std::make_unique<RestCrmSink>(*client_, clock_, options);
  }

  testing::TempDir dir_;
  ManualClock clock_;
  // Declared after what they use, so they are destroyed first (io_ last of all
  // would stop the loop under them; it is declared first).
  IoThreads io_;
  std::unique_ptr<testing::ReferenceCrmServer> server_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<RestCrmSink> sink_;
};

TEST_F(RestSinkTest, PutsEachEntityWithIdempotencyKeyAndBearerToken) {
  SinkEvent ev = Event("ozon", "posting-1:delivered",
                       {Order("ozon", "P/1 x", 5, "delivered"), Order("ozon", "P-2", 5, "new")}, 9);
  auto outcomes = sink_->Apply({ev});
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].error;

  auto seen = server_->requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].method, "PUT");
  EXPECT_EQ(seen[0].target, "/v1/entities/order/ozon/P%2F1%20x");
  EXPECT_EQ(seen[0].idempotency_key, "posting-1:delivered/0");
  EXPECT_EQ(seen[1].idempotency_key, "posting-1:delivered/1");
  EXPECT_EQ(seen[0].authorization, "Bearer test-token");
  EXPECT_EQ(seen[0].status, 201);
  EXPECT_THAT(seen[0].body, HasSubstr(R"("meta":{"message_id":9)"));

  auto stored = server_->store().Find(EntityKind::kOrder, "ozon", "P/1 x");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((**stored).entity.fields.at("status"), "delivered");

  // Delivered again (e.g. the ack was lost): the server sees duplicates.
  outcomes = sink_->Apply({ev});
  ASSERT_TRUE(outcomes[0].ok());
  seen = server_->requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[2].status, 200);
  EXPECT_EQ(server_->store().JournalSize().value(), 2);
}

TEST_F(RestSinkTest, RetriesThrough503sThenSucceeds) {
  SinkEvent ev =
      Event("ozon", "k", {Order("ozon", "P-1", 1, "new"), Order("ozon", "P-2", 1, "new")});
  server_->FailNextWith503(2, /*retry_after_seconds=*/7);

  auto first = sink_->Apply({ev});
  ASSERT_EQ(first[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_THAT(first[0].error, HasSubstr("HTTP 503"));
  EXPECT_THAT(first[0].error, HasSubstr("injected 503"));
  ASSERT_TRUE(first[0].not_before.has_value());
  EXPECT_EQ(*first[0].not_before, clock_.Now() + std::chrono::seconds(7));
  // Nothing after the failing entity was sent.
  EXPECT_EQ(server_->requests().size(), 1u);

  EXPECT_EQ(sink_->Apply({ev})[0].kind, DeliveryOutcome::Kind::kRetry);
  auto third = sink_->Apply({ev});
  ASSERT_TRUE(third[0].ok()) << third[0].error;
  EXPECT_EQ(server_->store().Count(EntityKind::kOrder).value(), 2);
  EXPECT_EQ(server_->store().JournalSize().value(), 2);
}

TEST_F(RestSinkTest, InvalidEntityIsDeadLetteredWithTheServersMessage) {
  model::Entity bad = Order("ozon", "P-9", 1, "new");
  bad.fields.erase("status");
  auto outcomes = sink_->Apply({Event("ozon", "bad", {bad})});
  ASSERT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_THAT(outcomes[0].error, HasSubstr("HTTP 422"));
  EXPECT_THAT(outcomes[0].error, HasSubstr("field \"status\": required field is missing"));
  EXPECT_THAT(outcomes[0].error, HasSubstr("order ozon/P-9"));

  server_->RejectAllWith422(true);
  outcomes = sink_->Apply({Event("ozon", "good", {Order("ozon", "P-1", 1, "new")})});
  ASSERT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_THAT(outcomes[0].error, HasSubstr("rejecting every entity"));
}

TEST_F(RestSinkTest, ManyEventsConcurrentlyKeepPerEventOutcomes) {
  std::vector<SinkEvent> batch;
  for (int i = 0; i < 40; ++i) {
    model::Entity e = Order("wb", "W-" + std::to_string(i), 1, "new");
    if (i == 17) e.fields["total"] = "12.50";  // not minor units: invalid
    batch.push_back(Event("wb", "e" + std::to_string(i), {e}));
  }
  auto outcomes = sink_->Apply(batch);
  ASSERT_EQ(outcomes.size(), 40u);
  for (int i = 0; i < 40; ++i) {
    if (i == 17) {
      EXPECT_EQ(outcomes[i].kind, DeliveryOutcome::Kind::kFail);
      EXPECT_THAT(outcomes[i].error, HasSubstr("W-17"));
    } else {
      EXPECT_TRUE(outcomes[i].ok()) << i << ": " << outcomes[i].error;
    }
  }
  EXPECT_EQ(server_->store().Count(EntityKind::kOrder).value(), 39);
}

TEST_F(RestSinkTest, WrongTokenIsRetriedNotDeadLettered) {
  auto sink = MakeRest("wrong");
  auto outcomes = sink->Apply({Event("ozon", "k", {Order("ozon", "P-1", 1, "new")})});
  ASSERT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_THAT(outcomes[0].error, HasSubstr("HTTP 401"));
  EXPECT_EQ(server_->store().Count(EntityKind::kOrder).value(), 0);
}

TEST_F(RestSinkTest, UnreachableServerIsRetry) {
  const std::string url = server_->base_url();
  server_->Stop();
  server_.reset();
  RestSinkOptions options;
  options.base_url = url;
  options.token = Secret("test-token");
  RestCrmSink sink(*client_, clock_, options);
  auto outcomes = sink.Apply({Event("ozon", "k", {Order("ozon", "P-1", 1, "new")})});
  EXPECT_EQ(outcomes[0].kind, DeliveryOutcome::Kind::kRetry);
}

TEST_F(RestSinkTest, FactoryBuildsBothSinksAndRejectsBadOptions) {
  SinkOptions http;
  http.type = "http";
  http.url = server_->base_url();
  http.token = Secret("test-token");
  auto sink = MakeSink(http, clock_, client_.get());
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->name(), "http");
  EXPECT_TRUE((*sink)->Apply({Event("ozon", "k", {Order("ozon", "P-1", 1, "new")})})[0].ok());

  SinkOptions sqlite;
  sqlite.data_dir = dir_.path() / "data";
  auto store = MakeSink(sqlite, clock_, nullptr);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->name(), "sqlite");
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "data" / "crm.db"));

  SinkOptions no_url = http;
  no_url.url = "";
  EXPECT_EQ(MakeSink(no_url, clock_, client_.get()).status().code(), StatusCode::kInvalidArgument);
  SinkOptions no_token = http;
  no_token.token = Secret();
  EXPECT_EQ(MakeSink(no_token, clock_, client_.get()).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeSink(http, clock_, nullptr).status().code(), StatusCode::kInvalidArgument);
  SinkOptions unknown;
  unknown.type = "kafka";
  EXPECT_EQ(MakeSink(unknown, clock_, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(RestSinkUnitTest, HeaderAndUrlEncoding) {
  EXPECT_EQ(IdempotencyKeyHeader("a b\n%ü", 3), "a%20b%0A%25%C3%BC/3");
  EXPECT_EQ(IdempotencyKeyHeader("ozon:P-1:delivered", 0), "ozon:P-1:delivered/0");
  model::Entity e = Order("my src", "a/b?c", 1, "new");
  EXPECT_EQ(EntityUrl("https://crm.example.com/api//", e),
            "https://crm.example.com/api/v1/entities/order/my%20src/a%2Fb%3Fc");
}

}  // namespace
}  // namespace crmhub::crm
