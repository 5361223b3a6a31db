#pragma once
// The Yandex Market Partner API adapter: orders in (pull getBusinessOrders,
// API notifications resolved through it), stock and prices out. One adapter
// per campaign (shop). docs/adapters/yandex-market.md says what is verified
// against the spec, keyed, answered, and where the spec is silent.
//
// Source (Pull): getBusinessOrders of our campaign by updateDate, then
// getReturns (a second stream, PullReturns). The cursor
// {"v":2,"watermark":<ms>,"window_to":<ms or 0>,"page_token":"...",
//  "returns":{<the same three, of the returns' pass>},
//  "products":{<kit::CatalogPass>},"phase":"orders"|"returns"|"products"}
// is saved
// by the runtime only after the events are durable; every change before the
// watermark is pulled. A pass reads [watermark - overlap, window_to) page by
// page; window_to is fixed when the pass starts (now, at most 30 days on)
// and becomes the watermark when it ends, so an order changing during a
// pass moves out of the window and into the next: paging shifts lose
// nothing. The first pass starts `lookback` ago.
// After the returns, when due (products_interval after the last pass), the
// catalogue: getOfferMappings page by page, kind=product events in the kit's
// shape (kit::ProductEvent; sku and marketplace_id the offerId, the id
// Market's stock and price methods take; marketSku in the attributes).
// Target: stocks, prices, and the seller's order status writes (ship,
// cancel, set_status; see DeliverStatuses).
// Events: key "<orderId>:<status>:<substatus>:<updateDate ms>", ordering key
// the order id, payload the BusinessOrderDTO as sent, headers kind=order,
// ym_status, ym_substatus, ym_updated_at. A record that cannot be keyed is
// queued as {"unreadable": <record>, "error": "..."} ("unreadable:<hash>"),
// which the rules dead-letter: seen, and the pull goes on.
//
// Threading: Pull, Resolve and Deliver run on worker threads (blocking
// HTTP); HandleWebhook runs on an I/O thread and does no I/O.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/product_cards.h"
#include "adapters/kit/push_auth.h"
#include "adapters/kit/refused_writes.h"
#include "adapters/kit/returns_pass.h"
#include "adapters/kit/target.h"
#include "adapters/yandex_market/yandex_market_client.h"

namespace crmhub::adapters::yandex_market {

struct YandexMarketConfig {
  std::string id;
  YandexMarketClientOptions client;
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};
  int page_size = kMaxOrdersPerPage;
  std::chrono::milliseconds overlap{std::chrono::minutes(10)};
  std::chrono::milliseconds lookback{std::chrono::hours(24 * 30)};
  kit::PushAuth push;  // push_allow_ips, push_token_file
  // The catalogue (getOfferMappings) after the returns, a whole pass at most
  // once per products_interval.
  bool products = true;
  std::chrono::milliseconds products_interval{std::chrono::hours(1)};
  // Offers per page. Not a config key (the spec's 100 is right): tests
  // lower it to page with a few offers.
  int products_page_size = kMaxOfferMappingsPerPage;
};

// Market's documented sender ranges for API notifications.
std::vector<std::string> DefaultPushAllowIps();

// Whether set_status may send `status`/`substatus`: one of the pairs the
// spec documents a seller sending (updateOrderStatuses' and
// updateOrderStatus' descriptions, OrderSubstatusType's):
// PROCESSING/READY_TO_SHIP, CANCELLED/SHOP_FAILED, CANCELLED/USER_UNREACHABLE
// and PROCESSING/STARTED (LaaS: a draft's confirmation). InvalidArgument
// listing them otherwise. (yandex_market_status.cc)
Status CheckSellerStatusPair(std::string_view status, std::string_view substatus);

struct PullCursor {
  int64_t watermark_ms = 0;
  int64_t window_to_ms = 0;  // 0: no pass in progress
  std::string page_token;
  // The returns' stream, kept alongside: its own watermark (0: not started,
  // `lookback` ago) and pass.
  using Pass = kit::ReturnsPass;
  Pass returns;
  bool in_returns = false;  // the returns' pass is the one being read
  // The catalogue's pass (getOfferMappings), after the returns when due.
  kit::CatalogPass products;
  bool in_products = false;  // the catalogue's pass is the one being read
  std::string ToJson() const;
  // v2 (returns and phase optional: a cursor of before they were pulled),
  // or v1 (getOrders: the watermark alone). nullopt: garbage.
  static std::optional<PullCursor> Parse(std::string_view text);
};

