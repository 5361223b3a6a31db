// The rule engine: loading/validation of rules files and every way a record
// can map, skip or fail (each failure with a self-contained reason).

#include <gtest/gtest.h>

#include <filesystem>

#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::mapping {
namespace {

using nlohmann::json;

RuleSet Rules(std::string_view toml) {
  auto r = ParseRules(toml, "test.toml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) std::abort();
  return std::move(*r);
}

std::string LoadError(std::string_view toml) {
  auto r = ParseRules(toml, "test.toml");
  return r.ok() ? "loaded" : r.status().message();
}

constexpr std::string_view kOrderRules = R"(
format = 1
name = "orders"

[[skip_if]]
path = "/is_test"
equals = true

[maps.stage]
awaiting_packaging = "new"
delivered = "won"

[lookups.warehouses]
"1" = "Коледино"

[[entity]]
rule = "order"
kind = "order"
external_id = "/posting_number"
version = { path = "/updated", transform = "timestamp_ms" }

[entity.fields]
status = { path = "/status", map = "stage" }
total = { path = "/total", transform = "money" }
currency = { path = "/currency", transform = "currency", default = "RUB" }
customer_phone = { path = "/customer/phone", transform = "phone", on_invalid = "null" }
customer_name = { paths = ["/customer/name", "/customer/login"], transform = "trim" }
warehouse = { path = "/warehouse_id", lookup = "warehouses" }
channel = { value = "ozon" }
number = { path = "/posting_number", prefix = "OZ-" }
lines = { for_each = "/products", fields = { sku = { path = "/offer_id", required = true }, quantity = { path = "/qty", transform = "int" }, price = { path = "/price", transform = "money" }, product_external_id = { path = "/offer_id", lookup = "products", on_missing = "null" } } }
extra = { fields = { skus = "/products/*/offer_id", key = { join = ["/posting_number", "/status"], separator = ":" } } }

[[entity]]
rule = "deal"
kind = "deal"
when = { path = "/status", in = ["delivered"] }
external_id = { path = "/posting_number" }
version = { path = "/updated", transform = "timestamp_ms" }

[entity.fields]
stage = { value = "won" }
order_external_id = "/posting_number"
)";

json OrderRecord() {
  return json::parse(R"({
    "posting_number": "0001-1", "status": "awaiting_packaging", "updated": "2024-05-01T10:00:00Z",
    "total": "1 234,50", "customer": {"phone": "8 (916) 123-45-67", "name": "  Иван "},
    "warehouse_id": 1,
    "products": [{"offer_id": "A-1", "qty": "2", "price": "500.25"},
                 {"offer_id": "B-2", "qty": 1, "price": 234}]
  })");
}

class RulesTest : public ::testing::Test {
 protected:
  FunctionLookup lookup_{
      [](std::string_view table, std::string_view key) -> Result<std::optional<json>> {
        if (table == "products" && key == "A-1") return std::optional<json>("prod-1");
        if (table == "broken") return Status::Unavailable("store is down");
        return std::optional<json>();
      }};
  ApplyContext ctx_{"ozon-main", &lookup_, 1700000000000};
};

TEST_F(RulesTest, MapsAnOrderWithLinesLookupsAndMaps) {
  RuleSet rules = Rules(kOrderRules);
  EXPECT_EQ(rules.name(), "orders");
  EXPECT_EQ(rules.ExternalLookups(), std::vector<std::string>{"products"});
  auto out = rules.Apply(OrderRecord(), ctx_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 1u);  // the deal's condition does not hold
  const model::Entity& e = (*out)[0];
  EXPECT_EQ(e.kind, model::EntityKind::kOrder);
  EXPECT_EQ(e.source, "ozon-main");
  EXPECT_EQ(e.external_id, "0001-1");
  EXPECT_EQ(e.version, 1714557600000);
  EXPECT_EQ(e.fields, json::parse(R"({
    "status": "new", "total": 123450, "currency": "RUB", "customer_phone": "+79161234567",
    "customer_name": "Иван", "warehouse": "Коледино", "channel": "ozon", "number": "OZ-0001-1",
    "lines": [{"sku": "A-1", "quantity": 2, "price": 50025, "product_external_id": "prod-1"},
              {"sku": "B-2", "quantity": 1, "price": 23400}],
    "extra": {"skus": ["A-1", "B-2"], "key": "0001-1:awaiting_packaging"}
  })"));
}

