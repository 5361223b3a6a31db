#pragma once
// The Wildberries adapter: FBS and DBS orders in (Source), stock and prices
// out (Target), one instance per seller account:
//
//   [adapters.wb-main]
//   type = "wildberries"
//   token_file = "secrets/wb-main-token"   # sent as Authorization: <token>
//   mapping = "mappings/wildberries-orders.toml"
//   warehouses = [507]                     # where set_stock may write ([] = any)
//   dbs = true                             # false: a seller without DBS
//
// Orders in (wildberries_adapter.cc; the design and its limits are in
// docs/adapters/wildberries.md). One Pull is one page of GET /api/v3/orders
// plus one POST /api/v3/orders/status for the page's orders that need a
// status, or, between two FBS scans and at most once per poll_interval, up
// to four requests of a DBS cycle. WB lists orders without their status, so
// the cursor follows the orders whose wbStatus is not final (IsFinalWbStatus)
// and a scan re-reads the window from the oldest of them.
// One event per (order, status) seen: idempotency key
// "[dbs-]<id>:<supplierStatus>:<wbStatus>", ordering key "[dbs-]<id>",
// header kind=order, payload = the Order object as WB sent it plus
// "supplierStatus", "wbStatus" and "statusObservedMs" (when crmhub saw the
// status, Unix ms: the rules' entity version, so a later status wins; see
// config/mappings/wildberries-orders.toml). A DBS failure, a 401/403
// included, never fails the Pull: FBS goes on, DBS backs off and
// DescribeJson shows dbs.last_error.
//
// Product cards: between two FBS scans, when a
// pass is due (products_interval after the last), one page of
// /content/v2/get/cards/list a Pull, by its cursor (updatedAt, nmID), until
// a page holds fewer than the limit; kind=product events in the kit's shape
// (kit::ProductEvent: sku the vendorCode, marketplace_id the nmID).
//
// Returns: between two FBS scans, when a pass is due (returns_interval after
// the last one started) and the analytics group's limiter has a token, one
// GET /api/v1/analytics/goods-return a Pull over [the last pass's start -
// returns_window, now] in Moscow days, 31 days a request (kit::ReturnsPass;
// the cursor moves only with the page's events). kind=return events,
// payload the report row as sent plus "statusObservedMs" and "items" (its
// one item as an array, for the rules), idempotency key
// "return:<srid>:<status>:<isStatusActive>", ordering key the orderId (the
// assembly task's id: after its order's events).
//
// Sales report (wildberries_reports.cc): between two FBS scans, when a pass
// is due (reports_interval after the last one ended) and the report's own
// limit (1 a minute) has a token, one GET /api/v1/supplier/sales a Pull from
// the cursor's position, the last row's lastChangeDate (kit::ReportPass).
// kind=report events (kit::QueueReportRows: report "wb.sales", row id the
// saleID, version its lastChangeDate, period the sale's Moscow day),
// ordering key the srid.
//
// Commands out (Deliver, batches of up to 1000), payload = one item:
//   set_stock  {"chrt_id":123 | "sku":"<barcode or vendorCode>", "warehouse_id":507,
//              "amount":5}
//              -> PUT /api/v3/stocks/{warehouseId} by chrtId only
//              (wildberries_stocks.cc). A barcode alone is resolved to its
//              chrtID through the content cards (SizeTable); a sku that is no
//              barcode is read as the CRM's SKU, the card's vendorCode, and
//              sent as its only size's chrtID (several sizes: the item
//              fails, asking for a barcode); on no card: the item fails. 409: WB names failed items
//              by barcode; they are matched back through the command's own sku or the cards;
//              permanent codes fail those items, StoreIsProcessing retries, the items a 409 does
//              not name are retried.
//   set_price  {"nm_id":123 | "sku":"<vendorCode>", "price":999, "discount":30}
//              -> POST /api/v2/upload/task (wildberries_prices.cc); settled
//              when WB has processed the task (history/buffer checks), until
//              then Retry at the next check.
//   ship       {"order_id":123, "warehouse_id":507}
//              -> one FBS supply per warehouse and Deliver call: POST
//              /api/v3/supplies, PATCH /api/marketplace/v3/supplies/{id}/orders
//              (100 a request; refused as a whole: each alone), PATCH
//              /api/v3/supplies/{id}/deliver: supplierStatus complete
//              (wildberries_orders_out.cc).
//   cancel     {"order_id":123} -> PATCH /api/v3/orders/{orderId}/cancel
//              (kit::DeliverOrderWrites).
//   Both: a redelivery reads the status first (POST /api/v3/orders/status)
//   and sends nothing for an order already there; a refusal (4xx) is read
//   again and dead-lettered with WB's error and the status, never retried.
//   DBS (05-orders-dbs.yaml; wildberries_dbs_out.cc):
//   set_status {"order_id":123, "status":"confirm"|"deliver"|"receive"|
//              "reject"|"cancel", "code":"<buyer's code>" (receive, reject)}
//              -> PATCH /api/v3/dbs/orders/{orderId}/<status>: the
//              supplierStatus of that name.
//   ship       {"order_id":123, "delivery_type":"dbs"} -> in delivery
//              (supplierStatus deliver): confirm first when it is new,
//              then deliver.
//   cancel     {"order_id":123, "delivery_type":"dbs"}
//              -> PATCH /api/v3/dbs/orders/{orderId}/cancel.
//   delivery_type is the order's deliveryType ("fbs" when absent; "edbs"
//   is DBS too). The same read-first and refusal rules
//   (kit::DeliverOrderWrites, reads by POST /api/v3/dbs/orders/status).
// Errors follow net::ApiError: throttled, transient and auth retry (at
// not_before), not found and rejected fail.
//
// Thread-safety: Pull and Deliver may run concurrently on different threads;
// Pull is never called concurrently with itself. Shared state is locked.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/order_writes.h"
#include "adapters/kit/product_cards.h"
#include "adapters/kit/refused_writes.h"
#include "adapters/kit/report_pass.h"
#include "adapters/kit/target.h"
#include "adapters/wildberries/wildberries_client.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::wildberries {

