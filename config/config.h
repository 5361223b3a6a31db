#pragma once
// Declared, validated configuration (TOML).
//
// Every section has a schema: each key's type, default and description.
// Unknown keys, wrong types and bad values are errors reported as
// "FILE:LINE:COL: message" (and `crmhub check-config` exits 2). The schema is
// also what docs/config.md is generated from, so docs and code cannot drift.
//
// Sections:
//   [daemon], [log], [http], [admin], [admin.tokens.<name>], [queue],
//   [queue.lanes.<lane>], [crm]
//       fixed schemas, declared by the daemon (see daemon/config_schema.cc).
//   [adapters.<id>]  schema chosen by its `type` key from the registry the
//       caller passes in; the keys `type`, `enabled` and `mapping` are common.
//
// Secrets are never inline: a key of Type::kSecret names a file. A value with
// a '/' is a path (relative paths are relative to the config file's folder);
// a bare name is a systemd credential, read from $CREDENTIALS_DIRECTORY. The
// file must be a regular file of at most 64 KiB; one readable by every user
// is a warning. Errors never repeat the value (it may be a pasted secret).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/secret.h"
#include "base/status.h"

namespace crmhub::config {

enum class Type {
  kString,
  kInt,
  kBool,
  kDuration,    // "30s" -> std::chrono::milliseconds
  kSize,        // "1MiB" -> bytes
  kStringList,  // ["a", "b"]
  kSecret,      // file path or credential name -> Secret (file content)
  kPath,        // resolved relative to the config file's folder
  kEnum,        // a string from KeySpec::choices
  kTable,       // a free-form sub-table, validated by the owner (e.g. lanes)
  kUrl,         // "https://host[:port][/path]" (http or https; a trailing '/' is dropped)
  kIdList,      // [507, "22"]: positive integer ids, written as numbers or strings
};
std::string_view TypeName(Type type);

struct KeySpec {
  std::string name;
  Type type = Type::kString;
  // Default as TOML source text ("\"var\"", "8", "\"30s\"", "true", "[]");
  // empty means no default.
  std::string default_value;
  std::string description;
  bool required = false;
  std::vector<std::string> choices;  // for kEnum, and each item of a kStringList
  std::optional<int64_t> min;        // for kInt
  std::optional<int64_t> max;
};

// A KeySpec default_value for a list of strings, as TOML: ["a", "b"].
std::string TomlStringList(const std::vector<std::string>& items);

struct SectionSpec {
  std::string name;  // "daemon", "http", "queue.lanes.*", "adapters.*"
  std::string description;
  std::vector<KeySpec> keys;
};

// Adapter schemas by `type`, supplied by whoever knows the adapters (the
// daemon's registry); config/ itself knows none of them.
struct AdapterSchema {
  std::string type;  // "webhook", "ozon", ...
  std::string description;
  std::vector<KeySpec> keys;  // besides the common ones
};

struct Schema {
  std::vector<SectionSpec> sections;
  std::vector<AdapterSchema> adapter_types;
  // The keys every [adapters.<id>] has.
  static std::vector<KeySpec> CommonAdapterKeys();
};

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string ToString() const;  // "file:line:col"
};

// A validated section. Getters return the configured value or the declared
// default; asking for an undeclared key or a wrong type is a programming
// error (throws std::logic_error).
class Section {
 public:
  const std::string& name() const;  // "http", "adapters.site"
  // For [adapters.<id>]: the id; for [queue.lanes.<lane>]: the lane.
  const std::string& id() const;
  // True if the key was written in the file (not defaulted).
  bool Has(const std::string& key) const;

  std::string GetString(const std::string& key) const;
  int64_t GetInt(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  std::chrono::milliseconds GetDuration(const std::string& key) const;
  uint64_t GetSize(const std::string& key) const;
  // A kStringList key written as one string reads as a list of that string.
  std::vector<std::string> GetStringList(const std::string& key) const;
  std::vector<int64_t> GetIdList(const std::string& key) const;
  // A scalar value (string, URL, enum, integer, boolean) as text; nullopt
  // when the key has no value or is not a scalar. For tools that read a
  // section without knowing its schema (the demo wiring its simulators).
  std::optional<std::string> GetText(const std::string& key) const;
  const Secret& GetSecret(const std::string& key) const;
  std::filesystem::path GetPath(const std::string& key) const;

  // Where the key (or the section header, if the key is absent) is.
  SourceLocation LocationOf(const std::string& key) const;
  // An InvalidArgument status "file:line:col: [section] key: message", for
  // validation done by the section's owner (e.g. an adapter's factory).
  Status ErrorAt(const std::string& key, const std::string& message) const;

  struct Data;
  explicit Section(std::shared_ptr<const Data> data);

 private:
  std::shared_ptr<const Data> data_;
};

// ---------------------------------------------------------------------------
// Keys declared once.
//
// An owner (an adapter type) declares each of its keys once, as a member of
// a KeySet, and reads it through that declaration, so the name, the type and
// the default cannot drift between the schema and the factory:
//
//   struct OzonKeys : config::KeySet {
//     config::Key<config::Type::kString> client_id = Declare<config::Type::kString>(
//         {.name = "client_id", .description = "...", .required = true});
//     config::Key<config::Type::kUrl> base_url = Declare<config::Type::kUrl>(
//         {.name = "base_url", .default_value = "\"https://api-seller.ozon.ru\"", ...});
//   };
//   schema.keys = OzonKeys().specs();                   // in declaration order
//   std::string id = keys.client_id.Get(section);       // typed
//
// KeySpec::type is set from the Key's type.

template <Type kType>
struct KeyValue;
template <>
struct KeyValue<Type::kString> {
  using type = std::string;
};
template <>
struct KeyValue<Type::kEnum> {
  using type = std::string;
};
template <>
struct KeyValue<Type::kUrl> {
  using type = std::string;
};
template <>
struct KeyValue<Type::kInt> {
  using type = int64_t;
};
template <>
struct KeyValue<Type::kBool> {
  using type = bool;
};
template <>
struct KeyValue<Type::kDuration> {
  using type = std::chrono::milliseconds;
};
template <>
struct KeyValue<Type::kSize> {
  using type = uint64_t;
};
template <>
struct KeyValue<Type::kStringList> {
  using type = std::vector<std::string>;
};
template <>
struct KeyValue<Type::kIdList> {
  using type = std::vector<int64_t>;
};
template <>
struct KeyValue<Type::kSecret> {
  using type = Secret;
};
template <>
struct KeyValue<Type::kPath> {
  using type = std::filesystem::path;
};

template <Type kType>
class Key {
 public:
  using Value = typename KeyValue<kType>::type;
  explicit Key(KeySpec spec) : spec_(std::move(spec)) { spec_.type = kType; }

