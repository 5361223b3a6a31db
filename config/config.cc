#include "config/config.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "base/units.h"

namespace crmhub::config {
namespace {

namespace fs = std::filesystem;

using Value =
    std::variant<std::monostate, std::string, int64_t, bool, std::chrono::milliseconds, uint64_t,
                 std::vector<std::string>, Secret, fs::path, std::vector<int64_t>>;

struct Entry {
  Value value;
  SourceLocation where;
  bool explicitly_set = false;
};

// Collects every error, so one run of check-config reports them all.
class Errors {
 public:
  void Add(const SourceLocation& at, const std::string& message) {
    lines_.push_back(fmt::format("{}: {}", at.ToString(), message));
  }
  bool empty() const { return lines_.empty(); }
  std::string Join() const {
    std::string out;
    for (const auto& l : lines_) {
      if (!out.empty()) out += '\n';
      out += l;
    }
    return out;
  }

 private:
  std::vector<std::string> lines_;
};

SourceLocation LocationOfNode(const fs::path& file, const toml::source_region& src) {
  return SourceLocation{file.string(), static_cast<int>(src.begin.line),
                        static_cast<int>(src.begin.column)};
}

std::string_view NodeTypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

std::string ExpectedFor(Type t) {
  switch (t) {
    case Type::kString:
      return "a string";
    case Type::kInt:
      return "an integer";
    case Type::kBool:
      return "a boolean (true or false)";
    case Type::kDuration:
      return "a duration string like \"30s\"";
    case Type::kSize:
      return "a size like \"1MiB\" or an integer number of bytes";
    case Type::kStringList:
      return "a string or an array of strings";
    case Type::kSecret:
      return "a string naming a secret file or credential";
    case Type::kPath:
      return "a string (a path)";
    case Type::kEnum:
      return "a string";
    case Type::kTable:
      return "a table";
    case Type::kUrl:
      return "a URL string like \"https://host\"";
    case Type::kIdList:
      return "an array of ids (positive integers, as numbers or strings)";
  }
  return "a value";
}

struct ResolveContext {
  fs::path config_dir;
  std::optional<fs::path> credentials_dir;
  std::vector<std::string>* warnings = nullptr;  // where secret-file warnings go
};

// The largest secret file read: keys and tokens are a few hundred bytes; a
// bound keeps a mistake (a device, a log file) from filling memory.
constexpr uintmax_t kMaxSecretBytes = 64 * 1024;

// The secret file `ref` names. Errors never repeat `ref`: a secret pasted
// where a file name belongs must not be echoed into logs (the error's
// location names the key).
Result<Secret> ReadSecret(const std::string& ref, const ResolveContext& ctx,
                          std::vector<std::string>* warnings) {
  fs::path file;
  if (ref.empty()) return Status::InvalidArgument("empty secret reference");
  if (ref.find('/') != std::string::npos) {
    file = fs::path(ref).is_absolute() ? fs::path(ref) : ctx.config_dir / ref;
  } else {
    if (!ctx.credentials_dir) {
      return Status::InvalidArgument(
          "the value is taken for a systemd credential name, but $CREDENTIALS_DIRECTORY is not "
          "set (LoadCredential=); to use a plain file write a path containing '/', e.g. "
          "\"./secret-file\" (never the secret itself)");
    }
    file = *ctx.credentials_dir / ref;
  }
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return Status::InvalidArgument(
        fmt::format("cannot read the secret file it names: {}", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("the secret file it names is not a regular file");
  }
  if (static_cast<uintmax_t>(st.st_size) > kMaxSecretBytes) {
    return Status::InvalidArgument(fmt::format(
        "the secret file it names is larger than {} KiB: not a key", kMaxSecretBytes / 1024));
  }
  if ((st.st_mode & S_IROTH) != 0 && warnings != nullptr) {
    warnings->push_back(
        fmt::format("the secret file {} is readable by every user of this machine (chmod o-r)",
                    file.filename().string()));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument(
        fmt::format("cannot read the secret file it names: {}", std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string value = buf.str();
  // A trailing newline is an artefact of `echo > file`, never part of a key.
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  if (value.empty()) return Status::InvalidArgument("the secret file it names is empty");
  return Secret(std::move(value));
}

// Converts one TOML node to the declared type; returns the error text on failure.
Result<Value> Convert(const toml::node& node, const KeySpec& spec, const ResolveContext& ctx,
                      bool from_default) {
  auto wrong_type = [&]() {
    return Status::InvalidArgument(
        fmt::format("expected {}, got {}", ExpectedFor(spec.type), NodeTypeName(node)));
  };
  switch (spec.type) {
    case Type::kString: {
      if (!node.is_string()) return wrong_type();
      return Value(std::string(*node.value<std::string_view>()));
    }
    case Type::kEnum: {
      if (!node.is_string()) return wrong_type();
      std::string v(*node.value<std::string_view>());
      for (const auto& c : spec.choices) {
        if (c == v) return Value(v);
      }
      return Status::InvalidArgument(
          fmt::format("\"{}\" is not one of: {}", v, fmt::join(spec.choices, ", ")));
    }
    case Type::kInt: {
      if (!node.is_integer()) return wrong_type();
      int64_t v = *node.value<int64_t>();
      if (spec.min && v < *spec.min) {
        return Status::InvalidArgument(fmt::format("{} is below the minimum {}", v, *spec.min));
      }
      if (spec.max && v > *spec.max) {
        return Status::InvalidArgument(fmt::format("{} is above the maximum {}", v, *spec.max));
      }
      return Value(v);
    }
    case Type::kBool: {
      if (!node.is_boolean()) return wrong_type();
      return Value(*node.value<bool>());
    }
    case Type::kDuration: {
      if (!node.is_string()) return wrong_type();
      auto d = ParseDuration(*node.value<std::string_view>());
      if (!d.ok()) return d.status();
      return Value(*d);
    }
    case Type::kSize: {
      if (node.is_integer()) {
        int64_t v = *node.value<int64_t>();
        if (v < 0) return Status::InvalidArgument("negative sizes are not allowed");
        return Value(static_cast<uint64_t>(v));
      }
      if (!node.is_string()) return wrong_type();
      auto s = ParseSize(*node.value<std::string_view>());
      if (!s.ok()) return s.status();
      return Value(*s);
    }
    case Type::kUrl: {
      if (!node.is_string()) return wrong_type();
      std::string url(*node.value<std::string_view>());
      const size_t scheme = url.rfind("http://", 0) == 0    ? 7
                            : url.rfind("https://", 0) == 0 ? 8
                                                            : 0;
      if (scheme == 0) return Status::InvalidArgument("must start with http:// or https://");
      if (url.size() == scheme || url[scheme] == '/' || url[scheme] == ':') {
        return Status::InvalidArgument("has no host after the scheme");
      }
      for (char c : url) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
          return Status::InvalidArgument("must not contain spaces or control characters");
        }
      }
      while (url.size() > scheme + 1 && url.back() == '/') url.pop_back();
      return Value(std::move(url));
    }
    case Type::kIdList: {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) return wrong_type();
      std::vector<int64_t> out;
      for (const toml::node& item : *arr) {
        int64_t id = 0;
        if (item.is_integer()) {
          id = *item.value<int64_t>();
        } else if (item.is_string()) {
          std::string_view text = *item.value<std::string_view>();
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
          if (ec != std::errc() || end != text.data() + text.size()) {
            return Status::InvalidArgument(fmt::format("\"{}\" is not a numeric id", text));
          }
        } else {
          return Status::InvalidArgument(
              fmt::format("expected ids (numbers or strings), found {} in it", NodeTypeName(item)));
        }
        if (id <= 0) return Status::InvalidArgument(fmt::format("{} is not a positive id", id));
        out.push_back(id);
      }
      return Value(std::move(out));
    }
    case Type::kStringList: {
      // One string is a list of one: what users write first for a single value.
      std::vector<std::string> out;
      if (node.is_string()) {
        out.emplace_back(*node.value<std::string_view>());
      } else if (const toml::array* arr = node.as_array()) {
        for (const toml::node& item : *arr) {
          if (!item.is_string()) {
            return Status::InvalidArgument(
                fmt::format("expected an array of strings, found {} in it", NodeTypeName(item)));
          }
          out.emplace_back(*item.value<std::string_view>());
        }
      } else {
        return wrong_type();
      }
      if (!spec.choices.empty()) {
        for (const std::string& item : out) {
          if (std::find(spec.choices.begin(), spec.choices.end(), item) == spec.choices.end()) {
            return Status::InvalidArgument(
                fmt::format("\"{}\" is not one of: {}", item, fmt::join(spec.choices, ", ")));
          }
        }
      }
      return Value(std::move(out));
    }
    case Type::kSecret: {
      if (!node.is_string()) return wrong_type();
      auto s = ReadSecret(std::string(*node.value<std::string_view>()), ctx, ctx.warnings);
      if (!s.ok()) return s.status();
      return Value(std::move(s).value());
    }
    case Type::kPath: {
      if (!node.is_string()) return wrong_type();
      fs::path p(std::string(*node.value<std::string_view>()));
      // Defaults stay relative to the working directory (e.g. "var");
      // paths written in the file are relative to the file's folder.
      if (!from_default && p.is_relative()) p = ctx.config_dir / p;
      return Value(p.lexically_normal());
    }
    case Type::kTable: {
      if (!node.is_table()) return wrong_type();
      return Value(std::monostate{});
    }
  }
  return wrong_type();
}

}  // namespace

// ---------------------------------------------------------------------------

std::string TomlStringList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += '"';
    for (char ch : items[i]) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  return out + "]";
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kInt:
      return "integer";
    case Type::kBool:
      return "boolean";
    case Type::kDuration:
      return "duration";
    case Type::kSize:
      return "size";
    case Type::kStringList:
      return "list of strings";
    case Type::kSecret:
      return "secret file";
    case Type::kPath:
      return "path";
    case Type::kEnum:
      return "enum";
    case Type::kTable:
      return "table";
    case Type::kUrl:
      return "URL";
    case Type::kIdList:
      return "list of ids";
  }
  return "?";
}

