#pragma once
// The Wildberries adapter: FBS and DBS orders in (Source; DBS in
// dbs_pull.cc, under the cursor's "dbs" key), stock and prices out (Target),
// one instance per seller account:
//
//   [adapters.wb-main]
//   type = "wildberries"
//   token_file = "secrets/wb-main-token"   # the API token, sent as Authorization: <token>
//   mapping = "mappings/wildberries-orders.toml"
//   warehouses = ["507"]                   # seller warehouses stock may be set for ([] = any)
//   poll_interval = "30s"
//
// Orders in. One Pull is one page of GET /api/v3/orders (limit
// orders_page_size, next, dateFrom) plus one POST /api/v3/orders/status for
// the page's orders that need a status (<= 1000 ids, the spec's maxItems).
// WB lists orders without their status, so an order is "open" until its
// wbStatus is final (sold, canceled, canceled_by_client, declined_by_client,
// defect); the cursor keeps the open orders (id -> statuses, createdAt;
// bounded by max_open_orders, oldest dropped first) and a scan re-reads the
// window from the oldest open order's createdAt (or the last scan's newest
// createdAt minus late_margin when none is open) to now, so a status change
// comes with the full order record. A scan ends on a short page; the next
// starts after poll_interval. dateFrom is never older than 30 days (the API's
// maximum period); open orders older than that are dropped with a warning.
//
// One event per (order, status) seen: idempotency key
// "<id>:<supplierStatus>:<wbStatus>", ordering key "<id>", header kind=order,
// payload = the Order object exactly as WB sent it plus three keys:
//   "supplierStatus", "wbStatus"  from POST /api/v3/orders/status
//   "statusObservedMs"            when crmhub saw this status (Unix ms); the
//                                 rules use it as the entity version, so a
//                                 later status always wins in the CRM
// (config/mappings/wildberries-orders.toml is written against this shape).
// `id` is the assembly task id (what statuses are keyed by); `rid` is WB's
// order id shared with the reports (srid) and is kept in the payload.
// Re-emitting an already seen (order, status) is harmless: the queue drops
// the repeated key.
//
// Commands out (Deliver, batches of up to 1000 = the stocks and prices
// maxItems), payload = one command item:
//   set_stock  {"sku":"<barcode>" | "chrt_id":123, "warehouse_id":"507", "amount":5}
//              -> PUT /api/v3/stocks/{warehouseId}, grouped by warehouse.
//              204: all ok. 409 (StocksWarehouseError): items named in an
//              error's data[].sku fail with that code (permanent:
//              NotFound, UploadDataLimit, Subject/Cargo restrictions); an
//              error without items (StoreIsProcessing) retries all; items not
//              named are retried (the spec does not say whether the rest was
//              applied; a stock value is absolute, so sending it again is safe).
//   set_price  {"nm_id":123, "price":999, "discount":30}
//              -> POST /api/v2/upload/task. WB processes the upload as a task
//              later; the message is settled only when the task's outcome is
//              known: the upload answers Retry (not_before = first check) and
//              the adapter remembers message id -> task id. When the queue
//              hands the message back, the task is read instead of uploaded
//              again: GET /api/v2/history/tasks (3 ok, 4 canceled -> upload
//              again, 5/6 -> /api/v2/history/goods/task: a good with status 3
//              fails with WB's errorText, status 2 is ok); not processed yet
//              -> GET /api/v2/buffer/tasks, and Retry later (checks spaced
//              price_check_first .. price_check_max by the task's age). After
//              price_task_wait a task still in the buffer is settled from
//              /api/v2/buffer/goods/task (errorText -> fail, else ok: WB holds
//              it), and a task WB does not know is uploaded again. The map is
//              in memory: after a restart the price is simply uploaded again
//              (prices are absolute values). 400 "already set" is success;
//              other 400s fail the batch.
// 429 / client-side pacing -> retry at X-Ratelimit-Retry; 5xx, timeouts,
// malformed answers -> retry with the queue's backoff; other 4xx -> fail.
//
// Thread-safety: Pull and Deliver may run concurrently on different threads
// (the client's buckets are locked); Pull is never called concurrently with
// itself.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/wildberries/client.h"

