#pragma once
// YmSimulator: a local stand-in for the Yandex Market Partner API, for
// tests, the demo and benchmarks (`crmhub sim yandex-market`). Same paths,
// headers, field names and error shapes as the OpenAPI spec
// (contracts/marketplaces/yandex-market/openapi/):
//
//   GET  /v2/campaigns/{campaignId}/orders     getOrders: orders whose current
//        updatedAt is in [updatedAtFrom, updatedAtTo) (at most 30 days apart),
//        optional status filter, sorted by id, limit 1..50 (larger values are
//        truncated to 50, x-transform truncateLimit), pageToken / page_token
//        (opaque), answer {"pager":..., "orders":[OrderDTO], "paging":
//        {"nextPageToken"}}
//   PUT  /v2/campaigns/{campaignId}/offers/stocks   updateStocks: 1..2000
//        distinct skus, one item each, count 0..2000000000 -> {"status":"OK"}
//   POST /v2/businesses/{businessId}/offer-prices/updates: 1..500 distinct
//        offerIds, price {value > 0, currencyId} -> {"status":"OK"}
//   GET  /__sim/requests[?since=N]  request log (simkit::RequestLog JSON)
//   GET  /__sim/state               {"orders":[{id,status,substatus,updatedAt,
//        final_status,final_substatus}], "stocks":{sku:count}, "prices":{..}}
//
// Errors use ApiErrorResponse {"status":"ERROR","errors":[{"code","message"}]}:
// no or wrong Api-Key -> 401 UNAUTHORIZED; unknown campaign/business -> 403
// FORBIDDEN; bad request -> 400 BAD_REQUEST; limits (x-resource-limit-config:
// getOrders 10,000 requests/hour; updateStocks 100,000 skus/minute; prices
// 10,000 offers/minute) -> 420 LIMIT_EXCEEDED (the spec's 420 response
// carries ApiLimitErrorResponse; the code string is not listed in the spec)
// with X-RateLimit-Resource-Limit, -Remaining: 0 and -Until (RFC 822, when
// the limit frees up), as the partner API docs describe.
// Faults come from the shared --faults spec (simkit); "dup" repeats every
// order of a getOrders page, "429" answers 420 (Market's limit status) with
// X-RateLimit-Resource-Until one second ahead.
//
// Orders: order i is created at start + i * arrival_span / N and moves
// PROCESSING/STARTED -> PROCESSING/READY_TO_SHIP -> DELIVERY/
// DELIVERY_SERVICE_RECEIVED -> DELIVERED/DELIVERY_SERVICE_DELIVERED, a step
// every 1..step_delay (seeded per order); about 10% end CANCELLED/
// USER_CHANGED_MIND at a random step. updatedAt is the time of the current
// step. The state is a pure function of the clock.
//
// Thread-safety: all methods are thread-safe.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "adapters/simkit/fault_responder.h"
#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/request_log.h"
#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_server.h"
#include "adapters/yandex_market/client.h"
#include "base/clock.h"
#include "net/http_server.h"

namespace crmhub::adapters::yandex_market {

struct YmSimOptions {
  std::string api_key = "sim-api-key";
  int64_t campaign_id = 21000001;
  int64_t business_id = 31000001;
  int orders = 1000;
  uint64_t seed = 1;
  simkit::FaultSpec faults;
  std::chrono::milliseconds arrival_span{std::chrono::seconds(60)};
  std::chrono::milliseconds step_delay{std::chrono::seconds(10)};
  bool enforce_rate_limits = true;
  int64_t orders_per_hour = 10000;
  int64_t stock_skus_per_minute = 100000;
  int64_t price_offers_per_minute = 10000;
  int io_threads = 2;
};

struct SimOrder {
  int64_t id = 0;
  SystemTime created;
  // (time, status, substatus); the first is (created, PROCESSING, STARTED).
  struct Step {
    SystemTime at;
    std::string status;
    std::string substatus;
  };
  std::vector<Step> steps;
  int64_t offer_index = 0;
  int count = 1;
};

class YmSimulator {
 public:
  YmSimulator(YmSimOptions options, Clock& clock);
  ~YmSimulator();  // Stop()
  YmSimulator(const YmSimulator&) = delete;
  YmSimulator& operator=(const YmSimulator&) = delete;

  // Serves on "host:port" ("127.0.0.1:0": a free port) on its own threads.
  Status Start(const std::string& listen);
  void Stop();
  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  simkit::RequestLog& log() { return log_; }
  SystemTime AllFinalAt() const;
  // order id -> "STATUS/SUBSTATUS" after every step.
  std::map<int64_t, std::string> FinalStatuses() const;
  std::map<std::string, int64_t> Stocks() const;
  std::string StateJson() const;

  void Handle(net::HttpRequest request, net::Responder respond);

 private:
  net::HttpResponse Route(const net::HttpRequest& request, bool dup);
  net::HttpResponse GetOrders(const net::HttpRequest& request, bool dup);
  net::HttpResponse UpdateStocks(const nlohmann::json& body);
  net::HttpResponse UpdatePrices(const nlohmann::json& body);
  nlohmann::json OrderJson(const SimOrder& o, size_t step) const;
  size_t CurrentStep(const SimOrder& o, SystemTime now) const;

  const YmSimOptions options_;
  Clock& clock_;
  const std::chrono::steady_clock::time_point steady_start_;
  std::vector<SimOrder> orders_;  // immutable after construction, sorted by id
  simkit::SeededRng fault_rng_;
  simkit::RequestLog log_;
  ItemBudget orders_budget_;
  ItemBudget stocks_budget_;
  ItemBudget prices_budget_;

  mutable std::mutex mu_;
  std::map<std::string, int64_t> stocks_;      // GUARDED_BY(mu_)
  std::map<std::string, std::string> prices_;  // GUARDED_BY(mu_)

  simkit::SimServer server_;  // last: stopped first, while the rest is alive
};

}  // namespace crmhub::adapters::yandex_market