// The [adapters.<id>] type = "wildberries" schema and factory.
AdapterType Type();

// The adapter's settings (config keys in wildberries_type.cc).
struct WildberriesConfig {
  std::string id;
  WildberriesClientOptions client;
  std::set<int64_t> warehouses;  // empty: any
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  int orders_page_size = kMaxOrdersPerRequest;
  std::chrono::milliseconds lookback{std::chrono::hours(72)};
  std::chrono::milliseconds late_margin{std::chrono::minutes(10)};
  size_t max_open_orders = 50'000;
  bool dbs = true;  // poll DBS orders
  // A barcode on no card triggers a new read of the cards at most this often.
  std::chrono::milliseconds cards_refresh{std::chrono::minutes(15)};
  // Product cards (/content/v2/get/cards/list) between two FBS scans, a
  // whole pass at most once per products_interval.
  bool products = true;
  std::chrono::milliseconds products_interval{std::chrono::hours(1)};
  // Returns (/api/v1/analytics/goods-return) between two FBS scans: a pass
  // at most once per returns_interval, each reading returns_window back.
  bool returns = true;
  std::chrono::milliseconds returns_interval{std::chrono::minutes(10)};
  std::chrono::milliseconds returns_window{std::chrono::hours(24 * 30)};
  // The sales report (/api/v1/supplier/sales) between two FBS scans: a
  // pass at most once per reports_interval (wildberries_reports.cc).
  bool reports = true;
  std::chrono::milliseconds reports_interval{std::chrono::hours(24)};
  // Price upload tasks: first check after price_check_first, later ones
  // half the task's age apart, at most price_check_max; after
  // price_task_wait the task is settled from the buffer or uploaded again.
  std::chrono::milliseconds price_check_first{std::chrono::seconds(2)};
  std::chrono::milliseconds price_check_max{std::chrono::seconds(60)};
  std::chrono::milliseconds price_task_wait{std::chrono::minutes(10)};
};

// After a 401/403 from the DBS methods (a token without the DBS scope, a
// seller without DBS) the next DBS cycle waits this long; FBS goes on.
inline constexpr std::chrono::minutes kDbsAuthPause{15};

// wbStatus values after which an order does not change any more.
bool IsFinalWbStatus(std::string_view wb_status);

// The assembly task's id an order command's item names (kit::OrderKey,
// then an integer): InvalidArgument quoting it otherwise.
Result<int64_t> AssemblyTaskId(const nlohmann::json& item);

