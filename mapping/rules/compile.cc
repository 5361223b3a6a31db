// Compiles a TOML rules file (docs/mapping.md) into internal::CompiledRules.
// Runs at startup/reload only, so it uses exceptions internally (toml++ and a
// local CompileError) and turns them into one Status at the boundary.

#include <toml++/toml.h>

#include <chrono>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <stdexcept>

#include "base/units.h"
#include "mapping/model/model.h"
#include "mapping/rules/compiled.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::mapping {
namespace {

using internal::CompiledRules;
using internal::Condition;
using internal::Json;
using internal::NamedSpec;
using internal::Op;
using internal::Pointer;
using internal::Segment;
using internal::Source;
using internal::Table;
using internal::Transform;
using internal::ValueSpec;

struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw CompileError(where.empty() ? what : where + ": " + what);
}

Json TomlToJson(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return Json(*node.value<std::string>());
    case toml::node_type::integer:
      return Json(*node.value<int64_t>());
    case toml::node_type::floating_point:
      return Json(*node.value<double>());
    case toml::node_type::boolean:
      return Json(*node.value<bool>());
    case toml::node_type::array: {
      Json out = Json::array();
      for (const auto& e : *node.as_array()) out.push_back(TomlToJson(e));
      return out;
    }
    case toml::node_type::table: {
      Json out = Json::object();
      for (const auto& [k, v] : *node.as_table()) out[std::string(k.str())] = TomlToJson(v);
      return out;
    }
    default: {  // dates and times: their TOML text
      std::ostringstream os;
      if (auto d = node.as_date()) os << *d;
      if (auto t = node.as_time()) os << *t;
      if (auto dt = node.as_date_time()) os << *dt;
      return Json(os.str());
    }
  }
}

void CheckKeys(const toml::table& t, std::initializer_list<std::string_view> allowed,
               const std::string& where) {
  for (const auto& [k, v] : t) {
    (void)v;
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k.str();
    if (!ok) Fail(where, "unknown key \"" + std::string(k.str()) + "\"");
  }
}

std::string GetString(const toml::node& n, const std::string& where) {
  auto s = n.value<std::string>();
  if (!s) Fail(where, "expected a string");
  return *s;
}

