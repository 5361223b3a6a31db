#pragma once
// The Ozon Seller API adapter: FBS and FBO postings in (pull + push
// notifications), stock and prices out, the catalogue for offer_id ->
// product_id.
//
// Source (Pull): one pass per poll over each scheme in `schemes` (FBS, then
// FBO), one page per Pull; the pass of the first scheme is followed at once
// (more = true) by the next one's, and the round ends (more = false) when
// the last scheme's pass is read. The persisted cursor holds each scheme's
// state and the scheme being read:
//   {"v":2,"scheme":"fbs"|"fbo","fbs":{<state>},"fbo":{<state>}}
// with <state> = {"watermark","window_from","window_to","offset","last",
// "span"} (ms, 0: unset). A v1 cursor (FBS only) is read as the FBS state,
// FBO then starting afresh.
//
// FBS: POST /v3/posting/fbs/list, incrementally by the time of the last
// status change (filter.last_changed_status_date), so new postings, status
// changes and cancellations all arrive.
// "watermark": every change before it has been pulled (and is durable: the
// runtime saves the cursor only after the events are). A pass starts at
// [watermark - overlap, now] (the overlap re-reads history because a status
// can be written with a timestamp slightly in the past; repeats are cheap,
// the queue dedups) and reads it window by window, each window in ONE
// answer: a window with more than a page (has_next) is halved and read
// again, because offset paging is not safe here: postings whose status
// changes while the next page is fetched leave the window and shift later
// postings to lower offsets, so they would be skipped (and, once the
// watermark passed them, lost; the e2e test lost 4.5% of postings so). When
// a window is read, watermark = window_to and, unless it was the pass's
// last (reaching the pass's end, "last"), the next window follows at once,
// sized for 3/4 of a page at the density just seen (at most twice as wide).
// Only more than a page of changes within one millisecond falls back to
// offsets (each next page starting `kPageReread` items early, and at most up
// to Ozon's 20000 offset cap).
//
// FBO: POST /v2/posting/fbo/list. Its filter has only since/to (the
// postings' period, at most a year) and a status; there is no change-time
// filter, no change timestamp in a posting and no has_next. A status change
// therefore shows only as a different `status` when the posting is read
// again, so every pass re-reads the whole [now - order_lookback, now] and
// the queue's dedup drops what did not change. The spec does not say which
// time since/to compare (crmhub reads them as the creation period, as the
// simulator does), nor what "dir" sorts by. A window is paged by offset (a
// full page, the only sign of more, asks for the next one): a creation
// period keeps its postings, and were the order to shift between pages,
// whatever a pass skipped the next pass reads, since each re-reads
// everything. Only a window holding more than the offset cap (20000) is
// halved; the next window, and the next pass's first ("span"), is sized
// for 3/4 of that at the density seen.
//
// Event identity (both schemes): idempotency key posting_number + ":" +
// status (a posting carries no change counter or timestamp of its last
// change in the list answers), ordering key posting_number, payload the
// posting JSON plus "delivery_schema": "fbs"|"fbo" (Ozon's own name for the
// scheme, from its other methods) so the mapping can tell them apart,
// headers kind=order, ozon_status=<status>, ozon_scheme=fbs|fbo.
//
// Webhook (push notifications, spec section «Пуш-уведомления»): see
// HandleWebhook below.
//
// Target (Deliver): "set_stock" items {"offer_id","warehouse_id","stock"
// [, "product_id"]} -> POST /v2/products/stocks in requests of <= 100;
// "set_price" items {"offer_id","price"[,"old_price","min_price",
// "currency_code","product_id"]} -> POST /v1/product/import/prices in
// requests of <= 1000. Per-item results of a 200 answer become per-item
// outcomes. The stocks schema requires product_id: when the command has
// only offer_id, it is looked up in the catalogue (POST /v3/product/list,
// cached; reloaded when an offer_id is unknown, at most once per
// catalog_refresh).
//
// Threading: Pull and Deliver run on worker threads (blocking HTTP);
// HandleWebhook runs on an I/O thread and does no I/O. The catalogue cache
// is guarded by a mutex.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/ozon/ozon_client.h"
#include "adapters/kit/push_auth.h"

namespace crmhub::adapters::ozon {

inline constexpr int kPageReread = 50;

// Posting schemes the pull reads, in this order.
enum class Scheme { kFbs, kFbo };
std::string_view SchemeName(Scheme scheme);  // "fbs", "fbo"
std::optional<Scheme> ParseScheme(std::string_view name);

struct OzonConfig {
  std::string id;
  std::vector<Scheme> schemes = {Scheme::kFbs, Scheme::kFbo};  // not empty, no repeats
  OzonClientOptions client;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};
  int page_size = kMaxPostingsPerPage;
  // Highest offset requested (Ozon: 20000, MAX_OFFSET_EXCEEDED). Not a
  // config key: tests lower it to reach the cap with a few postings.
  int max_offset = kMaxPostingsOffset;
  // A pass's first window when no earlier pass measured the density (the
  // first start, or an old cursor). Every later window is sized from what
  // the one before it held. Starting with the whole lookback would read a
  // busy account's first pages only to halve the window and read them again
  // (FBO: up to 20 pages to the offset cap, twice). Not a config key: tests
  // widen it to reach the cap.
  std::chrono::milliseconds first_window{std::chrono::hours(1)};
  std::chrono::milliseconds overlap{std::chrono::minutes(10)};
  std::chrono::milliseconds order_lookback{std::chrono::hours(24 * 30)};
  std::chrono::milliseconds catalog_refresh{std::chrono::minutes(5)};
  std::vector<int64_t> warehouse_ids;  // empty: any
  kit::PushAuth push;              // push_allow_ips, push_token_file
  std::string app_version = "crmhub";  // for the TYPE_PING answer
};

