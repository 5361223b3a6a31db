#include "adapters/simkit/simulator.h"

namespace crmhub::simkit {
namespace {

// "http://127.0.0.1:18092/api" -> "127.0.0.1:18092".
std::string HostPort(std::string_view url) {
  if (auto p = url.find("://"); p != std::string_view::npos) url.remove_prefix(p + 3);
  if (auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  return std::string(url);
}

}  // namespace

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const SimulatorType* FindSimulatorType(const std::vector<SimulatorType>& types,
                                       std::string_view name) {
  for (const SimulatorType& t : types) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::unique_ptr<Simulator>> CreateSimulator(const SimulatorType& type,
                                                   const SimOptions& options, Clock& clock) {
  for (const auto& [name, value] : options.extra) {
    bool declared = false;
    for (const auto& [declared_name, help] : type.extra_options) {
      declared = declared || declared_name == name;
    }
    if (!declared) {
      return Status::InvalidArgument("--" + name + " is not a " + type.name + " option");
    }
  }
  return type.create(options, clock);
}

Result<std::unique_ptr<Simulator>> SimulatorForAdapter(const SimulatorType& type,
                                                       const config::Section& section,
                                                       SimOptions options, Clock& clock,
                                                       std::string* listen) {
  for (const std::string& key : type.account_keys) {
    if (auto value = section.GetText(key)) options.account[key] = *value;
  }
  const std::optional<std::string> url = section.GetText(type.url_key);
  if (!url || url->empty()) {
    return section.ErrorAt(type.url_key, "needs a URL for the " + type.name + " simulator");
  }
  *listen = HostPort(*url);
  if (listen->find(':') == std::string::npos) {
    return section.ErrorAt(type.url_key,
                           "names no port for the " + type.name + " simulator to listen on");
  }
  return CreateSimulator(type, options, clock);
}

}  // namespace crmhub::simkit
