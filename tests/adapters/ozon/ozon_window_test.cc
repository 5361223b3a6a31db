// The pull's window planner (NextWindow, AfterPage) as a table: a cursor, a
// page of `returned` postings (and has_next), the cursor after it and
// whether the pass goes on. And the posting total the adapter adds.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/ozon/ozon_adapter.h"

namespace crmhub::adapters::ozon {
namespace {

constexpr int64_t H = 3'600'000;    // an hour in ms
constexpr int64_t kNow = 1000 * H;  // "now" of every row
constexpr int64_t kOverlap = 10'000;
constexpr int64_t kFirst = kNow - 24 * H - kOverlap;  // FBS's first pass starts here

const WindowLimits kFbs{.fbs = true,
                        .page_size = 100,
                        .max_offset = 20000,
                        .overlap_ms = kOverlap,
                        .lookback_ms = 24 * H,
                        .first_window_ms = H};
const WindowLimits kFbs1000{.fbs = true,
                            .page_size = 1000,
                            .max_offset = 20000,
                            .overlap_ms = kOverlap,
                            .lookback_ms = 24 * H,
                            .first_window_ms = H};
const WindowLimits kFbo{.fbs = false,
                        .page_size = 100,
                        .max_offset = 300,
                        .overlap_ms = kOverlap,
                        .lookback_ms = 24 * H,
                        .first_window_ms = H};

struct Row {
  std::string name;
  WindowLimits limits;
  PullCursor before;
  Window window;  // what NextWindow asks for
  int64_t returned = 0;
  bool has_next = false;
  PullCursor after;
  bool more = false;
};

// PullCursor fields: watermark, window_to, offset, window_from, last, span.
const std::vector<Row> kRows = {
    {"a first pull reads first_window from the lookback's start, less the overlap; an empty "
     "window doubles the next",
     kFbs,
     {},
     {kFirst, kFirst + H, 0},
     0,
     false,
     {kFirst + H, kFirst + 3 * H, 0, kFirst + H, false, 2 * H},
     true},
    {"a window holding more than a page is halved and read again",
     kFbs,
     {kNow - 2 * H, kNow - H, 0, kNow - 2 * H, false, H},
     {kNow - 2 * H, kNow - H, 0},
     100,
     true,
     {kNow - 2 * H, kNow - 2 * H + H / 2, 0, kNow - 2 * H, false, H / 2},
     true},
    {"a read window moves the watermark; the next is sized for 3/4 of a page and cut at now",
     kFbs,
     {kNow - 2 * H, kNow - H, 0, kNow - 2 * H, false, H},
     {kNow - 2 * H, kNow - H, 0},
     50,
     false,
     {kNow - H, kNow, 0, kNow - H, true, 3 * H / 2},
     true},
    {"the pass's last window ends the pass (no wider than the span it was sized with)",
     kFbs,
     {kNow - H, kNow, 0, kNow - H, true, 3 * H / 2},
     {kNow - H, kNow, 0},
     10,
     false,
     {kNow, 0, 0, 0, true, 3 * H / 2},
     false},
    {"a new pass starts at the watermark less the overlap, as wide as the cursor's span",
     kFbs,
     {kNow - 3 * H, 0, 0, 0, true, H},
     {kNow - 3 * H - kOverlap, kNow - 2 * H - kOverlap, 0},
     0,
     false,
     {kNow - 2 * H - kOverlap, kNow - kOverlap, 0, kNow - 2 * H - kOverlap, false, 2 * H},
     true},
    {"more than a page within one millisecond: offsets, each page 50 early",
     kFbs1000,
     {kNow - 1, kNow, 0, kNow - 1, true, 1},
     {kNow - 1, kNow, 0},
     1000,
     true,
     {kNow - 1, kNow, 950, kNow - 1, true, 1},
     true},
    {"a sliver at the pass's end keeps the span it was sized with",
     kFbs,
     {kNow - 2000, kNow, 0, kNow - 2000, true, 6 * H},
     {kNow - 2000, kNow, 0},
     0,
     false,
     {kNow, 0, 0, 0, true, 6 * H},
     false},
    {"FBO: a new pass starts at the lookback's start with the cursor's span",
     kFbo,
     {0, 0, 0, 0, true, 2 * H},
     {kNow - 24 * H, kNow - 22 * H, 0},
     0,
     false,
     {0, kNow - 18 * H, 0, kNow - 22 * H, false, 4 * H},
     true},
    {"FBO: a full page is followed by offset while under the cap",
     kFbo,
     {0, kNow - 23 * H, 0, kNow - 24 * H, false, H},
     {kNow - 24 * H, kNow - 23 * H, 0},
     100,
     true,
     {0, kNow - 23 * H, 100, kNow - 24 * H, false, H},
     true},
    {"FBO: past the offset cap the window is halved",
     kFbo,
     {0, kNow - 23 * H, 200, kNow - 24 * H, false, H},
     {kNow - 24 * H, kNow - 23 * H, 200},
     100,
     true,
     {0, kNow - 24 * H + H / 2, 0, kNow - 24 * H, false, H / 2},
     true},
    {"FBO: the next window is sized from the whole window's count against the cap",
     kFbo,
     {0, kNow - 23 * H, 200, kNow - 24 * H, false, H},
     {kNow - 24 * H, kNow - 23 * H, 200},
     50,
     false,
     {0, kNow - 23 * H + 9 * H / 10, 0, kNow - 23 * H, false, 9 * H / 10},
     true},
};

std::string Describe(const PullCursor& c) { return c.ToObject().dump(); }

TEST(OzonWindowPlanner, FollowsItsTable) {
  for (const Row& row : kRows) {
    SCOPED_TRACE(row.name);
    PullCursor cursor = row.before;
    const Window window = NextWindow(cursor, row.limits, kNow);
    EXPECT_EQ(window.from_ms, row.window.from_ms);
    EXPECT_EQ(window.to_ms, row.window.to_ms);
    EXPECT_EQ(window.offset, row.window.offset);
    EXPECT_EQ(AfterPage(cursor, row.limits, window, row.returned, row.has_next, kNow), row.more);
    EXPECT_EQ(Describe(cursor), Describe(row.after));
  }
}

// has_next beside no postings ends the window instead of halving it
// forever.
TEST(OzonWindowPlanner, HasNextWithoutPostingsDoesNotHalve) {
  PullCursor cursor{kNow - 2 * H, kNow - H, 0, kNow - 2 * H, false, H};
  const Window window = NextWindow(cursor, kFbs, kNow);
  EXPECT_TRUE(AfterPage(cursor, kFbs, window, 0, true, kNow)) << "the next window follows";
  EXPECT_EQ(cursor.watermark_ms, kNow - H) << Describe(cursor);
  EXPECT_EQ(cursor.span_ms, 2 * H) << Describe(cursor);
}

TEST(OzonPostingTotal, IsPriceTimesQuantityInMinorUnitsExactlyOrNothing) {
  auto total = [](const std::string& products) {
    return PostingTotalMinor(R"({"posting_number":"1","products":)" + products + "}");
  };
  EXPECT_EQ(total(R"([{"price":"1390.000000","quantity":2,"currency_code":"RUB"}])"), 278000);
  EXPECT_EQ(total(R"([{"price":"10.5","quantity":1,"currency_code":"RUB"},
                      {"price":"0.05","quantity":3,"currency_code":"RUB"},
                      {"price":"7","quantity":1,"currency_code":"RUB"}])"),
            1050 + 15 + 700);
  EXPECT_EQ(total(R"([{"price":"12.00","quantity":0}])"), 0);
  // Nothing rather than a rounded or mixed amount.
  for (const char* bad : {
           R"([])",
           R"({"price":"1.00","quantity":1})",
           R"([{"price":"12.345","quantity":1}])",
           R"([{"price":"-12.00","quantity":1}])",
           R"([{"price":"12,00","quantity":1}])",
           R"([{"price":12.5,"quantity":1}])",
           R"([{"price":"12.","quantity":1}])",
           R"([{"price":"12.00"}])",
           R"([{"price":"12.00","quantity":-1}])",
           R"([{"price":"12.00","quantity":1.5}])",
           R"([{"price":"1.00","quantity":1,"currency_code":"RUB"},
               {"price":"1.00","quantity":1,"currency_code":"CNY"}])",
           R"([{"price":"92233720368547758.07","quantity":2}])",
           R"([{"price":"1.00","quantity":18446744073709551615}])",
       }) {
    EXPECT_FALSE(total(bad).has_value()) << bad;
  }
  // Only the posting's own products[] and each product's own members count
  // (FBO's financial_data has a products[] of its own; names may hold
  // anything, escaped quotes included).
  EXPECT_EQ(PostingTotalMinor(R"({"financial_data":{"products":[{"price":"1.00","quantity":1}]},
      "name":"a \"products\":[","products":[{"name":"x\\\"y","price":"3.00","quantity":2,
      "extra":{"price":"9.00","quantity":9}}]})"),
            600);
  EXPECT_FALSE(PostingTotalMinor(R"({"products":[[{"price":"1.00","quantity":1}]]})").has_value());
  // Text that is not a posting finds less, and never reads out of bounds.
  const std::string posting =
      R"({"products":[{"price":"1.00","quantity":1,"currency_code":"RUB"}]})";
  for (size_t n = 0; n < posting.size(); ++n) PostingTotalMinor(posting.substr(0, n));
  EXPECT_FALSE(PostingTotalMinor("not json").has_value());
  EXPECT_FALSE(
      PostingTotalMinor(R"({"products":[{"price":"1.00","quantity":1e400}]})").has_value());
}

}  // namespace
}  // namespace crmhub::adapters::ozon