namespace crmhub::adapters::wildberries {

// The [adapters.<id>] type = "wildberries" schema and factory.
AdapterType Type();

struct AdapterOptions {
  std::string id;
  ClientOptions client;
  std::set<int64_t> warehouses;  // empty: any
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  int orders_page_size = 1000;
  std::chrono::milliseconds lookback{std::chrono::hours(72)};
  std::chrono::milliseconds late_margin{std::chrono::minutes(10)};
  size_t max_open_orders = 50'000;
  // Price upload tasks (see set_price above): first check after
  // price_check_first, later ones half the task's age apart, at most
  // price_check_max; after price_task_wait the task is settled or redone.
  std::chrono::milliseconds price_check_first{std::chrono::seconds(2)};
  std::chrono::milliseconds price_check_max{std::chrono::seconds(60)};
  std::chrono::milliseconds price_task_wait{std::chrono::minutes(10)};
};

// wbStatus values after which an order does not change any more.
bool IsFinalWbStatus(std::string_view wb_status);

class WildberriesAdapter final : public Adapter,
                                 public SourceCapability,
                                 public TargetCapability {
 public:
  // The client's upstreams are named "wildberries:<id>:<group>"; `metrics`
  // may be null.
  WildberriesAdapter(AdapterOptions options, net::HttpClient* http, Clock& clock,
                     MetricsRegistry* metrics = nullptr);

  const std::string& id() const override { return options_.id; }
  std::string_view type() const override { return "wildberries"; }
  SourceCapability* source() override { return this; }
  TargetCapability* target() override { return this; }
  std::string DescribeJson() const override;

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return options_.poll_interval; }

  std::vector<DeliveryOutcome> Deliver(std::span<const queue::Message> batch) override;
  int max_batch() const override { return 1000; }
  std::vector<std::string> commands() const override { return {"set_stock", "set_price"}; }

  Client& client() { return client_; }

 private:
  // FBS (orders_pull.cc) and DBS (dbs_pull.cc) steps of Pull; the FBS one
  // sees the cursor without its "dbs" key.
  Result<PullResult> PullFbs(const std::optional<std::string>& cursor);
  struct DbsCursor;
  // One DBS step: updates `d`; events, and not_before when throttled; an
  // error only for 401/403.
  Result<PullResult> PullDbs(DbsCursor& d);

  void DeliverStocks(std::span<const queue::Message> batch, const std::vector<size_t>& indexes,
                     std::vector<DeliveryOutcome>& out);
  void DeliverPrices(std::span<const queue::Message> batch, const std::vector<size_t>& indexes,
                     std::vector<DeliveryOutcome>& out);

  // A set_price message whose upload task WB has accepted, by message id.
  struct PendingPrice {
    int64_t task = 0;
    std::string payload;  // the message's payload: a changed message is a new upload
    SystemTime uploaded;
  };
  // Reads the task's outcome and settles `items` (message indexes into
  // batch) in `out`; keeps them pending while WB is still processing.
  void CheckPriceTask(int64_t task, SystemTime uploaded, std::span<const queue::Message> batch,
                      const std::vector<size_t>& items, std::vector<DeliveryOutcome>& out);
  // When to look at a task again.
  SystemTime NextPriceCheck(SystemTime uploaded) const;

  AdapterOptions options_;
  Clock& clock_;
  Client client_;
  std::mutex prices_mu_;
  std::map<int64_t, PendingPrice> pending_prices_;  // GUARDED_BY(prices_mu_)
  mutable std::mutex describe_mu_;
  std::string last_describe_ = "{}";       // FBS
  nlohmann::json dbs_describe_ = nullptr;  // DBS
};

}  // namespace crmhub::adapters::wildberries
