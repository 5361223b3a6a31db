// RenderSchemaMarkdown: docs/config.md, generated from the same schema the
// loader enforces (a test compares the two).

#include <fmt/format.h>

#include "config/config.h"

namespace crmhub::config {

namespace {
void RenderKeys(std::string& out, const std::vector<KeySpec>& keys) {
  out += "| key | type | default | description |\n| --- | --- | --- | --- |\n";
  for (const KeySpec& k : keys) {
    std::string type(TypeName(k.type));
    if (k.type == Type::kEnum) type = fmt::format("one of {}", fmt::join(k.choices, ", "));
    if (k.type == Type::kStringList && !k.choices.empty()) {
      type = fmt::format("list of {}", fmt::join(k.choices, ", "));
    }
    if (k.type == Type::kInt && (k.min || k.max)) {
      type += fmt::format(" ({}..{})", k.min ? std::to_string(*k.min) : "",
                          k.max ? std::to_string(*k.max) : "");
    }
    std::string def =
        k.required ? "required" : (k.default_value.empty() ? "—" : "`" + k.default_value + "`");
    std::string desc = k.description;
    for (char& c : desc) {
      if (c == '\n' || c == '|') c = ' ';
    }
    out += fmt::format("| `{}` | {} | {} | {} |\n", k.name, type, def, desc);
  }
  out += "\n";
}
}  // namespace

std::string RenderSchemaMarkdown(const Schema& schema) {
  std::string out =
      "# crmhub configuration reference\n\n"
      "<!-- Generated from the schema by `crmhub check-config --print-reference`; a test fails "
      "when this file and the schema differ. Do not edit by hand. -->\n\n"
      "crmhub reads one TOML file (`crmhub run --config FILE`). Every key below is checked when "
      "the file loads: an unknown key, a wrong type or a bad value is reported as "
      "`FILE:LINE:COL: message` and `crmhub check-config` exits 2.\n\n"
      "Value formats: durations are strings like `\"500ms\"`, `\"30s\"`, `\"5m\"`, `\"1h30m\"`, "
      "`\"7d\"`; sizes are `\"512\"`, `\"64KiB\"`, `\"1MiB\"`, `\"2GB\"` (or an integer of bytes); "
      "paths are relative to the config file's folder. Secrets are never written inline: a "
      "*secret file* value containing `/` is a file path; a bare name is a systemd credential read "
      "from `$CREDENTIALS_DIRECTORY` (`LoadCredential=`). One trailing newline is stripped.\n\n";
  for (const SectionSpec& s : schema.sections) {
    std::string title = s.name;
    if (title == "queue.lanes.*") {
      title = "queue.lanes.<lane>";
    } else if (title.ends_with(".*")) {
      title = title.substr(0, title.size() - 1) + "<name>";
    }
    out += fmt::format("## [{}]\n\n{}\n\n", title, s.description);
    RenderKeys(out, s.keys);
  }
  out +=
      "## [adapters.<id>]\n\nOne section per adapter instance; `<id>` (a-z, 0-9, `-`, `_`) names "
      "it in lanes (`in.<id>`, `out.<id>`), webhook URLs (`/hooks/<id>`), metrics and logs. "
      "Several sections may share a type (several accounts of one marketplace). Keys common to "
      "every type:\n\n";
  RenderKeys(out, Schema::CommonAdapterKeys());
  for (const AdapterSchema& a : schema.adapter_types) {
    out += fmt::format("### type = \"{}\"\n\n{}\n\n", a.type, a.description);
    RenderKeys(out, a.keys);
  }
  return out;
}

}  // namespace crmhub::config
