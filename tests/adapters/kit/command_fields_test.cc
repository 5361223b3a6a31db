// adapters/kit: command_fields.h (what targets read from an item),
// unreadable_record.h (a record a pull cannot key) and chunked_send.h
// (requests of distinct keys, settled from whole-request answers).

#include "adapters/kit/command_fields.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/kit/chunked_send.h"
#include "adapters/kit/unreadable_record.h"

namespace crmhub::adapters::kit {
namespace {

using nlohmann::json;

TEST(CommandFieldsTest, NumbersAmountsAndQuotes) {
  EXPECT_EQ(AsNumber(json(5)), 5.0);
  EXPECT_EQ(AsNumber(json(18446744073709551615ULL)), 18446744073709551615.0);
  EXPECT_EQ(AsNumber(json(1.5)), 1.5);
  EXPECT_FALSE(AsNumber(json("5")).has_value());
  EXPECT_FALSE(AsNumber(json()).has_value());
  const json item = json::parse(R"({"a":"123.45","b":7,"c":"x","d":[1],"e":"1e400"})");
  EXPECT_EQ(NumberOrText(item, "a"), json(123.45));
  EXPECT_EQ(NumberOrText(item, "b"), json(7));
  for (const char* key : {"c", "d", "e", "missing"})
    EXPECT_TRUE(NumberOrText(item, key).is_null()) << key;
  EXPECT_EQ(QuoteMember(item, "c"), "\"x\"");
  EXPECT_EQ(QuoteMember(item, "missing"), "nothing");
  EXPECT_EQ(QuoteMember(json{{"long", std::string(200, 'z')}}, "long").size(), 80u);
}

TEST(CommandFieldsTest, TrimmedTextCountsCharactersNotBytes) {
  std::string cyrillic;
  for (int i = 0; i < 5; ++i) cyrillic += "Ж";
  EXPECT_EQ(*TrimmedText(json{{"k", " \tab\t "}}, "k", 2), "ab");
  EXPECT_EQ(*TrimmedText(json{{"k", cyrillic}}, "k", 5), cyrillic);  // 10 bytes
  EXPECT_FALSE(TrimmedText(json{{"k", cyrillic + "Ж"}}, "k", 5).ok());
  EXPECT_FALSE(TrimmedText(json{{"k", "  "}}, "k", 5).ok());
  EXPECT_FALSE(TrimmedText(json{{"k", "a\nb"}}, "k", 5).ok());
  EXPECT_TRUE(TrimmedText(json{{"k", "a\tb"}}, "k", 5).ok());
  auto number = TrimmedText(json{{"k", 12}}, "k", 5);
  ASSERT_FALSE(number.ok());
  EXPECT_NE(number.status().message().find("got 12"), std::string::npos)
      << number.status().message();
}

TEST(UnreadableRecordTest, AStableKeyAnEnvelopeTheRulesCannotMap) {
  const json record = json::parse(R"({"orderId":"7"})");
  InboundEvent e = UnreadableRecord(record, "sys: orderId is not an integer", "order");
  EXPECT_EQ(e.kind, "order");
  EXPECT_EQ(
      json::parse(e.payload),
      json::parse(R"({"unreadable":{"orderId":"7"},"error":"sys: orderId is not an integer"})"));
  EXPECT_EQ(e.idempotency_key.rfind("unreadable:", 0), 0u);
  EXPECT_EQ(e.idempotency_key,
            UnreadableRecord(record, "sys: orderId is not an integer", "order").idempotency_key);
  EXPECT_NE(e.idempotency_key, UnreadableRecord(json(), "sys: x", "order").idempotency_key);
}

TEST(SendChunksTest, SettlesRequestsAndStopsAfterARetryableFailure) {
  const std::vector<std::string> keys = {"a", "b", "a", "c", "d", "e"};
  const std::vector<int> items = {0, 1, 2, 3, 4, 5};
  const std::vector<size_t> where = {5, 4, 3, 2, 1, 0};
  std::vector<std::vector<int>> sent;
  std::vector<net::ApiResult<net::ApiAnswer>> answers = {
      net::ApiAnswer{200}, net::ApiError{.kind = net::ApiError::Kind::kRejected, .message = "bad"},
      net::ApiError{.kind = net::ApiError::Kind::kThrottled, .message = "slow"}};
  std::vector<DeliveryOutcome> out(6);
  SendChunks(
      items, where, keys, 2,
      [&](const std::vector<int>& request) {
        sent.push_back(request);
        return answers[sent.size() - 1];
      },
      out);
  // a,b | a,c | d,e: the third is throttled; nothing after it is sent.
  EXPECT_EQ(sent, (std::vector<std::vector<int>>{{0, 1}, {2, 3}, {4, 5}}));
  EXPECT_TRUE(out[5].ok() && out[4].ok());
  EXPECT_EQ(out[3].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[2].kind, DeliveryOutcome::Kind::kFail);
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
}

TEST(SendChunksTest, LaterRequestsShareTheRetryableOutcomeUnsent) {
  std::vector<DeliveryOutcome> out(3);
  int calls = 0;
  SendChunks(
      std::vector<int>{1, 2, 3}, {0, 1, 2}, {"a", "b", "c"}, 1,
      [&](const std::vector<int>&) -> net::ApiResult<net::ApiAnswer> {
        ++calls;
        return net::ApiError{.kind = net::ApiError::Kind::kTransient, .message = "down"};
      },
      out);
  EXPECT_EQ(calls, 1);
  for (const auto& o : out) EXPECT_EQ(o.error, "down");
}

}  // namespace
}  // namespace crmhub::adapters::kit
