// kit::MalformedAnswer: a 2xx whose content breaks the call's promise is a
// rejection (never retried as if transient) that keeps the answer.

#include "adapters/kit/malformed_answer.h"

#include <gtest/gtest.h>

namespace crmhub::adapters::kit {
namespace {

TEST(MalformedAnswerTest, IsARejectionKeepingStatusAndBody) {
  net::ApiAnswer answer;
  answer.status = 200;
  answer.body = R"({"odata.metadata": "x"})";
  net::ApiError e = MalformedAnswer("onec-odata", "GET Catalog_X: no \"value\" array", answer);
  EXPECT_EQ(e.kind, net::ApiError::Kind::kRejected);
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(e.http_status, 200);
  EXPECT_EQ(e.message, "onec-odata: GET Catalog_X: no \"value\" array");
  EXPECT_EQ(e.body, answer.body);
  EXPECT_EQ(e.ToOutcome().kind, DeliveryOutcome::Kind::kFail);
}

}  // namespace
}  // namespace crmhub::adapters::kit
