// The Ozon adapter's source side: the cursor, the window planner and Pull.

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <set>
#include <span>
#include <utility>

#include "adapters/kit/cursor_pass.h"
#include "adapters/kit/unreadable_record.h"
#include "adapters/ozon/ozon_adapter.h"
#include "base/json_get.h"
#include "base/json_list.h"
#include "base/timestamp.h"

namespace crmhub::adapters::ozon {

using nlohmann::json;

namespace {

// `object`, a JSON object's text, with `members` (name, JSON text) added
// last, so that they are what a reader keeps were Ozon ever to send the
// names. The names are plain ASCII (no escaping needed).
std::string WithMembers(
    std::string_view object,
    std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  const std::string_view head = object.substr(0, object.rfind('}'));  // "{...", no '}'
  bool empty = head.find_first_not_of(" \t\r\n", 1) == std::string_view::npos;
  std::string out;
  out.reserve(object.size() + 64);
  out.append(head);
  for (const auto& [key, value] : members) {
    if (!empty) out += ',';
    empty = false;
    out.append("\"").append(key).append("\":").append(value);
  }
  out += '}';
  return out;
}

// "1390", "1390.5", "1390.00", "1390.000000" -> 139000, 139050, ...: two
// decimals kept, any further ones must be zeros. nullopt otherwise.
std::optional<int64_t> MinorUnits(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  constexpr std::string_view kDigits = "0123456789";
  if (whole.empty() || whole.find_first_not_of(kDigits) != std::string_view::npos ||
      frac.find_first_not_of(kDigits) != std::string_view::npos ||
      (dot != std::string_view::npos && frac.empty()) ||
      frac.find_first_not_of('0', 2) != std::string_view::npos) {
    return std::nullopt;
  }
  std::optional<int64_t> units = ParseDecimalInt(whole);
  int64_t cents = 0;
  for (size_t i = 0; i < 2; ++i) cents = cents * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  int64_t minor = 0;
  if (!units || __builtin_mul_overflow(*units, 100, &minor) ||
      __builtin_add_overflow(minor, cents, &minor)) {
    return std::nullopt;
  }
  return minor;
}

// JSON whitespace, or the comma between values.
bool Separator(char c) { return c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// One of a posting's products[]: price (a JSON string), quantity (a bare
// token) and currency_code (a string), as written; "" when absent or not so.
struct ProductLine {
  std::string_view price, quantity, currency;
};

// The posting's top-level products[] in one pass over its text, without a
// tree: a second SAX parse of every posting cost as much as the page's own
// (the orders benchmark). The text is an element of a page SplitJsonList
// validated; on anything else this stays in bounds and finds less.
std::vector<ProductLine> ProductLines(std::string_view text) {
  std::vector<ProductLine> lines;
  bool in_products = false, in_item = false;
  int depth = 0;         // of the container being read; the posting itself is 1
  std::string_view key;  // the key whose value comes next
  auto record = [&](std::string_view value, bool string) {
    if (!in_item || depth != 3) return;
    ProductLine& line = lines.back();
    if (string && key == "price") line.price = value;
    if (!string && key == "quantity") line.quantity = value;
    if (string && key == "currency_code") line.currency = value;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t start = ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      const std::string_view value = text.substr(start, std::min(i, text.size()) - start);
      const size_t next = text.find_first_not_of(" \t\r\n", i + 1);
      if (next != std::string_view::npos && text[next] == ':') {
        key = value;
        i = next;
      } else {
        record(value, true);
      }
    } else if (c == '{' || c == '[') {
      ++depth;
      in_products = in_products || (c == '[' && depth == 2 && key == "products");
      if (c == '{' && in_products && depth == 3) {
        lines.emplace_back();
        in_item = true;
      }
    } else if (c == '}' || c == ']') {
      in_item = in_item && depth != 3;
      in_products = in_products && depth != 2;
      --depth;
    } else if (!Separator(c) && c != ':') {
      const size_t start = i;  // a number, true, false or null
      while (i + 1 < text.size() && !Separator(text[i + 1]) && text[i + 1] != '}' &&
             text[i + 1] != ']')
        ++i;
      record(text.substr(start, i + 1 - start), false);
    }
  }
  return lines;
}

}  // namespace

std::optional<int64_t> PostingTotalMinor(std::string_view posting) {
  const std::vector<ProductLine> lines = ProductLines(posting);
  if (lines.empty()) return std::nullopt;
  int64_t total = 0;
  for (const ProductLine& p : lines) {
    std::optional<int64_t> price = MinorUnits(p.price);
    std::optional<int64_t> quantity = ParseDecimalInt(p.quantity);
    int64_t line = 0;
    if (!price || !quantity || *quantity < 0 || p.currency != lines.front().currency ||
        __builtin_mul_overflow(*price, *quantity, &line) ||
        __builtin_add_overflow(total, line, &total)) {
      return std::nullopt;
    }
  }
  return total;
}

std::string_view SchemeName(Scheme scheme) { return scheme == Scheme::kFbs ? "fbs" : "fbo"; }

std::optional<Scheme> ParseScheme(std::string_view name) {
  if (name == "fbs") return Scheme::kFbs;
  if (name == "fbo") return Scheme::kFbo;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// The cursor: our own data, read back with the same checked getters.

json PullCursor::ToObject() const {
  return json{{"watermark", watermark_ms}, {"window_from", window_from_ms},
              {"window_to", window_to_ms}, {"offset", offset},
              {"last", last_window},       {"span", span_ms}};
}

std::optional<PullCursor> PullCursor::FromObject(const json& j) {
  if (!j.is_object()) return std::nullopt;
  PullCursor c;
  c.watermark_ms = JsonIntLoose(j, "watermark").value_or(0);
  c.window_from_ms = JsonIntLoose(j, "window_from").value_or(0);  // absent in older cursors
  c.window_to_ms = JsonIntLoose(j, "window_to").value_or(0);
  c.offset = JsonIntLoose(j, "offset").value_or(0);
  c.last_window = JsonBool(j, "last") != false;
  c.span_ms = JsonIntLoose(j, "span").value_or(0);
  if (c.offset < 0 || c.watermark_ms < 0 || c.span_ms < 0) return std::nullopt;
  return c;
}

std::string OzonCursor::ToJson() const {
  return json{{"v", 2},
              {"scheme", SchemeName(scheme)},
              {"fbs", fbs.ToObject()},
              {"fbo", fbo.ToObject()},
              {"returns", returns.ToObject()},
              {"products", products.ToObject()},
              {"reports", reports.ToObject()},
              {"phase", in_reports    ? "reports"
                        : in_products ? "products"
                        : in_returns  ? "returns"
                                      : "postings"}}
      .dump();
}

std::optional<OzonCursor> OzonCursor::Parse(const std::string& text) {
  Result<json> j = ParseJson(text);
  if (!j.ok()) return std::nullopt;
  OzonCursor c;
  const std::optional<int64_t> version = JsonInt(*j, "v");
  if (version == 1) {  // before FBO: the FBS state alone
    auto fbs = PullCursor::FromObject(*j);
    if (!fbs) return std::nullopt;
    c.fbs = *fbs;
    return c;
  }
  if (version != 2) return std::nullopt;
  auto state = [&](std::string_view key) -> std::optional<PullCursor> {
    const json* member = JsonObject(*j, key);
    return member != nullptr ? PullCursor::FromObject(*member) : std::nullopt;
  };
  auto scheme = ParseScheme(JsonString(*j, "scheme").value_or(""));
  auto fbs = state("fbs");
  auto fbo = state("fbo");
  if (!scheme || !fbs || !fbo) return std::nullopt;
  c.scheme = *scheme;
  c.fbs = *fbs;
  c.fbo = *fbo;
  if (!kit::ReadCursorPass(*j, "returns", c.returns) ||
      !kit::ReadCursorPass(*j, "products", c.products) ||
      !kit::ReadCursorPass(*j, "reports", c.reports)) {
    return std::nullopt;
  }
  c.in_returns = JsonString(*j, "phase") == "returns";
  c.in_products = JsonString(*j, "phase") == "products";
  c.in_reports = JsonString(*j, "phase") == "reports";
  return c;
}

// ---------------------------------------------------------------------------
// The window planner.

Window NextWindow(PullCursor& cursor, const WindowLimits& limits, int64_t now_ms) {
  const int64_t lookback_start = now_ms - limits.lookback_ms;
  if (limits.fbs && cursor.watermark_ms == 0) cursor.watermark_ms = lookback_start;  // first pull
  const int64_t fbs_from = std::max<int64_t>(0, cursor.watermark_ms - limits.overlap_ms);
  if (cursor.window_to_ms == 0) {
    // A new pass. FBS reads the changes since its watermark, FBO re-reads
    // the whole lookback; either starts with a window of the span the last
    // window was sized with (first_window when none is known yet), so a
    // long pass costs about one request per page.
    cursor.window_from_ms = limits.fbs ? 0 : std::max<int64_t>(1, lookback_start);
    cursor.window_to_ms = now_ms;
    cursor.offset = 0;
    cursor.last_window = true;
    const int64_t pass_from = limits.fbs ? fbs_from : cursor.window_from_ms;
    const int64_t span = cursor.span_ms > 0 ? cursor.span_ms : limits.first_window_ms;
    if (span > 0 && pass_from + span < now_ms) {
      cursor.window_from_ms = pass_from;
      cursor.window_to_ms = pass_from + span;
      cursor.last_window = false;
    }
  }
  return {cursor.window_from_ms != 0 ? cursor.window_from_ms : fbs_from, cursor.window_to_ms,
          cursor.offset};
}

bool AfterPage(PullCursor& cursor, const WindowLimits& limits, const Window& window,
               int64_t returned, bool has_next, int64_t now_ms) {
  has_next = has_next && returned > 0;
  const bool fbs = limits.fbs;
  const int64_t span = window.to_ms - window.from_ms;
  const bool under_cap = cursor.offset + returned + limits.page_size <= limits.max_offset;
  cursor.window_from_ms = window.from_ms;
  if (!fbs && has_next && under_cap) {
    // FBO: the next page by offset. Its window is a creation period, so no
    // posting leaves it; were the order to shift anyway (the spec does not
    // say what "dir" sorts by), the next pass re-reads the lookback.
    cursor.offset += returned;
    return true;
  }
  if (has_next && (!fbs || cursor.offset == 0) && span > 1) {
    // More than a page (FBO: past the offset cap) in the window. Only a
    // window read in one answer is a consistent snapshot: postings that
    // change while later pages are fetched leave it and shift the rest to
    // lower offsets, so offset paging skips postings. Halve the window and
    // read it again; this page's postings are real states, queued anyway.
    cursor.window_to_ms = window.from_ms + span / 2;
    cursor.span_ms = span / 2;
    cursor.offset = 0;
    cursor.last_window = false;
    return true;
  }
  if (fbs && has_next && under_cap) {
    // More than a page changed within one millisecond: offsets are the only
    // way on, each next page kPageReread early, as postings leaving the
    // filter shift later ones down.
    cursor.offset += returned - (returned > 2 * kPageReread ? kPageReread : 0);
    return true;
  }
  // The window is read: every change up to its end is pulled.
  if (fbs) cursor.watermark_ms = std::max(cursor.watermark_ms, cursor.window_to_ms);
  const int64_t held = fbs ? returned : cursor.offset + returned;
  cursor.offset = 0;
  // The next window is sized for 3/4 of what one may hold (FBS: a page;
  // FBO: the pages up to the offset cap) at this window's density (an empty
  // window says only "wider"), at most twice as wide as this one; after a
  // window the pass's end cut short, at most as wide as the span it was
  // sized with: a pass's last window is often a sliver, and the next pass
  // starts from its span.
  const double capacity = static_cast<double>(fbs ? limits.page_size : limits.max_offset);
  const double by_density =
      held > 0 ? static_cast<double>(span) * 0.75 * capacity / static_cast<double>(held)
               : std::numeric_limits<double>::infinity();
  const double widest = static_cast<double>(span < cursor.span_ms ? cursor.span_ms : 2 * span);
  cursor.span_ms = std::clamp<int64_t>(static_cast<int64_t>(std::min(by_density, widest)), 1,
                                       std::max<int64_t>(1, limits.lookback_ms));
  if (cursor.last_window) {
    cursor.window_from_ms = 0;
    cursor.window_to_ms = 0;
    return false;
  }
  // The window was cut short of the pass's end: the next one at once.
  cursor.window_from_ms = cursor.window_to_ms;
  cursor.window_to_ms += cursor.span_ms;
  if (cursor.window_to_ms >= now_ms) {
    cursor.window_to_ms = now_ms;
    cursor.last_window = true;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Pull.

WindowLimits OzonAdapter::LimitsFor(Scheme scheme) const {
  return {.fbs = scheme == Scheme::kFbs,
          .page_size = config_.page_size,
          .max_offset = config_.max_offset,
          .overlap_ms = config_.overlap.count(),
          .lookback_ms = config_.order_lookback.count(),
          .first_window_ms = config_.first_window.count()};
}

Result<PullResult> OzonAdapter::Pull(const std::optional<std::string>& cursor_text) {
  const int64_t now_ms = ToUnixMillis(clock_.Now());
  std::optional<OzonCursor> read =
      cursor_text && !cursor_text->empty() ? OzonCursor::Parse(*cursor_text) : OzonCursor{};
  if (!read) return Status::InvalidArgument("unreadable Ozon cursor: " + *cursor_text);
  OzonCursor& cursor = *read;
  // After the postings the returns' pass, then the product cards' pass
  // when one is due; the last of them ends the round.
  // The realization report's pass after the cards, when due.
  auto reports_follow = [&](PullResult& out) {
    if (!out.more && config_.reports && cursor.reports.Due(now_ms)) {
      cursor.in_reports = true;
      out.more = true;
    }
  };
  auto cards_follow = [&](PullResult& out) {
    if (!out.more && config_.products && cursor.products.Due(now_ms)) {
      cursor.in_products = true;
      out.more = true;
    }
    reports_follow(out);
  };
  if (cursor.in_reports && config_.reports) {
    auto pulled = PullReports(cursor.reports, now_ms);
    if (!pulled.ok() || pulled->not_before) return pulled;  // cursor unchanged
    PullResult out = std::move(*pulled);
    if (!out.more) cursor.in_reports = false;
    out.next_cursor = cursor.ToJson();
    return out;
  }
  cursor.in_reports = false;
  if (cursor.in_products && config_.products) {
    auto pulled = PullProducts(cursor.products, now_ms);
    if (!pulled.ok() || pulled->not_before) return pulled;  // cursor unchanged
    PullResult out = std::move(*pulled);
    if (!out.more) {
      cursor.in_products = false;
      reports_follow(out);
    }
    out.next_cursor = cursor.ToJson();
    return out;
  }
  cursor.in_products = false;
  if (cursor.in_returns && config_.returns) {
    auto pulled = PullReturns(cursor.returns, now_ms);
    if (!pulled.ok() || pulled->not_before) return pulled;  // cursor unchanged
    PullResult out = std::move(*pulled);
    if (!out.more) {
      cursor.in_returns = false;
      cards_follow(out);
    }
    out.next_cursor = cursor.ToJson();
    return out;
  }
  cursor.in_returns = false;
  const auto& schemes = config_.schemes;
  auto at = std::find(schemes.begin(), schemes.end(), cursor.scheme);
  if (at == schemes.end()) {
    // The scheme was removed from the config since: start the round over.
    at = schemes.begin();
    cursor.scheme = *at;
  }
  auto pulled = PullScheme(cursor.scheme, cursor.state(cursor.scheme), now_ms);
  if (!pulled.ok() || pulled->not_before) return pulled;  // cursor unchanged
  PullResult out = std::move(*pulled);
  if (!out.more) {
    // This scheme's pass is read: the next scheme's follows at once; after
    // the last one, the returns' pass; then the round is over until the
    // next poll.
    ++at;
    out.more = at != schemes.end();
    cursor.scheme = out.more ? *at : schemes.front();
    if (!out.more && config_.returns) {
      cursor.in_returns = true;
      out.more = true;
    }
    cards_follow(out);
  }
  out.next_cursor = cursor.ToJson();
  return out;
}

Result<PullResult> OzonAdapter::PullScheme(Scheme scheme, PullCursor& cursor, int64_t now_ms) {
  const WindowLimits limits = LimitsFor(scheme);
  const Window window = NextWindow(cursor, limits, now_ms);
  PostingQuery query{.since = FromUnixMillis(window.from_ms),
                     .to = FromUnixMillis(window.to_ms),
                     .limit = config_.page_size,
                     .offset = static_cast<int>(window.offset)};
  if (limits.fbs) {
    // filter.since/to bound the postings' period (at most a year); the
    // change-time filter does the incremental work.
    query.since = FromUnixMillis(std::min(window.from_ms, now_ms - limits.lookback_ms));
    query.changed_from = FromUnixMillis(window.from_ms);
    query.changed_to = query.to;
  }
  auto answer = limits.fbs ? client_.ListFbsPostings(query) : client_.ListFboPostings(query);
  PullResult out;
  if (!answer.ok()) {
    const net::ApiError& error = answer.error();
    if (error.kind == net::ApiError::Kind::kThrottled && error.not_before) {
      out.not_before = error.not_before;  // nothing new, cursor unchanged
      return out;
    }
    return error.ToStatus();
  }
  // FBS: result {postings[], has_next}; FBO: result[] alone. Each posting
  // is queued as the text Ozon sent, without a parsed tree.
  static constexpr std::string_view kFbsPath[] = {"result", "postings"};
  static constexpr std::string_view kFboPath[] = {"result"};
  static constexpr std::string_view kKeys[] = {"posting_number", "status"};
  const std::string_view path = limits.fbs ? "/v3/posting/fbs/list" : "/v2/posting/fbo/list";
  // Depth-capped as every parse of outside data: a posting is queued as
  // its text, and what reads it later should not meet 100,000 levels.
  auto page = JsonDepthWithin(answer->body, kMaxJsonDepth)
                  ? SplitJsonList(answer->body,
                                  limits.fbs ? std::span<const std::string_view>(kFbsPath)
                                             : std::span<const std::string_view>(kFboPath),
                                  kKeys)
                  : Result<JsonList>(Status::InvalidArgument(
                        fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth)));
  if (!page.ok()) {
    return Status::Unavailable(
        fmt::format("ozon: POST {}: {} in a 200 answer", path, page.status().message()));
  }
  if (!page->found)
    return Status::Unavailable(fmt::format("ozon: POST {}: an answer without result", path));
  // FBS says has_next; FBO does not: a full page may have more behind it.
  const bool has_next = limits.fbs
                            ? page->Sibling("has_next") == "true"
                            : static_cast<int64_t>(page->elements.size()) >= config_.page_size;
  const std::string scheme_name(SchemeName(scheme));
  const std::string scheme_json = "\"" + scheme_name + "\"";
  int64_t returned = 0;
  out.events.reserve(page->elements.size());
  // Offsets count distinct postings: a page repeating one (the simulator's
  // "dup" fault) must not push the offset past postings not yet read.
  std::set<std::string_view> seen;
  for (const JsonListElement& p : page->elements) {
    const std::string& number = p.fields[0];
    const std::string& status = p.fields[1];
    if (!seen.insert(number).second) continue;
    ++returned;
    if (number.empty() || status.empty()) continue;  // not a posting we can key
    InboundEvent e;
    e.idempotency_key = number + ":" + status;
    e.ordering_key = number;
    e.kind = "order";
    e.headers = {{"ozon_status", status}, {"ozon_scheme", scheme_name}};
    if (std::optional<int64_t> total = PostingTotalMinor(p.text)) {
      e.payload = WithMembers(
          p.text, {{"delivery_schema", scheme_json}, {"total_minor", std::to_string(*total)}});
    } else {
      e.payload = WithMembers(p.text, {{"delivery_schema", scheme_json}});
    }
    out.events.push_back(std::move(e));
  }
  out.more = AfterPage(cursor, limits, window, returned, has_next, now_ms);
  return out;
}

// ---------------------------------------------------------------------------
// Returns.

namespace {

// A return's visual.change_moment in ms, or nullopt.
std::optional<int64_t> ChangeMs(const json& ret) {
  const json* visual = JsonObject(ret, "visual");
  std::optional<std::string_view> at = visual ? JsonString(*visual, "change_moment") : std::nullopt;
  if (!at) return std::nullopt;
  Result<int64_t> ms = ParseTimestampMs(*at, kNoDefaultOffset);
  return ms.ok() ? std::optional<int64_t>(*ms) : std::nullopt;
}

// visual.status.sys_name ("ArrivedAtReturnPlace"), or "".
std::string_view VisualStatus(const json& ret) {
  const json* visual = JsonObject(ret, "visual");
  const json* status = visual ? JsonObject(*visual, "status") : nullptr;
  return status ? JsonString(*status, "sys_name").value_or("") : "";
}

}  // namespace

Result<PullResult> OzonAdapter::PullReturns(kit::ReturnsPass& pass, int64_t now_ms) {
  const kit::ReturnsPass::Range range =
      pass.Begin(now_ms, config_.order_lookback.count(), config_.overlap.count());
  std::optional<int64_t> last_id = ParseDecimalInt(pass.page_token);
  auto answer = client_.ListReturns({.changed_from = FromUnixMillis(range.from_ms),
                                     .changed_to = FromUnixMillis(range.to_ms),
                                     .last_id = last_id.value_or(0),
                                     .limit = config_.returns_page_size});
  PullResult out;
  if (!answer.ok()) {
    const net::ApiError& error = answer.error();
    if (error.kind == net::ApiError::Kind::kThrottled && error.not_before) {
      out.not_before = error.not_before;
      return out;
    }
    return error.ToStatus();
  }
  const json* returns = JsonArray(answer->json, "returns");
  if (returns == nullptr) {
    return Status::Unavailable("ozon: POST /v1/returns/list: an answer without returns[]");
  }
  // The spec's last_id is the last return read; its example sends ids as
  // strings, its schema as integers: both are read.
  int64_t last = 0;
  for (size_t i = 0; i < returns->size(); ++i) {
    const json& r = (*returns)[i];
    // Plain values, 0 for missing (no id, and no change moment, is ever 0):
    // GCC 12 at -O3 takes std::optional's ternaries for maybe-uninitialized.
    const bool object = r.is_object();
    const int64_t id = object ? JsonIntLoose(r, "id").value_or(0) : 0;
    const std::string_view posting = object ? JsonString(r, "posting_number").value_or("") : "";
    const std::string_view status = object ? VisualStatus(r) : "";
    const int64_t changed = object ? ChangeMs(r).value_or(0) : 0;
    if (id > last) last = id;
    if (id <= 0 || posting.empty() || status.empty() || changed == 0) {
      out.events.push_back(kit::UnreadableRecord(
          r,
          fmt::format("ozon: returns[{}]: a return needs a positive id, posting_number, "
                      "visual.status.sys_name and visual.change_moment",
                      i),
          "return"));
      continue;
    }
    InboundEvent e;
    e.kind = "return";
    e.idempotency_key = fmt::format("return:{}:{}:{}", id, status, changed);
    e.ordering_key = std::string(posting);
    e.headers = {{"ozon_return_status", std::string(status)}};
    // One return is one product (an object); the rules' lines need a list:
    // "products" [product] is added, as the postings get their members.
    json payload = r;
    if (const json* product = JsonObject(r, "product"))
      payload["products"] = json::array({*product});
    e.payload = payload.dump();
    out.events.push_back(std::move(e));
  }
  const bool has_next = JsonBool(answer->json, "has_next") == true;
  out.more = pass.After(has_next && last > 0 ? std::to_string(last) : "", returns->empty());
  return out;
}

// ---------------------------------------------------------------------------
// Product cards.

Result<PullResult> OzonAdapter::PullProducts(kit::CatalogPass& pass, int64_t now_ms) {
  PullResult out;
  auto throttled = [&](const net::ApiError& error) -> Result<PullResult> {
    if (error.kind == net::ApiError::Kind::kThrottled && error.not_before) {
      out.not_before = error.not_before;
      return std::move(out);
    }
    return error.ToStatus();
  };
  auto page = client_.ListProducts(pass.page_token, config_.products_page_size);
  if (!page.ok()) return throttled(page.error());
  std::vector<int64_t> ids;
  for (const auto& [offer, product] : page->items) {
    if (product > 0) ids.push_back(product);
  }
  if (!ids.empty()) {
    auto cards = client_.ProductCards(ids);
    if (!cards.ok()) return throttled(cards.error());  // the page is read again
    kit::QueueCards(*cards, "ozon", "/v3/product/info/list items", catalog_, out.events);
  }
  out.more =
      pass.After(page->last_id, page->items.empty(), now_ms, config_.products_interval.count());
  return out;
}

}  // namespace crmhub::adapters::ozon
