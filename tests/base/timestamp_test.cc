// base/timestamp.h: the one timestamp parser and formatter (adapters,
// simulators and the mapping rules' timestamp_ms transform).

#include "base/timestamp.h"

#include <gtest/gtest.h>

namespace crmhub {
namespace {

int64_t Ts(std::string_view in, int offset = kNoDefaultOffset) {
  auto r = ParseTimestampMs(in, offset);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status().ToString();
  return r.ok() ? *r : -1;
}

TEST(TimestampTest, WithOffsets) {
  EXPECT_EQ(Ts("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(Ts("2018-07-10T14:27:54.691Z"), 1531232874691);
  EXPECT_EQ(Ts("2017-11-30T15:11:33+00:00"), 1512054693000);
  EXPECT_EQ(Ts("2017-11-30T18:11:33+03:00"), 1512054693000);
  EXPECT_EQ(Ts("2017-11-30T18:11:33+0300"), 1512054693000);
  EXPECT_EQ(Ts("2017-11-30T10:11:33-05"), 1512054693000);
  EXPECT_EQ(Ts("2017-11-30T15:11:33.5Z"), 1512054693500);
  EXPECT_EQ(Ts("2017-11-30T15:11:33.123456Z"), 1512054693123);
  EXPECT_EQ(Ts("2024-02-29 12:00:00Z"), 1709208000000);
  EXPECT_EQ(Ts("1969-12-31T23:59:59Z"), -1000);
}

TEST(TimestampTest, WithoutOffsetUsesTheRulesDefault) {
  constexpr int kMsk = 180;
  // 1C: Moscow local time, UTC+3 all year (no DST since 2014).
  EXPECT_EQ(Ts("2016-12-26T16:00:52", kMsk), 1482757252000);  // 13:00:52Z
  EXPECT_EQ(Ts("11.01.2016", kMsk), 1452459600000);           // 2016-01-10T21:00Z
  EXPECT_EQ(Ts("12.01.2016 10:03:13", kMsk), 1452582193000);  // 07:03:13Z
  EXPECT_EQ(Ts("12.01.2016 10:03", kMsk), 1452582180000);
  EXPECT_EQ(Ts("2016-07-01T12:00:00", kMsk), 1467363600000);   // summer: still +3
  EXPECT_EQ(Ts("2016-12-26T16:00:52Z", kMsk), 1482768052000);  // explicit offset wins
  EXPECT_EQ(Ts("2016-12-26", 0), 1482710400000);
}

TEST(TimestampTest, Rejects) {
  EXPECT_EQ(ParseTimestampMs("2016-12-26T16:00:52", kNoDefaultOffset).status().message(),
            "no time zone in the value and no default offset");
  EXPECT_FALSE(ParseTimestampMs("2016-13-01", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2015-02-29", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("31.04.2016", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T25:00:00Z", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T16:00:52 garbage", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("yesterday", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T16:00:52+25:00", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("", 0).ok());
}

TEST(UtcOffsetTest, Forms) {
  EXPECT_EQ(*ParseUtcOffset("MSK"), 180);
  EXPECT_EQ(*ParseUtcOffset("+03:00"), 180);
  EXPECT_EQ(*ParseUtcOffset("-0530"), -330);
  EXPECT_EQ(*ParseUtcOffset("Z"), 0);
  EXPECT_FALSE(ParseUtcOffset("+3").ok());
  EXPECT_FALSE(ParseUtcOffset("+03:").ok());
}

TEST(TimestampTest, YandexMarketDashedDatesAreMoscowTime) {
  // DateDdMmYyyyHhMmSs, "23-09-2022 09:12:41", UTC+03:00.
  EXPECT_EQ(Ts("23-09-2022 09:12:41", kMoscowOffsetMinutes), Ts("2022-09-23T06:12:41Z"));
  EXPECT_EQ(Ts("01-01-2024 00:00:00", kMoscowOffsetMinutes), Ts("2023-12-31T21:00:00Z"));
  EXPECT_FALSE(ParseTimestampMs("31-02-2024 10:00:00", kMoscowOffsetMinutes).ok());
  EXPECT_FALSE(ParseTimestampMs("23-09.2022 09:12:41", kMoscowOffsetMinutes).ok());
}

TEST(TimestampTest, FormatsInEveryStyleAndReadsItBack) {
  const SystemTime t = FromUnixMillis(1512054693123);  // 2017-11-30T15:11:33.123Z
  EXPECT_EQ(FormatTimestamp(t, TimestampStyle::kRfc3339Millis, 0), "2017-11-30T15:11:33.123Z");
  EXPECT_EQ(FormatTimestamp(t, TimestampStyle::kRfc3339Seconds, kMoscowOffsetMinutes),
            "2017-11-30T18:11:33+03:00");
  EXPECT_EQ(FormatTimestamp(t, TimestampStyle::kRfc3339Millis, -330),
            "2017-11-30T09:41:33.123-05:30");
  EXPECT_EQ(FormatTimestamp(t, TimestampStyle::kDdMmYyyyDashed, kMoscowOffsetMinutes),
            "30-11-2017 18:11:33");
  // Across midnight and before the epoch.
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(1512075600000), TimestampStyle::kRfc3339Seconds,
                            kMoscowOffsetMinutes),
            "2017-12-01T00:00:00+03:00");
  EXPECT_EQ(FormatTimestamp(FromUnixMillis(-1), TimestampStyle::kRfc3339Millis, 0),
            "1969-12-31T23:59:59.999Z");
  for (int64_t ms :
       {int64_t{0}, int64_t{1512054693123}, int64_t{-86'400'001}, int64_t{4102444800000}}) {
    for (int offset : {0, kMoscowOffsetMinutes, -330}) {
      const std::string text =
          FormatTimestamp(FromUnixMillis(ms), TimestampStyle::kRfc3339Millis, offset);
      EXPECT_EQ(Ts(text), ms) << text;
    }
  }
  EXPECT_EQ(ParseTimestamp("not a time", 0), std::nullopt);
}

}  // namespace
}  // namespace crmhub
