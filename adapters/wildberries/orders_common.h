#pragma once
// Helpers shared by the FBS (orders_pull.cc) and DBS (dbs_pull.cc) pulls.

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/wildberries/client.h"
#include "base/status.h"

namespace crmhub::adapters::wildberries {

// "maximum 30 calendar days per request", kept an hour inside.
inline constexpr int64_t kMaxPeriodS = 30 * 24 * 3600;
inline constexpr int64_t kPeriodSafetyS = 3600;

// "2022-05-04T07:56:29Z" / "...29.123+03:00" -> Unix seconds.
std::optional<int64_t> ParseRfc3339(const std::string& text);
// The order's createdAt in Unix seconds, or `fallback`.
int64_t CreatedSeconds(const nlohmann::json& order, int64_t fallback);

// One event per (order, status): payload = the order as WB sent it plus
// supplierStatus, wbStatus, statusObservedMs; ordering key
// "<key_prefix><id>", idempotency key "<ordering key>:<supplier>:<wb>".
InboundEvent StatusEvent(const nlohmann::json& order, const OrderStatus& s, int64_t observed_ms,
                         std::string_view key_prefix);

// Bounds a map of followed orders (id -> value with created_s): drops the
// oldest by createdAt beyond `cap`.
template <typename Value>
void DropOldest(std::map<int64_t, Value>& open, size_t cap) {
  if (open.size() <= cap) return;
  std::vector<std::pair<int64_t, int64_t>> by_age;  // created, id
  for (const auto& [id, o] : open) by_age.emplace_back(o.created_s, id);
  std::sort(by_age.begin(), by_age.end());
  for (size_t i = 0; i < by_age.size() - cap; ++i) open.erase(by_age[i].second);
}

// A non-throttle failure of a pull as a Status (the runtime backs off).
Status ToStatus(const ApiError& e);

}  // namespace crmhub::adapters::wildberries
