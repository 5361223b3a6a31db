// Applies compiled rules to one record. Hot path: no rule parsing, no regex,
// no exceptions (nlohmann's non-throwing accessors only).

#include <algorithm>
#include <cstdio>
#include <limits>

#include "base/json_get.h"
#include "mapping/model/model.h"
#include "mapping/rules/compiled.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::mapping {
namespace internal {

bool ScalarText(const Json& v, std::string& out) {
  std::optional<std::string> text = JsonScalarText(v);  // the checked getter
  if (!text) return false;
  out = std::move(*text);
  return true;
}

}  // namespace internal

namespace {

using internal::Condition;
using internal::Json;
using internal::Op;
using internal::Pointer;
using internal::Source;
using internal::Transform;
using internal::ValueSpec;

struct Scope {
  const Json* node;
  std::string path;  // concrete path of `node` in the record ("" = root)
  const Json* root;
  size_t index = 0;
};

// Names the rule and field in errors. `sub` is a line field inside a
// for_each (`lines.price`); composed into text only when an error is built.
struct Where {
  const std::string& rule;
  std::string_view field;
  std::string_view sub = {};
};

std::string PathOf(const Pointer& p, const Scope& sc) {
  return (p.from_root ? std::string() : sc.path) + p.text;
}

// The record path a value came from, made into text only for an error (the
// success path builds no strings).
class LazyPath {
 public:
  explicit LazyPath(const Scope& sc) : sc_(sc) {}
  void Pointer1(const Pointer* p) { one_ = p; }
  void Joined(const std::vector<Pointer>* all) { all_ = all; }
  void Text(std::string_view t) { text_ = t; }
  std::string str() const {
    if (one_ != nullptr) return PathOf(*one_, sc_);
    if (all_ != nullptr) {
      std::string out;
      for (const auto& p : *all_) {
        if (!out.empty()) out += '+';
        out += PathOf(p, sc_);
      }
      return out;
    }
    return text_.empty() ? sc_.path : std::string(text_);
  }