TEST_F(RulesTest, OneRecordCanProduceSeveralEntities) {
  json rec = OrderRecord();
  rec["status"] = "delivered";
  auto out = Rules(kOrderRules).Apply(rec, ctx_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].fields["status"], "won");
  EXPECT_EQ((*out)[1].kind, model::EntityKind::kDeal);
  EXPECT_EQ((*out)[1].fields, json::parse(R"({"stage": "won", "order_external_id": "0001-1"})"));
}

TEST_F(RulesTest, SkippedRecordIsSuccessWithNothingToDo) {
  json rec = OrderRecord();
  rec["is_test"] = true;
  auto out = Rules(kOrderRules).Apply(rec, ctx_);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->empty());
}

std::string ApplyError(const RuleSet& rules, const json& rec, const ApplyContext& ctx) {
  auto out = rules.Apply(rec, ctx);
  return out.ok() ? "mapped" : out.status().message();
}

TEST_F(RulesTest, ErrorsNameRuleFieldPathAndValue) {
  RuleSet rules = Rules(kOrderRules);
  json rec = OrderRecord();
  rec["products"][0]["price"] = "12.345";
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "order" field "lines.price": /products/0/price: "12.345": more than 2 decimal places)");
  rec = OrderRecord();
  rec["total"] = "99999999999999999999";
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "order" field "total": /total: "99999999999999999999": amount overflows int64 minor units)");
  rec = OrderRecord();
  rec["status"] = "arbitration";
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "order" field "status": /status: "arbitration": value not in the map and no map_default)");
  rec = OrderRecord();
  rec["warehouse_id"] = 7;
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "order" field "warehouse": /warehouse_id: 7: not found in lookup "warehouses")");
  rec = OrderRecord();
  rec["products"][1].erase("offer_id");
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "order" field "lines.sku": /products/1/offer_id: required value is missing)");
  rec = OrderRecord();
  rec["updated"] = "2024-05-01T10:00:00";
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "order" field "version": /updated: "2024-05-01T10:00:00": no time zone in the value and no default offset in the rule)");
  rec = OrderRecord();
  rec["currency"] = "XXQ";
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "order" field "currency": /currency: "XXQ": unknown currency code)");
  rec = OrderRecord();
  rec.erase("posting_number");
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "order" field "external_id": (record): external_id is missing)");
  rec = OrderRecord();
  rec["products"] = "none";
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "order" field "lines": /products: for_each: expected an array)");
  rec = OrderRecord();
  rec["products"][0]["qty"] = 2.5;
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "order" field "lines.quantity": /products/0/qty: 2.5: not an integer)");
}

TEST_F(RulesTest, InvalidPhoneBecomesNullWhenTheRuleSaysSo) {
  json rec = OrderRecord();
  rec["customer"]["phone"] = "sip:user@pbx";
  auto out = Rules(kOrderRules).Apply(rec, ctx_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE((*out)[0].fields.contains("customer_phone"));
  EXPECT_EQ((*out)[0].fields["customer_name"], "Иван");
}

TEST_F(RulesTest, LookupFailuresAndMissingLookupProvider) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "p"
kind = "product"
external_id = "/id"
[entity.fields]
sku = { path = "/sku", lookup = "broken" }
)");
  json rec = {{"id", "1"}, {"sku", "x"}};
  EXPECT_EQ(
      ApplyError(rules, rec, ctx_),
      R"(rule "p" field "sku": /sku: "x": lookup "broken" failed: Unavailable: store is down)");
  ApplyContext no_lookup{"s", nullptr, 0};
  EXPECT_EQ(
      ApplyError(rules, rec, no_lookup),
      R"(rule "p" field "sku": /sku: "x": lookup table "broken" is not defined in the rules and the caller provided no Lookup)");
}

TEST_F(RulesTest, EntityValidationFailureNamesTheRule) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "pay"
kind = "payment"
external_id = "/id"
[entity.fields]
provider = { value = "x" }
status = { value = "succeeded" }
amount = { path = "/amount", transform = "money" }
)");
  EXPECT_EQ(ApplyError(rules, json{{"id", 5}, {"amount", "1.00"}}, ctx_),
            R"(rule "pay": entity invalid: field "currency": required field is missing)");
}

