// tests/support/spec_operations.h: the deprecation check's own tests, on a
// synthetic spec (so the check is seen to fail) and on the vendored
// Yandex Market spec (whose getOrders is deprecated).

#include "tests/support/spec_operations.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace crmhub::testing {
namespace {

TEST(SpecOperationsTest, TemplatesMatchOneSegmentEach) {
  SpecOperation op{"GET", "/v2/campaigns/{campaignId}/orders", "getOrders", true, "", ""};
  EXPECT_TRUE(op.Matches("GET", "/v2/campaigns/42/orders"));
  EXPECT_TRUE(op.Matches("GET", "/v2/campaigns/42/orders?limit=50"));
  EXPECT_FALSE(op.Matches("POST", "/v2/campaigns/42/orders"));
  EXPECT_FALSE(op.Matches("GET", "/v2/campaigns/42/orders/7"));
  EXPECT_FALSE(op.Matches("GET", "/v2/campaigns//orders"));
}

// The test of the test: a spec whose operation is deprecated is reported,
// an undeprecated one is not, an unknown call is listed apart.
TEST(SpecOperationsTest, ADeprecatedOperationIsReported) {
  const auto dir = std::filesystem::temp_directory_path() / "crmhub-spec-ops-test";
  std::filesystem::create_directories(dir);
  const auto spec = dir / "spec.yaml";
  std::ofstream(spec) << "openapi: 3.0.0\n"
                         "paths:\n"
                         "  /v1/old/{id}:\n"
                         "    get:\n"
                         "      operationId: getOld\n"
                         "      deprecated: true\n"
                         "      x-deprecation-config:\n"
                         "        shutdown-date: '2027-01-01'\n"
                         "        replacement-operation-id: getNew\n"
                         "  /v1/new:\n"
                         "    post:\n"
                         "      operationId: getNew\n";
  auto ops = LoadSpecOperations({spec.string()});
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  ASSERT_EQ(ops->size(), 2u);
  CallFindings f =
      CheckCalls(*ops, {{"GET", "/v1/old/5"}, {"POST", "/v1/new"}, {"GET", "/v1/gone"}});
  ASSERT_EQ(f.deprecated.size(), 1u);
  EXPECT_EQ(f.deprecated[0], "GET /v1/old/{id} (getOld, shutdown 2027-01-01, use getNew)");
  EXPECT_EQ(f.unknown, std::vector<std::string>{"GET /v1/gone"});
  std::filesystem::remove_all(dir);
}

TEST(SpecOperationsTest, ReadsTheMultiFileYandexMarketSpec) {
  auto ops = LoadSpecOperations(
      {std::string(CRMHUB_CONTRACTS_DIR) + "/marketplaces/yandex-market/openapi/openapi.yaml"});
  ASSERT_TRUE(ops.ok()) << ops.status().ToString();
  CallFindings f =
      CheckCalls(*ops, {{"GET", "/v2/campaigns/1/orders"}, {"POST", "/v1/businesses/2/orders"}});
  EXPECT_EQ(f.deprecated.size(), 1u);
  EXPECT_TRUE(f.unknown.empty());
}

TEST(SpecOperationsTest, AMissingSpecFailsLoudly) {
  auto ops = LoadSpecOperations({"/nonexistent/spec.yaml"});
  ASSERT_FALSE(ops.ok());
  EXPECT_NE(ops.status().message().find("npm ci --prefix tests/contract"), std::string::npos);
}

}  // namespace
}  // namespace crmhub::testing
