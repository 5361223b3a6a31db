// crmhub sim <system> --listen ADDR [--orders N] [--faults SPEC] [--seed S]
//
// Runs a marketplace simulator in the foreground until SIGINT/SIGTERM. One
// line per simulator in kSimulators below; each gets the common flags and
// returns an object that keeps it alive. Prints "listening on
// http://HOST:PORT" once bound (port 0 picks a free port).

#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "adapters/simkit/fault_spec.h"
#include "adapters/wildberries/sim.h"
#include "adapters/ozon/ozon_sim.h"
#include "adapters/yandex_market/sim.h"
#include "base/clock.h"
#include "daemon/commands.h"
#include "daemon/flags.h"

namespace crmhub::cli {
namespace {

// The flags every simulator understands.
struct SimFlags {
  std::string listen;
  int64_t orders = 1000;
  simkit::FaultSpec faults;
  uint64_t seed = 1;
  int64_t arrival_ms = 60'000;
  int64_t lifetime_ms = 60'000;
  std::vector<std::string> tokens;
  // Wildberries only (the other simulators refuse them).
  int64_t dbs_orders = 0;
  double price_item_errors = 0;
};

// A running simulator: bound, serving on the io_context; Stop() before the
// io_context stops.
struct RunningSim {
  uint16_t port = 0;
  std::function<void()> stop;
  std::shared_ptr<void> keep_alive;
};

using SimStarter =
    std::function<Result<RunningSim>(boost::asio::io_context&, Clock&, const SimFlags&)>;

Result<RunningSim> StartWildberries(boost::asio::io_context& io, Clock& clock,
                                    const SimFlags& flags) {
  adapters::wildberries::SimOptions o;
  o.orders = static_cast<int>(flags.orders);
  o.seed = flags.seed;
  o.faults = flags.faults;
  o.arrival = std::chrono::milliseconds(flags.arrival_ms);
  o.lifetime = std::chrono::milliseconds(flags.lifetime_ms);
  if (!flags.tokens.empty()) o.tokens = flags.tokens;
  o.dbs_orders = static_cast<int>(flags.dbs_orders);
  o.price_item_errors = flags.price_item_errors;
  auto sim = std::make_shared<adapters::wildberries::WildberriesSim>(io, clock, o);
  CRMHUB_RETURN_IF_ERROR(sim->Listen(flags.listen));
  return RunningSim{sim->port(), [sim] { sim->Stop(); }, sim};
}

// Ozon runs its own I/O threads (OzonSimulator is also used in-process by
// tests); --tokens takes "CLIENT_ID:API_KEY".
Result<RunningSim> StartOzon(boost::asio::io_context&, Clock& clock, const SimFlags& flags) {
  adapters::ozon::OzonSimOptions o;
  o.orders = static_cast<int>(flags.orders);
  o.seed = flags.seed;
  o.faults = flags.faults;
  o.arrival_span = std::chrono::milliseconds(flags.arrival_ms);
  if (!flags.tokens.empty() && flags.tokens[0].find(':') != std::string::npos) {
    o.client_id = flags.tokens[0].substr(0, flags.tokens[0].find(':'));
    o.api_key = flags.tokens[0].substr(flags.tokens[0].find(':') + 1);
  }
  auto sim = std::make_shared<adapters::ozon::OzonSimulator>(o, clock);
  CRMHUB_RETURN_IF_ERROR(sim->Start(flags.listen));
  return RunningSim{sim->port(), [sim] { sim->Stop(); }, sim};
}

// Yandex Market runs its own I/O threads too; --tokens takes the Api-Key.
Result<RunningSim> StartYandexMarket(boost::asio::io_context&, Clock& clock,
                                     const SimFlags& flags) {
  adapters::yandex_market::YmSimOptions o;
  o.orders = static_cast<int>(flags.orders);
  o.seed = flags.seed;
  o.faults = flags.faults;
  o.arrival_span = std::chrono::milliseconds(flags.arrival_ms);
  if (!flags.tokens.empty()) o.api_key = flags.tokens[0];
  auto sim = std::make_shared<adapters::yandex_market::YmSimulator>(o, clock);
  CRMHUB_RETURN_IF_ERROR(sim->Start(flags.listen));
  return RunningSim{sim->port(), [sim] { sim->Stop(); }, sim};
}

struct SimulatorInfo {
  const char* name;
  SimStarter start;
};

// The explicit list of simulators: adding one is adding a line here.
const std::vector<SimulatorInfo>& Simulators() {
  static const std::vector<SimulatorInfo> kSimulators = {
      {"wildberries", StartWildberries},
      {"ozon", StartOzon},
      {"yandex-market", StartYandexMarket},
  };
  return kSimulators;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    if (comma > pos) out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int SimCommand(const Args& args) {
  std::string names;
  for (const auto& s : Simulators()) names += names.empty() ? s.name : std::string("|") + s.name;
  SimFlags sim;
  std::string faults_text, tokens_text;
  int64_t seed = 1;
  std::vector<std::string> positional;
  FlagParser flags(
      fmt::format("crmhub sim {} --listen ADDR [--orders N] [--faults SPEC] [--seed S]", names),
      "Run a marketplace API simulator (same paths, auth, limits and error shapes as the real "
      "API) with a seeded world and injected faults, until SIGINT/SIGTERM. GET /__sim/requests "
      "and GET /__sim/state show what happened.");
  flags.AddString("--listen", &sim.listen, "ADDR", "host:port to listen on (port 0: any free port)");
  flags.AddInt("--orders", &sim.orders, "N", "orders the world creates (default 1000)");
  flags.AddString("--faults", &faults_text, "SPEC",
                  "faults to inject, e.g. \"429=0.1,500=0.05,timeout=0.02,slow=0.05,dup=0.1,"
                  "malformed=0.01\" (names: 429 500 503 timeout slow dup malformed; "
                  "probabilities add up to at most 1)");
  flags.AddInt("--seed", &seed, "S", "seed of the world and of the faults (default 1)");
  flags.AddDuration("--arrival", &sim.arrival_ms, "DURATION",
                    "orders are created evenly over this time (default 60s)");
  flags.AddDuration("--lifetime", &sim.lifetime_ms, "DURATION",
                    "each order reaches its final status within this time (default 60s)");
  flags.AddString("--tokens", &tokens_text, "T1,T2",
                  "accepted API tokens, comma-separated (default: sim-token)");
  std::string price_errors_text;
  flags.AddInt("--dbs-orders", &sim.dbs_orders, "N",
               "wildberries: DBS orders the world creates besides the FBS ones (default 0)");
  flags.AddString("--price-item-errors", &price_errors_text, "SHARE",
                  "wildberries: share of goods a price upload task rejects, 0..1 (default 0)");
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  auto usage_error = [&](const std::string& message) {
    std::fprintf(stderr, "error: %s\n\n%s", message.c_str(), flags.Help().c_str());
    return 2;
  };
  if (positional.size() != 1) return usage_error("name one simulator: " + names);
  const SimulatorInfo* info = nullptr;
  for (const auto& s : Simulators()) {
    if (positional[0] == s.name) info = &s;
  }
  if (info == nullptr) return usage_error("unknown simulator \"" + positional[0] + "\" (" + names + ")");
  if (sim.listen.empty()) return usage_error("--listen is required");
  if (sim.orders < 0 || sim.orders > 10'000'000) return usage_error("--orders must be 0..10000000");
  const bool wildberries = std::string_view(info->name) == "wildberries";
  if (sim.dbs_orders != 0 && !wildberries) return usage_error("--dbs-orders is a wildberries option");
  if (sim.dbs_orders < 0 || sim.dbs_orders > 10'000'000) {
    return usage_error("--dbs-orders must be 0..10000000");
  }
  if (!price_errors_text.empty()) {
    if (!wildberries) return usage_error("--price-item-errors is a wildberries option");
    if (!simkit::ParseProbability(price_errors_text, &sim.price_item_errors)) {
      return usage_error("--price-item-errors must be a share from 0 to 1, got \"" +
                         price_errors_text + "\"");
    }
  }
  auto faults = simkit::ParseFaultSpec(faults_text);
  if (!faults.ok()) return usage_error(faults.status().message());
  sim.faults = *faults;
  sim.seed = static_cast<uint64_t>(seed);
  sim.tokens = SplitComma(tokens_text);

  boost::asio::io_context io;
  SystemClock clock;
  auto running = info->start(io, clock, sim);
  if (!running.ok()) {
    std::fprintf(stderr, "error: %s\n", running.status().ToString().c_str());
    return 1;
  }
  std::string host = sim.listen.substr(0, sim.listen.rfind(':'));
  std::printf("%s simulator listening on http://%s:%u (faults: %s, seed %llu)\n", info->name,
              host.c_str(), running->port, sim.faults.ToString().c_str(),
              static_cast<unsigned long long>(sim.seed));
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    running->stop();
    io.stop();
  });
  std::thread second([&] { io.run(); });
  io.run();
  second.join();
  return 0;
}

}  // namespace crmhub::cli
