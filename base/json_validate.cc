#include "base/json_validate.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <system_error>
#include <vector>

namespace crmhub {
namespace {

class Validator {
 public:
  explicit Validator(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

  void set_max_depth(size_t depth) { max_depth_ = depth; }

  bool Run() {
    if (end_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) p_ += 3;
    if (!Value()) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  // One value; containers are walked iteratively (no recursion), with the
  // open containers on a stack: '{' or '['.
  bool Value() {
    for (;;) {
      SkipSpace();
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '{') {
        ++p_;
        SkipSpace();
        if (p_ != end_ && *p_ == '}') {
          ++p_;
        } else {
          if (!Push('{')) return false;
          if (!Member()) return false;
          continue;  // the member's value
        }
      } else if (c == '[') {
        ++p_;
        SkipSpace();
        if (p_ != end_ && *p_ == ']') {
          ++p_;
        } else {
          if (!Push('[')) return false;
          continue;  // the first element
        }
      } else if (!Scalar()) {
        return false;
      }
      // A value is complete: close containers or go on to the next item.
      for (;;) {
        if (depth_ == 0) return true;
        SkipSpace();
        if (p_ == end_) return false;
        const char open = Top();
        if (*p_ == ',') {
          ++p_;
          if (open == '{') {
            SkipSpace();
            if (!Member()) return false;
          }
          break;  // the next value
        }
        if ((open == '{' && *p_ == '}') || (open == '[' && *p_ == ']')) {
          ++p_;
          Pop();
          continue;
        }
        return false;
      }
    }
  }

  // `"key" :` of an object member, at its first character.
  bool Member() {
    if (p_ == end_ || *p_ != '"' || !String()) return false;
    SkipSpace();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    return true;
  }

  bool Scalar() {
    switch (*p_) {
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size()) return false;
    for (char w : word) {
      if (*p_++ != static_cast<unsigned char>(w)) return false;
    }
    return true;
  }

  bool Digits() {
    const unsigned char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return p_ != start;
  }

  bool Number() {
    const unsigned char* start = p_;
    bool exponent = false;
    if (*p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (*p_ >= '1' && *p_ <= '9') {
      Digits();
    } else {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!Digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return false;
    }
    // nlohmann refuses a number too large for a double ("number overflow");
    // only an exponent or more than 300 digits can get there.
    if (exponent || p_ - start > 300) return !Overflows(start, p_);
    return true;
  }

  // Whether a grammatical number's magnitude is beyond a double's.
  static bool Overflows(const unsigned char* begin, const unsigned char* end) {
    double value = 0;
    const char* b = reinterpret_cast<const char*>(begin);
    const char* e = reinterpret_cast<const char*>(end);
    const auto [ptr, ec] = std::from_chars(b, e, value);
    if (ec != std::errc::result_out_of_range) return false;
    // Out of range both ways: too large (overflow, refused) or too small
    // (nlohmann reads a denormal or zero, accepted). The decimal magnitude
    // of the first non-zero digit, plus the exponent, tells which.
    int64_t magnitude = 0;
    bool seen_digit = false, in_fraction = false;
    int64_t integer_digits = 0, leading_fraction_zeros = 0;
    const char* q = b;
    if (*q == '-') ++q;
    for (; q != e && *q != 'e' && *q != 'E'; ++q) {
      if (*q == '.') {
        in_fraction = true;
      } else if (!in_fraction) {
        if (seen_digit || *q != '0') {
          seen_digit = true;
          ++integer_digits;
        }
      } else if (!seen_digit) {
        if (*q == '0') {
          ++leading_fraction_zeros;
        } else {
          seen_digit = true;
        }
      }
    }
    magnitude = integer_digits > 0 ? integer_digits - 1 : -(leading_fraction_zeros + 1);
    int64_t exp = 0;
    if (q != e) {
      ++q;
      const bool negative = *q == '-';
      if (*q == '+' || *q == '-') ++q;
      for (; q != e; ++q) exp = std::min<int64_t>(exp * 10 + (*q - '0'), int64_t{1} << 40);
      if (negative) exp = -exp;
    }
    return magnitude + exp >= 0;
  }

  // Four hex digits of a \u escape, as a code unit; -1 when not hex.
  int32_t Hex4() {
    if (end_ - p_ < 4) return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const unsigned char c = *p_++;
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  // Continuation bytes of a UTF-8 sequence, the first within [lo, hi].
  bool Continuation(int count, unsigned char lo, unsigned char hi) {
    if (end_ - p_ < count) return false;
    if (*p_ < lo || *p_ > hi) return false;
    ++p_;
    for (int i = 1; i < count; ++i, ++p_) {
      if (*p_ < 0x80 || *p_ > 0xBF) return false;
    }
    return true;
  }

  bool String() {
    ++p_;  // the opening quote
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = *p_++;
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (p_ == end_) return false;
        const unsigned char e = *p_++;
        if (e == 'u') {
          const int32_t unit = Hex4();
          if (unit < 0) return false;
          if (unit >= 0xD800 && unit <= 0xDBFF) {  // a high surrogate: its low half next
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            const int32_t low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
          } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            return false;  // a low surrogate alone
          }
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                   e != 'r' && e != 't') {
          return false;
        }
      } else if (c >= 0x80) {
        bool ok;
        if (c >= 0xC2 && c <= 0xDF) {
          ok = Continuation(1, 0x80, 0xBF);
        } else if (c == 0xE0) {
          ok = Continuation(2, 0xA0, 0xBF);
        } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
          ok = Continuation(2, 0x80, 0xBF);
        } else if (c == 0xED) {
          ok = Continuation(2, 0x80, 0x9F);
        } else if (c == 0xF0) {
          ok = Continuation(3, 0x90, 0xBF);
        } else if (c >= 0xF1 && c <= 0xF3) {
          ok = Continuation(3, 0x80, 0xBF);
        } else if (c == 0xF4) {
          ok = Continuation(3, 0x80, 0x8F);
        } else {
          ok = false;
        }
        if (!ok) return false;
      }
    }
  }

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // False beyond the depth limit.
  bool Push(char c) {
    if (depth_ >= max_depth_) return false;
    if (depth_ < kInline) {
      inline_[depth_] = c;
    } else {
      more_.push_back(c);
    }
    ++depth_;
    return true;
  }
  char Top() const { return depth_ <= kInline ? inline_[depth_ - 1] : more_.back(); }
  void Pop() {
    if (depth_ > kInline) more_.pop_back();
    --depth_;
  }

