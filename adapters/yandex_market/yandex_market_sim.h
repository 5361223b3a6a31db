#pragma once
// YandexMarketSimulator: a local stand-in for the Yandex Market Partner API
// (`crmhub sim yandex-market`, the demo, the benchmark, tests), written from
// the OpenAPI spec, never from the adapter (it links simkit, not
// crmhub_adapter_yandex_market): getBusinessOrders, updateStocks,
// updateBusinessPrices, getDefaultPrices and getOfferMappings (the catalogue:
// `catalogue` offers, yandex_market_sim_products.cc), checked as the spec says, prose
// included, with its own reading where the spec is silent; Market's
// ApiErrorResponse, 420 limits per Api-Key and simkit's faults ("429"
// answers 420, "dup" repeats each order of a page). What it checks and
// assumes: docs/adapters/yandex-market.md, "Simulator".
//
// Orders: order i is created at start + i * arrival / N and moves
// PROCESSING/STARTED -> PROCESSING/READY_TO_SHIP -> DELIVERY/
// DELIVERY_SERVICE_RECEIVED -> DELIVERED/DELIVERY_SERVICE_DELIVERED, a step
// every 1 s..lifetime/3 (seeded per order); about 10% end
// CANCELLED/USER_CHANGED_MIND. With await_seller, orders wait at
// PROCESSING/STARTED for the seller instead. The seller's status writes
// (updateOrderStatuses) move an order by Market's status machine
// (SellerTransitionRefusal) and end its walk there. The world is a function
// of the clock, plus the orders CreateOrderAndNotify adds and the seller's
// writes. One delivered order in six is returned (getReturns): the return
// is created a step after delivery and moves CREATED/STARTED_BY_USER ->
// IN_TRANSIT/REFUND_IN_PROGRESS -> READY_FOR_PICKUP/REFUNDED
// (shipmentStatus/refundStatus). Thread-safe.

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
#include "base/thread_annotations.h"

namespace crmhub::adapters::yandex_market {

// The common options, and Market's own. The account: campaign_id and
// business_id from SimOptions::account; credentials are Api-Keys.
struct YandexMarketSimOptions : simkit::SimOptions {
  // x-resource-limit-config of the methods served.
  int64_t orders_per_hour = 10000;
  int64_t stock_skus_per_minute = 100000;
  int64_t price_offers_per_minute = 10000;
  int64_t price_reads_per_minute = 5000;
  int64_t status_orders_per_hour = 10000;  // updateOrderStatuses, resp.result.orders
  // getOfferMappings: resp "none" 100 requests a minute.
  int64_t offer_mappings_per_minute = 100;
  // The catalogue getOfferMappings lists: offerId "YM-000001".. (the
  // orders' offers are the first 1000).
  int catalogue = 1000;
  // Orders stay PROCESSING/STARTED until the seller moves them (the
  // command tests); otherwise they walk by themselves.
  bool await_seller = false;

  // The first Api-Key, account "campaign_id" and "business_id" (defaults:
  // sim-api-key, 21000001, 31000001; an id that is not a number is refused).
  std::string api_key() const;
  int64_t campaign_id() const;
  int64_t business_id() const;
  Status Complete() const;
};

struct SimOrder {
  int64_t id = 0;
  SystemTime created;
  struct Step {
    SystemTime at;
    std::string status;
    std::string substatus;
  };
  std::vector<Step> steps;  // the first is (created, PROCESSING, STARTED)
  int64_t offer_index = 0;
  int count = 1;
};

// A return of a delivered order (ReturnDTO), as a function of the clock.
struct SimReturn {
  int64_t id = 0;
  int64_t order_id = 0;
  SystemTime created;
  struct Step {
    SystemTime at;
    std::string shipment_status;
    std::string refund_status;
  };
  std::vector<Step> steps;  // the first at `created`
  int64_t offer_index = 0;
  int count = 1;
};

// An offer's price as Market holds it (null: not set).
struct SimPrice {
  nlohmann::json value;
  std::string currency;
  nlohmann::json discount_base;
  nlohmann::json minimum_for_bestseller;
};

// Market's order status machine for the seller's writes, as
// updateOrderStatuses and updateOrderStatus describe it (the spec documents
// no other seller transition for FBS; the DBS model is a page the spec
// links, not vendored, so DBS steps are refused too):
//   PROCESSING/STARTED       -> PROCESSING/READY_TO_SHIP
//   PROCESSING/STARTED       -> CANCELLED/SHOP_FAILED
//   PROCESSING/READY_TO_SHIP -> CANCELLED/SHOP_FAILED
// CANCELLED/USER_UNREACHABLE is refused: its conditions (three calls to the
// buyer...) need calls this world does not have, and the spec answers 400
// when they are not met. "" when `from` may become `to`, else the
// errorDetails Market's answer carries.
std::string SellerTransitionRefusal(int64_t order_id, const SimOrder::Step& from,
                                    std::string_view to_status, std::string_view to_substatus);

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

  std::map<std::string, int64_t> Stocks() const;
  // Return id -> its order id, of the returns created by now.
  std::map<int64_t, int64_t> ReturnOrders() const;
  // What the seller's cabinet would set (a test's "set earlier").
  void SetPrice(const std::string& offer_id, SimPrice price);
  // Market's ApiErrorResponse {"status":"ERROR","errors":[{code, message}]}
  // with the code of `http` (400 BAD_REQUEST, 420 LIMIT_EXCEEDED, ...).
  static net::HttpResponse Error(int http, std::string_view message);
  // A new order, created now at PROCESSING/STARTED, and Market's
  // ORDER_CREATED notification of it POSTed to `notify_url` (the registered
  // URL + "/notification"), as Market does. The order's id, or why the
  // notification was not answered 200.
  Result<int64_t> CreateOrderAndNotify(const std::string& notify_url);

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  simkit::SimPipeline::Options PipelineOptions();
  // The routes (yandex_market_sim.cc, yandex_market_sim_offers.cc).
  net::HttpResponse GetBusinessOrders(const simkit::SimRequest& r);
  net::HttpResponse UpdateStocks(const simkit::SimRequest& r);
  net::HttpResponse UpdatePrices(const simkit::SimRequest& r);
  net::HttpResponse GetDefaultPrices(const simkit::SimRequest& r);
  net::HttpResponse UpdateOrderStatuses(
      const simkit::SimRequest& r);  // yandex_market_sim_status.cc
  // yandex_market_sim_returns.cc: the returns of the world's delivered
  // orders (at construction), and getReturns.
  void CreateReturns();
  net::HttpResponse GetReturns(const simkit::SimRequest& r);
  // yandex_market_sim_products.cc: getOfferMappings.
  net::HttpResponse GetOfferMappings(const simkit::SimRequest& r);

  const YandexMarketSimOptions options_;
  Clock& clock_;
  SystemTime all_final_at_{};  // the world's last final step

  mutable std::mutex mu_;
  std::vector<SimOrder> orders_ GUARDED_BY(mu_);    // by id
  std::vector<SimReturn> returns_ GUARDED_BY(mu_);  // by id
  std::map<std::string, int64_t> stocks_ GUARDED_BY(mu_);
  std::map<std::string, SimPrice> prices_ GUARDED_BY(mu_);

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim yandex-market` and the registry's entry.
simkit::SimulatorType YandexMarketSimulatorType();

}  // namespace crmhub::adapters::yandex_market
