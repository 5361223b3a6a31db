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
  EXPECT_EQ(Phone("8\xC2\xA0"
                  "916\xC2\xA0"
                  "1234567"),
            "+79161234567");  // NBSP
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
  EXPECT_EQ(Money("1\xC2\xA0"
                  "000\xC2\xA0"
                  "000.99"),
            "100000099");  // NBSP thousands
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

TEST(Int64Test, StrictAndOverflowChecked) {
  EXPECT_EQ(*ParseInt64("-42"), -42);
  EXPECT_EQ(*ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(ParseInt64("9223372036854775808").ok());
  EXPECT_FALSE(ParseInt64("1.0").ok());
  EXPECT_FALSE(ParseInt64("").ok());
}

}  // namespace
}  // namespace crmhub::mapping
