// IsValidJson must accept exactly what nlohmann::json::accept accepts: the
// webhook intake answers 400 to what it refuses, and the mapping later
// parses what it let through with nlohmann.
#include "base/json_validate.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

namespace crmhub {
namespace {

// nlohmann's lexer takes a NUL byte for the end of the input, so it accepts
// "1\0anything"; RFC 8259 does not, and neither does IsValidJson. (A NUL
// inside a string is refused by both.)
bool NlohmannAccepts(const std::string& text) {
  return nlohmann::json::accept(text) && text.find('\0') == std::string::npos;
}

TEST(IsValidJsonTest, AgreesWithNlohmannOnTheEdgeCases) {
  const std::string valid[] = {
      "{}",
      "[]",
      " \t\r\n{ \"a\" : [ 1 , -0 , 0.5e+3 , 1E-2 , true , false , null ] } ",
      "\"\"",
      "0",
      "-1.25",
      "\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
      "\xEF\xBB\xBF{\"bom\":1}",
      "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\x7F\"",
      "1e-999",
      "123456789012345678901234567890",
      "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]",
      std::string(100, '[') + std::string(100, ']')};
  const std::string invalid[] = {"",
                                 " ",
                                 "{",
                                 "}",
                                 "[1,]",
                                 "{\"a\":1,}",
                                 "{\"a\"}",
                                 "{1:2}",
                                 "01",
                                 "1.",
                                 ".5",
                                 "-",
                                 "+1",
                                 "1e",
                                 "1e+",
                                 "tru",
                                 "nul",
                                 "True",
                                 "[1 2]",
                                 "{\"a\":1 \"b\":2}",
                                 "\"\x01\"",
                                 "\"abc",
                                 "\"\\x\"",
                                 "\"\\u12\"",
                                 "\"\\ud83d\"",
                                 "\"\\ude00\"",
                                 "\"\\ud83d\\u0041\"",
                                 "\"\xC0\xAF\"",
                                 "\"\xED\xA0\x80\"",
                                 "\"\xF4\x90\x80\x80\"",
                                 "\"\xC3\"",
                                 "\"\x80\"",
                                 "1e999",
                                 "-1e400",
                                 std::string(400, '9'),
                                 "{} {}",
                                 "[1]x",
                                 "/* c */ 1",
                                 "\xEF\xBB{}",
                                 std::string("\"a\0b\"", 5),
                                 std::string("1\0x", 3),
                                 std::string(100, '[') + std::string(99, ']')};
  for (const std::string& t : valid) {
    EXPECT_TRUE(IsValidJson(t)) << t;
    EXPECT_TRUE(NlohmannAccepts(t)) << t;
  }
  for (const std::string& t : invalid) {
    EXPECT_FALSE(IsValidJson(t)) << t;
    EXPECT_FALSE(NlohmannAccepts(t)) << t;
  }
}

// Random documents (nested, with every kind of string content and number),
// then one to three random byte edits each: the two must agree every time.
class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  uint64_t Next(uint64_t n) { return rng_() % n; }

  std::string Document() {
    std::string out;
    Value(out, 0);
    return out;
  }