Pointer CompilePointer(const std::string& text, bool from_root, const std::string& where) {
  Pointer p;
  p.text = text;
  p.from_root = from_root;
  if (text.empty()) return p;
  if (text[0] != '/') Fail(where, "JSON pointer \"" + text + "\" must start with '/'");
  size_t pos = 1;
  while (true) {
    size_t end = text.find('/', pos);
    std::string raw = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    Segment seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        seg.key.push_back(raw[i]);
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        seg.key.push_back(raw[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        Fail(where, "JSON pointer \"" + text + "\": '~' must be followed by 0 or 1");
      }
    }
    if (raw == "*") {
      seg.wildcard = true;
      p.has_wildcard = true;
    } else if (!seg.key.empty() && seg.key.size() < 19 &&
               seg.key.find_first_not_of("0123456789") == std::string::npos &&
               (seg.key.size() == 1 || seg.key[0] != '0')) {
      seg.is_index = true;
      seg.index = std::stoull(seg.key);
    }
    p.segments.push_back(std::move(seg));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return p;
}

Transform CompileTransform(const std::string& text, const std::string& where) {
  Transform t;
  t.name = text;
  size_t colon = text.find(':');
  std::string name = text.substr(0, colon);
  std::string arg = colon == std::string::npos ? "" : text.substr(colon + 1);
  bool takes_arg = false;
  if (name == "trim")
    t.op = Op::kTrim;
  else if (name == "upper")
    t.op = Op::kUpper;
  else if (name == "lower")
    t.op = Op::kLower;
  else if (name == "collapse_spaces")
    t.op = Op::kCollapseSpaces;
  else if (name == "string")
    t.op = Op::kString;
  else if (name == "int")
    t.op = Op::kInt;
  else if (name == "bool")
    t.op = Op::kBool;
  else if (name == "email")
    t.op = Op::kEmail;
  else if (name == "minor_units")
    t.op = Op::kMinorUnits;
  else if (name == "currency")
    t.op = Op::kCurrency;
  else if (name == "unix_s")
    t.op = Op::kUnixS;
  else if (name == "unix_ms")
    t.op = Op::kUnixMs;
  else if (name == "negate")
    t.op = Op::kNegate;
  else if (name == "phone") {
    t.op = Op::kPhone;
    takes_arg = true;
    if (arg.empty() || arg == "RU")
      t.country = PhoneCountry::kRU;
    else if (arg == "KZ")
      t.country = PhoneCountry::kKZ;
    else if (arg == "UA")
      t.country = PhoneCountry::kUA;
    else if (arg == "BY")
      t.country = PhoneCountry::kBY;
    else
      Fail(where, "transform \"" + text + "\": country must be RU, KZ, UA or BY");
  } else if (name == "money") {
    t.op = Op::kMoney;
    takes_arg = true;
    t.arg = 2;
    if (!arg.empty()) {
      if (arg.size() != 1 || arg[0] < '0' || arg[0] > '6') {
        Fail(where, "transform \"" + text + "\": scale must be 0..6");
      }
      t.arg = arg[0] - '0';
    }
  } else if (name == "window_start") {
    // Unix ms → the start (Unix s) of the fixed window of this length that
    // holds it, windows aligned to the epoch (UTC midnight for 24h).
    t.op = Op::kWindowStart;
    takes_arg = true;
    auto len = ParseDuration(arg);
    if (arg.empty() || !len.ok() || *len < std::chrono::seconds(1) ||
        *len > std::chrono::hours(24 * 366) || len->count() % 1000 != 0) {
      Fail(where, "transform \"" + text +
                      "\": needs a window length of whole seconds, 1s to 366d (window_start:24h)");
    }
    t.arg = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(*len).count());
  } else if (name == "timestamp_ms") {
    t.op = Op::kTimestampMs;
    takes_arg = true;
    t.arg = kNoDefaultOffset;
    if (!arg.empty()) {
      auto off = ParseUtcOffset(arg);
      if (!off.ok()) Fail(where, "transform \"" + text + "\": bad offset (use +03:00, MSK or UTC)");
      t.arg = *off;
    }
  } else {
    Fail(where, "unknown transform \"" + name + "\"");
  }
  if (!takes_arg && colon != std::string::npos)
    Fail(where, "transform \"" + name + "\" takes no argument");
  return t;
}

class Compiler {
 public:
  explicit Compiler(CompiledRules& out) : out_(out) {}

  void Run(const toml::table& root) {
    CheckKeys(root, {"format", "name", "skip_if", "maps", "lookups", "entity"}, "");
    auto format = root["format"].value<int64_t>();
    if (!format) Fail("", "missing \"format = 1\"");
    if (*format != 1)
      Fail("", "unsupported format " + std::to_string(*format) + " (this crmhub reads 1)");
    if (auto n = root.get("name")) out_.name = GetString(*n, "name");
    if (auto maps = root["maps"].as_table()) {
      for (const auto& [k, v] : *maps) {
        if (!v.is_table()) Fail("maps." + std::string(k.str()), "expected a table");
        out_.maps[std::string(k.str())] = ToTable(*v.as_table());
      }
    } else if (root.get("maps")) {
      Fail("maps", "expected a table of tables");
    }
    if (auto lookups = root["lookups"].as_table()) {
      for (const auto& [k, v] : *lookups) {
        if (!v.is_table()) Fail("lookups." + std::string(k.str()), "expected a table");
        out_.lookups[std::string(k.str())] = ToTable(*v.as_table());
      }
    } else if (root.get("lookups")) {
      Fail("lookups", "expected a table of tables");
    }
    if (auto skip = root.get("skip_if")) out_.skip_if = Conditions(*skip, "skip_if");
    auto entities = root["entity"].as_array();
    if (!entities || entities->empty()) Fail("", "no [[entity]] rules");
    for (const auto& e : *entities) {
      if (!e.is_table()) Fail("entity", "expected [[entity]] tables");
      CompileEntity(*e.as_table());
    }
  }

 private:
  static Table ToTable(const toml::table& t) {
    Table out;
    for (const auto& [k, v] : t) out[std::string(k.str())] = TomlToJson(v);
    return out;
  }

