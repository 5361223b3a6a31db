#include "base/json_list.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crmhub {
namespace {

using Path = std::vector<std::string_view>;

TEST(SplitJsonListTest, HandsBackEachObjectsOwnTextAndTheKeysAskedFor) {
  const std::string first =
      R"({"posting_number": "P-1", "status": "delivered", "n": {"status": "x"}, "x": [1, {}]})";
  const std::string doc = R"({"result": {"postings": [
      )" + first + R"(,
      {"status":"cancelled","posting_number":77} ,
      {}
    ], "has_next": true, "count": 3, "note": "s", "skip": {"has_next": false}},
    "has_next": false})";
  const Path path = {"result", "postings"};
  const Path keys = {"posting_number", "status"};
  auto list = SplitJsonList(doc, path, keys);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(list->found);
  ASSERT_EQ(list->elements.size(), 3u);
  EXPECT_EQ(list->elements[0].text, first);
  EXPECT_EQ(list->elements[0].fields, (std::vector<std::string>{"P-1", "delivered"}));
  EXPECT_EQ(list->elements[1].text, R"({"status":"cancelled","posting_number":77})");
  EXPECT_EQ(list->elements[1].fields, (std::vector<std::string>{"77", "cancelled"}));
  EXPECT_EQ(list->elements[2].text, "{}");
  EXPECT_EQ(list->elements[2].fields, (std::vector<std::string>{"", ""}));
  // Every text parses to what a full parse of the document holds there.
  auto whole = nlohmann::json::parse(doc);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(nlohmann::json::parse(list->elements[i].text), whole["result"]["postings"][i]);
  }
  // Scalars beside the array, not those nested elsewhere or at the root.
  EXPECT_EQ(list->Sibling("has_next"), "true");
  EXPECT_EQ(list->Sibling("count"), "3");
  EXPECT_EQ(list->Sibling("note"), "s");
  EXPECT_EQ(list->siblings.size(), 3u);
}

TEST(SplitJsonListTest, AnEmptyPathIsTheRootArrayAndOtherElementsHaveNoText) {
  const std::string doc = R"([ {"a":"1"}, 5, "s", null, [ {"a":"2"} ], {"a":"3"} ])";
  const Path keys = {"a"};
  auto list = SplitJsonList(doc, {}, keys);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_TRUE(list->found);
  ASSERT_EQ(list->elements.size(), 6u);
  EXPECT_EQ(list->elements[0].text, R"({"a":"1"})");
  EXPECT_EQ(list->elements[0].fields[0], "1");
  for (size_t i = 1; i <= 4; ++i) {
    EXPECT_TRUE(list->elements[i].text.empty()) << i;
    EXPECT_EQ(list->elements[i].fields[0], "") << i;
  }
  EXPECT_EQ(list->elements[5].text, R"({"a":"3"})");
}

TEST(SplitJsonListTest, APathThatDoesNotLeadToAnArrayIsNotFound) {
  const Path keys = {"a"};
  for (const char* doc : {R"({"result": {"postings": {"a": 1}}})", R"({"result": []})",
                          R"({"other": {"postings": []}})", R"([])", R"("s")"}) {
    const Path path = {"result", "postings"};
    auto list = SplitJsonList(doc, path, keys);
    ASSERT_TRUE(list.ok()) << doc;
    EXPECT_FALSE(list->found) << doc;
    EXPECT_TRUE(list->elements.empty()) << doc;
  }
  const Path result = {"result"};
  auto list = SplitJsonList(R"({"result": [{"a": 1}]})", result, keys);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->found);
  EXPECT_EQ(list->elements.at(0).fields[0], "1");
}

TEST(SplitJsonListTest, MalformedJsonAnywhereIsAnErrorLikeAFullParse) {
  const Path path = {"result"};
  const Path keys = {"a"};
  for (const char* doc : {R"({"result": [{"a": "1"}, {"a": )", R"({"result": [{"a": "1"}]} x)",
                          R"({"result": [{"a": "\x"}]})", R"({"result": [{"a": 01}]})", ""}) {
    auto list = SplitJsonList(doc, path, keys);
    EXPECT_FALSE(list.ok()) << doc;
    EXPECT_TRUE(nlohmann::json::parse(doc, nullptr, false).is_discarded()) << doc;
    if (!list.ok()) {
      EXPECT_NE(list.status().message().find("malformed JSON"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace crmhub
