#include "daemon/config_check.h"

#include <fmt/format.h>

#include <algorithm>

#include <boost/asio/ip/address.hpp>

#include "base/clock.h"
#include "base/json_get.h"
#include "base/metrics.h"
#include "daemon/admin_access.h"
#include "daemon/config_schema.h"
#include "mapping/rules/rule_set.h"
#include "matching/invoice_numbers.h"

namespace crmhub::daemon {

Status CheckListenAddress(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos || address.size() == 1) {
    return Status::InvalidArgument(fmt::format("\"{}\": expected host:port", address));
  }
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  std::optional<int64_t> number = ParseDecimalInt(port);
  if (!number || *number < 0 || *number > 65535) {
    return Status::InvalidArgument(
        fmt::format("\"{}\": the port must be a number from 0 to 65535", address));
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return Status::InvalidArgument(fmt::format("\"{}\": not an IPv6 address", address));
    return Status::Ok();
  }
  if (host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument(
        fmt::format("\"{}\": write an IPv6 address in brackets, \"[::1]:8080\"", address));
  }
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    if (!ok) return Status::InvalidArgument(fmt::format("\"{}\": not a host name", address));
  }
  return Status::Ok();
}

Result<CheckedConfig> CheckConfigFile(const std::filesystem::path& file,
                                      const std::vector<adapters::AdapterType>& types) {
  auto loaded = config::LoadConfig(file, BuildSchema(types));
  if (!loaded.ok()) return loaded.status();
  config::Config cfg = std::move(loaded).value();

  std::vector<std::string> errors;
  // What `run` needs of the fixed sections that a schema cannot say: the
  // listen addresses parse and their ports are in range; timeouts and
  // limits are large enough to serve anything.
  const config::Section& http = cfg.Get("http");
  for (const std::string& address : http.GetStringList("listen")) {
    if (Status st = CheckListenAddress(address); !st.ok()) {
      errors.push_back(http.ErrorAt("listen", st.message()).message());
    }
  }
  if (http.GetStringList("listen").empty()) {
    errors.push_back(http.ErrorAt("listen", "name at least one address").message());
  }
  const config::Section& admin = cfg.Get("admin");
  if (admin.Has("listen")) {
    const std::vector<std::string> admin_listen = admin.GetStringList("listen");
    if (admin_listen.empty()) {
      errors.push_back(admin
                           .ErrorAt("listen",
                                    "name at least one address, or leave the key out "
                                    "(everything on [http] listen)")
                           .message());
    }
    const std::vector<std::string> public_listen = http.GetStringList("listen");
    for (const std::string& address : admin_listen) {
      if (Status st = CheckListenAddress(address); !st.ok()) {
        errors.push_back(admin.ErrorAt("listen", st.message()).message());
      } else if (!address.ends_with(":0") &&  // port 0: any free port, never the same
                 std::find(public_listen.begin(), public_listen.end(), address) !=
                     public_listen.end()) {
        errors.push_back(admin
                             .ErrorAt("listen", address + " is also in [http] listen: the "
                                                          "admin listener needs its own address")
                             .message());
      }
    }
  }
  // Tokens: scopes known, names distinct, no token shared by two names.
  if (auto access = AdminAccess::FromConfig(cfg); !access.ok()) {
    errors.push_back(access.status().message());
  } else if (admin.GetBool("metrics_require_token") && access->empty()) {
    errors.push_back(admin
                         .ErrorAt("metrics_require_token",
                                  "no admin token is configured, so nothing could read /metrics")
                         .message());
  }
  struct Minimum {
    const char* section;
    const char* key;
    std::chrono::milliseconds least;
  };
  for (const Minimum& m : {Minimum{"http", "read_timeout", std::chrono::seconds(1)},
                           Minimum{"http", "idle_timeout", std::chrono::seconds(1)},
                           Minimum{"daemon", "drain_timeout", std::chrono::seconds(1)},
                           Minimum{"queue", "lease_duration", std::chrono::seconds(1)}}) {
    const config::Section& section = cfg.Get(m.section);
    if (section.GetDuration(m.key) < m.least) {
      errors.push_back(
          section.ErrorAt(m.key, fmt::format("must be at least {} ms", m.least.count())).message());
    }
  }
  if (http.GetSize("header_limit") < 1024) {
    errors.push_back(http.ErrorAt("header_limit", "must be at least 1KiB").message());
  }
  if (http.GetSize("max_body") == 0) {
    errors.push_back(http.ErrorAt("max_body", "must be more than 0").message());
  }
  const config::Section& crm = cfg.Get("crm");
  if (crm.GetString("sink") == "http") {
    if (!crm.Has("url"))
      errors.push_back(crm.ErrorAt("url", "required when sink = \"http\"").message());
    if (!crm.Has("token_file")) {
      errors.push_back(crm.ErrorAt("token_file", "required when sink = \"http\"").message());
    }
  }

  // The invoice patterns compile (and have the number's group).
  const config::Section& matching = cfg.Get("matching");
  if (auto numbers = matching::InvoiceNumbers::Compile(matching.GetStringList("invoice_patterns"));
      !numbers.ok()) {
    errors.push_back(matching.ErrorAt("invoice_patterns", numbers.status().message()).message());
  }

  // Build each adapter with no I/O attached: factories validate what the
  // schema cannot (JSON pointers, CIDRs, URLs) and report with the key's
  // location.
  SystemClock clock;
  MetricsRegistry metrics;
  adapters::AdapterContext context{.http = nullptr, .clock = &clock, .metrics = &metrics};
  std::vector<std::string> names;
  for (const config::Section& section : cfg.Adapters()) {
    const std::string type = section.GetString("type");
    names.push_back(fmt::format("{} ({}{})", section.id(), type,
                                section.GetBool("enabled") ? "" : ", disabled"));
    for (const adapters::AdapterType& t : types) {
      if (t.schema.type != type) continue;
      auto adapter = t.factory(section, context);
      if (!adapter.ok()) {
        errors.push_back(adapter.status().message());
        continue;
      }
      // What the pipeline refuses at start: records with no rules to map them.
      const bool receives = (*adapter)->source() != nullptr || (*adapter)->webhook() != nullptr;
      if (receives && section.GetBool("enabled") && !section.Has("mapping")) {
        errors.push_back(
            section
                .ErrorAt("mapping",
                         "required: this adapter receives records, and mapping rules turn them "
                         "into CRM entities (e.g. mapping = \"mappings/" +
                             type + ".toml\")")
                .message());
      }
    }
    // The rules are compiled now, so a typo in a rule file is a config
    // error at start (or reload), not a dead letter per record later.
    if (section.Has("mapping")) {
      auto rules = mapping::LoadRules(section.GetPath("mapping"));
      if (!rules.ok())
        errors.push_back(section.ErrorAt("mapping", rules.status().message()).message());
    }
  }
  if (!errors.empty()) {
    return Status::InvalidArgument(fmt::format("{}", fmt::join(errors, "\n")));
  }
  std::string summary = names.empty()
                            ? std::string("no adapters")
                            : fmt::format("{} adapter{}: {}", names.size(),
                                          names.size() == 1 ? "" : "s", fmt::join(names, ", "));
  return CheckedConfig{std::move(cfg), std::move(summary)};
}

}  // namespace crmhub::daemon
