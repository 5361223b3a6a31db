// simkit::Notifier: a simulator calling the seller back, over loopback HTTP.

#include "adapters/simkit/notifier.h"

#include <gtest/gtest.h>

#include <mutex>

#include "adapters/simkit/sim_server.h"
#include "tests/support/prism.h"

namespace crmhub::simkit {
namespace {

TEST(NotifierTest, PostsJsonAndReportsTheAnswerOrWhyThereWasNone) {
  SimServer seller;
  std::mutex mu;
  net::HttpRequest received;
  ASSERT_TRUE(seller
                  .Start("127.0.0.1:0", "seller", 1,
                         [&](net::HttpRequest request, net::Responder respond) {
                           {
                             std::lock_guard lock(mu);
                             received = request;
                           }
                           respond(net::HttpResponse::Json(
                               request.path == "/hooks/x/notification" ? 200 : 404, "{}"));
                         })
                  .ok());
  Notifier notifier(std::chrono::seconds(5));
  auto answered = notifier.Post(seller.base_url() + "/hooks/x/notification", R"({"a":1})");
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  EXPECT_EQ(*answered, 200);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(received.method, "POST");
    EXPECT_EQ(received.body, R"({"a":1})");
    EXPECT_EQ(received.headers.Get("Content-Type").value_or(""), "application/json");
  }
  EXPECT_EQ(*notifier.Post(seller.base_url() + "/other", "{}"), 404);
  seller.Stop();
  auto port = crmhub::testing::PickFreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  EXPECT_FALSE(notifier.Post("http://127.0.0.1:" + std::to_string(*port) + "/", "{}").ok());
}

}  // namespace
}  // namespace crmhub::simkit
