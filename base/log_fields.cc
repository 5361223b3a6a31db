#include "base/log_fields.h"

#include <nlohmann/json.hpp>

namespace crmhub {
namespace {

constexpr char kSeparator = '\x1f';

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string EncodeLogFields(std::string_view msg, std::initializer_list<LogField> fields) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const LogField& f : fields) j[std::string(f.key)] = f.value;
  std::string out(msg);
  out += kSeparator;
  out += j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return out;
}

std::pair<std::string_view, std::string_view> SplitLogFields(std::string_view payload) {
  const size_t at = payload.find(kSeparator);
  if (at == std::string_view::npos) return {payload, {}};
  return {payload.substr(0, at), payload.substr(at + 1)};
}

std::string RenderLogFieldsText(std::string_view payload) {
  auto [msg, fields] = SplitLogFields(payload);
  std::string out(msg);
  if (fields.empty()) return out;
  nlohmann::ordered_json j =
      nlohmann::ordered_json::parse(fields, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const auto& [key, value] : j.items()) {
    std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    out += ' ';
    out += key;
    out += '=';
    out += NeedsQuotes(v) ? nlohmann::ordered_json(v).dump(
                                -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                          : v;
  }
  return out;
}

}  // namespace crmhub
