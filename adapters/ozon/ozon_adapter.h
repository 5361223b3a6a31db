#pragma once
// The Ozon Seller API adapter: FBS and FBO postings in (pull + push
// notifications), stock and prices out. docs/adapters/ozon.md tells the
// whole story; in short:
//
// Source (ozon_pull.cc): one page per Pull; a round is a pass over each
// scheme in `schemes`, each with its own state in the one cursor. FBS reads
// windows of status-change time, each in ONE answer (offset paging skips
// postings that change meanwhile); FBO, which has no change-time filter,
// re-reads the lookback by offset. Events: key posting_number:status,
// ordering key posting_number, payload the posting as sent plus
// "delivery_schema" and "total_minor" (PostingTotalMinor) added last.
// After the last scheme's pass, the returns' pass (`returns`, on by
// default): /v1/returns/list by status change time, paged by last_id, with
// a watermark of its own (kit::ReturnsPass). Events: kind=return, key
// "return:<id>:<visual status>:<change ms>", ordering key the return's
// posting_number, payload the return as sent plus "products": [its
// product] (for the rules' lines).
//
// Target: set_stock -> /v2/products/stocks with product_id alone (offer_id,
// or the CRM's "sku", which is the offer_id, resolved through the catalogue
// the product pass filled, reloaded by /v3/product/list when a SKU is
// unknown; still unknown: a dead letter saying so); set_price -> /v1/product/import/prices
// with offer_id alone, else product_id. Within a batch only the newest
// command per product (per pair, for stock) is sent; across batches a
// product's 11th price within an hour, or a pair's second stock within
// 30 s, is retried when it fits. Per-item results become per-item outcomes.
//
// Realization report (ozon_reports.cc): after the product cards, once per
// reports_interval, POST /v2/finance/realization for each month over and not
// yet read (kit::ReportPass, position the last month read, "YYYY-MM").
// Events: kind=report (report "ozon.realization", row id
// "<YYYY-MM>:<rowNumber>", period the month), payload the row as sent plus
// the report's "header".
//
// Commands ship and cancel (ozon_commands.cc): one FBS posting each
// (order_id: its posting_number), POST /v4/posting/fbs/ship (packages as
// given, else the posting's products read by /v3/posting/fbs/get in one
// package) and POST /v2/posting/fbs/cancel (cancel_reason_id 352, 400 or
// 402, default 402 with a message); FBO postings are read-only. Settled by
// kit::DeliverOrderWrites: a refusal is re-read and dead-lettered with the
// posting's status, a redelivery reads first and sends nothing twice.
//
// Command create_act (ozon_acts.cc): the act of a delivery method's postings
// in awaiting_deliver (delivery_method_id, optional departure_date),
// POST /v2/posting/fbs/act/create, then /v2/posting/fbs/act/check-status
// polled up to kActStatusPolls times in the attempt (no sleeping: still
// forming, the command is retried kActRecheck later); once ready, its
// postings (/v2/posting/fbs/act/get-postings) are the command's learned
// kind=act record (DeliveryOutcome::learned: queued durably before the
// command is settled) and the command is Ok. A
// redelivery reads /v2/posting/fbs/act/list first and polls the act of the
// same method and day instead of creating a second one.
//
// Threading: Pull, Deliver on worker threads (blocking HTTP); HandleWebhook
// on an I/O thread, no I/O. The catalogue cache is guarded by a mutex; the
// limits are thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/keyed_limit.h"
#include "adapters/kit/marketplace_adapter.h"
#include "adapters/kit/order_writes.h"
#include "adapters/kit/product_cards.h"
#include "adapters/kit/push_auth.h"
#include "adapters/kit/refused_writes.h"
#include "adapters/kit/report_pass.h"
#include "adapters/kit/returns_pass.h"
#include "adapters/kit/target.h"
#include "adapters/ozon/ozon_client.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::ozon {

// Posting schemes the pull reads, in this order.
enum class Scheme { kFbs, kFbo };
std::string_view SchemeName(Scheme scheme);  // "fbs", "fbo"
std::optional<Scheme> ParseScheme(std::string_view name);

