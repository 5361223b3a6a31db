#pragma once
// WildberriesSimulator: an in-process stand-in for the WB seller API, for
// tests and demos (`crmhub sim wildberries`). It serves the same paths,
// headers, field names and error shapes as the contract files, read from
// them and not from the adapter (it links simkit, never
// crmhub_adapter_wildberries):
//
//   * Authorization: one of the credentials (tokens; default "sim-token"),
//     else 401 in the documented shape {title, detail, code, requestId,
//     origin, status, statusText, timestamp}.
//   * A seeded world: `orders` FBS assembly tasks created evenly over
//     `arrival` from `start`, each walking through WB statuses (supplierStatus
//     new -> confirm -> complete; wbStatus waiting -> sorted ->
//     ready_for_pickup -> sold, or a cancel path) over up to `lifetime`.
//     World time is the injected Clock: a ManualClock in tests.
//   * Products 1..`products`: barcode = EAN-13 of "2" + 11-digit index
//     (product 1 = "2000000000015"), nmID = 100000000 + i,
//     chrtID = 300000000 + i, vendorCode "art-<i>". Stocks per warehouse in
//     `warehouses`.
//   * Documented limits enforced per token and API group (token buckets:
//     orders and stocks 200 ms / burst 20, prices 600 ms / 5, content 600 ms
//     / 5; a 409 bills 10): 429 with the documented body and X-Ratelimit-Retry,
//     X-Ratelimit-Limit, X-Ratelimit-Reset; successes carry
//     X-Ratelimit-Remaining. Batch maxima (1000 ids/stocks/goods, limit
//     1..1000, cards limit <= 100) answered with 400 in the endpoint's error
//     shape.
//   * Faults from a simkit::FaultSpec (simkit::SimPipeline): 429, 500, 503,
//     timeout (processed, never answered), slow, dup (orders pages overlap
//     the previous page; statuses repeat), malformed (200 with truncated
//     JSON).
//   * DBS orders (dbs_orders): GET /api/v3/dbs/orders/new (supplierStatus
//     new), GET /api/v3/dbs/orders (the completed ones: final status, by
//     createdAt in dateFrom..dateTo, paged by next), POST
//     /api/v3/dbs/orders/status; their own limit group (200 ms / burst 20).
//   * FBS supplies and the seller's cancel (wildberries_sim_supplies.cc):
//     POST /api/v3/supplies, PATCH /api/marketplace/v3/supplies/{id}/orders
//     (new|confirm -> confirm; one warehouse per supply), PATCH
//     /api/v3/supplies/{id}/deliver (its orders -> complete), PATCH
//     /api/v3/orders/{id}/cancel (new|confirm -> cancel/canceled; its own
//     limit, 600 ms / burst 20); a seller's write ends the order's walk.
//     With await_seller, FBS orders wait at new/waiting for the seller.
//   * DBS status writes (wildberries_sim_dbs.cc, DbsWriteRefusal): PATCH
//     /api/v3/dbs/orders/{id}/confirm (new -> confirm), /deliver (confirm ->
//     deliver), /receive and /reject (deliver -> receive/sold or
//     reject/canceled_by_client; body {"code"}: BuyerCode, else 409
//     InvalidWBCode), /cancel (new|confirm -> cancel/canceled); anything
//     else 409 StatusMismatch; each method its own limit (600 ms / burst
//     20; a 409 bills 10, 33 for receive and reject). With await_seller,
//     DBS orders wait at new/waiting too.
//   * Price uploads are tasks: in processing (buffer) for price_task_delay,
//     then in the history with status 3/5/6 and per-good errors
//     (price_item_errors).
//   * Returns (wildberries_sim_returns.cc): one sold FBS order in six is
//     returned after its sale, served by the returns report GET
//     /api/v1/analytics/goods-return (12-reports.yaml; seller-analytics-api
//     host, the same server here): dateFrom/dateTo checked as documented
//     (400 with the documented bodies), 1 request a minute, burst 10.
//   * Sales (wildberries_sim_reports.cc): the sales report GET
//     /api/v1/supplier/sales (12-reports.yaml; statistics-api host, the same
//     server here): an S row per sold FBS order, an R row per return, by
//     lastChangeDate >= dateFrom (flag=1: the day's sales); dateFrom
//     checked as documented (400 {"errors"}), 1 request a minute, burst 1.
//   * GET /__sim/requests[?since=SEQ]: the request log (simkit::RequestLog).
//     GET /__sim/state: every created order's current and final statuses,
//     stocks and prices, "all_final".
//
// Thread-safe: the server's I/O threads call the handler concurrently.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/json_text.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::wildberries {

