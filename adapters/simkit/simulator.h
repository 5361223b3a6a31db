#pragma once
// The simulator framework: one interface every simulated outside system
// implements, and the description a registry lists it by
// (adapters/simulator_registry.cc), used alike by `crmhub sim`, `crmhub demo`,
// `crmhub bench orders` and the end-to-end tests.
//
// A simulator is written from the system's published spec, never from its
// adapter's code: it links net/ and simkit (the request pipeline, the rate
// limit family, the fault knobs), never adapters/<system>. Its limits and
// its parsing are its own reading of the spec, so that where the adapter
// and the spec disagree a test sees it.
//
// Thread-safety: Start/Stop from the owning thread; every other method from
// any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/request_log.h"
#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"

namespace crmhub::simkit {

// What every simulator is told (flags of `crmhub sim`, the demo, the
// benchmark, tests).
struct SimOptions {
  int orders = 1000;  // orders the world creates
  uint64_t seed = 1;  // of the world and of the faults
  FaultSpec faults;
  // Orders are created evenly over `arrival` from `start` (default: the
  // clock's Now() at construction); each reaches its final status within
  // `lifetime` of its creation.
  std::chrono::milliseconds arrival{std::chrono::seconds(60)};
  std::optional<SystemTime> start;
  std::chrono::milliseconds lifetime{std::chrono::seconds(60)};
  // Credentials the simulator accepts, in the system's own form (a token,
  // "CLIENT_ID:API_KEY"); empty: the simulator's documented default.
  std::vector<std::string> credentials;
  // Account identifiers the adapter's config names (Ozon "client_id",
  // Yandex Market "campaign_id" and "business_id"): the simulator serves
  // those; absent: its defaults. See SimulatorType::account_keys.
  std::map<std::string, std::string> account;
  bool enforce_rate_limits = true;  // off: a benchmark measures crmhub, not the limit
  int io_threads = 2;
  // Options only one system has, named as the `crmhub sim` flags without
  // their dashes ("dbs-orders" for Wildberries; an error about a value
  // names the flag). A key not in SimulatorType::extra_options is refused.
  std::map<std::string, std::string> extra;
};

// How an adapter of this system is pointed at the running simulator.
struct AdapterWiring {
  std::string type;  // the adapter type ("ozon")
  // TOML lines of the [adapters.<id>] section: URLs and account ids, not the
  // secrets (those are files, below).
  std::string keys;
  // Extra lines that open the adapter's own pacing up, for a simulator that
  // does not enforce limits (the orders benchmark).
  std::string unthrottled_keys;
  // The key of how far back the adapter's first pull reads ("lookback";
  // Ozon's "order_lookback"), for a run over a world that already has a
  // history (the orders benchmark).
  std::string lookback_key;
  // Secret keys of the section and the value each file must hold
  // ({"api_key_file", "sim-api-key"}).
  std::vector<std::pair<std::string, std::string>> secrets;
  // The orders list request, for counting pages (method, path).
  std::string orders_method;
  std::string orders_path;
};

class Simulator {
 public:
  virtual ~Simulator() = default;

  // Serves on "host:port" ("127.0.0.1:0": a free port) on its own threads.
  virtual Status Start(const std::string& listen) = 0;
  // Answers what is still held with 503 and stops; idempotent.
  virtual void Stop() = 0;
  virtual uint16_t port() const = 0;
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  virtual RequestLog& log() = 0;
  // GET /__sim/state: the world as the simulator sees it now.
  virtual std::string StateJson() const = 0;
  // When the last order reaches its final status.
  virtual SystemTime AllFinalAt() const = 0;
  // Every order created so far (`final_only`: every order, at its final
  // status) as the CRM store holds it after the shipped mapping rules:
  // external id -> status text.
  virtual std::map<std::string, std::string> OrderStatuses(bool final_only) const = 0;
  // The set_stock command items the CRM core would send for the first `n`
  // products at `stock`, and how many of those the simulator now holds at
  // that stock (the demo's stock push).
  virtual std::vector<nlohmann::json> StockCommandItems(int n, int64_t stock) const = 0;
  virtual int64_t StockItemsAt(int n, int64_t stock) const = 0;

  virtual AdapterWiring Wiring() const = 0;
};

struct SimulatorType {
  std::string name;         // `crmhub sim <name>`; the adapter type it simulates
  std::string description;  // one line for --help
  // Account keys of the adapter's config section it reads into
  // SimOptions::account, and the key naming the URL it listens on.
  std::vector<std::string> account_keys;
  std::string url_key;
  // name -> help of the options SimOptions::extra may hold.
  std::vector<std::pair<std::string, std::string>> extra_options;
  // A simulator of `options` on `clock`, not started; InvalidArgument for
  // options it cannot take (an extra value out of range, an account id
  // that is not a number).
  std::function<Result<std::unique_ptr<Simulator>>(const SimOptions&, Clock&)> create;
};

// SimulatorType::create for a simulator `Sim` constructed from `Options`
// (SimOptions and the system's own): Options::Complete() reads what the
// system takes from SimOptions (extra, account) or refuses it.
template <typename Sim, typename Options>
Result<std::unique_ptr<Simulator>> Create(const SimOptions& common, Clock& clock) {
  Options options;
  static_cast<SimOptions&>(options) = common;
  if (Status st = options.Complete(); !st.ok()) return st;
  return std::unique_ptr<Simulator>(std::make_unique<Sim>(std::move(options), clock));
}

// `type.create`, after refusing SimOptions::extra keys that `type` does not
// declare (InvalidArgument naming the flag).
Result<std::unique_ptr<Simulator>> CreateSimulator(const SimulatorType& type,
                                                   const SimOptions& options, Clock& clock);

// `s` as a TOML basic string, quoted (for AdapterWiring::keys).
std::string TomlString(std::string_view s);

// The type named `name`, or null.
const SimulatorType* FindSimulatorType(const std::vector<SimulatorType>& types,
                                       std::string_view name);

// For the demo: a simulator of `type` for the adapter configured in
// `section`, with its account keys, listening where the section's URL key
// points. Not started.
Result<std::unique_ptr<Simulator>> SimulatorForAdapter(const SimulatorType& type,
                                                       const config::Section& section,
                                                       SimOptions options, Clock& clock,
                                                       std::string* listen);

}  // namespace crmhub::simkit