  std::vector<Condition> Conditions(const toml::node& node, const std::string& where) {
    std::vector<Condition> out;
    if (auto t = node.as_table()) {
      out.push_back(CompileCondition(*t, where));
    } else if (auto a = node.as_array()) {
      for (const auto& e : *a) {
        if (!e.is_table()) Fail(where, "expected condition tables");
        out.push_back(CompileCondition(*e.as_table(), where));
      }
    } else {
      Fail(where, "expected a condition table or an array of them");
    }
    return out;
  }

  Condition CompileCondition(const toml::table& t, const std::string& where) {
    CheckKeys(
        t,
        {"path", "root_path", "equals", "not_equals", "in", "not_in", "exists", "empty", "prefix"},
        where);
    Condition c;
    bool has_path = t.contains("path");
    if (has_path == t.contains("root_path"))
      Fail(where, "a condition needs exactly one of path, root_path");
    c.pointer =
        CompilePointer(GetString(*t.get(has_path ? "path" : "root_path"), where), !has_path, where);
    auto list = [&](std::string_view key) -> std::optional<std::vector<Json>> {
      auto n = t.get(key);
      if (!n) return std::nullopt;
      if (!n->is_array()) Fail(where, std::string(key) + " must be an array");
      std::vector<Json> v;
      for (const auto& e : *n->as_array()) v.push_back(TomlToJson(e));
      return v;
    };
    if (auto n = t.get("equals")) c.equals = TomlToJson(*n);
    if (auto n = t.get("not_equals")) c.not_equals = TomlToJson(*n);
    c.in = list("in");
    c.not_in = list("not_in");
    if (auto n = t.get("exists")) {
      if (!n->is_boolean()) Fail(where, "exists must be true or false");
      c.exists = *n->value<bool>();
    }
    if (auto n = t.get("empty")) {
      if (!n->is_boolean()) Fail(where, "empty must be true or false");
      c.empty = *n->value<bool>();
    }
    if (auto n = t.get("prefix")) c.prefix = GetString(*n, where);
    if (!c.equals && !c.not_equals && !c.in && !c.not_in && !c.exists && !c.empty && !c.prefix) {
      Fail(where,
           "a condition needs a test (equals, not_equals, in, not_in, exists, empty, prefix)");
    }
    return c;
  }

  const Table* MapRef(const toml::node& n, const std::string& where) {
    if (auto name = n.value<std::string>()) {
      auto it = out_.maps.find(*name);
      if (it == out_.maps.end()) Fail(where, "map \"" + *name + "\" is not defined under [maps]");
      return &it->second;
    }
    if (auto t = n.as_table()) {
      out_.inline_maps.push_back(std::make_unique<Table>(ToTable(*t)));
      return out_.inline_maps.back().get();
    }
    Fail(where, "map must be a [maps] name or an inline table");
  }

