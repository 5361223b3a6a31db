// base/json_get.h: checked access to outside JSON never throws and answers
// "absent" for every wrong type.

#include "base/json_get.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace crmhub {
namespace {

using nlohmann::json;

TEST(JsonGetTest, TypedGettersAnswerAbsentForEveryOtherType) {
  const json doc = json::parse(R"({
    "s": "text", "i": 42, "neg": -7, "u": 18446744073709551615, "f": 1.5, "b": true,
    "n": null, "a": [1, 2], "o": {"k": "v"}, "digits": "123", "bad": "12x"
  })");
  EXPECT_EQ(JsonString(doc, "s"), "text");
  EXPECT_EQ(JsonInt(doc, "i"), 42);
  EXPECT_EQ(JsonInt(doc, "neg"), -7);
  for (const char* key : {"s", "f", "b", "n", "a", "o", "digits", "u", "missing"}) {
    EXPECT_EQ(JsonInt(doc, key), std::nullopt) << key;
  }
  for (const char* key : {"i", "f", "b", "n", "a", "o", "missing"}) {
    EXPECT_EQ(JsonString(doc, key), std::nullopt) << key;
  }
  EXPECT_EQ(JsonIntLoose(doc, "digits"), 123);
  EXPECT_EQ(JsonIntLoose(doc, "i"), 42);
  EXPECT_EQ(JsonIntLoose(doc, "bad"), std::nullopt);
  EXPECT_EQ(JsonIntLoose(doc, "f"), std::nullopt);
  EXPECT_EQ(JsonNumber(doc, "f"), 1.5);
  EXPECT_EQ(JsonNumber(doc, "s"), std::nullopt);
  EXPECT_EQ(JsonBool(doc, "b"), true);
  EXPECT_EQ(JsonBool(doc, "i"), std::nullopt);
  EXPECT_NE(JsonArray(doc, "a"), nullptr);
  EXPECT_EQ(JsonArray(doc, "o"), nullptr);
  EXPECT_NE(JsonObject(doc, "o"), nullptr);
  EXPECT_EQ(JsonObject(doc, "a"), nullptr);
  EXPECT_NE(JsonMember(doc, "n"), nullptr);  // a null member is present
  EXPECT_EQ(JsonScalarText(doc, "i"), "42");
  EXPECT_EQ(JsonScalarText(doc, "b"), "true");
  EXPECT_EQ(JsonScalarText(doc, "s"), "text");
  EXPECT_EQ(JsonScalarText(doc, "a"), std::nullopt);
  EXPECT_EQ(JsonScalarText(doc, "n"), std::nullopt);
  // A receiver that is not an object.
  for (const json& not_object : {json(1), json("x"), json::array({1}), json(nullptr)}) {
    EXPECT_EQ(JsonString(not_object, "s"), std::nullopt);
    EXPECT_EQ(JsonMember(not_object, "s"), nullptr);
  }
}

TEST(JsonGetTest, DecimalIntsAreStrict) {
  EXPECT_EQ(ParseDecimalInt("-42"), -42);
  EXPECT_EQ(ParseDecimalInt("9223372036854775807"), std::numeric_limits<int64_t>::max());
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "9223372036854775808", "1e3", "0x10"}) {
    EXPECT_EQ(ParseDecimalInt(bad), std::nullopt) << bad;
  }
}

TEST(JsonGetTest, ParseRefusesDeepDocumentsBeforeBuildingThem) {
  const std::string deep = std::string(300'000, '[') + std::string(300'000, ']');
  auto parsed = ParseJson(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "JSON nested deeper than 64 levels");
  // Brackets inside strings (escaped quotes too) do not count.
  const std::string in_string = "{\"a\":\"" + std::string(100, '[') + "\\\"\"}";
  EXPECT_TRUE(ParseJson(in_string).ok());
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']')).ok());
  EXPECT_EQ(ParseJson("{\"a\":").status().message(), "malformed JSON");
}

TEST(JsonGetTest, PointersWalkWithoutExceptions) {
  const json doc = json::parse(R"({"a": [{"b": 1}, {"b": 2}], "x~y": {"p/q": 3}})");
  auto at = [&](std::string_view pointer) -> const json* {
    auto p = JsonPointer::Parse(pointer);
    EXPECT_TRUE(p.ok()) << pointer;
    return p.ok() ? JsonFind(doc, *p) : nullptr;
  };
  ASSERT_NE(at("/a/1/b"), nullptr);
  EXPECT_EQ(*at("/a/1/b"), 2);
  EXPECT_EQ(*at("/x~0y/p~1q"), 3);
  EXPECT_EQ(at(""), &doc);
  // What nlohmann's contains()/at() throw on: not a number, out of range,
  // a leading zero, a step into a scalar.
  for (const char* missing : {"/a/b", "/a/2", "/a/01", "/a/-", "/a/0/b/c", "/z"}) {
    EXPECT_EQ(at(missing), nullptr) << missing;
  }
  EXPECT_FALSE(JsonPointer::Parse("a").ok());
  EXPECT_FALSE(JsonPointer::Parse("/a~2").ok());
}

}  // namespace
}  // namespace crmhub