class YandexMarketAdapter final : public Adapter,
                                  public SourceCapability,
                                  public WebhookCapability,
                                  public TargetCapability {
 public:
  YandexMarketAdapter(YandexMarketConfig config, net::Transport transport, Clock& clock);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "yandex-market"; }
  SourceCapability* source() override { return this; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }
  std::string DescribeJson() const override;

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  // Market signs nothing: senders are checked against its ranges
  // (push_allow_ips), push_token_file adds a secret ?token=. Every accepted
  // notification, PING at once, is answered 200 {"version","name","time"};
  // a body that is not one, 400 WRONG_EVENT_FORMAT. Order notifications of
  // our campaign (ids only) become hints (kind=order_hint, key
  // "hint:<type>:<orderId>:<status>:<substatus>:<time>"); others are dropped.
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  bool ServesPath(std::string_view sub_path) const override {
    return sub_path.empty() || sub_path == "notification";
  }
  // The hint's order, fetched at once (getBusinessOrders, orderIds=[id]) and
  // keyed as the pull keys it: the later pull is a duplicate. Retry while
  // Market does not return it (its data may lag its notification).
  ResolveResult Resolve(const Hint& hint) override;

  // set_stock {"sku","stock"} -> updateStocks; set_price {"offer_id" | "sku","price",
  // "currency"?, "discount_base"?, "minimum_for_bestseller"?} ->
  // updateBusinessPrices. Market answers those requests as a whole: a 200
  // settles its items Ok; an item that breaks the spec fails locally,
  // naming it; once the catalogue was read, a SKU no offer has fails
  // locally (kit::UnknownSku). ship, cancel, set_status: see DeliverStatuses.
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return kMaxStocksPerRequest; }
  std::vector<std::string> commands() const override {
    return {"set_stock", "set_price", "ship", "cancel", "set_status"};
  }

  const YandexMarketClient& client() const { return client_; }

 private:
  InboundEvent OrderEvent(const OrderRecord& order, size_t index) const;  // index: in its page
  // Returns and unredeemed orders (getReturns), a pass at a time after each
  // orders' pass: [returns watermark - overlap, pass start] by update date,
  // sent as days (Moscow), the day after the pass starts as toDate (its
  // inclusivity is unstated). Events: kind=return, key
  // "return:<id>:<shipmentStatus>:<refundStatus>:<updateDate ms>", ordering
  // key the order id (after its order), payload the ReturnDTO as sent.
  Result<PullResult> PullReturns(PullCursor c, int64_t now_ms);
  // One page of the catalogue (getOfferMappings, by page_token): kind=product
  // events in the kit's shape (sku and marketplace_id the offerId), which
  // also fill catalog_.
  Result<PullResult> PullProducts(PullCursor c, int64_t now_ms);
  // Why a command's SKU cannot be sent: once a catalogue pass has read
  // offers, one no offer has ("" otherwise; before any pass Market judges).
  std::string UnknownOffer(std::string_view command, const std::string& sku) const;
  InboundEvent ReturnEvent(const ReturnRecord& record, size_t index) const;
  void DeliverStocks(const std::vector<kit::TargetCommand>& commands,
                     std::vector<DeliveryOutcome>& out) const;
  // discount_base, minimum_for_bestseller: a number is sent, null left out
  // (Market deletes it); absent, Market's value is read (getDefaultPrices)
  // and sent again. currency: a CurrencyType, RUB sent as RUR, default RUR.
  void DeliverPrices(const std::vector<kit::TargetCommand>& commands,
                     std::vector<DeliveryOutcome>& out) const;
  // The seller's status writes (yandex_market_status.cc), per order:
  //   ship {"order_id"}                     -> PROCESSING/READY_TO_SHIP
  //   cancel {"order_id", "reason"?}        -> CANCELLED/<reason, SHOP_FAILED>
  //   set_status {"order_id", "status", "substatus"} a pair the spec
  //                                         documents a seller sending
  //                                         (CheckSellerStatusPair)
  // On a redelivery (attempt > 1: the command may have reached Market) the
  // orders' statuses are read first (getBusinessOrders, 50 a request): one
  // already there is Ok and not sent. The rest go to
  // updateOrderStatuses (30 distinct orders a request), answered per order;
  // a whole request refused (4xx) is sent again an order at a time, so each
  // refusal is the order's own. A refused order is read again: there
  // meanwhile, Ok; else Fail with Market's words and its status
  // (kit::RefusedTransition), never retried.
  void DeliverStatuses(const std::vector<kit::TargetCommand>& commands,
                       std::vector<DeliveryOutcome>& out) const;
  // Orders' statuses as getBusinessOrders returns them, 50 a request.
  struct OrderStatuses {
    std::map<int64_t, std::string> read;      // id -> "STATUS/SUBSTATUS"
    std::map<int64_t, net::ApiError> unread;  // ids whose request failed
  };                                          // an order in neither: Market did not return it
  // Once a request is throttled or fails in passing, the later ones are not
  // sent and share its error, so a batch larger than the read budget moves
  // by the part it could read.
  OrderStatuses ReadStatuses(const std::vector<int64_t>& order_ids) const;
  net::HttpResponse Accepted() const;  // 200 {"version","name","time"}

  const YandexMarketConfig config_;
  Clock& clock_;
  YandexMarketClient client_;
  kit::SkuIndex catalog_;  // the offerIds the catalogue's passes read
  // Refusals whose status re-read failed in passing; internally locked, so
  // the const DeliverStatuses may keep them.
  mutable kit::RefusedWrites refused_writes_;
};

// The adapter type for daemon/adapter_registry.cc: type = "yandex-market".
AdapterType Type();

}  // namespace crmhub::adapters::yandex_market
