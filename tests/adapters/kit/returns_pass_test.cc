// kit::ReturnsPass: a returns stream's pass, its range and its cursor form.

#include "adapters/kit/returns_pass.h"

#include <gtest/gtest.h>

namespace crmhub::adapters::kit {
namespace {

TEST(ReturnsPass, FirstPassFromTheLookbackThenFromTheWatermark) {
  ReturnsPass pass;
  ReturnsPass::Range r =
      pass.Begin(/*now_ms=*/100'000, /*lookback_ms=*/50'000, /*overlap_ms=*/1000);
  EXPECT_EQ(r.from_ms, 49'000);  // now - lookback - overlap
  EXPECT_EQ(r.to_ms, 100'000);
  // Pages go on while there is a token and the page held something.
  EXPECT_TRUE(pass.After("17", /*page_empty=*/false));
  EXPECT_EQ(pass.page_token, "17");
  r = pass.Begin(200'000, 50'000, 1000);  // in progress: the same range
  EXPECT_EQ(r.to_ms, 100'000);
  EXPECT_EQ(pass.page_token, "17");
  // A token with an empty page ends it, as does no token.
  EXPECT_FALSE(pass.After("18", /*page_empty=*/true));
  EXPECT_EQ(pass.watermark_ms, 100'000);
  EXPECT_EQ(pass.window_to_ms, 0);
  EXPECT_EQ(pass.page_token, "");
  r = pass.Begin(200'000, 50'000, 1000);
  EXPECT_EQ(r.from_ms, 99'000);
  EXPECT_EQ(r.to_ms, 200'000);
  EXPECT_FALSE(pass.After("", false));
  EXPECT_EQ(pass.watermark_ms, 200'000);
}

TEST(ReturnsPass, CursorFormRoundTripsAndRefusesGarbage) {
  ReturnsPass pass{.watermark_ms = 5, .window_to_ms = 9, .page_token = "abc"};
  auto back = ReturnsPass::FromObject(pass.ToObject());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->watermark_ms, 5);
  EXPECT_EQ(back->window_to_ms, 9);
  EXPECT_EQ(back->page_token, "abc");
  EXPECT_TRUE(ReturnsPass::FromObject(nlohmann::json::object()).has_value());  // not started
  EXPECT_FALSE(ReturnsPass::FromObject(nlohmann::json::array()).has_value());
  EXPECT_FALSE(ReturnsPass::FromObject({{"watermark", -1}}).has_value());
}

}  // namespace
}  // namespace crmhub::adapters::kit
