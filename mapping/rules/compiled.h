#pragma once
// The compiled form of a rules file (internal to mapping/rules). Built once by
// compile.cc, read concurrently by apply.cc; never mutated after compilation.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "mapping/model/entity.h"
#include "mapping/rules/transforms.h"

namespace crmhub::mapping::internal {

using Json = nlohmann::json;
using Table = std::map<std::string, Json, std::less<>>;

struct Segment {
  std::string key;   // unescaped RFC 6901 reference token
  size_t index = 0;  // when is_index
  bool is_index = false;
  bool wildcard = false;  // "*"
};

struct Pointer {
  std::string text;  // as written, for messages
  std::vector<Segment> segments;
  bool from_root = false;  // root_path
  bool has_wildcard = false;
};

enum class Op {
  kTrim,
  kUpper,
  kLower,
  kCollapseSpaces,
  kString,
  kInt,
  kBool,
  kPhone,
  kEmail,
  kMoney,
  kMinorUnits,
  kCurrency,
  kTimestampMs,
  kUnixS,
  kUnixMs,
  kNegate,
  kWindowStart,
};

struct Transform {
  Op op;
  std::string name;  // as written ("money:3")
  int arg = 0;       // money scale, timestamp default offset (minutes), window length (s)
  PhoneCountry country = PhoneCountry::kRU;
};

struct Condition {
  Pointer pointer;
  std::optional<Json> equals;
  std::optional<Json> not_equals;
  std::optional<std::vector<Json>> in;
  std::optional<std::vector<Json>> not_in;
  std::optional<bool> exists;
  std::optional<bool> empty;
  std::optional<std::string> prefix;
};

struct NamedSpec;

enum class Source { kPath, kPaths, kJoin, kSum, kConst, kContext, kForEach, kObject };
enum class ContextValue { kSource, kReceivedMs, kIndex };
enum class OnMissing { kError, kNull, kKeep };

struct ValueSpec {
  Source source = Source::kPath;
  std::vector<Pointer> pointers;  // kPath (1), kPaths, kJoin, kSum, kForEach (1)
  // kPaths and kJoin written with value tables among their elements: every
  // element as a spec (a pointer string becomes a plain path spec), in place
  // of `pointers`.
  std::vector<ValueSpec> parts;
  std::string separator;
  Json constant;
  ContextValue context = ContextValue::kSource;
  std::vector<NamedSpec> fields;  // kForEach, kObject
  std::vector<Json> null_if;
  std::vector<Transform> transforms;
  const Table* map = nullptr;  // points into CompiledRules::maps / inline_maps
  std::optional<Json> map_default;
  std::string lookup;                    // empty: none
  const Table* static_lookup = nullptr;  // null: ask ApplyContext::lookup
  OnMissing on_missing = OnMissing::kError;
  std::optional<Json> default_value;
  bool required = false;
  bool invalid_to_null = false;
  std::string prefix;
  std::string suffix;
};

struct NamedSpec {
  std::string name;
  ValueSpec spec;
};

struct EntityRule {
  std::string name;
  model::EntityKind kind = model::EntityKind::kContact;
  std::vector<Condition> when;
  std::optional<Pointer> for_each;
  ValueSpec external_id;
  std::optional<ValueSpec> version;
  std::vector<NamedSpec> fields;
  bool update_only = false;  // model::Entity::update_only
};

struct CompiledRules {
  std::string origin;
  std::string name;
  std::vector<Condition> skip_if;
  std::map<std::string, Table, std::less<>> maps;
  std::vector<std::unique_ptr<Table>> inline_maps;
  std::map<std::string, Table, std::less<>> lookups;
  std::vector<std::string> external_lookups;
  std::vector<EntityRule> entities;
};

// Text of a scalar as a map/lookup key or transform input: strings as is,
// integers in decimal, fractions by their shortest round-trip form, bools
// "true"/"false". Returns false for null, arrays and objects.
bool ScalarText(const Json& v, std::string& out);

// `s` without leading/trailing ASCII whitespace.
std::string TrimmedCopy(const std::string& s);

// Applies one transform to a non-null value in place (apply_transform.cc);
// on failure returns the reason only ("more than 2 decimal places").
Status ApplyTransform(const Transform& t, Json& v);

}  // namespace crmhub::mapping::internal
