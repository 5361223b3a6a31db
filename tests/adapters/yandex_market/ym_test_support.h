#pragma once
// What the Yandex Market tests share: an HTTP client on its own thread, an
// adapter wired to a simulator as the daemon wires it (net::Upstream per
// API group), queue messages for Deliver, a realistic cycle (pull, a
// notification resolved, stock and price pushes), and the checker of the
// rules the spec states only in prose, run on the simulator's request log.

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/simkit/request_log.h"
#include "adapters/yandex_market/yandex_market_adapter.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "net/http_client.h"
#include "net/upstream.h"
#include "tests/support/client_thread.h"

namespace crmhub::adapters::yandex_market::testing {

using crmhub::testing::ClientThread;

inline YandexMarketConfig ConfigFor(const std::string& id, const YandexMarketSimOptions& sim,
                                    const std::string& base_url) {
  YandexMarketConfig c;
  c.id = id;
  c.client.base_url = base_url;
  c.client.api_key = Secret(sim.api_key());
  c.client.campaign_id = sim.campaign_id();
  c.client.business_id = sim.business_id();
  c.client.timeout = std::chrono::milliseconds(2000);
  c.poll_interval = std::chrono::seconds(5);
  c.overlap = std::chrono::seconds(30);
  c.lookback = std::chrono::hours(24);
  // The orders' tests read orders and returns alone (their request counts);
  // yandex_market_products_test.cc turns the catalogue on.
  c.products = false;
  return c;
}

// Through net::Upstream, as the daemon does.
inline std::unique_ptr<YandexMarketAdapter> MakeAdapter(const YandexMarketConfig& config,
                                                        net::HttpClient* http, Clock& clock) {
  return std::make_unique<YandexMarketAdapter>(
      config,
      net::MakeUpstreamTransport("yandex-market:" + config.id, http, clock, nullptr,
                                 {{"orders", {}}, {"offers", {}}}),
      clock);
}

inline adapters::Command MakeCommand(const std::string& command, const nlohmann::json& item) {
  adapters::Command m;
  m.name = command;
  m.payload = item.dump();
  return m;
}

// An offer's price as the simulator's state shows it: {value, currencyId,
// discountBase, minimumForBestseller} (null: not set; the offer unknown).
inline nlohmann::json PriceOf(const YandexMarketSimulator& sim, const std::string& offer) {
  const nlohmann::json prices = nlohmann::json::parse(sim.StateJson())["prices"];
  return prices.contains(offer) ? prices[offer] : nlohmann::json();
}

// What a day of a shop sends: pulls until caught up, resolves one
// notification, pushes 2,500 stocks (some skus repeated, some with spaces
// around them) and 700 prices (some keeping values set in the cabinet),
// ships 40 orders and cancels 5, and ships a cancelled one (refused).
// REQUIRES: the simulator's world has >= 45 orders awaiting the seller
// (await_seller); `clock` drives it.
void RunCycle(YandexMarketAdapter& adapter, YandexMarketSimulator& sim, ManualClock& clock);

// The rules the spec states only in prose (or across items, where a schema
// validator does not look), each broken request as "METHOD path: rule":
//   updateStocks: skus unique after trimming (prose + x-transform: trim);
//     ShopSku 1..255 characters; one item each; count 0..2,000,000,000;
//   updateBusinessPrices: offerId unique (prose); currencyId a CurrencyType
//     (RUR, not RUB); discountBase a whole number (prose) giving a 5..99%
//     discount (prose); minimumForBestseller <= 100,000,000;
//   getBusinessOrders: a body (required); creationDateFrom..To at most 30
//     days apart (prose); orderIds 1..50 distinct;
//   getDefaultPrices: offerIds 1..200 distinct;
//   getReturns: not the deprecated from_date / to_date parameters;
//   getOfferMappings: limit 1..100 (PageLimit100Truncate), offerIds at most
//     200 and never paged, 100 requests a minute (resp "none");
//   updateOrderStatuses: orders 1..30, each with a substatus (every change
//     the description documents names one), an order once a request;
//   item frequency limits in any sliding window of the log's time:
//     updateStocks 100,000 skus a minute, updateBusinessPrices 10,000 offers
//     a minute, getDefaultPrices 5,000 offers a minute, getBusinessOrders
//     10,000 requests an hour, getReturns 5,000 requests an hour,
//     updateOrderStatuses 10,000 orders an hour
//     (x-resource-limit-config, path resp.result.orders).
std::vector<std::string> ProseViolations(const std::vector<simkit::LoggedRequest>& log);

}  // namespace crmhub::adapters::yandex_market::testing