TEST_F(RulesTest, MalformedJsonAndNonObjectRecords) {
  RuleSet rules = Rules(kOrderRules);
  auto bad = rules.ApplyText(R"({"posting_number": )", ctx_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind("record: malformed JSON: ", 0), 0u)
      << bad.status().message();
  EXPECT_EQ(ApplyError(rules, json::array(), ctx_), "record: expected a JSON object, got array");
  auto good = rules.ApplyText(OrderRecord().dump(), ctx_);
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->size(), 1u);
}

TEST_F(RulesTest, EntityForEachConditionsNullIfAndContext) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "stock"
kind = "stock_level"
for_each = "/stocks"
when = [{ path = "/type", equals = "fbs" }, { path = "/present", exists = true }]
external_id = { join = ["/sku", "/warehouse"], separator = "@" }
[entity.fields]
sku = { path = "/sku", transform = "string" }
warehouse = { path = "/warehouse", transform = "string" }
quantity = { path = "/present", transform = "int" }
reserved = { path = "/reserved", null_if = [0] }
updated_ms = { context = "received_ms" }
extra = { fields = { index = { context = "index" }, offer = { root_path = "/offer_id" }, src = { context = "source" } } }
)");
  json rec = json::parse(R"({"offer_id": "o1", "stocks": [
      {"type": "fbs", "sku": 11, "warehouse": "W1", "present": "5", "reserved": 0},
      {"type": "fbo", "sku": 11, "warehouse": "W2", "present": 9},
      {"type": "fbs", "sku": 12, "warehouse": "W1"},
      {"type": "fbs", "sku": 12, "warehouse": "W3", "present": 1, "reserved": 1}]})");
  auto out = rules.Apply(rec, ctx_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].external_id, "11@W1");
  EXPECT_EQ((*out)[0].version, 1700000000000);  // no version rule: received_ms
  EXPECT_EQ((*out)[0].fields, json::parse(R"({"sku": "11", "warehouse": "W1", "quantity": 5,
      "updated_ms": 1700000000000, "extra": {"index": 0, "offer": "o1", "src": "ozon-main"}})"));
  EXPECT_EQ((*out)[1].external_id, "12@W3");
  EXPECT_EQ((*out)[1].fields["reserved"], 1);
  EXPECT_EQ((*out)[1].fields["extra"]["index"], 3);

  rec["stocks"][3]["present"] = "many";
  EXPECT_EQ(ApplyError(rules, rec, ctx_),
            R"(rule "stock" field "quantity": /stocks/3/present: "many": not an integer)");
  rec["stocks"][3].erase("present");
  rec["stocks"][0]["present"] = -1;
  auto neg = rules.Apply(rec, ctx_);  // validation passes: stock may be negative in 1C
  ASSERT_TRUE(neg.ok());
}

TEST_F(RulesTest, ConditionTests) {
  RuleSet rules = Rules(R"(
format = 1
[[skip_if]]
path = "/tags"
empty = true
[[skip_if]]
path = "/kind"
prefix = "test-"
[[skip_if]]
path = "/n"
not_in = [1, 2]
[[entity]]
rule = "t"
kind = "task"
external_id = "/id"
when = { path = "/flag", not_equals = "0" }
[entity.fields]
title = { value = "call back" }
)");
  auto run = [&](json rec) {
    auto out = rules.Apply(rec, ctx_);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->size() : 99;
  };
  json base = {{"id", 1}, {"tags", {"a"}}, {"kind", "real"}, {"n", "1"}, {"flag", 1}};
  EXPECT_EQ(run(base), 1u);  // "1" matches 1 (number vs text)
  json r = base;
  r["tags"] = json::array();
  EXPECT_EQ(run(r), 0u);
  r = base;
  r.erase("tags");
  EXPECT_EQ(run(r), 0u);
  r = base;
  r["kind"] = "test-order";
  EXPECT_EQ(run(r), 0u);
  r = base;
  r["n"] = 3;
  EXPECT_EQ(run(r), 0u);
  r = base;
  r["flag"] = 0;
  EXPECT_EQ(run(r), 0u);  // when fails: nothing produced, still success
}