std::vector<KeySpec> Schema::CommonAdapterKeys() {
  return {
      {.name = "type",
       .type = Type::kString,
       .description = "Which adapter this is (see the adapter types below).",
       .required = true},
      {.name = "enabled",
       .type = Type::kBool,
       .default_value = "true",
       .description = "Set to false to keep the section but not run the adapter; its queued "
                      "messages stay queued."},
      {.name = "mapping",
       .type = Type::kPath,
       .description = "Mapping rules file (relative to this config file) that turns this "
                      "adapter's records into canonical CRM entities. Required for adapters "
                      "that receive data."},
  };
}

std::string SourceLocation::ToString() const { return fmt::format("{}:{}:{}", file, line, column); }

// ---------------------------------------------------------------------------
// Section

struct Section::Data {
  std::string name;
  std::string id;
  SourceLocation header;
  std::map<std::string, Entry> entries;
};

Section::Section(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
const std::string& Section::name() const { return data_->name; }
const std::string& Section::id() const { return data_->id; }

bool Section::Has(const std::string& key) const {
  auto it = data_->entries.find(key);
  return it != data_->entries.end() && it->second.explicitly_set;
}

namespace {
template <typename T>
const T& GetAs(const std::map<std::string, Entry>& entries, const std::string& section,
               const std::string& key) {
  auto it = entries.find(key);
  if (it == entries.end()) {
    throw std::logic_error(
        fmt::format("config key [{}] {} is not declared or has no value", section, key));
  }
  const T* v = std::get_if<T>(&it->second.value);
  if (v == nullptr) {
    throw std::logic_error(fmt::format("config key [{}] {} read as the wrong type", section, key));
  }
  return *v;
}
}  // namespace

std::string Section::GetString(const std::string& key) const {
  return GetAs<std::string>(data_->entries, data_->name, key);
}
int64_t Section::GetInt(const std::string& key) const {
  return GetAs<int64_t>(data_->entries, data_->name, key);
}
bool Section::GetBool(const std::string& key) const {
  return GetAs<bool>(data_->entries, data_->name, key);
}
std::chrono::milliseconds Section::GetDuration(const std::string& key) const {
  return GetAs<std::chrono::milliseconds>(data_->entries, data_->name, key);
}
uint64_t Section::GetSize(const std::string& key) const {
  return GetAs<uint64_t>(data_->entries, data_->name, key);
}
std::vector<std::string> Section::GetStringList(const std::string& key) const {
  return GetAs<std::vector<std::string>>(data_->entries, data_->name, key);
}
std::optional<std::string> Section::GetText(const std::string& key) const {
  auto it = data_->entries.find(key);
  if (it == data_->entries.end()) return std::nullopt;
  const Value& v = it->second.value;
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(&v)) return std::string(*b ? "true" : "false");
  return std::nullopt;
}
std::vector<int64_t> Section::GetIdList(const std::string& key) const {
  return GetAs<std::vector<int64_t>>(data_->entries, data_->name, key);
}
const Secret& Section::GetSecret(const std::string& key) const {
  return GetAs<Secret>(data_->entries, data_->name, key);
}
std::filesystem::path Section::GetPath(const std::string& key) const {
  return GetAs<fs::path>(data_->entries, data_->name, key);
}

