// adapters/kit/target.h: reading commands, splitting requests, settling.

#include <gtest/gtest.h>

#include "adapters/kit/target.h"

namespace crmhub::adapters::kit {
namespace {

adapters::Command MakeCommand(std::string name, std::string payload) {
  adapters::Command m;
  m.name = std::move(name);
  m.payload = std::move(payload);
  return m;
}

TEST(ReadCommandsTest, UnknownCommandsAndBadPayloadsFailTheRestAreRead) {
  std::vector<adapters::Command> batch = {
      MakeCommand("set_stock", R"({"sku":"a","stock":1})"),
      MakeCommand("set_price", R"({"sku":"b"})"),
      MakeCommand("set_stock", "[1,2]"),
      MakeCommand("set_stock", "{"),
      MakeCommand("set_stock", std::string(200, '[') + std::string(200, ']')),
      MakeCommand("nope", "{}")};
  std::vector<DeliveryOutcome> out(batch.size());
  auto read = ReadCommands(batch, {"set_stock", "set_price"}, "sys", out);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].index, 0u);
  EXPECT_EQ(read[0].name, "set_stock");
  EXPECT_EQ(read[0].item["sku"], "a");
  EXPECT_EQ(read[1].index, 1u);
  for (size_t i : {2, 3, 4, 5}) EXPECT_EQ(out[i].kind, DeliveryOutcome::Kind::kFail) << i;
  EXPECT_EQ(out[5].error, "sys: unknown command \"nope\"");
  EXPECT_NE(out[4].error.find("nested deeper"), std::string::npos) << out[4].error;
}

TEST(ChunkDistinctTest, RepeatsGoToALaterRequestAndChunksStayFull) {
  // max 2: a, b | a, c | a
  auto chunks = ChunkDistinct({"a", "b", "a", "c", "a"}, 2);
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(chunks[1], (std::vector<size_t>{2, 3}));
  EXPECT_EQ(chunks[2], (std::vector<size_t>{4}));
  // Distinct keys fill requests to the maximum in order.
  std::vector<std::string> keys;
  for (int i = 0; i < 2500; ++i) keys.push_back(std::to_string(i));
  auto big = ChunkDistinct(keys, 1000);
  ASSERT_EQ(big.size(), 3u);
  EXPECT_EQ(big[2].size(), 500u);
  EXPECT_TRUE(ChunkDistinct({}, 10).empty());
}

TEST(LastPerKeyTest, TheNewestOfEachKeySurvives) {
  EXPECT_EQ(LastPerKey({"a", "b", "a", "c", "b"}), (std::vector<size_t>{2, 3, 4}));
}

TEST(SettleAllTest, AnApiErrorBecomesEveryItemsOutcome) {
  std::vector<DeliveryOutcome> out(3);
  net::ApiError throttled{.kind = net::ApiError::Kind::kThrottled, .message = "429"};
  SettleAll(throttled, std::vector<size_t>{0, 2}, out);
  EXPECT_EQ(out[0].kind, DeliveryOutcome::Kind::kRetry);
  EXPECT_TRUE(out[1].ok());
  net::ApiError rejected{.kind = net::ApiError::Kind::kRejected, .message = "400"};
  SettleAll(rejected, std::vector<size_t>{1}, out);
  EXPECT_EQ(out[1].kind, DeliveryOutcome::Kind::kFail);
}

}  // namespace
}  // namespace crmhub::adapters::kit
