#include "base/log_fields.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/log_rate_limit.h"
#include "base/logging.h"

namespace crmhub {
namespace {

// Issue 22, items 1 and 10: with [log] format = "json" the adapter, lane and
// key are fields of the line, not words inside msg.
TEST(LogFieldsTest, JsonLinesCarryTheFieldsBesideMsg) {
  std::string payload =
      EncodeLogFields("dead letter", {{"adapter", "site"}, {"lane", "in.site"}, {"key", "a b"}});
  auto j = nlohmann::json::parse(FormatJsonLogLine("2026-01-01T00:00:00Z", "warning", payload));
  EXPECT_EQ(j["msg"], "dead letter");
  EXPECT_EQ(j["adapter"], "site");
  EXPECT_EQ(j["lane"], "in.site");
  EXPECT_EQ(j["key"], "a b");
  EXPECT_EQ(j["level"], "warning");
}

TEST(LogFieldsTest, TextLinesAppendKeyValuePairsQuotedWhenNeeded) {
  EXPECT_EQ(RenderLogFieldsText(EncodeLogFields(
                "dead letter", {{"adapter", "site"}, {"reason", "gave up: 429"}, {"key", ""}})),
            "dead letter adapter=site reason=\"gave up: 429\" key=\"\"");
  EXPECT_EQ(RenderLogFieldsText("plain"), "plain");
  auto j = nlohmann::json::parse(FormatJsonLogLine("t", "info", "plain"));
  EXPECT_EQ(j["msg"], "plain");
}

TEST(LogRateLimitTest, AFewLinesPerWindowAndTheCountOfTheRest) {
  ManualClock clock;
  LogRateLimit limit(clock, 2, std::chrono::minutes(1));
  int64_t suppressed = -1;
  EXPECT_TRUE(limit.Allow("a", &suppressed));
  EXPECT_EQ(suppressed, 0);
  EXPECT_TRUE(limit.Allow("a"));
  EXPECT_FALSE(limit.Allow("a"));
  EXPECT_FALSE(limit.Allow("a"));
  EXPECT_TRUE(limit.Allow("b"));  // per key
  clock.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(limit.Allow("a", &suppressed));
  EXPECT_EQ(suppressed, 2);
}

}  // namespace
}  // namespace crmhub