SourceLocation Section::LocationOf(const std::string& key) const {
  auto it = data_->entries.find(key);
  if (it != data_->entries.end() && it->second.explicitly_set) return it->second.where;
  return data_->header;
}

Status Section::ErrorAt(const std::string& key, const std::string& message) const {
  return Status::InvalidArgument(
      fmt::format("{}: [{}] {}: {}", LocationOf(key).ToString(), data_->name, key, message));
}

// ---------------------------------------------------------------------------
// Config

struct Config::Data {
  fs::path file;
  std::vector<std::string> warnings;
  std::map<std::string, Section> fixed;
  // "queue.lanes" -> [queue.lanes.<lane>] sections, in file order.
  std::map<std::string, std::vector<Section>, std::less<>> subsections;
  std::vector<Section> adapters;
};

Config::Config(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
const fs::path& Config::file() const { return data_->file; }

const Section& Config::Get(const std::string& name) const {
  auto it = data_->fixed.find(name);
  if (it == data_->fixed.end()) {
    throw std::logic_error(fmt::format("config section [{}] is not declared", name));
  }
  return it->second;
}
const std::vector<Section>& Config::SubSections(std::string_view parent) const {
  static const std::vector<Section> kNone;
  auto it = data_->subsections.find(parent);
  return it == data_->subsections.end() ? kNone : it->second;
}
const std::vector<Section>& Config::Lanes() const { return SubSections("queue.lanes"); }
const std::vector<std::string>& Config::warnings() const { return data_->warnings; }
const std::vector<Section>& Config::Adapters() const { return data_->adapters; }

// ---------------------------------------------------------------------------
// Loading

namespace {

class Loader {
 public:
  Loader(const fs::path& file, const Schema& schema, ResolveContext ctx)
      : file_(file), schema_(schema), ctx_(std::move(ctx)) {
    ctx_.warnings = &raw_warnings_;
  }

  Result<Config> Load() {
    toml::table root;
    try {
      root = toml::parse_file(file_.string());
    } catch (const toml::parse_error& e) {
      errors_.Add(LocationOfNode(file_, e.source()), std::string(e.description()));
      return Status::InvalidArgument(errors_.Join());
    }
    auto data = std::make_shared<Config::Data>();
    data->file = file_;

    for (auto&& [key, node] : root) {
      const std::string name(key.str());
      SourceLocation at = LocationOfNode(file_, key.source());
      if (name == "adapters") {
        LoadAdapters(node, at, data.get());
        continue;
      }
      const SectionSpec* spec = FindSection(name);
      if (spec == nullptr) {
        errors_.Add(at, fmt::format("unknown section [{}] (known: {})", name, KnownSections()));
        continue;
      }
      if (!node.is_table()) {
        errors_.Add(at, fmt::format("[{}] must be a table, got {}", name, NodeTypeName(node)));
        continue;
      }
      data->fixed.insert_or_assign(name, BuildSection(*spec, name, "", *node.as_table(), at));
      LoadSubSections(name, *node.as_table(), data.get());
      LoadNestedSections(name, *node.as_table(), data.get());
    }
    // Sections absent from the file still exist, with their defaults.
    toml::table empty;
    for (const SectionSpec& spec : schema_.sections) {
      if (spec.name.find('*') != std::string::npos) continue;
      if (!data->fixed.contains(spec.name)) {
        data->fixed.insert_or_assign(
            spec.name, BuildSection(spec, spec.name, "", empty, {file_.string(), 1, 1}));
      }
    }
    if (!errors_.empty()) return Status::InvalidArgument(errors_.Join());
    data->warnings = warnings_;
    return Config(std::move(data));
  }

 private:
  const SectionSpec* FindSection(const std::string& name) const {
    for (const SectionSpec& s : schema_.sections) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }

  std::string KnownSections() const {
    std::vector<std::string> names;
    for (const SectionSpec& s : schema_.sections) {
      if (s.name.find('*') == std::string::npos) names.push_back(s.name);
    }
    names.push_back("adapters.<id>");
    return fmt::format("{}", fmt::join(names, ", "));
  }

  // The sub-sections of a fixed section, declared as "<parent>.<child>.*"
  // ([queue.lanes.<lane>], [admin.tokens.<name>]).
  void LoadSubSections(const std::string& parent, const toml::table& parent_table,
                       Config::Data* data) {
    for (const SectionSpec& spec : schema_.sections) {
      const std::string prefix = parent + ".";
      if (spec.name.size() <= prefix.size() + 2 ||
          spec.name.compare(0, prefix.size(), prefix) != 0 || !spec.name.ends_with(".*")) {
        continue;
      }
      const std::string child =
          spec.name.substr(prefix.size(), spec.name.size() - prefix.size() - 2);
      const toml::node* children = parent_table.get(child);
      if (children == nullptr) continue;
      const std::string group = parent + "." + child;
      if (!children->is_table()) {
        errors_.Add(LocationOfNode(file_, children->source()),
                    fmt::format("[{}] must hold tables like [{}.<name>]", group, group));
        continue;
      }
      for (auto&& [key, node] : *children->as_table()) {
        SourceLocation at = LocationOfNode(file_, key.source());
        const std::string id(key.str());
        if (!node.is_table()) {
          errors_.Add(at, fmt::format("[{}.{}] must be a table", group, id));
          continue;
        }
        data->subsections[group].push_back(
            BuildSection(spec, group + "." + id, id, *node.as_table(), at));
      }
    }
  }

  bool IsSubSection(const std::string& parent, const std::string& key) const {
    return FindSection(parent + "." + key + ".*") != nullptr || IsNestedSection(parent, key);
  }

  // A fixed section inside a fixed section, declared by its dotted name
  // without '*' ([queue.kafka] inside [queue]).
  bool IsNestedSection(const std::string& parent, const std::string& key) const {
    return FindSection(parent + "." + key) != nullptr;
  }
  void LoadNestedSections(const std::string& parent, const toml::table& parent_table,
                          Config::Data* data) {
    for (auto&& [key, node] : parent_table) {
      const std::string child(key.str());
      if (!IsNestedSection(parent, child)) continue;
      const std::string name = parent + "." + child;
      SourceLocation at = LocationOfNode(file_, key.source());
      if (!node.is_table()) {
        errors_.Add(at, fmt::format("[{}] must be a table", name));
        continue;
      }
      data->fixed.insert_or_assign(
          name, BuildSection(*FindSection(name), name, "", *node.as_table(), at));
    }
  }

  void LoadAdapters(const toml::node& node, const SourceLocation& at, Config::Data* data) {
    if (!node.is_table()) {
      errors_.Add(at, "[adapters] must hold tables like [adapters.<id>]");
      return;
    }
    for (auto&& [key, adapter_node] : *node.as_table()) {
      const std::string id(key.str());
      SourceLocation where = LocationOfNode(file_, key.source());
      const std::string section_name = "adapters." + id;
      if (!adapter_node.is_table()) {
        errors_.Add(where, fmt::format("[{}] must be a table", section_name));
        continue;
      }
      if (!ValidId(id)) {
        errors_.Add(where,
                    fmt::format("adapter id \"{}\" may contain only a-z, 0-9, '-' and '_'", id));
        continue;
      }
      const toml::table& table = *adapter_node.as_table();
      const toml::node* type_node = table.get("type");
      if (type_node == nullptr || !type_node->is_string()) {
        errors_.Add(
            type_node ? LocationOfNode(file_, type_node->source()) : where,
            fmt::format("[{}] type: required, a string naming the adapter type", section_name));
        continue;
      }
      const std::string type(*type_node->value<std::string_view>());
      const AdapterSchema* adapter_schema = nullptr;
      std::vector<std::string> known;
      for (const AdapterSchema& s : schema_.adapter_types) {
        known.push_back(s.type);
        if (s.type == type) adapter_schema = &s;
      }
      if (adapter_schema == nullptr) {
        errors_.Add(LocationOfNode(file_, type_node->source()),
                    fmt::format("[{}] type: unknown adapter type \"{}\" (known: {})", section_name,
                                type, fmt::join(known, ", ")));
        continue;
      }
      SectionSpec spec{section_name, adapter_schema->description, Schema::CommonAdapterKeys()};
      spec.keys.insert(spec.keys.end(), adapter_schema->keys.begin(), adapter_schema->keys.end());
      data->adapters.push_back(BuildSection(spec, section_name, id, table, where));
    }
  }

  static bool ValidId(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    return true;
  }

  Section BuildSection(const SectionSpec& spec, const std::string& name, const std::string& id,
                       const toml::table& table, const SourceLocation& header) {
    auto data = std::make_shared<Section::Data>();
    data->name = name;
    data->id = id;
    data->header = header;
    for (auto&& [key, node] : table) {
      const std::string k(key.str());
      SourceLocation at = LocationOfNode(file_, key.source());
      const KeySpec* ks = nullptr;
      for (const KeySpec& candidate : spec.keys) {
        if (candidate.name == k) ks = &candidate;
      }
      if (ks == nullptr) {
        // Sub-sections ([queue.lanes.<lane>]) are validated by LoadSubSections.
        if (IsSubSection(name, k)) continue;
        std::vector<std::string> names;
        for (const KeySpec& candidate : spec.keys) names.push_back(candidate.name);
        errors_.Add(at, fmt::format("[{}] unknown key \"{}\" (known keys: {})", name, k,
                                    fmt::join(names, ", ")));
        continue;
      }
      raw_warnings_.clear();
      auto v = Convert(node, *ks, ctx_, /*from_default=*/false);
      for (const std::string& w : raw_warnings_) {
        warnings_.push_back(fmt::format(
            "{}: [{}] {}: {}", LocationOfNode(file_, node.source()).ToString(), name, k, w));
      }
      if (!v.ok()) {
        errors_.Add(LocationOfNode(file_, node.source()),
                    fmt::format("[{}] {}: {}", name, k, v.status().message()));
        continue;
      }
      data->entries[k] = Entry{std::move(v).value(), LocationOfNode(file_, node.source()), true};
    }
    for (const KeySpec& ks : spec.keys) {
      if (data->entries.contains(ks.name)) continue;
      if (ks.required) {
        // Reported only when the key is truly absent (not when it was invalid).
        if (!table.contains(ks.name)) {
          errors_.Add(header, fmt::format("[{}] {}: required key is missing ({})", name, ks.name,
                                          ks.description));
        }
        continue;
      }
      if (ks.default_value.empty()) continue;
      toml::table parsed;
      try {
        parsed = toml::parse("v = " + ks.default_value);
      } catch (const toml::parse_error& e) {
        throw std::logic_error(
            fmt::format("bad default for [{}] {}: {}", name, ks.name, e.description()));
      }
      auto v = Convert(*parsed.get("v"), ks, ctx_, /*from_default=*/true);
      if (!v.ok()) {
        // Only secret defaults can fail at run time (a missing credential).
        errors_.Add(header, fmt::format("[{}] {} (default {}): {}", name, ks.name, ks.default_value,
                                        v.status().message()));
        continue;
      }
      data->entries[ks.name] = Entry{std::move(v).value(), header, false};
    }
    return Section(std::move(data));
  }

  fs::path file_;
  const Schema& schema_;
  ResolveContext ctx_;
  Errors errors_;
  std::vector<std::string> raw_warnings_;  // ReadSecret's, for the key being converted

 public:
  std::vector<std::string> warnings_;  // "file:line:col: [section] key: ..."
};

}  // namespace

Result<Config> LoadConfig(const fs::path& file, const Schema& schema, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    return Status::InvalidArgument(
        fmt::format("{}:1:1: cannot read config file: {}", file.string(),
                    ec ? ec.message() : std::string("not a regular file or does not exist")));
  }
  ResolveContext ctx;
  ctx.config_dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (options.credentials_directory) {
    ctx.credentials_dir = options.credentials_directory;
  } else if (const char* env = std::getenv("CREDENTIALS_DIRECTORY"); env && *env) {
    ctx.credentials_dir = fs::path(env);
  }
  Loader loader(file, schema, std::move(ctx));
  return loader.Load();
}

}  // namespace crmhub::config
