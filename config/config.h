#pragma once
// Declared, validated configuration (TOML).
//
// Every section has a schema: each key's type, default and description.
// Unknown keys, wrong types and bad values are errors reported as
// "FILE:LINE:COL: message" (and `crmhub check-config` exits 2). The schema is
// also what docs/config.md is generated from, so docs and code cannot drift.
//
// Sections:
//   [daemon], [log], [http], [admin], [queue], [queue.lanes.<lane>], [crm]
//       fixed schemas, declared by the daemon (see daemon/config_schema.cc).
//   [adapters.<id>]  schema chosen by its `type` key from the registry the
//       caller passes in; the keys `type`, `enabled` and `mapping` are common.
//
// Secrets are never inline: a key of Type::kSecret names a file. A value with
// a '/' is a path (relative paths are relative to the config file's folder);
// a bare name is a systemd credential, read from $CREDENTIALS_DIRECTORY.

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
  std::vector<std::string> choices;  // for kEnum
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
  std::vector<std::string> GetStringList(const std::string& key) const;
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

class Config {
 public:
  const std::filesystem::path& file() const;
  // A fixed section; present (all defaults) even when absent from the file.
  const Section& Get(const std::string& name) const;
  // [queue.lanes.<lane>] sections, in file order.
  const std::vector<Section>& Lanes() const;
  // [adapters.<id>] sections, in file order.
  const std::vector<Section>& Adapters() const;

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