struct OzonConfig {
  std::string id;
  std::vector<Scheme> schemes = {Scheme::kFbs, Scheme::kFbo};  // not empty, no repeats
  OzonClientOptions client;
  int64_t requests_per_second = kRequestsPerSecond;  // the account's Upstream (ozon_type.cc)
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};
  int page_size = kMaxPostingsPerPage;
  // Highest offset requested. Not a config key: tests lower it to reach
  // the cap with a few postings.
  int max_offset = kMaxPostingsOffset;
  // A pass's first window when no earlier pass measured the density; every
  // later window is sized from what the one before it held. Not a config
  // key: tests widen it to reach the cap.
  std::chrono::milliseconds first_window{std::chrono::hours(1)};
  std::chrono::milliseconds overlap{std::chrono::minutes(10)};
  std::chrono::milliseconds order_lookback{std::chrono::hours(24 * 30)};
  std::chrono::milliseconds catalog_refresh{std::chrono::minutes(5)};
  bool returns = true;  // pull /v1/returns/list after the postings
  // Returns per page. Not a config key (the spec's 500 is right): tests
  // lower it to page with a few returns.
  int returns_page_size = kMaxReturnsPerPage;
  // Product cards (/v3/product/list + /v3/product/info/list) after the
  // returns, a whole pass at most once per products_interval.
  bool products = true;
  std::chrono::milliseconds products_interval{std::chrono::hours(1)};
  // The realization report (/v2/finance/realization) after the product
  // cards: each month over and not yet read, a pass at most once per
  // reports_interval (ozon_reports.cc).
  bool reports = true;
  std::chrono::milliseconds reports_interval{std::chrono::hours(24)};
  // Cards per page. Not a config key (the spec's 1000 is right): tests lower
  // it to page with a few products.
  int products_page_size = kMaxProductsPerPage;
  std::vector<int64_t> warehouse_ids;  // empty: any
  kit::PushAuth push;                  // push_allow_ips, push_token_file
  std::string app_version = "crmhub";  // for the TYPE_PING answer
};

// Ozon's documented sender ranges for push notifications (tag push_start).
std::vector<std::string> DefaultPushAllowIps();

// A push-model state ("posting_delivered") as the Seller API status
// ("delivered"), by the table in «Изменение статуса отправления»; empty
// when unknown.
std::string_view PushStateToStatus(std::string_view state);

// The posting's amount in minor units: Σ products[].price × quantity, with
// price a decimal string ("1390.00", "1390.000000", "1390") and quantity an
// integer, all products in one currency. nullopt when any of that does not
// hold (a price with a third significant decimal, a missing quantity,
// overflow): crmhub then sends no total rather than a rounded one.
std::optional<int64_t> PostingTotalMinor(std::string_view posting);

// The seller's cancel reasons the spec lists as available for cancellation
// (the examples of /v2/posting/fbs/cancel-reason/list and
// /v1/posting/fbs/cancel-reason: 352 «Товар закончился на складе продавца»,
// 400 «Остался только бракованный товар», 402 «Другое (вина продавца)»);
// 401 and 666 are listed as not available. 402 needs cancel_reason_message.
inline constexpr int64_t kSellerCancelReasons[] = {352, 400, 402};
inline constexpr int64_t kOtherSellerReason = 402;
inline constexpr std::string_view kDefaultCancelMessage = "Cancelled by the seller in the CRM";

// ---------------------------------------------------------------------------
// create_act (ozon_acts.cc).

inline constexpr std::string_view kCreateAct = "create_act";
// check-status polls within one attempt (each through the account's
// limiter, no sleeping), and how long a command whose act is still forming
// waits before its next attempt.
inline constexpr int kActStatusPolls = 3;
inline constexpr std::chrono::seconds kActRecheck{5};
// Acts asked of /v2/posting/fbs/act/list (its limit: the spec's example;
// it states no maximum).
inline constexpr int kActListLimit = 100;

