#include "base/units.h"

#include <gtest/gtest.h>

namespace crmhub {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsEveryUnitAndCompounds) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(*ParseDuration("7d"), milliseconds(604'800'000));
  EXPECT_EQ(*ParseDuration("1h30m"), milliseconds(5'400'000));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsGarbage) {
  for (const char* bad : {"", "s", "10", "1.5s", "-5s", "5 s", "5sec", "5x", "abc", "1h-3m",
                          "99999999999999999999d", "1s "}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << "accepted \"" << bad << "\"";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseDurationTest, ErrorSaysWhatIsWrong) {
  auto r = ParseDuration("5x");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown unit \"x\""), std::string::npos);
  r = ParseDuration("-5s");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("negative"), std::string::npos);
}

TEST(FormatDurationTest, RoundTrips) {
  for (const char* text : {"250ms", "30s", "1h30m", "7d", "1d2h3m4s5ms"}) {
    auto d = ParseDuration(text);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(FormatDuration(*d), text);
  }
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
}

TEST(ParseSizeTest, AcceptsBinaryAndDecimalUnits) {
  EXPECT_EQ(*ParseSize("512"), 512u);
  EXPECT_EQ(*ParseSize("512B"), 512u);
  EXPECT_EQ(*ParseSize("64KiB"), 65'536u);
  EXPECT_EQ(*ParseSize("1MiB"), 1'048'576u);
  EXPECT_EQ(*ParseSize("2GiB"), 2'147'483'648u);
  EXPECT_EQ(*ParseSize("1KB"), 1000u);
  EXPECT_EQ(*ParseSize("3MB"), 3'000'000u);
}

TEST(ParseSizeTest, RejectsGarbage) {
  for (const char* bad : {"", "MiB", "1.5MiB", "-1", "1 MiB", "1mib", "1TiB", "1e6",
                          "99999999999999999999", "18446744073709551615GiB"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << "accepted \"" << bad << "\"";
  }
}

}  // namespace
}  // namespace crmhub