  static constexpr size_t kInline = 64;
  const unsigned char* p_;
  const unsigned char* end_;
  size_t depth_ = 0;
  size_t max_depth_ = static_cast<size_t>(-1);
  char inline_[kInline] = {};
  std::vector<char> more_;
};

}  // namespace

bool IsValidJson(std::string_view text) { return Validator(text).Run(); }

bool IsValidJson(std::string_view text, int max_depth) {
  Validator v(text);
  v.set_max_depth(max_depth < 0 ? 0 : static_cast<size_t>(max_depth));
  return v.Run();
}

bool IsValidUtf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  // Continuation bytes, the first within [lo, hi] (which rules out overlong
  // forms, surrogates and code points above U+10FFFF).
  auto continuation = [&](int n, unsigned char lo, unsigned char hi) {
    if (end - p < n) return false;
    if (p[0] < lo || p[0] > hi) return false;
    for (int i = 1; i < n; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += n;
    return true;
  };
  while (p < end) {
    const unsigned char c = *p++;
    bool ok = true;
    if (c < 0x80) {
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      ok = continuation(1, 0x80, 0xBF);
    } else if (c == 0xE0) {
      ok = continuation(2, 0xA0, 0xBF);
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      ok = continuation(2, 0x80, 0xBF);
    } else if (c == 0xED) {
      ok = continuation(2, 0x80, 0x9F);
    } else if (c == 0xF0) {
      ok = continuation(3, 0x90, 0xBF);
    } else if (c >= 0xF1 && c <= 0xF3) {
      ok = continuation(3, 0x80, 0xBF);
    } else if (c == 0xF4) {
      ok = continuation(3, 0x80, 0x8F);
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace crmhub