 private:
  const Scope& sc_;
  const Pointer* one_ = nullptr;
  const std::vector<Pointer>* all_ = nullptr;
  std::string_view text_;
};

// What an error message shows of a value: a scalar as JSON, cut at 80
// characters; an array or object only by its size (dumping it would print,
// and recurse into, whatever the sender nested there).
std::string Shown(const Json& v) {
  if (v.is_array()) return "an array of " + std::to_string(v.size());
  if (v.is_object()) return "an object of " + std::to_string(v.size()) + " members";
  std::string s = v.is_string() && v.get_ref<const std::string&>().size() > 200
                      ? Json(v.get_ref<const std::string&>().substr(0, 200))
                            .dump(-1, ' ', false, Json::error_handler_t::replace)
                      : v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

Status Error(const Where& w, const std::string& path, const Json* value, std::string_view reason) {
  std::string msg = "rule \"" + w.rule + "\"";
  if (!w.field.empty()) {
    msg += " field \"";
    msg += w.field;
    if (!w.sub.empty()) {
      msg += ".";
      msg += w.sub;
    }
    msg += "\"";
  }
  msg += ": " + (path.empty() ? std::string("(record)") : path);
  if (value != nullptr) msg += ": " + Shown(*value);
  msg += ": ";
  msg += reason;
  return Status::InvalidArgument(std::move(msg));
}

const Json* Step(const Json* cur, const internal::Segment& seg) {
  if (cur->is_object()) {
    auto it = cur->find(seg.key);
    return it == cur->end() ? nullptr : &*it;
  }
  if (cur->is_array() && seg.is_index && seg.index < cur->size()) return &(*cur)[seg.index];
  return nullptr;
}

// Non-wildcard resolution; `path` receives the concrete path.
const Json* Find(const Pointer& p, const Scope& sc, std::string* path) {
  const Json* cur = p.from_root ? sc.root : sc.node;
  if (path) *path = p.from_root ? std::string() : sc.path;
  for (const auto& seg : p.segments) {
    if (path) *path += "/" + seg.key;
    cur = Step(cur, seg);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

void CollectWild(const Json& cur, const Pointer& p, size_t i, const std::string& path, Json& out,
                 std::vector<std::string>& paths) {
  if (i == p.segments.size()) {
    if (!cur.is_null()) {
      out.push_back(cur);
      paths.push_back(path);
    }
    return;
  }
  const auto& seg = p.segments[i];
  if (seg.wildcard) {
    if (cur.is_array()) {
      for (size_t k = 0; k < cur.size(); ++k) {
        CollectWild(cur[k], p, i + 1, path + "/" + std::to_string(k), out, paths);
      }
    } else if (cur.is_object()) {
      for (const auto& [k, v] : cur.items()) CollectWild(v, p, i + 1, path + "/" + k, out, paths);
    }
    return;
  }
  if (const Json* next = Step(&cur, seg))
    CollectWild(*next, p, i + 1, path + "/" + seg.key, out, paths);
}

// Resolves into a value copy; wildcard pointers give an array (+ per-element paths).
Json Resolve(const Pointer& p, const Scope& sc, std::vector<std::string>& elem_paths) {
  if (!p.has_wildcard) {
    const Json* v = Find(p, sc, nullptr);
    return v ? *v : Json();
  }
  Json out = Json::array();
  CollectWild(p.from_root ? *sc.root : *sc.node, p, 0, p.from_root ? "" : sc.path, out, elem_paths);
  return out;
}

// Micro-units (ParseMoney scale 6) as decimal text: 1234500000 -> "1234.5".
std::string MicroUnitsText(int64_t v) {
  const uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%llu.%06llu", v < 0 ? "-" : "",
                static_cast<unsigned long long>(a / 1000000),
                static_cast<unsigned long long>(a % 1000000));
  std::string text(buf);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

bool LooseEquals(const Json& record, const Json& rule) {
  if (record == rule) return true;
  std::string a, b;
  if ((rule.is_string() && !record.is_string()) || (record.is_string() && !rule.is_string())) {
    return internal::ScalarText(record, a) && internal::ScalarText(rule, b) && a == b;
  }
  return false;
}

bool IsEmpty(const Json* v) {
  return v == nullptr || v->is_null() ||
         (v->is_string() && v->get_ref<const std::string&>().empty()) ||
         ((v->is_array() || v->is_object()) && v->empty());
}

bool Holds(const Condition& c, const Scope& sc) {
  Json wild;
  const Json* v;
  if (c.pointer.has_wildcard) {
    std::vector<std::string> paths;
    wild = Resolve(c.pointer, sc, paths);
    v = &wild;
  } else {
    v = Find(c.pointer, sc, nullptr);
  }
  bool present = v != nullptr && !v->is_null();
  if (c.exists && present != *c.exists) return false;
  if (c.empty && IsEmpty(v) != *c.empty) return false;
  if (c.equals && !(present && LooseEquals(*v, *c.equals))) return false;
  if (c.not_equals && present && LooseEquals(*v, *c.not_equals)) return false;
  auto in_list = [&](const std::vector<Json>& list) {
    return present &&
           std::any_of(list.begin(), list.end(), [&](const Json& x) { return LooseEquals(*v, x); });
  };
  if (c.in && !in_list(*c.in)) return false;
  if (c.not_in && in_list(*c.not_in)) return false;
  if (c.prefix &&
      !(present && v->is_string() && v->get_ref<const std::string&>().starts_with(*c.prefix))) {
    return false;
  }
  return true;
}

bool AllHold(const std::vector<Condition>& conds, const Scope& sc) {
  return std::all_of(conds.begin(), conds.end(), [&](const Condition& c) { return Holds(c, sc); });
}

class Applier {
 public:
  explicit Applier(const ApplyContext& ctx) : ctx_(ctx) {}

  Result<Json> Eval(const ValueSpec& s, const Scope& sc, const Where& w) const {
    Json v;
    LazyPath path(sc);
    std::vector<std::string> elem_paths;
    switch (s.source) {
      case Source::kPath:
        path.Pointer1(&s.pointers[0]);
        v = Resolve(s.pointers[0], sc, elem_paths);
        break;
      case Source::kPaths:
        if (!s.parts.empty()) {
          // The first part whose value (after its own steps) is not empty.
          for (const ValueSpec& part : s.parts) {
            auto r = Eval(part, sc, w);
            if (!r.ok()) return r.status();
            if (!IsEmpty(&*r)) {
              v = std::move(*r);
              break;
            }
          }
          break;
        }
        path.Pointer1(&s.pointers[0]);
        for (const auto& p : s.pointers) {
          elem_paths.clear();
          Json cand = Resolve(p, sc, elem_paths);
          if (!IsEmpty(&cand)) {
            v = std::move(cand);
            path.Pointer1(&p);
            break;
          }
        }
        break;
      case Source::kJoin: {
        if (!s.parts.empty()) {
          // Each part after its own steps; a part that is null makes the
          // whole join null (a key half made is no key), so `paths` can
          // fall back to another.
          std::string joined;
          std::string text;
          bool whole = true;
          for (size_t i = 0; i < s.parts.size() && whole; ++i) {
            auto r = Eval(s.parts[i], sc, w);
            if (!r.ok()) return r.status();
            text.clear();
            if (r->is_null()) {
              whole = false;
            } else if (!internal::ScalarText(*r, text)) {
              return Error(w, sc.path, &*r, "join needs scalar values");
            }
            if (i > 0) joined += s.separator;
            joined += text;
          }
          if (whole) v = std::move(joined);
          break;
        }
        path.Joined(&s.pointers);
        std::string joined;
        std::string text;
        for (size_t i = 0; i < s.pointers.size(); ++i) {
          const Json* part = Find(s.pointers[i], sc, nullptr);
          text.clear();
          if (part != nullptr && !part->is_null() && !internal::ScalarText(*part, text)) {
            return Error(w, PathOf(s.pointers[i], sc), part, "join needs scalar values");
          }
          if (i > 0) joined += s.separator;
          joined += text;
        }
        v = std::move(joined);
        break;
      }
      case Source::kSum: {
        // Exact decimal addition (no floating point): each value, or each
        // element of a '*' pointer's array, read as ParseMoney reads text.
        path.Joined(&s.pointers);
        std::optional<int64_t> total;
        std::string text;
        for (const auto& p : s.pointers) {
          elem_paths.clear();
          Json part = Resolve(p, sc, elem_paths);
          if (!part.is_array()) part = Json::array({std::move(part)});
          for (const Json& x : part) {
            if (x.is_null()) continue;
            Result<int64_t> micro = internal::ScalarText(x, text) && !x.is_boolean()
                                        ? ParseMoney(text, 6)
                                        : Status::InvalidArgument("not a number");
            int64_t sum = 0;
            if (!micro.ok() || __builtin_add_overflow(total.value_or(0), *micro, &sum)) {
              return Error(w, PathOf(p, sc), &x,
                           "sum needs decimal numbers (at most 6 decimal places)");
            }
            total = sum;
          }
        }
        if (total) v = MicroUnitsText(*total);
        break;
      }
      case Source::kConst:
        v = s.constant;
        path.Text("(constant)");
        break;
      case Source::kContext:
        path.Text("(context)");
        if (s.context == internal::ContextValue::kSource)
          v = std::string(ctx_.source);
        else if (s.context == internal::ContextValue::kReceivedMs)
          v = ctx_.received_ms;
        else
          v = static_cast<int64_t>(sc.index);
        break;
      case Source::kObject: {
        Json obj = Json::object();
        for (const auto& f : s.fields) {
          auto r = Eval(f.spec, sc, Where{w.rule, w.sub.empty() ? w.field : w.sub, f.name});
          if (!r.ok()) return r.status();
          if (!r->is_null()) obj[f.name] = std::move(*r);
        }
        if (!obj.empty()) v = std::move(obj);
        break;
      }
      case Source::kForEach: {
        path.Pointer1(&s.pointers[0]);
        const Json* arr = Find(s.pointers[0], sc, nullptr);
        if (arr == nullptr || arr->is_null()) break;
        if (!arr->is_array()) return Error(w, path.str(), nullptr, "for_each: expected an array");
        v = Json::array();
        std::string base = path.str();
        for (size_t i = 0; i < arr->size(); ++i) {
          Scope inner{&(*arr)[i], base + "/" + std::to_string(i), sc.root, i};
          Json obj = Json::object();
          for (const auto& f : s.fields) {
            auto r = Eval(f.spec, inner, Where{w.rule, w.sub.empty() ? w.field : w.sub, f.name});
            if (!r.ok()) return r.status();
            if (!r->is_null()) obj[f.name] = std::move(*r);
          }
          v.push_back(std::move(obj));
        }
        break;
      }
    }
    if (!s.null_if.empty() && !v.is_null()) {
      Json probe = v.is_string() ? Json(internal::TrimmedCopy(v.get_ref<const std::string&>())) : v;
      for (const auto& n : s.null_if) {
        if (LooseEquals(probe, n)) {
          v = nullptr;
          break;
        }
      }
    }
    for (const auto& t : s.transforms) {
      if (v.is_null()) break;
      if (v.is_array() && s.source != Source::kForEach && s.source != Source::kObject) {
        for (size_t k = 0; k < v.size(); ++k) {
          if (v[k].is_null()) continue;
          Json before = v[k];
          Status st = internal::ApplyTransform(t, v[k]);
          if (!st.ok()) {
            if (s.invalid_to_null) {
              v[k] = nullptr;
              continue;
            }
            return Error(w, k < elem_paths.size() ? elem_paths[k] : path.str(), &before,
                         st.message());
          }
        }
      } else {
        Json before = v;
        Status st = internal::ApplyTransform(t, v);
        if (!st.ok()) {
          if (s.invalid_to_null) {
            v = nullptr;
            break;
          }
          return Error(w, path.str(), &before, st.message());
        }
      }
    }
    if (s.map != nullptr && !v.is_null()) {
      Status st = MapValue(s, v, path, w);
      if (!st.ok()) return st;
    }
    if (!s.lookup.empty() && !v.is_null()) {
      Status st = LookupValue(s, v, path, w);
      if (!st.ok()) return st;
    }
    if (v.is_null() && s.default_value) v = *s.default_value;
    if (v.is_null() && s.required)
      return Error(w, path.str(), nullptr, "required value is missing");
    // After the transforms: `trim` leaves "" of a blank id, and a blank id
    // is no id (it would become the bare prefix, and every later blank one
    // its duplicate).
    if (s.required && v.is_string() && v.get_ref<const std::string&>().empty()) {
      return Error(w, path.str(), nullptr, "required value is empty");
    }
    if (v.is_string() && (!s.prefix.empty() || !s.suffix.empty())) {
      v = s.prefix + v.get_ref<const std::string&>() + s.suffix;
    }
    return v;
  }

  Status Build(const internal::EntityRule& r, const Scope& sc,
               std::vector<model::Entity>& out) const {
    if (!AllHold(r.when, sc)) return Status::Ok();
    model::Entity e;
    e.kind = r.kind;
    e.source = std::string(ctx_.source);
    e.update_only = r.update_only;
    {
      Where w{r.name, "external_id"};
      auto id = Eval(r.external_id, sc, w);
      if (!id.ok()) return id.status();
      std::string text;
      if (id->is_null()) return Error(w, sc.path, nullptr, "external_id is missing");
      if (id->is_object() || id->is_array() || id->is_boolean() || id->is_number_float() ||
          !internal::ScalarText(*id, text) || text.empty()) {
        return Error(w, sc.path, &*id, "external_id must be a non-empty string or integer");
      }
      e.external_id = std::move(text);
    }
    if (r.version) {
      Where w{r.name, "version"};
      auto v = Eval(*r.version, sc, w);
      if (!v.ok()) return v.status();
      if (v->is_string()) {
        auto n = ParseInt64(v->get_ref<const std::string&>());
        if (!n.ok()) return Error(w, sc.path, &*v, "version must be an integer");
        e.version = *n;
      } else if (v->is_number_integer()) {
        e.version = v->get<int64_t>();
      } else {
        return Error(w, sc.path, &*v,
                     v->is_null() ? "version is missing" : "version must be an integer");
      }
    } else {
      e.version = ctx_.received_ms;
    }
    for (const auto& f : r.fields) {
      auto v = Eval(f.spec, sc, Where{r.name, f.name});
      if (!v.ok()) return v.status();
      if (!v->is_null()) e.fields[f.name] = std::move(*v);
    }
    Derive(e);
    if (Status st = model::ValidateEntity(e); !st.ok()) {
      std::string msg = "rule \"" + r.name + "\": entity invalid: " + st.message();
      if (r.for_each) msg += " (element " + sc.path + ")";
      return Status::InvalidArgument(std::move(msg));
    }
    out.push_back(std::move(e));
    return Status::Ok();
  }

 private:
  Status MapValue(const ValueSpec& s, Json& v, const LazyPath& path, const Where& w) const {
    auto map_one = [&](Json& x) -> Status {
      std::string key;
      if (!internal::ScalarText(x, key))
        return Error(w, path.str(), &x, "map needs a scalar value");
      auto it = s.map->find(key);
      if (it != s.map->end()) {
        x = it->second;
      } else if (s.map_default) {
        x = *s.map_default;
      } else {
        return Error(w, path.str(), &x, "value not in the map and no map_default");
      }
      return Status::Ok();
    };
    if (v.is_array()) {
      for (auto& x : v) CRMHUB_RETURN_IF_ERROR(map_one(x));
      return Status::Ok();
    }
    return map_one(v);
  }

  Status LookupValue(const ValueSpec& s, Json& v, const LazyPath& path, const Where& w) const {
    auto look_one = [&](Json& x) -> Status {
      std::string key;
      if (!internal::ScalarText(x, key))
        return Error(w, path.str(), &x, "lookup needs a scalar value");
      std::optional<Json> found;
      if (s.static_lookup != nullptr) {
        auto it = s.static_lookup->find(key);
        if (it != s.static_lookup->end()) found = it->second;
      } else if (ctx_.lookup == nullptr) {
        return Error(w, path.str(), &x,
                     "lookup table \"" + s.lookup +
                         "\" is not defined in the rules and the caller provided no Lookup");
      } else {
        auto r = ctx_.lookup->Find(s.lookup, key);
        if (!r.ok())
          return Error(w, path.str(), &x,
                       "lookup \"" + s.lookup + "\" failed: " + r.status().ToString());
        found = std::move(*r);
      }
      if (found) {
        x = std::move(*found);
      } else if (s.on_missing == internal::OnMissing::kNull) {
        x = nullptr;
      } else if (s.on_missing == internal::OnMissing::kError) {
        return Error(w, path.str(), &x, "not found in lookup \"" + s.lookup + "\"");
      }
      return Status::Ok();
    };
    if (v.is_array()) {
      for (auto& x : v) CRMHUB_RETURN_IF_ERROR(look_one(x));
      return Status::Ok();
    }
    return look_one(v);
  }

  // Model fields the engine derives when the rules did not map them
  // (docs/model.md).
  static void Derive(model::Entity& e) {
    if (e.kind == model::EntityKind::kCall && !e.fields.contains("duration_s")) {
      auto end = e.fields.find("end_ms");
      auto answer = e.fields.find("answer_ms");
      if (end != e.fields.end() && end->is_number_integer()) {
        if (answer == e.fields.end()) {
          e.fields["duration_s"] = 0;
        } else if (answer->is_number_integer() && end->get<int64_t>() >= answer->get<int64_t>()) {
          e.fields["duration_s"] = (end->get<int64_t>() - answer->get<int64_t>()) / 1000;
        }
      }
    }
  }

  const ApplyContext& ctx_;
};

}  // namespace

Result<std::vector<model::Entity>> RuleSet::Apply(const nlohmann::json& record,
                                                  const ApplyContext& ctx) const {
  if (!record.is_object()) {
    return Status::InvalidArgument("record: expected a JSON object, got " +
                                   std::string(record.type_name()));
  }
  Scope root{&record, "", &record, 0};
  for (const auto& c : rules_->skip_if) {
    if (Holds(c, root)) return std::vector<model::Entity>{};
  }
  Applier applier(ctx);
  std::vector<model::Entity> out;
  for (const auto& r : rules_->entities) {
    if (!r.for_each) {
      CRMHUB_RETURN_IF_ERROR(applier.Build(r, root, out));
      continue;
    }
    std::string path;
    const Json* arr = Find(*r.for_each, root, &path);
    if (arr == nullptr || arr->is_null()) continue;
    if (!arr->is_array()) {
      return Status::InvalidArgument("rule \"" + r.name + "\": " + path +
                                     ": for_each: expected an array");
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      Scope elem{&(*arr)[i], path + "/" + std::to_string(i), &record, i};
      CRMHUB_RETURN_IF_ERROR(applier.Build(r, elem, out));
    }
  }
  return out;
}

Result<std::vector<model::Entity>> RuleSet::ApplyText(std::string_view payload,
                                                      const ApplyContext& ctx) const {
  // Whatever door a record came in by, nothing deeper than the cap is
  // built: copying, comparing and printing a value recurse over its depth.
  if (!JsonDepthWithin(payload, kMaxJsonDepth)) {
    return Status::InvalidArgument("record: JSON nested deeper than " +
                                   std::to_string(kMaxJsonDepth) + " levels");
  }
  Json record = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    // Cold path: parse again to get nlohmann's description of the error.
    try {
      Json ignored = Json::parse(payload);
      (void)ignored;
    } catch (const Json::exception& e) {  // parse_error, or out_of_range for a huge number
      return Status::InvalidArgument(std::string("record: malformed JSON: ") +
                                     std::string(e.what()).substr(0, 200));
    }
    return Status::InvalidArgument("record: malformed JSON");
  }
  return Apply(record, ctx);
}

}  // namespace crmhub::mapping
