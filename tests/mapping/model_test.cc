// The canonical model: kinds, validation, JSON round trip.

#include "mapping/model/model.h"

#include <gtest/gtest.h>

namespace crmhub::model {
namespace {

using nlohmann::json;

Entity Payment(json fields) {
  Entity e;
  e.kind = EntityKind::kPayment;
  e.source = "yookassa";
  e.external_id = "p-1";
  e.version = 3;
  e.fields = std::move(fields);
  return e;
}

json GoodPayment() {
  return {{"provider", "yookassa"}, {"amount", 200}, {"currency", "RUB"}, {"status", "succeeded"}};
}

TEST(ModelTest, KindNamesRoundTrip) {
  ASSERT_EQ(AllKinds().size(), 15u);
  for (EntityKind k : AllKinds()) {
    auto parsed = ParseKind(KindName(k));
    ASSERT_TRUE(parsed.has_value()) << KindName(k);
    EXPECT_EQ(*parsed, k);
    EXPECT_FALSE(FieldsOf(k).empty());
  }
  EXPECT_EQ(KindName(EntityKind::kBankTransaction), "bank_transaction");
  EXPECT_EQ(KindName(EntityKind::kStockLevel), "stock_level");
  EXPECT_EQ(KindName(EntityKind::kReturn), "return");
  EXPECT_EQ(KindName(EntityKind::kReport), "report");
  EXPECT_FALSE(ParseKind("invoice").has_value());
}

TEST(ModelTest, ValidPaymentPasses) { EXPECT_TRUE(ValidateEntity(Payment(GoodPayment())).ok()); }

TEST(ModelTest, RequiredFieldsAndIdentity) {
  json f = GoodPayment();
  f.erase("currency");
  EXPECT_EQ(ValidateEntity(Payment(f)).message(), "field \"currency\": required field is missing");
  Entity e = Payment(GoodPayment());
  e.external_id.clear();
  EXPECT_EQ(ValidateEntity(e).message(), "external_id is empty");
  e = Payment(GoodPayment());
  e.source.clear();
  EXPECT_FALSE(ValidateEntity(e).ok());
  e = Payment(GoodPayment());
  e.version = -1;
  EXPECT_FALSE(ValidateEntity(e).ok());
}

TEST(ModelTest, MoneyIsIntegerMinorUnitsNeverFloat) {
  json f = GoodPayment();
  f["amount"] = 2.5;
  EXPECT_EQ(ValidateEntity(Payment(f)).message(),
            "field \"amount\": expected integer minor units, got 2.5");
  f["amount"] = "250";
  EXPECT_FALSE(ValidateEntity(Payment(f)).ok());
  f["amount"] = -250;  // refunds/corrections may be negative
  EXPECT_TRUE(ValidateEntity(Payment(f)).ok());
}

TEST(ModelTest, TypesAndAllowedValues) {
  json f = GoodPayment();
  f["currency"] = "rub";
  EXPECT_FALSE(ValidateEntity(Payment(f)).ok());
  f = GoodPayment();
  f["status"] = "done";
  EXPECT_EQ(
      ValidateEntity(Payment(f)).message(),
      "field \"status\": expected one of pending|authorized|succeeded|canceled|failed|refunded, "
      "got \"done\"");
  f = GoodPayment();
  f["created_ms"] = "2024-01-01";
  EXPECT_FALSE(ValidateEntity(Payment(f)).ok());
  f = GoodPayment();
  f["colour"] = "red";
  EXPECT_EQ(ValidateEntity(Payment(f)).message(), "field \"colour\": unknown field");
  f = GoodPayment();
  f["extra"] = {{"anything", 1}};
  EXPECT_TRUE(ValidateEntity(Payment(f)).ok());
}

TEST(ModelTest, PhonesAndEmailsMustBeNormalised) {
  Entity c;
  c.kind = EntityKind::kContact;
  c.source = "site";
  c.external_id = "1";
  c.fields = {{"phone", "+79161234567"}, {"email", "a@b.ru"}};
  EXPECT_TRUE(ValidateEntity(c).ok());
  c.fields["phone"] = "8 916 123-45-67";
  EXPECT_FALSE(ValidateEntity(c).ok());
  c.fields["phone"] = "+79161234567";
  c.fields["email"] = "A@B.ru";
  EXPECT_FALSE(ValidateEntity(c).ok());
}

TEST(ModelTest, OrderLinesAreCheckedAgainstTheLineSchema) {
  Entity o;
  o.kind = EntityKind::kOrder;
  o.source = "ozon";
  o.external_id = "0001-1";
  o.fields = {{"status", "new"},
              {"total", 1000},
              {"currency", "RUB"},
              {"lines", json::array({{{"sku", "A"}, {"quantity", 2}, {"price", 500}}})}};
  EXPECT_TRUE(ValidateEntity(o).ok());
  o.fields["lines"][0].erase("quantity");
  EXPECT_EQ(ValidateEntity(o).message(), "field \"lines/0/quantity\": required field is missing");
  o.fields["lines"][0]["quantity"] = "2";
  EXPECT_FALSE(ValidateEntity(o).ok());
}

TEST(ModelTest, JsonRoundTrip) {
  Entity e = Payment(GoodPayment());
  json j = ToJson(e);
  EXPECT_EQ(j.dump(),
            R"({"external_id":"p-1","fields":{"amount":200,"currency":"RUB","provider":"yookassa",)"
            R"("status":"succeeded"},"kind":"payment","source":"yookassa","version":3})");
  auto back = EntityFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, e.kind);
  EXPECT_EQ(back->source, e.source);
  EXPECT_EQ(back->external_id, e.external_id);
  EXPECT_EQ(back->version, e.version);
  EXPECT_EQ(back->fields, e.fields);
}

TEST(ModelTest, FromJsonRejectsBadEnvelopes) {
  EXPECT_FALSE(EntityFromJson(json::array()).ok());
  EXPECT_FALSE(EntityFromJson(
                   json{{"kind", "invoice"}, {"source", "s"}, {"external_id", "1"}, {"version", 1}})
                   .ok());
  EXPECT_FALSE(
      EntityFromJson(json{{"kind", "task"}, {"source", "s"}, {"external_id", 1}, {"version", 1}})
          .ok());
  EXPECT_FALSE(EntityFromJson(
                   json{{"kind", "task"}, {"source", "s"}, {"external_id", "1"}, {"version", 1.5}})
                   .ok());
  EXPECT_FALSE(
      EntityFromJson(
          json{{"kind", "task"}, {"source", "s"}, {"external_id", "1"}, {"version", 1}, {"x", 1}})
          .ok());
  EXPECT_TRUE(
      EntityFromJson(json{{"kind", "task"}, {"source", "s"}, {"external_id", "1"}, {"version", 1}})
          .ok());
}

}  // namespace
}  // namespace crmhub::model