// The scheme of an order command's item by its "delivery_type" (absent:
// FBS; "dbs", "edbs": DBS); nullopt for any other value.
std::optional<Scheme> CommandScheme(const nlohmann::json& item);
// Whether a DBS order at `status` ("supplierStatus/wbStatus") is where a
// command wants it: `target` "ship" or "deliver": deliver, receive or
// reject (delivered, or further); "confirm": confirm or any of those;
// "receive", "reject", "cancel": that supplierStatus.
bool DbsReached(std::string_view target, std::string_view status);

// An integer of a command item under the first of `names` present, as a
// JSON number or a decimal string ("507").
std::optional<int64_t> CommandInt(const nlohmann::json& item,
                                  std::initializer_list<std::string_view> names);

// The seller's sizes from the content cards (wildberries_stocks.cc), for
// set_stock commands that name a barcode and 409s that name items by
// barcode: read in full, pages of kMaxCardsPage as the content limit lets
// them through (a read spans Deliver calls), again at most every
// cards_refresh.
struct SizeTable {
  std::unordered_map<std::string, int64_t> chrt_of;                // barcode -> chrtID
  std::unordered_map<int64_t, std::vector<std::string>> barcodes;  // chrtID -> barcodes
  std::optional<SystemTime> read_at;  // when the last complete read started
  // The read in progress.
  bool reading = false;
  SystemTime started;
  CardsCursor cursor;
  std::unordered_map<std::string, int64_t> next;
};