  ValueSpec CompileSpec(const toml::node& node, const std::string& where,
                        std::span<const model::FieldDef> line_fields) {
    ValueSpec s;
    if (auto text = node.value<std::string>()) {
      s.pointers.push_back(CompilePointer(*text, false, where));
      return s;
    }
    const toml::table* t = node.as_table();
    if (!t) Fail(where, "expected a JSON pointer string or a value table");
    CheckKeys(*t, {"path",       "root_path",   "paths",    "join",       "sum",     "separator",
                   "value",      "context",     "for_each", "fields",     "null_if", "transform",
                   "map",        "map_default", "lookup",   "on_missing", "default", "required",
                   "on_invalid", "prefix",      "suffix"},
              where);
    int sources = 0;
    for (auto k : {"path", "root_path", "paths", "join", "sum", "value", "context", "for_each"}) {
      sources += t->contains(k) ? 1 : 0;
    }
    if (sources == 0 && t->contains("fields")) sources = 1;  // an object built in place
    if (sources != 1) {
      Fail(where,
           "needs exactly one of path, root_path, paths, join, sum, value, context, for_each, "
           "fields");
    }
    auto pointer_list = [&](std::string_view key) {
      auto a = (*t)[key].as_array();
      if (!a || a->empty())
        Fail(where, std::string(key) + " must be a non-empty array of pointers");
      for (const auto& e : *a)
        s.pointers.push_back(CompilePointer(GetString(e, where), false, where));
    };
    // `paths` and `join` whose elements include value tables: each element
    // compiled as a spec into s.parts. False (nothing done) for a plain list
    // of pointers, which keeps the pointer form.
    auto spec_list = [&](std::string_view key) {
      auto a = (*t)[key].as_array();
      if (!a || a->empty()) return false;
      bool tables = false;
      for (const auto& e : *a) tables = tables || e.is_table();
      if (!tables) return false;
      size_t i = 0;
      for (const auto& e : *a) {
        s.parts.push_back(
            CompileSpec(e, where + "/" + std::string(key) + "/" + std::to_string(i++), {}));
      }
      return true;
    };
    if (auto n = t->get("path")) {
      s.pointers.push_back(CompilePointer(GetString(*n, where), false, where));
    } else if (auto r = t->get("root_path")) {
      s.pointers.push_back(CompilePointer(GetString(*r, where), true, where));
    } else if (t->contains("paths")) {
      s.source = Source::kPaths;
      if (!spec_list("paths")) pointer_list("paths");
    } else if (t->contains("join")) {
      s.source = Source::kJoin;
      if (!spec_list("join")) pointer_list("join");
    } else if (t->contains("sum")) {
      s.source = Source::kSum;
      pointer_list("sum");
    } else if (auto v = t->get("value")) {
      s.source = Source::kConst;
      s.constant = TomlToJson(*v);
    } else if (auto c = t->get("context")) {
      s.source = Source::kContext;
      std::string name = GetString(*c, where);
      if (name == "source")
        s.context = internal::ContextValue::kSource;
      else if (name == "received_ms")
        s.context = internal::ContextValue::kReceivedMs;
      else if (name == "index")
        s.context = internal::ContextValue::kIndex;
      else
        Fail(where, "context must be source, received_ms or index");
    } else {
      bool each = t->contains("for_each");
      s.source = each ? Source::kForEach : Source::kObject;
      if (each) {
        Pointer p = CompilePointer(GetString(*t->get("for_each"), where), false, where);
        if (p.has_wildcard) Fail(where, "for_each cannot contain '*'");
        s.pointers.push_back(std::move(p));
      } else {
        line_fields = {};  // an object (extra): free-form keys
      }
      auto fields = (*t)["fields"].as_table();
      if (!fields) Fail(where, "for_each needs a fields table");
      for (const auto& [fk, fv] : *fields) {
        std::string name(fk.str());
        if (!line_fields.empty() && model::FindField(line_fields, name) == nullptr) {
          Fail(where + "/" + name, "unknown line field");
        }
        s.fields.push_back({name, CompileSpec(fv, where + "/" + name, {})});
      }
    }
    if (auto n = t->get("separator")) {
      if (s.source != Source::kJoin) Fail(where, "separator needs join");
      s.separator = GetString(*n, where);
    }
    if (auto n = t->get("null_if")) {
      if (!n->is_array()) Fail(where, "null_if must be an array");
      for (const auto& e : *n->as_array()) s.null_if.push_back(TomlToJson(e));
    }
    if (auto n = t->get("transform")) {
      if (auto one = n->value<std::string>()) {
        s.transforms.push_back(CompileTransform(*one, where));
      } else if (auto a = n->as_array()) {
        for (const auto& e : *a)
          s.transforms.push_back(CompileTransform(GetString(e, where), where));
      } else {
        Fail(where, "transform must be a name or an array of names");
      }
    }
    if (auto n = t->get("map")) s.map = MapRef(*n, where);
    if (auto n = t->get("map_default")) {
      if (!s.map) Fail(where, "map_default needs map");
      s.map_default = TomlToJson(*n);
    }
    if (auto n = t->get("lookup")) {
      s.lookup = GetString(*n, where);
      auto it = out_.lookups.find(s.lookup);
      if (it != out_.lookups.end()) {
        s.static_lookup = &it->second;
      } else if (std::find(out_.external_lookups.begin(), out_.external_lookups.end(), s.lookup) ==
                 out_.external_lookups.end()) {
        out_.external_lookups.push_back(s.lookup);
      }
    }
    if (auto n = t->get("on_missing")) {
      if (s.lookup.empty()) Fail(where, "on_missing needs lookup");
      std::string v = GetString(*n, where);
      if (v == "error")
        s.on_missing = internal::OnMissing::kError;
      else if (v == "null")
        s.on_missing = internal::OnMissing::kNull;
      else if (v == "keep")
        s.on_missing = internal::OnMissing::kKeep;
      else
        Fail(where, "on_missing must be error, null or keep");
    }
    if (auto n = t->get("default")) s.default_value = TomlToJson(*n);
    if (auto n = t->get("required")) {
      if (!n->is_boolean()) Fail(where, "required must be true or false");
      s.required = *n->value<bool>();
    }
    if (auto n = t->get("on_invalid")) {
      std::string v = GetString(*n, where);
      if (v != "error" && v != "null") Fail(where, "on_invalid must be error or null");
      s.invalid_to_null = v == "null";
    }
    if (auto n = t->get("prefix")) s.prefix = GetString(*n, where);
    if (auto n = t->get("suffix")) s.suffix = GetString(*n, where);
    return s;
  }