// The common options (credentials: the accepted tokens), and WB's own.
struct WildberriesSimOptions : simkit::SimOptions {
  int products = 5000;
  std::vector<int64_t> warehouses = {507, 508};
  // Price upload tasks: how long (world time) a task stays in processing
  // (GET /api/v2/buffer/tasks) before it moves to the history, and the share
  // of goods the task rejects (GoodStatus 3 with a price-quarantine
  // errorText; their price is not applied). nmIDs that are not products
  // always fail in the task. SimOptions::extra "price-item-errors".
  std::chrono::milliseconds price_task_delay{std::chrono::seconds(2)};
  double price_item_errors = 0;
  // DBS orders (05-orders-dbs.yaml; ids 20'000'000 + i), created evenly over
  // `arrival` like the FBS ones, each walking new/waiting -> confirm ->
  // deliver -> receive/sold, or a cancel, decline or reject path.
  // SimOptions::extra "dbs-orders".
  int dbs_orders = 0;
  // Products of the cargo type "КГТ+", which none of `warehouses` takes: a
  // stock update of one is refused (409 CargoWarehouseRestrictionKGTPlus,
  // naming its barcode). Tests only.
  std::set<int> kgt_plus_products;
  // FBS and DBS orders stay new/waiting until the seller moves them (FBS:
  // a delivered supply or a cancel; DBS: the status writes).
  bool await_seller = false;
  // The sales report's limit: one request per this interval (burst 1), the
  // documented minute by default. The end-to-end tests shorten it, so that
  // a daemon's restart and `crmhub reconcile --source` fit in seconds.
  std::chrono::milliseconds sales_interval{std::chrono::seconds(60)};

  // For simkit::Create: reads the Wildberries options SimOptions::extra
  // names; InvalidArgument naming the flag for a bad value.
  Status Complete();
};

// The error bodies of the marketplace API (03-orders-fbs.yaml "Error":
// {code, message}), shared by the simulator's files.
namespace sim_wire {
net::HttpResponse WbError(int status, std::string_view code, std::string_view message);
net::HttpResponse IncorrectParameter();
net::HttpResponse IncorrectBody();
}  // namespace sim_wire

// WB's FBS status machine for the seller's writes, as 03-orders-fbs.yaml
// documents it: the 409 example code (FailedToAddSupplyOrder,
// StatusMismatch, StatusChangeNotAllowed) `write` ("add" to a supply,
// "cancel") answers for an order at supplierStatus/wbStatus, or "" when it
// is allowed.
std::string_view SellerWriteRefusal(std::string_view write, std::string_view supplier,
                                    std::string_view wb);

// WB's DBS status machine for the seller's writes (05-orders-dbs.yaml, in
// the order of /api/v3/dbs/orders/status's table): the 409 code `write`
// ("confirm", "deliver", "receive", "reject", "cancel") answers for an
// order at supplierStatus/wbStatus, or "" when it is allowed.
std::string_view DbsWriteRefusal(std::string_view write, std::string_view supplier,
                                 std::string_view wb);

// "2" + 11-digit index + EAN-13 check digit.
std::string SimBarcode(int product);

class WildberriesSimulator final : public simkit::PipelineSimulator {
 public:
  WildberriesSimulator(WildberriesSimOptions options, Clock& clock);

