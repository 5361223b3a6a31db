#pragma once
// Checked access to JSON that came from outside (a marketplace's answer, a
// webhook body, a provider's notification).
//
// nlohmann's own accessors throw on a type they did not expect (`value()`,
// `get<T>()`, `at()`, `operator[]` on a const non-object) and its copy and
// dump() recurse, so a number where a string was expected, or a document
// nested 300,000 deep, can end the process. Everything under adapters/ reads
// outside data through these instead: each getter answers "absent" for a
// missing key, a null, a value of another type, or a receiver that is not an
// object; nothing here throws.
//
//   Result<nlohmann::json> doc = ParseJson(body);          // depth-capped
//   if (!doc.ok()) return doc.status();                    // "malformed JSON: ..."
//   std::optional<std::string_view> id = JsonString(*doc, "posting_number");
//   std::optional<int64_t> n = JsonInt(*doc, "orderId");   // 12 but not "12" or 1.5
//   std::optional<int64_t> w = JsonIntLoose(*doc, "warehouse_id");  // 12 or "12"
//   const nlohmann::json* items = JsonArray(*doc, "items");
//   const nlohmann::json* v = JsonFind(*doc, JsonPointer::Parse("/a/0/b").value());
//
// Thread-safe (pure functions over const data).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub {

// The default nesting limit of every parse of outside JSON: deeper documents
// are refused before nlohmann builds them (real payloads are under 10 deep).
inline constexpr int kMaxJsonDepth = 64;

// Parses one JSON document. InvalidArgument "malformed JSON: ..." for bad
// syntax, "JSON nested deeper than N levels" above `max_depth`.
Result<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);
// True when no array or object in `text` is nested deeper than `max_depth`
// (strings are skipped, escapes included). Does not validate the syntax.
bool JsonDepthWithin(std::string_view text, int max_depth);

// The member `key` of `object`, or null when `object` is not an object or
// has no such key (a JSON null member is returned as is).
const nlohmann::json* JsonMember(const nlohmann::json& object, std::string_view key);

// Typed members: nullopt unless present with exactly that JSON type.
std::optional<std::string_view> JsonString(const nlohmann::json& object, std::string_view key);
// A JSON integer that fits int64 (not a float, not a string).
std::optional<int64_t> JsonInt(const nlohmann::json& object, std::string_view key);
// A JSON integer, or a string of decimal digits (optional '-') that fits
// int64: systems that send ids as strings in one place and numbers in another.
std::optional<int64_t> JsonIntLoose(const nlohmann::json& object, std::string_view key);
std::optional<double> JsonNumber(const nlohmann::json& object, std::string_view key);
std::optional<bool> JsonBool(const nlohmann::json& object, std::string_view key);
const nlohmann::json* JsonObject(const nlohmann::json& object, std::string_view key);
const nlohmann::json* JsonArray(const nlohmann::json& object, std::string_view key);

// A scalar as text: strings as they are, integers in decimal, other numbers
// as JSON writes them, booleans "true"/"false". nullopt for null, arrays,
// objects and absent keys.
std::optional<std::string> JsonScalarText(const nlohmann::json& value);
std::optional<std::string> JsonScalarText(const nlohmann::json& object, std::string_view key);

// The same checks on a value itself (an array element).
std::optional<std::string_view> AsString(const nlohmann::json& value);
std::optional<int64_t> AsInt(const nlohmann::json& value);
std::optional<int64_t> AsIntLoose(const nlohmann::json& value);

// A strict decimal int64 ("-42"; no spaces, no '+', no overflow).
std::optional<int64_t> ParseDecimalInt(std::string_view text);

// An RFC 6901 JSON pointer, parsed once (at config load) and walked without
// exceptions: an array step must be a decimal index within the array.
class JsonPointer {
 public:
  static Result<JsonPointer> Parse(std::string_view text);
  const std::string& text() const { return text_; }
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::string text_;
  std::vector<std::string> tokens_;
};
// The value at `pointer`, or null when any step is missing or of another type.
const nlohmann::json* JsonFind(const nlohmann::json& doc, const JsonPointer& pointer);

}  // namespace crmhub
