#include "daemon/config_diff.h"

#include <fmt/format.h>

#include <map>

namespace crmhub::daemon {
namespace {

using config::KeySpec;
using config::Section;
using config::Type;

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + Quote(items[i]);
  return out + "]";
}

// The value of `key` in `s` as text; "(unset)" for an optional key left out.
std::string ValueText(const Section& s, const KeySpec& key) {
  if (!s.Has(key.name) && key.default_value.empty()) return "(unset)";
  switch (key.type) {
    case Type::kString:
    case Type::kEnum:
    case Type::kUrl:
      return Quote(s.GetString(key.name));
    case Type::kInt:
      return std::to_string(s.GetInt(key.name));
    case Type::kBool:
      return s.GetBool(key.name) ? "true" : "false";
    case Type::kDuration:
      return std::to_string(s.GetDuration(key.name).count()) + "ms";
    case Type::kSize:
      return std::to_string(s.GetSize(key.name)) + " bytes";
    case Type::kStringList:
      return List(s.GetStringList(key.name));
    case Type::kIdList: {
      std::vector<std::string> ids;
      for (int64_t id : s.GetIdList(key.name)) ids.push_back(std::to_string(id));
      return List(ids);
    }
    case Type::kPath:
      return Quote(s.GetPath(key.name).string());
    case Type::kSecret:
      return "***";  // a secret's value never reaches a log
    case Type::kTable:
      return "(table)";
  }
  return "?";
}

void DiffSection(const Section& before, const Section& after, const std::vector<KeySpec>& keys,
                 const std::string& label, bool needs_restart, std::vector<ConfigChange>& out) {
  for (const KeySpec& key : keys) {
    if (key.type == Type::kTable) continue;
    std::string a = ValueText(before, key);
    std::string b = ValueText(after, key);
    if (key.type == Type::kSecret) {
      // Compared by where they come from (the file or credential named).
      if (before.Has(key.name) != after.Has(key.name)) {
        a = before.Has(key.name) ? "***" : "(unset)";
        b = after.Has(key.name) ? "***" : "(unset)";
      } else {
        continue;
      }
    }
    if (a == b) continue;
    out.push_back({label + " " + key.name, std::move(a), std::move(b), needs_restart});
  }
}

// Settings the reload applies: the adapters (rebuilt and restarted) and the
// log level. Everything else is read once at start.
bool AppliedLive(const std::string& section, const std::string& key) {
  return section == "log" && key == "level";
}

}  // namespace

std::vector<ConfigChange> DiffConfigs(const config::Config& before, const config::Config& after,
                                      const config::Schema& schema) {
  std::vector<ConfigChange> out;
  for (const config::SectionSpec& spec : schema.sections) {
    if (spec.name.find('*') != std::string::npos) continue;  // lanes, adapters, tokens below
    const Section& a = before.Get(spec.name);
    const Section& b = after.Get(spec.name);
    for (const KeySpec& key : spec.keys) {
      DiffSection(a, b, {key}, "[" + spec.name + "]", !AppliedLive(spec.name, key.name), out);
    }
  }
  // Lanes' retry policies: the queue reads them at open.
  std::map<std::string, const Section*> lanes_before, lanes_after;
  for (const Section& s : before.Lanes()) lanes_before[s.id()] = &s;
  for (const Section& s : after.Lanes()) lanes_after[s.id()] = &s;
  const config::SectionSpec* lane_spec = nullptr;
  for (const auto& spec : schema.sections) {
    if (spec.name == "queue.lanes.*") lane_spec = &spec;
  }
  for (const auto& [id, s] : lanes_after) {
    auto it = lanes_before.find(id);
    if (it == lanes_before.end()) {
      out.push_back({"[queue.lanes." + id + "]", "(none)", "added", true});
    } else if (lane_spec != nullptr) {
      DiffSection(*it->second, *s, lane_spec->keys, "[queue.lanes." + id + "]", true, out);
    }
  }
  for (const auto& [id, s] : lanes_before) {
    if (lanes_after.count(id) == 0)
      out.push_back({"[queue.lanes." + id + "]", "", "removed", true});
  }
  // Adapters: rebuilt by the reload.
  std::map<std::string, const Section*> adapters_before, adapters_after;
  for (const Section& s : before.Adapters()) adapters_before[s.id()] = &s;
  for (const Section& s : after.Adapters()) adapters_after[s.id()] = &s;
  for (const auto& [id, s] : adapters_after) {
    const std::string label = "[adapters." + id + "]";
    auto it = adapters_before.find(id);
    if (it == adapters_before.end()) {
      out.push_back({label, "(none)", "added (type " + Quote(s->GetString("type")) + ")", false});
      continue;
    }
    std::vector<KeySpec> keys = config::Schema::CommonAdapterKeys();
    if (it->second->GetString("type") == s->GetString("type")) {
      for (const auto& t : schema.adapter_types) {
        if (t.type == s->GetString("type")) keys.insert(keys.end(), t.keys.begin(), t.keys.end());
      }
    }
    DiffSection(*it->second, *s, keys, label, false, out);
  }
  for (const auto& [id, s] : adapters_before) {
    if (adapters_after.count(id) == 0) {
      out.push_back({"[adapters." + id + "]", "(type " + Quote(s->GetString("type")) + ")",
                     "removed", false});
    }
  }
  return out;
}

std::string DescribeChange(const ConfigChange& c) {
  return fmt::format("{}: {} -> {}{}", c.setting, c.before, c.after,
                     c.needs_restart ? " (waits for a restart: the running value stays)" : "");
}

}  // namespace crmhub::daemon
