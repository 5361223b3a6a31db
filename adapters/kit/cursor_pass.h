#pragma once
// ReadCursorPass: a pass's state (kit::ReturnsPass, kit::CatalogPass: any
// type with a static FromObject(json) -> std::optional) read from its member
// of an adapter's cursor object. Absent (a cursor of before the pass was
// pulled): the pass is left as it is, not started. There but unreadable:
// false, and the caller refuses the cursor as garbage.
//
// Pure; thread-safe.

#include <optional>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/json_get.h"

namespace crmhub::adapters::kit {

template <typename Pass>
bool ReadCursorPass(const nlohmann::json& cursor, std::string_view key, Pass& pass) {
  const nlohmann::json* member = JsonObject(cursor, key);
  if (member == nullptr) return true;
  std::optional<Pass> read = Pass::FromObject(*member);
  if (!read) return false;
  pass = std::move(*read);
  return true;
}

}  // namespace crmhub::adapters::kit