  const KeySpec& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  // The configured value, or the declared default. REQUIRES: `section` was
  // loaded with a schema holding this key, and the key has a value (it is
  // required, has a default, or IsSet).
  Value Get(const Section& section) const {
    if constexpr (kType == Type::kString || kType == Type::kEnum || kType == Type::kUrl) {
      return section.GetString(spec_.name);
    } else if constexpr (kType == Type::kInt) {
      return section.GetInt(spec_.name);
    } else if constexpr (kType == Type::kBool) {
      return section.GetBool(spec_.name);
    } else if constexpr (kType == Type::kDuration) {
      return section.GetDuration(spec_.name);
    } else if constexpr (kType == Type::kSize) {
      return section.GetSize(spec_.name);
    } else if constexpr (kType == Type::kStringList) {
      return section.GetStringList(spec_.name);
    } else if constexpr (kType == Type::kIdList) {
      return section.GetIdList(spec_.name);
    } else if constexpr (kType == Type::kSecret) {
      return section.GetSecret(spec_.name);
    } else {
      return section.GetPath(spec_.name);
    }
  }
  // The value when written in the file (or defaulted), nullopt for an
  // optional key left out.
  std::optional<Value> Find(const Section& section) const {
    if (!IsSet(section) && spec_.default_value.empty()) return std::nullopt;
    return Get(section);
  }
  bool IsSet(const Section& section) const { return section.Has(spec_.name); }
  // "file:line:col: [section] key: message".
  Status ErrorAt(const Section& section, const std::string& message) const {
    return section.ErrorAt(spec_.name, message);
  }

 private:
  KeySpec spec_;
};

class KeySet {
 public:
  const std::vector<KeySpec>& specs() const { return specs_; }

  // Declares a key of this set (in docs order). Public so that a group of
  // shared keys (adapters/kit/push_auth.h) can add itself to a set.
  template <Type kType>
  Key<kType> Declare(KeySpec spec) {
    Key<kType> key(std::move(spec));
    specs_.push_back(key.spec());
    return key;
  }

 private:
  std::vector<KeySpec> specs_;
};

class Config {
 public:
  const std::filesystem::path& file() const;
  // A fixed section; present (all defaults) even when absent from the file.
  const Section& Get(const std::string& name) const;
  // The sub-sections of a fixed section declared as "<parent>.*" (e.g.
  // SubSections("admin.tokens") for [admin.tokens.<name>]), in name order
  // (TOML tables are unordered); Section::id() is the <name>.
  const std::vector<Section>& SubSections(std::string_view parent) const;
  // [queue.lanes.<lane>] sections, in name order.
  const std::vector<Section>& Lanes() const;
  // [adapters.<id>] sections, in file order.
  const std::vector<Section>& Adapters() const;
  // What is allowed but unwise ("file:line:col: [section] key: ..."), e.g. a
  // secret file every user can read: check-config and run print them.
  const std::vector<std::string>& warnings() const;

  struct Data;
  explicit Config(std::shared_ptr<const Data> data);

 private:
  std::shared_ptr<const Data> data_;
};

struct LoadOptions {
  // $CREDENTIALS_DIRECTORY; when empty the environment's value is used.
  std::optional<std::filesystem::path> credentials_directory;
};

// Loads and validates. On failure the Status message holds every error
// found, one "FILE:LINE:COL: message" per line.
Result<Config> LoadConfig(const std::filesystem::path& file, const Schema& schema,
                          const LoadOptions& options = {});

// Markdown reference of every section and key (docs/config.md).
std::string RenderSchemaMarkdown(const Schema& schema);

}  // namespace crmhub::config