TEST_F(RulesTest, MoneyFromJsonNumbersNeverGoesThroughFloatArithmetic) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "price"
kind = "price"
external_id = "/sku"
[entity.fields]
sku = "/sku"
amount = { path = "/v", transform = "money" }
currency = { path = "/c", transform = "currency" }
)");
  auto amount = [&](const char* v) -> std::string {
    auto out = rules.ApplyText(std::string(R"({"sku": "A", "c": 643, "v": )") + v + "}", ctx_);
    return out.ok() ? (*out)[0].fields["amount"].dump() : out.status().message();
  };
  EXPECT_EQ(amount("250.0"), "25000");  // YooKassa refund fixture writes a number
  EXPECT_EQ(amount("0.29"), "29");      // 0.29 * 100 in doubles is 28.999999999999996
  EXPECT_EQ(amount("1234.5"), "123450");
  EXPECT_EQ(amount("-10"), "-1000");
  EXPECT_EQ(amount("\"1 234,56\""), "123456");
  EXPECT_EQ(amount("12.345"),
            R"(rule "price" field "amount": /v: 12.345: more than 2 decimal places)");
  EXPECT_EQ(amount("1e20"),
            R"(rule "price" field "amount": /v: 1e+20: amount in exponent notation)");
  EXPECT_EQ(
      amount("92233720368547759"),
      R"(rule "price" field "amount": /v: 92233720368547759: amount overflows int64 minor units)");
  auto out = rules.ApplyText(R"({"sku": "A", "c": 643, "v": "1.00"})", ctx_);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].fields["currency"], "RUB");  // numeric ISO code as a JSON number
}

// Whatever door a record came in by (a pulled page splits into records
// without a depth check), the mapping refuses a record nested deeper than
// 64 levels before building it; a deep value it does meet is named by its
// size, never dumped, in the error.
TEST(RulesApplyTest, DeepRecordsAreRefusedAndDeepValuesNotPrinted) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "contact"
kind = "contact"
external_id = "/id"
[entity.fields]
name = { path = "/name", required = true, transform = "trim" }
)");
  ApplyContext ctx{.source = "s"};
  const std::string deep =
      R"({"id":"x","name":)" + std::string(300'000, '[') + std::string(300'000, ']') + "}";
  auto r = rules.ApplyText(deep, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "record: JSON nested deeper than 64 levels");
  std::string items;
  for (int i = 0; i < 10'000; ++i) items += i ? ",1" : "1";
  auto w = rules.ApplyText(R"({"id":"x","name":[)" + items + "]}", ctx);
  ASSERT_FALSE(w.ok());
  EXPECT_LT(w.status().message().size(), 200u) << w.status().message();
  // A number too large for any type is a malformed record (it used to throw
  // out of ApplyText: nlohmann's out_of_range is not a parse_error).
  auto huge = rules.ApplyText(R"({"id":"x","name":)" + std::string(400, '1') + "}", ctx);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message().rfind("record: malformed JSON: ", 0), 0u)
      << huge.status().message();
  EXPECT_LT(huge.status().message().size(), 300u);
}

// `sum`: exact decimal addition of the values at its pointers ('*' arrays
// included), missing ones skipped; all missing is null.
TEST_F(RulesTest, SumAddsDecimalsExactly) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "order"
kind = "order"
external_id = "/id"
[entity.fields]
status = "/s"
currency = { value = "RUB" }
total = { sum = ["/a", "/lines/*/v", "/missing"], transform = "money" }
extra = { fields = { raw = { sum = ["/a", "/b"] } } }
)");
  auto total = [&](const std::string& record) -> std::string {
    auto out = rules.ApplyText(record, ctx_);
    return out.ok() ? (*out)[0].fields.dump() : out.status().message();
  };
  EXPECT_EQ(total(R"({"id":1,"s":"x","a":0.1,"b":0.2,"lines":[{"v":"0.2"},{"v":3},{}]})"),
            R"({"currency":"RUB","extra":{"raw":"0.3"},"status":"x","total":330})");  // 0.1 + 0.2
                                                                                      // is 0.3 here
  EXPECT_EQ(total(R"({"id":1,"s":"x","a":-1.5,"lines":[]})"),
            R"({"currency":"RUB","extra":{"raw":"-1.5"},"status":"x","total":-150})");
  EXPECT_EQ(total(R"({"id":1,"s":"x"})"), R"({"currency":"RUB","status":"x"})");  // all missing
  EXPECT_EQ(
      total(R"({"id":1,"s":"x","a":true})"),
      R"(rule "order" field "extra.raw": /a: true: sum needs decimal numbers (at most 6 decimal places))");
  EXPECT_EQ(
      total(R"({"id":1,"s":"x","lines":[{"v":"0.0000001"}]})"),
      R"(rule "order" field "total": /lines/*/v: "0.0000001": sum needs decimal numbers (at most 6 decimal places))");
}