  void CompileEntity(const toml::table& t) {
    internal::EntityRule r;
    auto name = t["rule"].value<std::string>();
    if (!name || name->empty()) Fail("entity", "every [[entity]] needs rule = \"name\"");
    r.name = *name;
    std::string where = "rule \"" + r.name + "\"";
    for (const auto& other : out_.entities) {
      if (other.name == r.name) Fail(where, "duplicate rule name");
    }
    CheckKeys(
        t, {"rule", "kind", "when", "for_each", "external_id", "version", "fields", "update_only"},
        where);
    if (auto u = t.get("update_only")) {
      auto b = u->value<bool>();
      if (!b || !u->is_boolean()) Fail(where, "update_only must be true or false");
      r.update_only = *b;
    }
    auto kind = t["kind"].value<std::string>();
    if (!kind) Fail(where, "needs kind = \"...\"");
    auto parsed = model::ParseKind(*kind);
    if (!parsed) Fail(where, "unknown kind \"" + *kind + "\" (see docs/model.md)");
    r.kind = *parsed;
    if (auto w = t.get("when")) r.when = Conditions(*w, where + " when");
    if (auto f = t.get("for_each")) {
      r.for_each = CompilePointer(GetString(*f, where + " for_each"), true, where + " for_each");
      if (r.for_each->has_wildcard) Fail(where, "for_each cannot contain '*'");
    }
    auto id = t.get("external_id");
    if (!id) Fail(where, "needs external_id");
    r.external_id = CompileSpec(*id, where + " external_id", {});
    if (auto v = t.get("version")) r.version = CompileSpec(*v, where + " version", {});
    if (auto fields = t.get("fields")) {
      if (!fields->is_table()) Fail(where, "fields must be a table");
      for (const auto& [k, v] : *fields->as_table()) {
        std::string fname(k.str());
        std::string fwhere = where + " field \"" + fname + "\"";
        const model::FieldDef* def = model::FindField(r.kind, fname);
        if (!def) {
          Fail(fwhere, "kind \"" + *kind + "\" has no such field (see docs/model.md)");
        }
        r.fields.push_back({fname, CompileSpec(v, fwhere, def->line_fields)});
        if (!r.fields.back().spec.fields.empty() && def->type != model::FieldType::kLines &&
            def->type != model::FieldType::kObject) {
          Fail(fwhere, "for_each/fields builds an array of objects; this field is not lines");
        }
      }
    }
    out_.entities.push_back(std::move(r));
  }

  CompiledRules& out_;
};

}  // namespace

Result<RuleSet> ParseRules(std::string_view toml_text, std::string_view origin) {
  auto rules = std::make_shared<internal::CompiledRules>();
  rules->origin = std::string(origin);
  try {
    toml::table root = toml::parse(toml_text, origin);
    Compiler(*rules).Run(root);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(
        std::string(origin) + ":" + std::to_string(e.source().begin.line) + ":" +
        std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  } catch (const CompileError& e) {
    return Status::InvalidArgument(std::string(origin) + ": " + e.what());
  }
  if (rules->name.empty()) rules->name = std::filesystem::path(origin).stem().string();
  return RuleSet(std::move(rules));
}

Result<RuleSet> LoadRules(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(path.string() + ": cannot read the rules file");
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseRules(buf.str(), path.string());
}

const std::string& RuleSet::name() const { return rules_->name; }

std::vector<std::string> RuleSet::ExternalLookups() const { return rules_->external_lookups; }

}  // namespace crmhub::mapping
