#pragma once
// WildberriesSim: an in-process stand-in for the WB seller API, for tests and
// demos (`crmhub sim wildberries`). It serves the same paths, headers, field
// names and error shapes as the contract files (see client.h for the list):
//
//   * Authorization: one of `tokens`, else 401 in the documented shape
//     {title, detail, code, requestId, origin, status, statusText, timestamp}.
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
//   * Faults from a simkit::FaultSpec, drawn per API request after auth and
//     rate limiting: 429, 500, 503, timeout (processed, never answered),
//     slow, dup (orders pages overlap the previous page; statuses repeat),
//     malformed (200 with truncated JSON).
//   * DBS orders (dbs_orders): GET /api/v3/dbs/orders/new (supplierStatus
//     new), GET /api/v3/dbs/orders (the completed ones: final status, by
//     createdAt in dateFrom..dateTo, paged by next), POST
//     /api/v3/dbs/orders/status; their own limit group (200 ms / burst 20).
//   * Price uploads are tasks: in processing (buffer) for price_task_delay,
//     then in the history with status 3/5/6 and per-good errors
//     (price_item_errors).
//   * GET /__sim/requests[?since=SEQ]: the request log (simkit::RequestLog).
//     GET /__sim/state: every created order's current and final statuses,
//     stocks and prices, "all_final".
//
// Thread-safe: the server's I/O threads call the handler concurrently.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/simkit/fault_responder.h"
#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/rate_enforcer.h"
#include "adapters/simkit/request_log.h"
#include "adapters/simkit/rng.h"
#include "base/clock.h"
#include "net/http_server.h"

namespace crmhub::adapters::wildberries {

struct SimOptions {
  int orders = 1000;
  uint64_t seed = 1;
  simkit::FaultSpec faults;
  std::vector<std::string> tokens = {"sim-token"};
  std::chrono::milliseconds arrival{std::chrono::seconds(60)};
  std::chrono::milliseconds lifetime{std::chrono::seconds(60)};
  int products = 5000;
  std::vector<int64_t> warehouses = {507, 508};
  bool enforce_rate_limits = true;
  // Price upload tasks: how long (world time) a task stays in processing
  // (GET /api/v2/buffer/tasks) before it moves to the history, and the share
  // of goods the task rejects (GoodStatus 3 with a price-quarantine
  // errorText; their price is not applied). nmIDs that are not products
  // always fail in the task.
  std::chrono::milliseconds price_task_delay{std::chrono::seconds(2)};
  double price_item_errors = 0;
  // DBS orders (05-orders-dbs.yaml; ids 20'000'000 + i), created evenly over
  // `arrival` like the FBS ones, each walking new/waiting -> confirm ->
  // deliver -> receive/sold, or a cancel, decline or reject path.
  int dbs_orders = 0;
  // World start; default: the clock's Now() at construction.
  std::optional<SystemTime> start;
};

// "2" + 11-digit index + EAN-13 check digit.
std::string SimBarcode(int product);

class WildberriesSim {
 public:
  WildberriesSim(boost::asio::io_context& io, Clock& clock, SimOptions options);
  ~WildberriesSim();
  WildberriesSim(const WildberriesSim&) = delete;
  WildberriesSim& operator=(const WildberriesSim&) = delete;

  Status Listen(const std::string& address);
  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"
  // Stops accepting and answers held ("timeout"/"slow") requests with 503.
  void Stop();

  simkit::RequestLog& log() { return log_; }
  void SetFaults(simkit::FaultSpec faults);
  nlohmann::json StateJson() const;
  // Current amount, or -1 if never set.
  int64_t StockOf(int64_t warehouse, const std::string& barcode) const;
  // The end of the world's story: when every order has its final status.
  SystemTime EndTime() const;

  // The request handler (exposed so tests can call it without sockets).
  void Handle(net::HttpRequest request, net::Responder respond);

 private:
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
  struct Answer {
    net::HttpResponse response;
    bool charge_409 = false;
  };

  void BuildWorld();
  int64_t NowMs() const;  // since start
  const Step& StatusAt(const Order& o, int64_t t) const;
  nlohmann::json OrderJson(const Order& o) const;
  nlohmann::json DbsOrderJson(const Order& o) const;
  // REQUIRES: mu_ held. A list page: id > after, created in from_s..to_s
  // (Unix s) by now, at most `limit`; completed_only: at the final status.
  std::vector<const Order*> PageOf(const std::vector<Order>& list, int64_t after, int64_t from_s,
                                   int64_t to_s, int64_t limit, bool completed_only) const;
  // REQUIRES: mu_ held. The orders now new/waiting.
  std::vector<const Order*> NewOf(const std::vector<Order>& list) const;
  nlohmann::json OrdersStateJson(const std::vector<Order>& orders, int64_t now,
                                 bool& all_final) const;

  Answer Route(const net::HttpRequest& req, simkit::Fault fault, const std::string& group);
  Answer ListOrders(const net::HttpRequest& req, bool dup);
  Answer NewOrders();
  // FBS or DBS statuses (the same request and answer shapes).
  Answer Statuses(const net::HttpRequest& req, bool dup, bool dbs = false);
  Answer DbsNewOrders();
  Answer DbsCompletedOrders(const net::HttpRequest& req, bool dup);
  Answer PutStocks(int64_t warehouse, const net::HttpRequest& req, bool apply);
  Answer GetStocks(int64_t warehouse, const net::HttpRequest& req);
  Answer UploadPrices(const net::HttpRequest& req, bool apply);
  Answer ListCards(const net::HttpRequest& req);
  // GET /api/v2/{history,buffer}/tasks and .../goods/task.
  Answer PriceTask(const net::HttpRequest& req, bool history, bool goods);

  boost::asio::io_context& io_;
  Clock& clock_;
  SimOptions options_;
  SystemTime start_;
  simkit::SeededRng rng_;
  simkit::RateEnforcer rates_;
  simkit::RequestLog log_;
  simkit::HeldResponses held_;
  std::unique_ptr<net::HttpServer> server_;

  mutable std::mutex mu_;
  simkit::FaultSpec faults_;
  std::vector<Order> orders_;  // by id ascending
  std::vector<Order> dbs_orders_;  // by id ascending
  std::map<int64_t, std::map<int, int64_t>> stocks_;  // warehouse -> product -> amount
  std::map<int64_t, std::pair<int64_t, int64_t>> prices_;  // nmID -> (price, discount)
  struct PriceTaskGood {
    int64_t nm_id;
    std::optional<int64_t> price, discount;
    std::string error;  // empty: applied
  };
  struct PriceTaskRecord {
    int64_t uploaded_ms;  // since start
    std::vector<PriceTaskGood> goods;
  };
  std::map<int64_t, PriceTaskRecord> price_tasks_;  // uploadID ->
  std::string last_price_body_;
  int64_t last_price_task_ = 0;
  int64_t request_counter_ = 0;
};

}  // namespace crmhub::adapters::wildberries
