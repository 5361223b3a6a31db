#include "base/json_get.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace crmhub {

using nlohmann::json;

bool JsonDepthWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

Result<json> ParseJson(std::string_view text, int max_depth) {
  if (!JsonDepthWithin(text, max_depth)) {
    return Status::InvalidArgument(fmt::format("JSON nested deeper than {} levels", max_depth));
  }
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("malformed JSON");
  return doc;
}

const json* JsonMember(const json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string_view> AsString(const json& value) {
  if (!value.is_string()) return std::nullopt;
  return std::string_view(value.get_ref<const std::string&>());
}

std::optional<int64_t> AsInt(const json& value) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(v);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

std::optional<int64_t> ParseDecimalInt(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return out;
}

std::optional<int64_t> AsIntLoose(const json& value) {
  if (auto v = AsInt(value)) return v;
  if (auto s = AsString(value)) return ParseDecimalInt(*s);
  return std::nullopt;
}

std::optional<std::string_view> JsonString(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v ? AsString(*v) : std::nullopt;
}

std::optional<int64_t> JsonInt(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v ? AsInt(*v) : std::nullopt;
}

std::optional<int64_t> JsonIntLoose(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v ? AsIntLoose(*v) : std::nullopt;
}

std::optional<double> JsonNumber(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> JsonBool(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

const json* JsonObject(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v != nullptr && v->is_object() ? v : nullptr;
}

const json* JsonArray(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v != nullptr && v->is_array() ? v : nullptr;
}

std::optional<std::string> JsonScalarText(const json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number()) return value.dump();  // a scalar: dump() does not recurse
  return std::nullopt;
}

std::optional<std::string> JsonScalarText(const json& object, std::string_view key) {
  const json* v = JsonMember(object, key);
  return v ? JsonScalarText(*v) : std::nullopt;
}

Result<JsonPointer> JsonPointer::Parse(std::string_view text) {
  JsonPointer p;
  p.text_ = std::string(text);
  if (text.empty()) return p;  // the whole document
  if (text.front() != '/') {
    return Status::InvalidArgument(
        fmt::format("\"{}\": a JSON pointer starts with '/' (RFC 6901)", text));
  }
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      p.tokens_.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] == '~') {
      if (i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
        token += text[i + 1] == '0' ? '~' : '/';
        ++i;
        continue;
      }
      return Status::InvalidArgument(
          fmt::format("\"{}\": '~' must be followed by 0 or 1 (RFC 6901)", text));
    }
    token += text[i];
  }
  return p;
}

const json* JsonFind(const json& doc, const JsonPointer& pointer) {
  const json* at = &doc;
  for (const std::string& token : pointer.tokens()) {
    if (at->is_object()) {
      at = JsonMember(*at, token);
    } else if (at->is_array()) {
      // RFC 6901: digits without a leading zero ("0" itself is fine).
      if (token.empty() || (token.size() > 1 && token[0] == '0')) return nullptr;
      std::optional<int64_t> index = ParseDecimalInt(token);
      if (!index || *index < 0 || static_cast<uint64_t>(*index) >= at->size()) return nullptr;
      at = &(*at)[static_cast<size_t>(*index)];
    } else {
      return nullptr;
    }
    if (at == nullptr) return nullptr;
  }
  return at;
}

}  // namespace crmhub