class WildberriesAdapter final : public Adapter, public SourceCapability, public TargetCapability {
 public:
  // Sends through `transport` (tests); `metrics` may be null.
  WildberriesAdapter(WildberriesConfig config, net::Transport transport, Clock& clock,
                     MetricsRegistry* metrics = nullptr);
  // Sends through the upstreams "wildberries:<id>:<group>"; `http` null
  // (check-config): nothing is sent.
  WildberriesAdapter(WildberriesConfig config, net::HttpClient* http, Clock& clock,
                     MetricsRegistry* metrics = nullptr);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "wildberries"; }
  SourceCapability* source() override { return this; }
  TargetCapability* target() override { return this; }
  std::string DescribeJson() const override;

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return static_cast<int>(kMaxStocksPerRequest); }
  std::vector<std::string> commands() const override {
    return {"set_stock", "set_price", "ship", "cancel", "set_status"};
  }

  WildberriesClient& client() { return client_; }

 private:
  struct Cursor;  // the persisted cursor, FBS and DBS
  // One FBS page.
  Result<PullResult> PullFbs(Cursor& cursor);
  // One page of the product cards' pass.
  Result<PullResult> PullProducts(Cursor& cursor);
  // One request of the returns' pass; whether one is due and may go now.
  Result<PullResult> PullReturns(Cursor& cursor);
  bool ReturnsDue(const Cursor& cursor) const;
  // One request of the sales report's pass (wildberries_reports.cc): the
  // result without its cursor (the caller dumps it); whether one may go now.
  Result<PullResult> PullReports(kit::ReportPass& pass);
  bool ReportsDue(kit::ReportPass& pass) const;
  // After a failed request of the returns or the sales report (`what`:
  // "returns", "reports"; the key that turns it off): unless throttled,
  // the pass waits until `paused_until` (poll_interval; kDbsAuthPause after
  // a 401/403, logged with the token `category` it needs); DescribeJson
  // shows <what>.last_error.
  void PauseReport(const ApiError& e, SystemTime& paused_until, std::string_view what,
                   std::string_view category);
  // The nmID (set_price) or the chrtID of the only size (set_stock) of the
  // card whose vendorCode is `sku`, from the cards read; nullopt: no card
  // has it. chrtID 0: the card has several sizes (a barcode must say which).
  std::optional<int64_t> NmOfSku(const std::string& sku) const { return IdOf(nm_of_sku_, sku); }
  std::optional<int64_t> ChrtOfSku(const std::string& sku) const { return IdOf(chrt_of_sku_, sku); }
  static std::optional<int64_t> IdOf(const kit::SkuIndex& index, const std::string& sku);
  // Puts the cards' vendorCodes in nm_of_sku_ and chrt_of_sku_.
  void IndexCards(const std::vector<kit::PulledCard>& cards);
  // Up to four DBS requests; errors are kept in the
  // cursor and DescribeJson, never returned.
  PullResult PullDbs(Cursor& cursor);

  void DeliverStocks(std::span<const kit::TargetCommand> commands,
                     std::vector<DeliveryOutcome>& out);
  // wildberries_orders_out.cc: ship and cancel of FBS assembly tasks.
  struct OrderCommand {
    kit::OrderWrite write;
    int64_t id = 0;         // the assembly task's id
    int64_t warehouse = 0;  // ship: its warehouseId
  };
  struct StatusRead {
    std::map<int64_t, std::string> status;  // id -> "supplierStatus/wbStatus"
    std::map<int64_t, ApiError> unread;     // id -> why not
  };
  static Result<OrderCommand> ReadOrderCommand(const kit::TargetCommand& c);
  StatusRead ReadOrderStatuses(std::vector<int64_t> ids, Scheme scheme = Scheme::kFbs);
  // `id`'s status from `before` (taken out: a later read asks WB again),
  // or read now.
  ApiResult<std::string> ReadOnce(StatusRead& before, int64_t id, Scheme scheme);
  // wildberries_dbs_out.cc: the DBS commands, one order a request.
  struct DbsCommand {
    kit::OrderWrite write;
    int64_t id = 0;      // the assembly task's id
    std::string target;  // "ship", or the supplierStatus wanted
    std::string code;    // receive, reject: the buyer's code
  };
  static Result<DbsCommand> ReadDbsCommand(const kit::TargetCommand& c);
  void DeliverDbsOrders(std::vector<DbsCommand> commands, std::vector<DeliveryOutcome>& out);
  void DeliverOrders(std::vector<OrderCommand> commands, std::vector<DeliveryOutcome>& out);
  // Ships `ships` (one warehouse) in a new supply: settles their outcomes,
  // or names them in `refused` with WB's words. A throttled failure is
  // returned (the rest share it); a transient one retries its own chunk.
  std::optional<ApiError> ShipInSupply(int64_t warehouse,
                                       const std::vector<const OrderCommand*>& ships,
                                       std::map<const OrderCommand*, std::string>& refused,
                                       std::vector<DeliveryOutcome>& out);
  void DeliverPrices(std::span<const Command> batch, std::span<const kit::TargetCommand> commands,
                     std::vector<DeliveryOutcome>& out);

  // Goes on with a read of the cards, or starts one when the table was
  // never read or is older than cards_refresh; nullopt when the table is
  // complete, else why not (throttled: the content limit's time).
  // REQUIRES: sizes_mu_ held.
  std::optional<ApiError> ReadSizes();

  // A set_price message whose upload task WB has accepted, by message id.
  struct PendingPrice {
    int64_t task = 0;
    std::string payload;  // a changed message is a new upload
    SystemTime uploaded;
  };
  // Reads the task's outcome and settles `items` (indexes into batch), or
  // keeps them pending while WB is still processing.
  void CheckPriceTask(int64_t task, SystemTime uploaded, std::span<const Command> batch,
                      const std::vector<std::pair<size_t, int64_t>>& items,
                      std::vector<DeliveryOutcome>& out);
  SystemTime NextPriceCheck(SystemTime uploaded) const;

  WildberriesConfig config_;
  Clock& clock_;
  // After a failed returns request (not a throttle), the pass waits until
  // then (poll_interval; kDbsAuthPause after a 401/403); FBS goes on. Pull
  // is never concurrent with itself: no lock.
  SystemTime returns_paused_until_{};
  SystemTime reports_paused_until_{};  // the same for the sales report
  WildberriesClient client_;
  kit::SkuIndex nm_of_sku_;            // vendorCode -> nmID
  kit::SkuIndex chrt_of_sku_;          // vendorCode -> its only size's chrtID ("0": several)
  kit::RefusedWrites refused_writes_;  // refusals whose status re-read failed in passing
  std::mutex sizes_mu_;  // held while the table is read or matched (a read sends requests)
  SizeTable sizes_ GUARDED_BY(sizes_mu_);
  std::mutex prices_mu_;
  std::map<std::string, PendingPrice> pending_prices_ GUARDED_BY(prices_mu_);  // by Command::key
  mutable std::mutex describe_mu_;
  nlohmann::json describe_ GUARDED_BY(describe_mu_) = nlohmann::json::object();
};

}  // namespace crmhub::adapters::wildberries
