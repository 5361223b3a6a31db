// Edge cases of the value normalisers (phone, e-mail, money, currency, time).

#include "mapping/rules/transforms.h"

#include <gtest/gtest.h>

namespace crmhub::mapping {
namespace {

std::string Phone(std::string_view in, PhoneCountry cc = PhoneCountry::kRU) {
  auto r = NormalizePhone(in, cc);
  return r.ok() ? *r : "ERR: " + r.status().message();
}

TEST(PhoneTest, RussianFormsAllBecomeE164) {
  EXPECT_EQ(Phone("8 (916) 123-45-67"), "+79161234567");
  EXPECT_EQ(Phone("+7 916 123 45 67"), "+79161234567");
  EXPECT_EQ(Phone("79161234567"), "+79161234567");
  EXPECT_EQ(Phone("9161234567"), "+79161234567");
  EXPECT_EQ(Phone("  +7(916)123.45.67 "), "+79161234567");
  EXPECT_EQ(Phone("8\xC2\xA0" "916\xC2\xA0" "1234567"), "+79161234567");  // NBSP
  EXPECT_EQ(Phone("8 800 555-35-35"), "+78005553535");
  EXPECT_EQ(Phone("0079161234567"), "+79161234567");
}

TEST(PhoneTest, KazakhstanUkraineBelarus) {
  EXPECT_EQ(Phone("+7 701 234 56 78"), "+77012345678");
  EXPECT_EQ(Phone("8 (701) 234-56-78", PhoneCountry::kKZ), "+77012345678");
  EXPECT_EQ(Phone("+380 44 123 45 67"), "+380441234567");
  EXPECT_EQ(Phone("380441234567"), "+380441234567");
  EXPECT_EQ(Phone("044 123 45 67", PhoneCountry::kUA), "+380441234567");
  EXPECT_EQ(Phone("+375 (29) 123-45-67"), "+375291234567");
  EXPECT_EQ(Phone("8 029 123-45-67", PhoneCountry::kBY), "+375291234567");
  EXPECT_EQ(Phone("29 123 45 67", PhoneCountry::kBY), "+375291234567");
  EXPECT_EQ(Phone("+49 30 1234567"), "+49301234567");  // other countries: length only
}

TEST(PhoneTest, GarbageIsRejected) {
  EXPECT_EQ(Phone("abc"), "ERR: not a phone number (unexpected character)");
  EXPECT_EQ(Phone(""), "ERR: not a phone number (no digits)");
  EXPECT_EQ(Phone("sip:user1@xyz.mangosip.ru"), "ERR: not a phone number (unexpected character)");
  EXPECT_EQ(Phone("+7 916 123 45 6"), "ERR: a +7 number has 10 digits after +7");
  EXPECT_EQ(Phone("+7 916 123 45 678"), "ERR: a +7 number has 10 digits after +7");
  EXPECT_EQ(Phone("+380 44 123 45 6"), "ERR: a +380 number has 9 digits after it");
  EXPECT_EQ(Phone("123-45"), "ERR: not a phone number (5 digits without a country code)");
  EXPECT_EQ(Phone("7800123635242"), "ERR: not a phone number (13 digits without a country code)");
  EXPECT_EQ(Phone("8 029 123-45-67"), "ERR: not a valid +7 number (area code starts with 0)");
  EXPECT_EQ(Phone("+7 916 + 1234567"), "ERR: not a phone number (unexpected character)");
  EXPECT_EQ(Phone("044 123 45 67"), "ERR: not a phone number (10 digits without a country code)");
  EXPECT_EQ(Phone("+0123456789"), "ERR: country code cannot start with 0");
}

TEST(EmailTest, NormalisesAndRejects) {
  EXPECT_EQ(*NormalizeEmail("  Ivan.Petrov@Example.RU "), "ivan.petrov@example.ru");
  EXPECT_FALSE(NormalizeEmail("ivan@").ok());
  EXPECT_FALSE(NormalizeEmail("@example.ru").ok());
  EXPECT_FALSE(NormalizeEmail("ivan@example").ok());
  EXPECT_FALSE(NormalizeEmail("iv an@example.ru").ok());
  EXPECT_FALSE(NormalizeEmail("a@b@example.ru").ok());
  EXPECT_FALSE(NormalizeEmail("ivan@example..ru").ok());
}

std::string Money(std::string_view in, int scale = 2) {
  auto r = ParseMoney(in, scale);
  return r.ok() ? std::to_string(*r) : "ERR: " + r.status().message();
}

TEST(MoneyTest, DecimalTextToMinorUnits) {
  EXPECT_EQ(Money("1 234,56"), "123456");
  EXPECT_EQ(Money("1234.5"), "123450");
  EXPECT_EQ(Money("1234"), "123400");
  EXPECT_EQ(Money("0.01"), "1");
  EXPECT_EQ(Money("-10"), "-1000");
  EXPECT_EQ(Money("-0.5"), "-50");
  EXPECT_EQ(Money("+7,00"), "700");
  EXPECT_EQ(Money("1\xC2\xA0" "000\xC2\xA0" "000.99"), "100000099");  // NBSP thousands
  EXPECT_EQ(Money("83.23"), "8323");
  EXPECT_EQ(Money("12.340"), "1234");  // trailing zeros lose nothing
  EXPECT_EQ(Money("12.345", 3), "12345");
  EXPECT_EQ(Money("12", 0), "12");
  EXPECT_EQ(Money("92233720368547758.07"), "9223372036854775807");  // INT64_MAX kopecks
}

TEST(MoneyTest, RejectsPrecisionLossOverflowAndGarbage) {
  EXPECT_EQ(Money("12.345"), "ERR: more than 2 decimal places");
  EXPECT_EQ(Money("12.5", 0), "ERR: more than 0 decimal places");
  EXPECT_EQ(Money("92233720368547758.08"), "ERR: amount overflows int64 minor units");
  EXPECT_EQ(Money("99999999999999999999"), "ERR: amount overflows int64 minor units");
  EXPECT_EQ(Money("1,234.56"), "ERR: ambiguous decimal separator (both '.' and ',')");
  EXPECT_EQ(Money("1.2.3"), "ERR: not a decimal number (two decimal points)");
  EXPECT_EQ(Money(""), "ERR: not a decimal number (no digits before the point)");
  EXPECT_EQ(Money(".5"), "ERR: not a decimal number (no digits before the point)");
  EXPECT_EQ(Money("5."), "ERR: not a decimal number (no digits after the point)");
  EXPECT_EQ(Money("12 руб"), "ERR: not a decimal number");
  EXPECT_EQ(Money("1e5"), "ERR: not a decimal number");
  EXPECT_EQ(Money(" 12 345 678 "), "1234567800");  // trimmed; spaces group thousands
  EXPECT_EQ(Money("1 2 3"), "ERR: not a decimal number (bad digit grouping)");
  EXPECT_EQ(Money("1  234"), "ERR: not a decimal number (bad digit grouping)");
  EXPECT_EQ(Money("1234 567"), "ERR: not a decimal number (bad digit grouping)");
  EXPECT_EQ(Money("1 23,45"), "ERR: not a decimal number (bad digit grouping)");
  EXPECT_EQ(Money("--5"), "ERR: not a decimal number");
}

TEST(CurrencyTest, AlphaNumericAndLegacy) {
  EXPECT_EQ(*NormalizeCurrency("RUB"), "RUB");
  EXPECT_EQ(*NormalizeCurrency("rub"), "RUB");
  EXPECT_EQ(*NormalizeCurrency("643"), "RUB");
  EXPECT_EQ(*NormalizeCurrency("RUR"), "RUB");
  EXPECT_EQ(*NormalizeCurrency("810"), "RUB");
  EXPECT_EQ(*NormalizeCurrency(" 398 "), "KZT");
  EXPECT_EQ(*NormalizeCurrency("933"), "BYN");
  EXPECT_EQ(*NormalizeCurrency("usd"), "USD");
  EXPECT_FALSE(NormalizeCurrency("XYZ").ok());
  EXPECT_FALSE(NormalizeCurrency("999").ok());
  EXPECT_FALSE(NormalizeCurrency("RUBL").ok());
  EXPECT_FALSE(NormalizeCurrency("").ok());
}

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
  EXPECT_EQ(Ts("2016-07-01T12:00:00", kMsk), 1467363600000);  // summer: still +3
  EXPECT_EQ(Ts("2016-12-26T16:00:52Z", kMsk), 1482768052000);  // explicit offset wins
  EXPECT_EQ(Ts("2016-12-26", 0), 1482710400000);
}

TEST(TimestampTest, Rejects) {
  EXPECT_EQ(ParseTimestampMs("2016-12-26T16:00:52", kNoDefaultOffset).status().message(),
            "no time zone in the value and no default offset in the rule");
  EXPECT_FALSE(ParseTimestampMs("2016-13-01", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2015-02-29", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("31.04.2016", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T25:00:00Z", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T16:00:52 garbage", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("yesterday", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("2016-12-26T16:00:52+25:00", 0).ok());
  EXPECT_FALSE(ParseTimestampMs("", 0).ok());
}

TEST(OffsetTest, Forms) {
  EXPECT_EQ(*ParseOffset("MSK"), 180);
  EXPECT_EQ(*ParseOffset("+03:00"), 180);
  EXPECT_EQ(*ParseOffset("-0530"), -330);
  EXPECT_EQ(*ParseOffset("Z"), 0);
  EXPECT_FALSE(ParseOffset("+3").ok());
  EXPECT_FALSE(ParseOffset("+03:").ok());
}

TEST(Int64Test, StrictAndOverflowChecked) {
  EXPECT_EQ(*ParseInt64("-42"), -42);
  EXPECT_EQ(*ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(ParseInt64("9223372036854775808").ok());
  EXPECT_FALSE(ParseInt64("1.0").ok());
  EXPECT_FALSE(ParseInt64("").ok());
}

}  // namespace
}  // namespace crmhub::mapping
