#include "adapters/kit/unreadable_record.h"

#include <fmt/format.h>

#include <cstdint>
#include <utility>

namespace crmhub::adapters::kit {

InboundEvent UnreadableRecord(const nlohmann::json& record, std::string_view error,
                              std::string kind) {
  InboundEvent e;
  e.kind = std::move(kind);
  e.payload = nlohmann::json{{"unreadable", record}, {"error", error}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a
  for (unsigned char c : e.payload) hash = (hash ^ c) * 1099511628211ULL;
  e.idempotency_key = fmt::format("unreadable:{:016x}", hash);
  e.ordering_key = "unreadable";
  return e;
}

}  // namespace crmhub::adapters::kit
