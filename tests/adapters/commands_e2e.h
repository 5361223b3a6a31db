#pragma once
// The shared part of the marketplace commands end-to-end tests (issue 23,
// acceptance 1): with `crmhub run` pulling every order of a simulator that
// waits for the seller, the CRM sends ten POST /api/v1/commands of 100
// orders each (ships, then cancels), each after the one before has been
// acted on; the daemon is SIGKILLed while it delivers the fifth and started
// again. Then:
//
//   * the simulator's final states equal the commands;
//   * crm.db holds every order at its commanded status, and each order's
//     journal in crm.db goes from the status it was pulled at to it;
//   * nothing was written twice: each order in exactly one write the
//     system acted on (the simulator's request log, read per marketplace).
//
// Used by the Yandex Market, Ozon and Wildberries commands e2e tests. What
// differs per marketplace (the items, the statuses, what counts as a write)
// comes in as CommandsE2eOptions.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/request_log.h"
#include "adapters/simkit/simulator.h"
#include "tests/adapters/marketplace_e2e.h"

namespace crmhub::testutil {

// How many orders a marketplace's commands scenario runs: 1,000 (the
// issue's figure) unless the test binary is built with CRMHUB_E2E_ORDERS.
// The full scenarios are in the `long` tier (scripts/test.sh -L long), which
// CI leaves out for its time.
#ifndef CRMHUB_E2E_ORDERS
#define CRMHUB_E2E_ORDERS 1000
#endif
inline constexpr int kCommandsE2eOrders = CRMHUB_E2E_ORDERS;

struct CommandsE2eOptions {
  std::string adapter_id;           // the command's target, crm.db's source
  std::vector<std::string> orders;  // external ids, 1,000: in command order
  size_t shipped = 900;             // the first are shipped, the rest cancelled
  // The command item for orders[i].
  std::function<nlohmann::json(size_t i)> item;
  // Every order's status (simulator and crm.db) before the commands, and
  // after a ship and a cancel.
  std::string started, shipped_status, cancelled_status;
  // order id -> writes the system acted on, from the simulator's log.
  std::function<std::map<std::string, int>(const std::vector<simkit::LoggedRequest>&)> writes;
  int admin_port = 0;  // of the daemon's [admin] (CommandsE2eConfig)
};

// The admin token the scenario uses, and the TOML it needs after the
// adapter's keys ([admin] on `admin_port` with that token, the queue's
// retry bounds: 200 attempts, backoff from `initial_backoff` up to
// `max_backoff`). Files: put kCommandsE2eToken at "admin-token".
inline constexpr const char* kCommandsE2eToken = "e2e-admin-token-0123456789abcdef";
std::string CommandsE2eConfig(int admin_port, std::string_view initial_backoff = "1s",
                              std::string_view max_backoff = "30s");

// order id -> the "status" of each journal entry of `source`'s orders, in
// order (read-only, beside the running daemon: WAL).
std::map<std::string, std::vector<std::string>> JournalStatuses(const std::filesystem::path& db,
                                                                const std::string& source);

// The scenario above, with gtest assertions. Leaves the daemon stopped
// (SIGTERM, clean exit checked).
void RunCommandsScenario(MarketplaceE2e& e2e, simkit::Simulator& sim,
                         const CommandsE2eOptions& options);

// Issue 23, acceptance 4, through `crmhub run`: every card of the
// simulator's catalogue lands in crm.db as a product of the adapter's
// source (external_id the marketplace id, its SKU, offer_ids[offer_key]);
// then one set_stock, POST /api/v1/commands addressed by the CRM's SKU,
// reaches the marketplace item (`stock_reached`, read from the simulator).
// Leaves the daemon stopped (SIGTERM, clean exit checked).
struct ProductsE2eOptions {
  std::string adapter_id;
  std::string offer_key;                     // "ozon", "wildberries", "yandex_market"
  std::map<std::string, std::string> cards;  // marketplace id -> SKU
  nlohmann::json stock_item;                 // the set_stock item, by "sku"
  std::function<bool()> stock_reached;
  int admin_port = 0;  // of the daemon's [admin] (CommandsE2eConfig)
};
void RunProductsScenario(MarketplaceE2e& e2e, const ProductsE2eOptions& options);

}  // namespace crmhub::testutil
