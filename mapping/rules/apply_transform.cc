// The transforms of mapping rules applied to one value (docs/mapping.md):
// the glue between JSON values and the normalisers in transforms.h.

#include <limits>

#include "base/json_get.h"
#include "mapping/rules/compiled.h"

namespace crmhub::mapping::internal {

std::string TrimmedCopy(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

namespace {

Status FromInt(Json& v, int64_t mul) {
  std::optional<int64_t> read = AsInt(v);  // nullopt past int64
  if (!read) return Status::InvalidArgument("integer overflows int64");
  int64_t n = *read;
  if (__builtin_mul_overflow(n, mul, &n)) return Status::InvalidArgument("value overflows int64");
  v = n;
  return Status::Ok();
}

}  // namespace

Status ApplyTransform(const Transform& t, Json& v) {
  std::string text;
  switch (t.op) {
    case Op::kTrim:
    case Op::kUpper:
    case Op::kLower:
    case Op::kCollapseSpaces: {
      if (!v.is_string())
        return v.is_primitive() ? Status::Ok() : Status::InvalidArgument("expected text");
      std::string& s = v.get_ref<std::string&>();
      if (t.op == Op::kTrim) s = TrimmedCopy(s);
      if (t.op == Op::kUpper)
        for (char& c : s) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
      if (t.op == Op::kLower)
        for (char& c : s) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      if (t.op == Op::kCollapseSpaces) {
        std::string out;
        for (char c : s) {
          bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
          if (ws) {
            if (!out.empty() && out.back() != ' ') out.push_back(' ');
          } else {
            out.push_back(c);
          }
        }
        if (!out.empty() && out.back() == ' ') out.pop_back();
        s = std::move(out);
      }
      return Status::Ok();
    }
    case Op::kString:
      if (!ScalarText(v, text)) return Status::InvalidArgument("expected a scalar");
      v = std::move(text);
      return Status::Ok();
    case Op::kInt:
    case Op::kMinorUnits:
    case Op::kUnixS:
    case Op::kUnixMs:
    case Op::kNegate:
    case Op::kWindowStart: {
      if (v.is_string()) {
        auto n = ParseInt64(v.get_ref<const std::string&>());
        if (!n.ok()) return n.status();
        v = *n;
      } else if (!v.is_number_integer()) {
        return Status::InvalidArgument(t.op == Op::kMinorUnits ? "minor units must be an integer"
                                                               : "not an integer");
      }
      if (t.op == Op::kUnixS) return FromInt(v, 1000);
      if (t.op == Op::kNegate) return FromInt(v, -1);
      if (t.op == Op::kWindowStart) {
        std::optional<int64_t> ms = AsInt(v);  // nullopt past int64
        if (!ms) return Status::InvalidArgument("integer overflows int64");
        const int64_t s = *ms / 1000;
        const int64_t len = t.arg;
        v = s - ((s % len) + len) % len;
        return Status::Ok();
      }
      return FromInt(v, 1);
    }
    case Op::kBool:
      if (v.is_boolean()) return Status::Ok();
      ScalarText(v, text);
      if (text == "true" || text == "1" || text == "yes")
        v = true;
      else if (text == "false" || text == "0" || text == "no")
        v = false;
      else
        return Status::InvalidArgument("not a boolean");
      return Status::Ok();
    case Op::kPhone: {
      if (v.is_boolean() || !ScalarText(v, text))
        return Status::InvalidArgument("not a phone number");
      auto r = NormalizePhone(text, t.country);
      if (!r.ok()) return r.status();
      v = std::move(*r);
      return Status::Ok();
    }
    case Op::kEmail: {
      if (!v.is_string()) return Status::InvalidArgument("not an e-mail address");
      auto r = NormalizeEmail(v.get_ref<const std::string&>());
      if (!r.ok()) return r.status();
      v = std::move(*r);
      return Status::Ok();
    }
    case Op::kMoney: {
      if (v.is_number_integer()) {
        int64_t mul = 1;
        for (int k = 0; k < t.arg; ++k) mul *= 10;
        Status s = FromInt(v, mul);
        return s.ok() ? s : Status::InvalidArgument("amount overflows int64 minor units");
      }
      if (v.is_number_float()) {
        text = v.dump();  // shortest round-trip text of what the sender wrote
        if (text.find_first_of("eE") != std::string::npos) {
          return Status::InvalidArgument("amount in exponent notation");
        }
      } else if (v.is_string()) {
        text = v.get_ref<const std::string&>();
      } else {
        return Status::InvalidArgument("not a decimal number");
      }
      auto r = ParseMoney(text, t.arg);
      if (!r.ok()) return r.status();
      v = *r;
      return Status::Ok();
    }
    case Op::kCurrency: {
      if (v.is_number_integer()) {
        text = std::to_string(v.get<int64_t>());
        while (text.size() < 3) text.insert(text.begin(), '0');
      } else if (!v.is_string()) {
        return Status::InvalidArgument("unknown currency code");
      } else {
        text = v.get_ref<const std::string&>();
      }
      auto r = NormalizeCurrency(text);
      if (!r.ok()) return r.status();
      v = std::move(*r);
      return Status::Ok();
    }
    case Op::kTimestampMs: {
      if (!v.is_string())
        return Status::InvalidArgument(
            "expected date/time text (use unix_s or unix_ms for numbers)");
      auto r = ParseTimestampMs(v.get_ref<const std::string&>(), t.arg);
      if (!r.ok()) {
        // Name where the default would come from: the transform's argument.
        if (t.arg == kNoDefaultOffset && r.status().message().starts_with("no time zone")) {
          return Status::InvalidArgument(r.status().message() + " in the rule");
        }
        return r.status();
      }
      v = *r;
      return Status::Ok();
    }
  }
  return Status::Internal("unknown transform");
}

}  // namespace crmhub::mapping::internal
