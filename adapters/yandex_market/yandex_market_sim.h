#pragma once
// YandexMarketSimulator: a local stand-in for the Yandex Market Partner
// API, for tests, the demo and benchmarks (`crmhub sim yandex-market`).
// Same paths, headers, field names and error shapes as the OpenAPI spec
// (contracts/marketplaces/yandex-market/openapi/), read from the spec and
// not from the adapter (it links simkit, never crmhub_adapter_yandex_market):
//
//   GET  /v2/campaigns/{campaignId}/orders     getOrders: orders whose current
//        updatedAt is in [updatedAtFrom, updatedAtTo) (at most 30 days apart),
//        optional status filter, sorted by id, limit 1..50 (larger values are
//        truncated to 50, x-transform truncateLimit), pageToken / page_token
//        (opaque), answer {"orders":[OrderDTO], "paging": {"nextPageToken"}}
//   PUT  /v2/campaigns/{campaignId}/offers/stocks   updateStocks: 1..2000
//        distinct skus, one item each, count 0..2000000000 -> {"status":"OK"}
//   POST /v2/businesses/{businessId}/offer-prices/updates: 1..500 distinct
//        offerIds, price {value > 0, currencyId} -> {"status":"OK"}
//   GET  /__sim/requests, /__sim/state  (simkit::SimPipeline); the state is
//        {"orders":[{id,status,substatus,updatedAt,final_status,
//        final_substatus}], "stocks":{sku:count}, "prices":{..}}
//
// Errors use ApiErrorResponse {"status":"ERROR","errors":[{"code","message"}]}:
// no or wrong Api-Key -> 401 UNAUTHORIZED; unknown campaign/business -> 403
// FORBIDDEN; bad request -> 400 BAD_REQUEST; limits (x-resource-limit-config:
// getOrders 10,000 requests/hour; updateStocks 100,000 skus/minute; prices
// 10,000 offers/minute; per Api-Key) -> 420 LIMIT_EXCEEDED (the spec's 420
// response carries ApiLimitErrorResponse; the code string is not listed in
// the spec) with X-RateLimit-Resource-Limit, -Remaining: 0 and -Until (RFC
// 822, when the limit frees up), as the partner API docs describe.
// Faults come from the shared --faults spec (simkit); "dup" repeats every
// order of a getOrders page, "429" answers 420 (Market's limit status) with
// X-RateLimit-Resource-Until one second ahead.
//
// Orders: order i is created at start + i * arrival / N and moves
// PROCESSING/STARTED -> PROCESSING/READY_TO_SHIP -> DELIVERY/
// DELIVERY_SERVICE_RECEIVED -> DELIVERED/DELIVERY_SERVICE_DELIVERED, a step
// every 1 s..lifetime/3 in whole seconds (seeded per order); about 10% end
// CANCELLED/USER_CHANGED_MIND at a random step. updatedAt is the time of the
// current step. The state is a pure function of the clock.
//
// Thread-safety: all methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"

namespace crmhub::adapters::yandex_market {

// The common options, and Market's own. The account: campaign_id and
// business_id from SimOptions::account; credentials are Api-Keys.
struct YandexMarketSimOptions : simkit::SimOptions {
  // x-resource-limit-config of the three methods.
  int64_t orders_per_hour = 10000;
  int64_t stock_skus_per_minute = 100000;
  int64_t price_offers_per_minute = 10000;

  // The first Api-Key (sim-api-key when none is given).
  std::string api_key() const;
  // account "campaign_id" / "business_id" (21000001 / 31000001 when absent;
  // 0 when not a number, refused by the factory).
  int64_t campaign_id() const;
  int64_t business_id() const;

  // For simkit::Create: InvalidArgument for account ids that are not
  // numbers.
  Status Complete() const;
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

class YandexMarketSimulator final : public simkit::PipelineSimulator {
 public:
  YandexMarketSimulator(YandexMarketSimOptions options, Clock& clock);

  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return all_final_at_; }
  // order id -> "STATUS/SUBSTATUS".
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int n, int64_t stock) const override;
  int64_t StockItemsAt(int n, int64_t stock) const override;
  simkit::AdapterWiring Wiring() const override;

  // sku -> count last accepted.
  std::map<std::string, int64_t> Stocks() const;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  simkit::SimPipeline::Options PipelineOptions();
  void BuildWorld();
  net::HttpResponse GetOrders(const net::HttpRequest& request, bool dup);
  net::HttpResponse UpdateStocks(const nlohmann::json& body);
  net::HttpResponse UpdatePrices(const nlohmann::json& body);
  nlohmann::json OrderJson(const SimOrder& o, size_t step) const;

  const YandexMarketSimOptions options_;
  Clock& clock_;
  std::vector<SimOrder> orders_;  // immutable after construction, sorted by id
  SystemTime all_final_at_{};     // the last order's final step

  mutable std::mutex mu_;
  std::map<std::string, int64_t> stocks_;      // GUARDED_BY(mu_)
  std::map<std::string, std::string> prices_;  // GUARDED_BY(mu_)

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim yandex-market` and the registry's entry.
simkit::SimulatorType YandexMarketSimulatorType();

}  // namespace crmhub::adapters::yandex_market