// A create_act item, read.
struct ActRequest {
  int64_t delivery_method_id = 0;
  std::string departure_date;  // as given; empty: not sent
  std::string day;             // "YYYY-MM-DD": departure_date's, else today's (UTC)
};
// {"delivery_method_id": id > 0 (number or decimal text), "departure_date":
// a date-time with its offset, optional}; InvalidArgument naming the member
// otherwise. `now` gives the day when there is no departure_date.
Result<ActRequest> ReadActRequest(const nlohmann::json& item, SystemTime now);
// Whether `act` (from act/list) is the one `request` asks for: the same
// delivery method, not cancelled or failed ("cancelled", "error"), and
// departing that day (or, without a departure_date, created that day).
bool SameAct(const ActSummary& act, const ActRequest& request);
// The kind=act record queued for the CRM: {"act_id", "delivery_method_id",
// "departure_day", "departure_date" (when given), "postings": [...],
// "status": "ready", "recorded_ms"}.
std::string ActRecord(int64_t act_id, const ActRequest& request,
                      const std::vector<std::string>& postings, int64_t recorded_ms);

// ---------------------------------------------------------------------------
// The pull's state and its window planner (ozon_pull.cc).

// One scheme's pull state (ms since the epoch; 0: unset).
struct PullCursor {
  int64_t watermark_ms = 0;  // FBS: every change before it is pulled (0: not started)
  int64_t window_to_ms = 0;  // 0: no pass in progress
  int64_t offset = 0;
  int64_t window_from_ms = 0;  // 0: the pass's start (FBS: watermark - overlap)
  bool last_window = true;     // the window reaches the pass's end
  int64_t span_ms = 0;         // the next window's span (0: WindowLimits::first_window_ms)
  nlohmann::json ToObject() const;
  static std::optional<PullCursor> FromObject(const nlohmann::json& j);
};

// The adapter's persisted cursor (v2): every scheme's state and the scheme
// the next Pull reads, the returns' pass and the product cards' pass:
// {"v":2,"scheme":"fbs"|"fbo","fbs":{...},"fbo":{...},"returns":{...},
// "products":{...},"phase":"postings"|"returns"|"products"} (returns,
// products and phase absent from a cursor of before they were pulled).
struct OzonCursor {
  Scheme scheme = Scheme::kFbs;
  PullCursor fbs;
  PullCursor fbo;
  kit::ReturnsPass returns;
  bool in_returns = false;  // the returns' pass is the one being read
  kit::CatalogPass products;
  bool in_products = false;  // the product cards' pass is the one being read
  kit::ReportPass reports;   // the realization report's pass (position "YYYY-MM")
  bool in_reports = false;   // the realization report's pass is the one being read
  PullCursor& state(Scheme s) { return s == Scheme::kFbs ? fbs : fbo; }
  const PullCursor& state(Scheme s) const { return s == Scheme::kFbs ? fbs : fbo; }
  std::string ToJson() const;
  // v2, or a v1 cursor (the FBS state; FBO not started). nullopt: garbage.
  static std::optional<OzonCursor> Parse(const std::string& text);
};

// What the planner works with, from OzonConfig.
struct WindowLimits {
  bool fbs = true;  // FBS: change-time windows and a watermark; FBO: creation periods
  int64_t page_size = kMaxPostingsPerPage;
  int64_t max_offset = kMaxPostingsOffset;
  int64_t overlap_ms = 0;
  int64_t lookback_ms = 0;
  int64_t first_window_ms = 0;
};

// The window a Pull reads: [from_ms, to_ms] from `offset`.
struct Window {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t offset = 0;
};

// Starts a pass when none is in progress (its first window sized by the
// cursor's span) and returns the window to read now.
Window NextWindow(PullCursor& cursor, const WindowLimits& limits, int64_t now_ms);

// Advances `cursor` past a page of `window` that held `returned` distinct
// postings (`has_next`: more behind them) and returns whether the pass goes
// on. The rules, in order: FBO pages on by offset while under the cap; a
// window with more than a page (FBS) or past the cap (FBO) is halved; FBS
// falls back to offsets (each page kPageReread early) only within one
// millisecond; otherwise the window is read (FBS: watermark = its end) and
// the next one is sized for 3/4 of a window's capacity at the density seen,
// at most twice as wide.
bool AfterPage(PullCursor& cursor, const WindowLimits& limits, const Window& window,
               int64_t returned, bool has_next, int64_t now_ms);
inline constexpr int64_t kPageReread = 50;

// ---------------------------------------------------------------------------

class OzonAdapter final : public kit::MarketplaceAdapter {
 public:
  OzonAdapter(OzonConfig config, net::Transport transport, Clock& clock);

  std::string DescribeJson() const override;

