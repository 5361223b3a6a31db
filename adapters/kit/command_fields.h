#pragma once
// What targets read from a command item (kit::TargetCommand::item) besides
// base/json_get.h's checked getters: a number of any JSON number type, an
// amount sent as a number or as decimal text, and a member quoted the way a
// Fail message names the value it refuses.
//
// Pure; thread-safe; never throws.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::adapters::kit {

// A JSON number's value (integer, unsigned or float); nullopt otherwise.
std::optional<double> AsNumber(const nlohmann::json& value);

// `item`'s `key` as a JSON number: a number as sent, or decimal text
// ("123.45", depth-capped parse) read as one; null when absent or neither.
nlohmann::json NumberOrText(const nlohmann::json& item, std::string_view key);

// `item`'s `key`, a string, trimmed of spaces and tabs: then 1..max_chars
// characters (code points, not bytes) without control characters but tab
// (Yandex Market's ShopSku rule, a common one for ids). InvalidArgument
// naming the key and quoting the value otherwise.
Result<std::string> TrimmedText(const nlohmann::json& item, std::string_view key, size_t max_chars);

// `item`'s `key` as a message quotes it: its JSON text (at most 80
// characters), or "nothing" when absent.
std::string QuoteMember(const nlohmann::json& item, std::string_view key);

}  // namespace crmhub::adapters::kit
