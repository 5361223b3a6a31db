#include "base/secret.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/fmt/ostr.h>

#include <sstream>

namespace crmhub {
namespace {

TEST(SecretTest, NeverPrintsItsValue) {
  Secret s("hunter2-token");
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("key={:>5}", s), "key=  ***");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "***");
  EXPECT_EQ(s.Reveal(), "hunter2-token");
}

TEST(SecretTest, MatchesOnlyTheExactValue) {
  Secret s("abcdef");
  EXPECT_TRUE(s.Matches("abcdef"));
  EXPECT_FALSE(s.Matches("abcdeg"));
  EXPECT_FALSE(s.Matches("abcde"));
  EXPECT_FALSE(s.Matches("abcdefg"));
  EXPECT_FALSE(s.Matches(""));
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("same", "same"));
  EXPECT_FALSE(ConstantTimeEquals("same", "Same"));
  EXPECT_FALSE(ConstantTimeEquals("a", ""));
  std::string with_nul("a\0b", 3), other("a\0c", 3);
  EXPECT_FALSE(ConstantTimeEquals(with_nul, other));
}

}  // namespace
}  // namespace crmhub