  void Mutate(std::string& s) {
    static const char kSpicy[] =
        "{}[]:,\"\\ \n0123456789-+.eEtfnul\x00\x1f\x7f\x80\xbf\xc0\xc3"
        "\xe0\xed\xef\xf0\xf4\xff/u";
    const int edits = 1 + static_cast<int>(Next(3));
    for (int i = 0; i < edits; ++i) {
      const size_t at = s.empty() ? 0 : Next(s.size() + 1);
      const char c = Next(2) ? kSpicy[Next(sizeof(kSpicy) - 1)] : static_cast<char>(Next(256));
      switch (Next(4)) {
        case 0:
          if (at < s.size()) s[at] = c;
          break;
        case 1:
          s.insert(s.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        case 2:
          if (at < s.size()) s.erase(at, 1);
          break;
        default:
          s.resize(at);
          break;
      }
    }
  }

 private:
  void Space(std::string& out) {
    static const char kSpace[] = " \t\r\n";
    while (Next(4) == 0) out += kSpace[Next(4)];
  }

  void Value(std::string& out, int depth) {
    Space(out);
    switch (depth > 70 ? 3 + Next(5) : Next(8)) {
      case 0:
      case 1: {
        out += '{';
        const uint64_t n = Next(4);
        for (uint64_t i = 0; i < n; ++i) {
          if (i) out += ',';
          Space(out);
          String(out);
          Space(out);
          out += ':';
          Value(out, depth + 1);
        }
        Space(out);
        out += '}';
        break;
      }
      case 2: {
        out += '[';
        const uint64_t n = Next(depth > 60 ? 2 : 4);
        for (uint64_t i = 0; i < n; ++i) {
          if (i) out += ',';
          Value(out, depth + 1);
        }
        Space(out);
        out += ']';
        break;
      }
      case 3:
      case 4:
        String(out);
        break;
      case 5:
        Number(out);
        break;
      default: {
        static const char* kWords[] = {"true", "false", "null"};
        out += kWords[Next(3)];
      }
    }
    Space(out);
  }

  void String(std::string& out) {
    static const char* kPieces[] = {"a",
                                    "Z",
                                    " ",
                                    "\\\"",
                                    "\\\\",
                                    "\\/",
                                    "\\n",
                                    "\\t",
                                    "\\u0041",
                                    "\\u00e9",
                                    "\\ud83d\\ude00",
                                    "\\uDBFF\\uDFFF",
                                    "\xC3\xA9",
                                    "\xE2\x82\xAC",
                                    "\xED\x9F\xBF",
                                    "\xEE\x80\x80",
                                    "\xF0\x90\x80\x80",
                                    "\xF4\x8F\xBF\xBF",
                                    "\x7F",
                                    "\xE0\xA0\x80"};
    out += '"';
    const uint64_t n = Next(6);
    for (uint64_t i = 0; i < n; ++i) out += kPieces[Next(sizeof(kPieces) / sizeof(kPieces[0]))];
    out += '"';
  }

  void Number(std::string& out) {
    if (Next(2)) out += '-';
    out += Next(4) == 0 ? std::string("0") : std::to_string(1 + Next(1000000));
    if (Next(2)) out += "." + std::to_string(Next(100000));
    if (Next(2)) {
      out += Next(2) ? 'e' : 'E';
      if (Next(2)) out += Next(2) ? '+' : '-';
      static const int kExponents[] = {0, 1, 2, 300, 307, 308, 309, 320, 324, 400};
      out += std::to_string(kExponents[Next(10)]);
    }
  }

  std::mt19937_64 rng_;
};

TEST(IsValidJsonTest, AgreesWithNlohmannOnAMillionMutatedDocuments) {
  Generator gen(20261203);
  int valid = 0, invalid = 0, disagreements = 0;
  for (int i = 0; i < 1000000; ++i) {
    std::string doc = gen.Document();
    if (i % 4 != 0) gen.Mutate(doc);
    const bool ours = IsValidJson(doc);
    const bool theirs = NlohmannAccepts(doc);
    (theirs ? valid : invalid)++;
    if (ours != theirs && ++disagreements <= 5) {
      ADD_FAILURE() << "IsValidJson " << ours << ", nlohmann " << theirs << " on: "
                    << nlohmann::json(doc).dump(-1, ' ', true,
                                                nlohmann::json::error_handler_t::replace);
    }
  }
  EXPECT_EQ(disagreements, 0);
  // Both sides of the line were exercised.
  EXPECT_GT(valid, 200000);
  EXPECT_GT(invalid, 200000);
}

// IsValidUtf8 accepts exactly the strings IsValidJson accepts between
// quotes (for bytes that need no escape), on random byte strings biased
// towards the multi-byte edges.
TEST(IsValidUtf8Test, AgreesWithTheJsonValidatorOnRandomBytes) {
  std::mt19937_64 rng(20261206);
  const unsigned char edges[] = {0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xA0, 0x9F,
                                 0xED, 0xEF, 0xF0, 0x90, 0x8F, 0xF4, 0xF5, 0xFF, 'a',  0xD0};
  int valid = 0, invalid = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) {
      unsigned char c = rng() % 2 ? edges[rng() % sizeof edges] : static_cast<unsigned char>(rng());
      if (c < 0x20 || c == '"' || c == '\\') c = 'x';
      s.push_back(static_cast<char>(c));
    }
    const bool utf8 = IsValidUtf8(s);
    (utf8 ? valid : invalid)++;
    ASSERT_EQ(utf8, IsValidJson("\"" + s + "\"")) << testing::PrintToString(s);
  }
  EXPECT_GT(valid, 10000);
  EXPECT_GT(invalid, 10000);
  EXPECT_TRUE(IsValidUtf8("Иван \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE0\xA0"));          // cut short
}

}  // namespace
}  // namespace crmhub