  std::string StateJson() const override;
  // The end of the world's story: when every order has its final status.
  SystemTime AllFinalAt() const override;
  // id -> "supplierStatus/wbStatus", FBS and DBS.
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int n, int64_t stock) const override;
  int64_t StockItemsAt(int n, int64_t stock) const override;
  simkit::AdapterWiring Wiring() const override;

  // The code a DBS order's buyer shows at delivery (the Code body of
  // receive and reject); also in /__sim/state's dbs_orders[].buyerCode.
  static std::string BuyerCode(int64_t order_id);

  // srid -> orderId of the returns created by now (the report's rows).
  std::map<std::string, int64_t> ReturnOrders() const;
  // saleID -> order id of the sales report's rows by now.
  std::map<std::string, int64_t> SaleRows() const;
  // The status text of a return whose walk is over.
  static constexpr const char* kFinalReturnStatus = "Выдан продавцу";

  // GET /__sim/state as JSON.
  nlohmann::json State() const;
  // Current amount, or -1 if never set.
  int64_t StockOf(int64_t warehouse, const std::string& barcode) const;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  struct Step {
    int64_t at_ms;  // since start
    const char* supplier;
    const char* wb;
  };
  struct Order {
    int64_t id;
    int product;
    int64_t warehouse;
    int64_t created_ms;  // since start
    std::vector<Step> steps;
    std::string rid;
  };

  // A return of a sold FBS order: its steps' times (ms since start).
  struct SimReturn {
    int64_t order_id = 0;
    int product = 0;
    std::string srid;  // the order's rid ("rid — это srid" in the reports)
    std::array<int64_t, 3> steps{};
  };

  // A row of the sales report: a sale (S) or a return (R) of an order.
  struct SaleRow {
    std::string sale_id;
    const Order* order = nullptr;
    int64_t at_ms = 0;    // lastChangeDate, since start
    int64_t sold_ms = 0;  // a return: its sale's time (0: at_ms)
  };
  // wildberries_sim_reports.cc: the rows by `now`, by lastChangeDate; and the
  // report. REQUIRES: mu_ held (SaleRowsLocked).
  std::vector<SaleRow> SaleRowsLocked(int64_t now) const;
  net::HttpResponse Sales(const net::HttpRequest& req);
  // wildberries_sim.cc: the world.
  void BuildWorld();
  // wildberries_sim_returns.cc: returns for some sold orders (at
  // construction), and the report.
  void CreateReturns();
  net::HttpResponse GoodsReturns(const net::HttpRequest& req);
  int64_t NowMs() const;  // since start
  const Step& StatusAt(const Order& o, int64_t t) const;
  // An FBS Order or DBS OrderDBS; `fresh`: as the new-orders methods
  // answer it (with its sale fields).
  void WriteOrder(simkit::JsonText& out, const Order& o, bool dbs, bool fresh) const;
  // REQUIRES: mu_ held. A list page: id > after, created in from_s..to_s
  // (Unix s) by now, at most `limit`; completed_only: at the final status.
  std::vector<const Order*> PageOf(const std::vector<Order>& list, int64_t after, int64_t from_s,
                                   int64_t to_s, int64_t limit, bool completed_only) const;
  // REQUIRES: mu_ held. The orders now new/waiting.
  std::vector<const Order*> NewOf(const std::vector<Order>& list) const;
  nlohmann::json OrdersStateJson(const std::vector<Order>& orders, int64_t now,
                                 bool& all_final) const;

  // wildberries_sim_endpoints.cc: the dialect, the routes and the API.
  simkit::SimPipeline::Options PipelineOptions();
  // GET /api/v3/orders (FBS) or /api/v3/dbs/orders (DBS: completed only).
  net::HttpResponse ListOrders(const net::HttpRequest& req, bool dup, bool dbs);
  net::HttpResponse NewOrders(bool dbs);
  // FBS or DBS statuses (the same request and answer shapes).
  net::HttpResponse Statuses(const nlohmann::json& body, bool dup, bool dbs);
  // PUT (set) or POST (read) /api/v3/stocks/{warehouseId}.
  net::HttpResponse Stocks(const simkit::SimRequest& r);
  net::HttpResponse PutStocks(int64_t warehouse, const nlohmann::json& body);
  net::HttpResponse GetStocks(int64_t warehouse, const nlohmann::json& body);
  net::HttpResponse UploadPrices(const net::HttpRequest& req, const nlohmann::json& body);
  net::HttpResponse ListCards(const nlohmann::json& body);
  // GET /api/v2/{history,buffer}/tasks and .../goods/task.
  net::HttpResponse PriceTask(const net::HttpRequest& req, bool history, bool goods);
  // wildberries_sim_supplies.cc
  net::HttpResponse CreateSupply(const nlohmann::json& body);
  net::HttpResponse AddSupplyOrders(const std::string& supply_id, const nlohmann::json& body);
  net::HttpResponse DeliverSupply(const std::string& supply_id);
  net::HttpResponse CancelOrder(const std::string& order_id);
  // The created FBS order `id`, or null. REQUIRES: mu_ held.
  Order* FbsOrderLocked(int64_t id);
  // wildberries_sim_dbs.cc: a DBS status write; the created DBS order, or
  // null (REQUIRES: mu_ held).
  net::HttpResponse DbsWrite(const std::string& order_id, std::string_view write,
                             const nlohmann::json& body);
  Order* DbsOrderLocked(int64_t id);
  // Ends `o`'s walk now at supplier/wb. REQUIRES: mu_ held.
  void MoveLocked(Order& o, const char* supplier, const char* wb);

  Clock& clock_;
  const WildberriesSimOptions options_;
  const SystemTime start_;

  mutable std::mutex mu_;
  simkit::SeededRng rng_ GUARDED_BY(mu_);  // (draws)
  std::vector<Order> orders_;       // by id ascending; steps change under mu_ (seller's writes)
  std::vector<Order> dbs_orders_;   // by id ascending
  std::vector<SimReturn> returns_;  // fixed at construction
  std::map<int64_t, std::map<int, int64_t>> stocks_
      GUARDED_BY(mu_);  // warehouse -> product -> amount
  std::map<int64_t, std::pair<int64_t, int64_t>> prices_
      GUARDED_BY(mu_);  // nmID -> (price, discount)
  struct PriceTaskGood {
    int64_t nm_id;
    std::optional<int64_t> price, discount;
    std::string error;  // empty: applied
  };
  struct PriceTaskRecord {
    int64_t uploaded_ms;  // since start
    std::vector<PriceTaskGood> goods;
  };
  std::map<int64_t, PriceTaskRecord> price_tasks_ GUARDED_BY(mu_);  // uploadID ->
  std::string last_price_body_ GUARDED_BY(mu_);
  int64_t last_price_task_ GUARDED_BY(mu_) = 0;
  int64_t request_counter_ GUARDED_BY(mu_) = 0;
  struct Supply {
    int64_t warehouse = 0;  // of its first order; 0: empty so far
    bool closed = false;
    std::vector<int64_t> orders;
  };
  std::map<std::string, Supply> supplies_ GUARDED_BY(mu_);    // by id "WB-GI-<n>"
  std::map<int64_t, std::string> supply_of_ GUARDED_BY(mu_);  // order id -> its supply
  int64_t next_supply_ GUARDED_BY(mu_) = 1000001;

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim wildberries` and the registry's entry.
simkit::SimulatorType WildberriesSimulatorType();

}  // namespace crmhub::adapters::wildberries
