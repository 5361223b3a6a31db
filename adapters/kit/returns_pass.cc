#include "adapters/kit/returns_pass.h"

#include <utility>

#include "base/json_get.h"

namespace crmhub::adapters::kit {

ReturnsPass::Range ReturnsPass::Begin(int64_t now_ms, int64_t lookback_ms, int64_t overlap_ms) {
  if (watermark_ms == 0) watermark_ms = now_ms - lookback_ms;
  if (window_to_ms == 0) {
    window_to_ms = now_ms;
    page_token.clear();
  }
  const int64_t from = watermark_ms - overlap_ms;
  return {.from_ms = from > 0 ? from : 0, .to_ms = window_to_ms};
}

bool ReturnsPass::After(std::string next_token, bool page_empty) {
  if (!next_token.empty() && !page_empty) {
    page_token = std::move(next_token);
    return true;
  }
  watermark_ms = window_to_ms;
  window_to_ms = 0;
  page_token.clear();
  return false;
}

nlohmann::json ReturnsPass::ToObject() const {
  return {{"watermark", watermark_ms}, {"window_to", window_to_ms}, {"page_token", page_token}};
}

std::optional<ReturnsPass> ReturnsPass::FromObject(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  ReturnsPass p{.watermark_ms = JsonInt(j, "watermark").value_or(0),
                .window_to_ms = JsonInt(j, "window_to").value_or(0),
                .page_token = std::string(JsonString(j, "page_token").value_or(""))};
  if (p.watermark_ms < 0 || p.window_to_ms < 0) return std::nullopt;
  return p;
}

}  // namespace crmhub::adapters::kit