  // SourceCapability
  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  // WebhookCapability. Ozon signs nothing: senders are checked by address
  // and optional token (kit::PushAuth). Answers as the spec documents:
  // TYPE_PING -> {"version","name","time"} (time in whole seconds, UTC, as
  // the spec's example); other messages -> {"result": true} once durable; a
  // body that is not a notification -> 400 {"error":{"code":
  // "ERROR_PARAMETER_VALUE_MISSED","message","details":null}}.
  // TYPE_NEW_POSTING / TYPE_POSTING_CANCELLED / TYPE_STATE_CHANGED are
  // queued (kind=order_push, key "push:<posting_number>:<status>", the push
  // state translated by the spec's table); other types are acknowledged and
  // dropped (the pull is the safety net for orders).
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;

  // TargetCapability
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return kMaxPricesPerRequest; }
  // ship and cancel: FBS postings only (ozon_commands.cc); create_act
  // (ozon_acts.cc).
  std::vector<std::string> commands() const override {
    return {"set_stock", "set_price", "ship", "cancel", "create_act"};
  }

  OzonClient& client() { return client_; }

 private:
  struct Stock {
    size_t index;  // into the batch
    std::string offer_id;
    StockItem item;
  };
  struct Price {
    size_t index;
    PriceItem item;
  };
  // A ship or cancel of one FBS posting.
  struct PostingCommand {
    kit::OrderWrite write;  // order_id: the posting_number
    ShipPackages packages;  // ship: as the item gives them; empty: read the posting
    int64_t reason_id = kOtherSellerReason;  // cancel
    std::string reason_message;              // cancel
  };
  struct ActCommand {
    size_t index;
    int attempt;
    ActRequest request;
  };
  WindowLimits LimitsFor(Scheme scheme) const;
  // One create_act, settled.
  DeliveryOutcome DeliverAct(const ActRequest& request, int attempt);
  // One page of `scheme`'s pass; advances `state`. more: the pass goes on.
  Result<PullResult> PullScheme(Scheme scheme, PullCursor& state, int64_t now_ms);
  // One page of the returns' pass; advances `pass`. more: the pass goes on.
  Result<PullResult> PullReturns(kit::ReturnsPass& pass, int64_t now_ms);
  // One page of the product cards' pass; advances `pass`. more: it goes on.
  Result<PullResult> PullProducts(kit::CatalogPass& pass, int64_t now_ms);
  // One month of the realization report's pass (ozon_reports.cc); advances
  // `pass`. more: it goes on. A refusal ends the pass (postings go on).
  Result<PullResult> PullReports(kit::ReportPass& pass, int64_t now_ms);
  // The command's item, or why Ozon would refuse it.
  Result<Stock> ReadStock(const kit::TargetCommand& c) const;
  static Result<Price> ReadPrice(const kit::TargetCommand& c);
  static Result<PostingCommand> ReadPostingCommand(const kit::TargetCommand& c);
  void DeliverPostings(std::vector<PostingCommand> commands,
                       std::vector<DeliveryOutcome>& out) const;
  void DeliverStocks(std::vector<Stock> stocks, std::vector<DeliveryOutcome>& out);
  void DeliverPrices(std::vector<Price> prices, std::vector<DeliveryOutcome>& out);
  // Gives product_id to stocks named by offer_id alone, from the catalogue
  // (reloaded when an offer is unknown, at most once per catalog_refresh).
  void ResolveProducts(std::vector<Stock>& stocks, std::vector<DeliveryOutcome>& out);
  std::optional<net::ApiError> LoadCatalog();

  OzonConfig config_;
  Clock& clock_;
  OzonClient client_;
  kit::KeyedLimit stock_pairs_;  // one update per product x warehouse per 30 s
  kit::KeyedLimit prices_;       // 10 price updates per product per hour

  // Refusals whose status re-read failed in passing; internally locked, so
  // the const DeliverPostings may keep them.
  mutable kit::RefusedWrites refused_writes_;
  kit::SkuIndex catalog_;  // offer_id -> product_id (decimal)
  std::mutex catalog_mu_;
  std::optional<std::chrono::steady_clock::time_point> catalog_loaded_ GUARDED_BY(catalog_mu_);
};

// The adapter type for daemon/adapter_registry.cc: [adapters.<id>] type = "ozon".
AdapterType Type();

}  // namespace crmhub::adapters::ozon
