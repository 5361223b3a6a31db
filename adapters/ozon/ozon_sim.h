#pragma once
// OzonSimulator: a local stand-in for the Ozon Seller API, for tests, the
// demo and benchmarks (`crmhub sim ozon`). Same paths, headers, field names
// and error shapes as ozon-seller-api.swagger.json:
//
//   POST /v3/posting/fbs/list       postings of a seeded generator, filtered by
//                                   filter.since/to (creation) and
//                                   filter.last_changed_status_date, sorted by
//                                   last change (the spec does not say what
//                                   "dir" sorts by), limit 1..1000, offset <=
//                                   20000 (MAX_OFFSET_EXCEEDED), has_next;
//                                   FBS postings only
//   POST /v2/posting/fbo/list       the FBO postings (a share `fbo_share` of
//                                   the generated ones): filter.since/to
//                                   (creation; the spec says only "period"),
//                                   period <= 1 year (PERIOD_IS_TOO_LONG),
//                                   filter.status, sorted by creation ("dir"
//                                   asc/desc), limit 1..1000, offset <= 20000,
//                                   answer {"result": [...]} without has_next
//                                   (as the spec); analytics_data /
//                                   financial_data / legal_info only when
//                                   asked for in "with"
//   POST /v2/products/stocks        <= 100 items, per-item updated/errors
//                                   (NOT_FOUND_ERROR, STOCK_TOO_BIG,
//                                   TOO_MANY_REQUESTS when a product x warehouse
//                                   pair is updated twice within 30 s)
//   POST /v1/product/import/prices  <= 1000 items, per-item results
//   POST /v3/product/list           catalogue, cursor last_id, limit <= 1000
//   GET  /__sim/requests[?since=N]  request log (simkit::RequestLog JSON)
//   GET  /__sim/state               {"postings":[{posting_number, status,
//                                   final_status, scheme}], "stocks":{...},
//                                   "prices":{...}}
//
// Errors use rpcStatus {"code", "message", "details": []} (the numeric codes
// are gRPC's, as Ozon's gateway uses; the spec does not list them): missing
// Client-Id/Api-Key -> 401, wrong ones -> 403 "Invalid Api-Key, please check
// the key and try again", bad request -> 400, rate limits (50 requests/s per
// Client-Id; 80/min for stocks) -> 429 "You have reached request rate limit
// per second". Faults come from the shared --faults spec (simkit).
//
// Postings: posting i (0-based) is created at start + i * arrival_span / N,
// then moves awaiting_packaging -> awaiting_deliver -> delivering ->
// delivered, a step every 1..step_delay (seeded per posting); about 10% are
// cancelled instead at a random step. A posting's status is a pure function
// of the clock, so the simulator answers consistently under any load.
//
// Thread-safety: all methods are thread-safe. Time only through the Clock
// (except the held "timeout"/"slow" answers, see simkit::HeldResponses).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/ozon/rate_limiter.h"
#include "adapters/simkit/fault_responder.h"
#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/json_text.h"
#include "adapters/simkit/request_log.h"
#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_server.h"
#include "base/clock.h"
#include "net/http_server.h"

namespace crmhub::adapters::ozon {

struct OzonSimOptions {
  std::string client_id = "123456";
  std::string api_key = "sim-api-key";
  int orders = 1000;
  int products = 5000;        // catalogue: offer_id "SKU-000001".., product_id 100001..
  int64_t warehouse_id = 22;  // the FBS warehouse postings ship from
  double fbo_share = 0.25;    // of the postings, shipped from Ozon's warehouse (FBO)
  int64_t fbo_warehouse_id = 17717042026000;  // the spec's example
  uint64_t seed = 1;
  simkit::FaultSpec faults;
  std::chrono::milliseconds arrival_span{std::chrono::seconds(60)};
  std::chrono::milliseconds step_delay{std::chrono::seconds(10)};
  bool enforce_rate_limits = true;
  int64_t requests_per_second = 50;
  int64_t stocks_per_minute = 80;
  int io_threads = 2;
};

struct SimPosting {
  std::string posting_number;
  int64_t order_id = 0;
  SystemTime created;
  // Status steps: (time, status); the first is (created, awaiting_packaging).
  std::vector<std::pair<SystemTime, std::string>> steps;
  int64_t offer_index = 0;  // product in the posting
  int quantity = 1;
  bool fbo = false;  // served by /v2/posting/fbo/list, not /v3/posting/fbs/list
};

class OzonSimulator {
 public:
  OzonSimulator(OzonSimOptions options, Clock& clock);
  ~OzonSimulator();  // Stop()
  OzonSimulator(const OzonSimulator&) = delete;
  OzonSimulator& operator=(const OzonSimulator&) = delete;

  // Starts serving on "host:port" ("127.0.0.1:0": a free port) on its own
  // I/O threads.
  Status Start(const std::string& listen);
  void Stop();
  uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  simkit::RequestLog& log() { return log_; }
  // When every posting has reached its final status.
  SystemTime AllFinalAt() const;
  // posting_number -> final status (after every step).
  std::map<std::string, std::string> FinalStatuses() const;
  // posting_numbers of the FBO postings (the rest are FBS).
  std::set<std::string> FboPostings() const;
  // "<product_id>:<warehouse_id>" -> stock last accepted.
  std::map<std::string, int64_t> Stocks() const;
  std::string StateJson() const;

  // The request handler (also usable without a socket, e.g. from a test).
  void Handle(net::HttpRequest request, net::Responder respond);

 private:
  net::HttpResponse Route(const net::HttpRequest& request, const nlohmann::json& body, bool dup);
  // The checks both list methods share; fills `query` or returns the error.
  struct ListQuery;
  std::optional<net::HttpResponse> ParseListQuery(const nlohmann::json& body,
                                                  const char* period_error, ListQuery& query) const;
  net::HttpResponse FbsList(const nlohmann::json& body, bool dup);
  net::HttpResponse FboList(const nlohmann::json& body, bool dup);
  net::HttpResponse Stocks(const nlohmann::json& body);
  net::HttpResponse Prices(const nlohmann::json& body);
  net::HttpResponse ProductList(const nlohmann::json& body);
  void AppendPosting(simkit::JsonText& out, const SimPosting& p, size_t step) const;
  void AppendFboPosting(simkit::JsonText& out, const SimPosting& p, size_t step,
                        const nlohmann::json& with) const;

  const OzonSimOptions options_;
  Clock& clock_;
  const std::chrono::steady_clock::time_point steady_start_;
  std::vector<SimPosting> postings_;  // immutable after construction
  simkit::SeededRng fault_rng_;
  simkit::RequestLog log_;
  WindowLimiter all_limiter_;
  WindowLimiter stocks_limiter_;

  mutable std::mutex mu_;
  std::map<std::pair<int64_t, int64_t>, int64_t> stocks_;  // GUARDED_BY(mu_)
  std::map<std::pair<int64_t, int64_t>, std::chrono::steady_clock::time_point>
      stock_updated_;                          // GUARDED_BY(mu_)
  std::map<std::string, std::string> prices_;  // GUARDED_BY(mu_)

  simkit::SimServer server_;  // last: stopped first, while the rest is alive
};

}  // namespace crmhub::adapters::ozon