// Ozon's documented sender ranges for push notifications (section «Как
// подключить»).
std::vector<std::string> DefaultPushAllowIps();

// Maps a push-model state ("posting_delivered") to the Seller API status
// ("delivered"), by the table in «Изменение статуса отправления». Empty when
// unknown.
std::string PushStateToStatus(std::string_view state);

// One scheme's pull state.
struct PullCursor {
  int64_t watermark_ms = 0;  // FBS: changes before it are pulled (0: not started)
  int64_t window_to_ms = 0;  // 0: no pass in progress
  int64_t offset = 0;
  int64_t window_from_ms = 0;  // 0: the pass's start (FBS: watermark - overlap)
  bool last_window = true;     // the window reaches the pass's end
  int64_t span_ms = 0;         // the next window's span (0: OzonConfig::first_window)
  nlohmann::json ToObject() const;
  static std::optional<PullCursor> FromObject(const nlohmann::json& j);
  std::string ToJson() const;  // the v1 cursor (FBS only), {"v":1,...}
  static std::optional<PullCursor> Parse(const std::string& text);  // v1
};

// The adapter's persisted cursor (v2): every scheme's state and the scheme
// the next Pull reads.
struct OzonCursor {
  Scheme scheme = Scheme::kFbs;
  PullCursor fbs;
  PullCursor fbo;
  PullCursor& state(Scheme s) { return s == Scheme::kFbs ? fbs : fbo; }
  const PullCursor& state(Scheme s) const { return s == Scheme::kFbs ? fbs : fbo; }
  std::string ToJson() const;
  // v2, or a v1 cursor (the FBS state; FBO not started). nullopt: garbage.
  static std::optional<OzonCursor> Parse(const std::string& text);
};

class OzonAdapter final : public Adapter,
                          public SourceCapability,
                          public WebhookCapability,
                          public TargetCapability {
 public:
  OzonAdapter(OzonConfig config, Transport transport, Clock& clock);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "ozon"; }
  SourceCapability* source() override { return this; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }
  std::string DescribeJson() const override;

  // SourceCapability
  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  // WebhookCapability. Ozon documents no signature for push notifications;
  // they are authenticated by the sender's address (push_allow_ips, Ozon's
  // published ranges by default) and, when push_token_file is set, by a
  // secret `token` query parameter in the URL registered in Ozon's cabinet.
  // Answers exactly as documented: TYPE_PING -> {"version","name","time"};
  // other messages -> {"result": true} once durable; a body that is not a
  // notification -> 400 {"error":{"code":"ERROR_PARAMETER_VALUE_MISSED",...}}.
  // TYPE_NEW_POSTING / TYPE_POSTING_CANCELLED / TYPE_STATE_CHANGED become
  // events (kind=order_push, payload the notification, key
  // "push:<posting_number>:<status>", status mapped from the push model by
  // the spec's table). Other message types are acknowledged and dropped
  // (crmhub does not consume them; the pull is the safety net for orders).
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;

  // TargetCapability
  std::vector<DeliveryOutcome> Deliver(std::span<const queue::Message> batch) override;
  int max_batch() const override { return kMaxPricesPerRequest; }
  std::vector<std::string> commands() const override { return {"set_stock", "set_price"}; }

  OzonClient& client() { return client_; }

 private:
  struct StockCommand {
    size_t index;  // into the batch
    StockItem item;
  };
  // One page of `scheme`'s pass; advances `state`. more: the pass goes on.
  Result<PullResult> PullScheme(Scheme scheme, PullCursor& state, int64_t now_ms);
  void DeliverStocks(std::vector<StockCommand> commands, std::vector<DeliveryOutcome>& out);
  void DeliverPrices(std::span<const queue::Message> batch, const std::vector<size_t>& indices,
                     std::vector<DeliveryOutcome>& out);
  // Refreshes the offer_id -> product_id cache from /v3/product/list.
  ApiReply LoadCatalog();
  std::optional<int64_t> LookupProduct(const std::string& offer_id);

  OzonConfig config_;
  Clock& clock_;
  OzonClient client_;

  std::mutex catalog_mu_;
  std::map<std::string, int64_t> catalog_;                               // GUARDED_BY(catalog_mu_)
  std::optional<std::chrono::steady_clock::time_point> catalog_loaded_;  // GUARDED_BY(catalog_mu_)
};

// The adapter type for daemon/adapter_registry.cc: [adapters.<id>] type = "ozon".
AdapterType Type();

}  // namespace crmhub::adapters::ozon
