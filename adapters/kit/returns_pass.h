#pragma once
// ReturnsPass: the state of a marketplace's returns stream, pulled beside
// its orders with a cursor of its own. A pass reads the returns changed in
// [watermark - overlap, window_to] page by page (the marketplace's page
// token, or the last id read, as text); when the last page is read,
// everything changed before window_to has been pulled and window_to
// becomes the watermark. Yandex Market (getReturns), Ozon
// (/v1/returns/list) and Wildberries (the goods-return report, its page
// token the next request's start) keep it in their cursors as
//
//   {"watermark": ms, "window_to": ms, "page_token": "..."}
//
// (ms since the epoch; watermark 0: not started; window_to 0: no pass in
// progress).
//
// Pure data; not thread-safe (one pull loop owns a cursor).

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace crmhub::adapters::kit {

struct ReturnsPass {
  int64_t watermark_ms = 0;
  int64_t window_to_ms = 0;
  std::string page_token;

  // The range the pass reads.
  struct Range {
    int64_t from_ms = 0;
    int64_t to_ms = 0;
  };
  // Starts a pass when none is in progress (the first one `lookback_ms`
  // before `now_ms`, a later one from the watermark) and returns its range:
  // from the watermark less `overlap_ms` (changes recorded late) to the
  // pass's end.
  Range Begin(int64_t now_ms, int64_t lookback_ms, int64_t overlap_ms);

  // After a page: `next_token` is where the next page starts ("" or an
  // empty page: the pass is read, the watermark moves to its end). Returns
  // whether the pass goes on.
  bool After(std::string next_token, bool page_empty);

  nlohmann::json ToObject() const;
  // Absent members are 0 / ""; nullopt for a non-object or a negative time.
  static std::optional<ReturnsPass> FromObject(const nlohmann::json& j);
};

}  // namespace crmhub::adapters::kit