// `paths` and `join` with value tables: each element through its own steps;
// a null part makes the join null so that `paths` falls back. And
// `window_start`, the fixed window a Unix-ms time falls in.
TEST_F(RulesTest, PathsAndJoinOfValueTablesAndWindowStart) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "lead"
kind = "lead"
external_id = { paths = [{ join = [{ path = "/phone", transform = "phone", on_invalid = "null" }, { path = "/at", transform = ["unix_s", "window_start:24h"] }], separator = ":", prefix = "p:" }, { path = "/phone", transform = "string", prefix = "raw:" }] }
[entity.fields]
status = { value = "new" }
)");
  auto id = [&](const std::string& record) -> std::string {
    auto out = rules.ApplyText(record, ctx_);
    return out.ok() ? (*out)[0].external_id : out.status().message();
  };
  EXPECT_EQ(id(R"({"phone":"8 (916) 123-45-67","at":1700006401})"), "p:+79161234567:1700006400");
  EXPECT_EQ(id(R"({"phone":"79161234567","at":"1700092799"})"), "p:+79161234567:1700006400");
  EXPECT_EQ(id(R"({"phone":"79161234567","at":1700092800})"), "p:+79161234567:1700092800");
  // Not a phone number: the join is null, the second element is used.
  EXPECT_EQ(id(R"({"phone":"sip:101@pbx","at":1700006401})"), "raw:sip:101@pbx");
  EXPECT_EQ(id(R"({"phone":"79161234567"})"), "raw:79161234567");  // no time: no window
  EXPECT_EQ(LoadError("format = 1\n[[entity]]\nrule = \"r\"\nkind = \"lead\"\nexternal_id = "
                      "{ path = \"/a\", transform = \"window_start:1h30\" }\n"),
            "test.toml: rule \"r\" external_id: transform \"window_start:1h30\": needs a window "
            "length of whole seconds, 1s to 366d (window_start:24h)");
}

// update_only: the entity says so; the store decides (crm tests).
TEST_F(RulesTest, UpdateOnlyEntities) {
  RuleSet rules = Rules(R"(
format = 1
[[entity]]
rule = "close"
kind = "task"
update_only = true
external_id = "/id"
[entity.fields]
title = { value = "t" }
status = { value = "done" }
[[entity]]
rule = "other"
kind = "contact"
external_id = "/id"
)");
  auto out = rules.ApplyText(R"({"id":"T1"})", ctx_);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 2u);
  EXPECT_TRUE((*out)[0].update_only);
  EXPECT_FALSE((*out)[1].update_only);
  EXPECT_EQ(LoadError("format = 1\n[[entity]]\nrule = \"r\"\nkind = \"task\"\nexternal_id = "
                      "\"/id\"\nupdate_only = \"yes\"\n"),
            "test.toml: rule \"r\": update_only must be true or false");
}

TEST(RulesLoadTest, RulesFileErrorsAreFoundAtLoadTime) {
  const std::string head =
      "format = 1\n[[entity]]\nrule = \"r\"\nkind = \"contact\"\nexternal_id = \"/id\"\n";
  EXPECT_EQ(LoadError(head), "loaded");
  EXPECT_EQ(LoadError("[[entity]]\nrule = \"r\"\n"), "test.toml: missing \"format = 1\"");
  EXPECT_EQ(LoadError("format = 2\n"), "test.toml: unsupported format 2 (this crmhub reads 1)");
  EXPECT_EQ(LoadError("format = 1\n"), "test.toml: no [[entity]] rules");
  EXPECT_EQ(LoadError("format = 1\nentities = 1\n"), "test.toml: unknown key \"entities\"");
  EXPECT_EQ(
      LoadError(
          "format = 1\n[[entity]]\nrule = \"r\"\nkind = \"invoice\"\nexternal_id = \"/id\"\n"),
      "test.toml: rule \"r\": unknown kind \"invoice\" (see docs/model.md)");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nphon = \"/phone\"\n"),
            "test.toml: rule \"r\" field \"phon\": kind \"contact\" has no such field (see "
            "docs/model.md)");
  EXPECT_EQ(
      LoadError(head + "[entity.fields]\nphone = { path = \"/p\", transform = \"phonee\" }\n"),
      "test.toml: rule \"r\" field \"phone\": unknown transform \"phonee\"");
  EXPECT_EQ(
      LoadError(head + "[entity.fields]\nphone = { path = \"/p\", transform = \"phone:US\" }\n"),
      "test.toml: rule \"r\" field \"phone\": transform \"phone:US\": country must be RU, KZ, UA "
      "or BY");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nname = { path = \"/p\", map = \"nope\" }\n"),
            "test.toml: rule \"r\" field \"name\": map \"nope\" is not defined under [maps]");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nname = \"p\"\n"),
            "test.toml: rule \"r\" field \"name\": JSON pointer \"p\" must start with '/'");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nname = \"/a~2\"\n"),
            "test.toml: rule \"r\" field \"name\": JSON pointer \"/a~2\": '~' must be followed by "
            "0 or 1");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nname = { path = \"/a\", value = \"x\" }\n"),
            "test.toml: rule \"r\" field \"name\": needs exactly one of path, root_path, paths, "
            "join, sum, "
            "value, context, for_each, fields");
  EXPECT_EQ(LoadError(head + "[entity.fields]\nname = { path = \"/a\", requird = true }\n"),
            "test.toml: rule \"r\" field \"name\": unknown key \"requird\"");
  EXPECT_EQ(LoadError(head + "[[entity]]\nrule = \"r\"\nkind = \"lead\"\nexternal_id = \"/id\"\n"),
            "test.toml: rule \"r\": duplicate rule name");
  EXPECT_EQ(
      LoadError(head + "[entity.fields]\nname = { path = \"/a\", transform = \"money:9\" }\n"),
      "test.toml: rule \"r\" field \"name\": transform \"money:9\": scale must be 0..6");
  EXPECT_EQ(LoadError(head + "when = { path = \"/a\" }\n"),
            "test.toml: rule \"r\" when: a condition needs a test (equals, not_equals, in, not_in, "
            "exists, empty, prefix)");
  std::string syntax = LoadError("format = 1\n[[entity]\n");
  EXPECT_EQ(syntax.rfind("test.toml:2:", 0), 0u) << syntax;
}

TEST(RulesLoadTest, LoadRulesReportsUnreadableFiles) {
  auto r = LoadRules("/nonexistent/rules.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "/nonexistent/rules.toml: cannot read the rules file");
}

// Issue 22, item 9: `required` is checked after the transforms. With the
// shipped site-lead rules, {"id":"   "} used to pass (required fired before
// `trim` left ""), become "site-", and absorb every later blank form as its
// duplicate.
TEST(RulesLoadTest, ABlankIdIsNotALeadWithTheShippedSiteRules) {
  auto rules = LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/site-lead.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ApplyContext ctx{.source = "site"};
  for (const char* blank : {R"({"id":"   ","name":"Anna"})", R"({"id":"","name":"Anna"})"}) {
    auto r = rules->ApplyText(blank, ctx);
    ASSERT_FALSE(r.ok()) << blank;
    EXPECT_EQ(r.status().message(),
              R"(rule "contact" field "external_id": /id: required value is empty)")
        << blank;
  }
  auto ok = rules->ApplyText(R"({"id":" 42 ","name":"Anna"})", ctx);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].external_id, "site-42");
}

TEST(RulesLoadTest, EveryShippedRulesFileLoads) {
  // Every rules file under config/mappings/ (the adapters' too) must compile.
  int seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings")) {
    if (entry.path().extension() != ".toml") continue;
    ++seen;
    auto r = LoadRules(entry.path());
    EXPECT_TRUE(r.ok()) << entry.path() << ": " << r.status().ToString();
  }
  EXPECT_GE(seen, 5);
}

}  // namespace
}  // namespace crmhub::mapping
