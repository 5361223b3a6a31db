// crmhub sim <name> --listen ADDR [--orders N] [--faults SPEC] [--seed S] ...
//
// Runs one simulator of the registry (adapters/simulator_registry.cc) in the
// foreground until SIGINT/SIGTERM. The common flags become SimOptions; a
// simulator's own flags (SimulatorType::extra_options) go to
// SimOptions::extra and are refused for the others. Prints "listening on
// http://HOST:PORT" once bound (port 0 picks a free port).

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/simulator.h"
#include "adapters/simulator_registry.h"
#include "base/clock.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"

namespace crmhub::cli {
namespace {

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

// A simulator's own flag: its help, and the simulators that take it.
struct ExtraFlag {
  std::string help;
  std::vector<std::string> simulators;
  std::string value;  // as given; empty: not given
};

}  // namespace

int SimCommand(const Args& args) {
  const std::vector<simkit::SimulatorType> types = adapters::AllSimulatorTypes();
  std::string names, descriptions;
  for (const auto& t : types) {
    names += names.empty() ? t.name : "|" + t.name;
    descriptions += fmt::format(" {}: {}.", t.name, t.description);
  }
  std::string listen, faults_text, tokens_text;
  int64_t orders = 1000, seed = 1, arrival_ms = 60'000, lifetime_ms = 60'000;
  std::vector<std::string> positional;
  FlagParser flags(
      fmt::format("crmhub sim {} --listen ADDR [--orders N] [--faults SPEC] [--seed S]", names),
      "Run a marketplace API simulator (same paths, auth, limits and error shapes as the real "
      "API) with a seeded world and injected faults, until SIGINT/SIGTERM. GET /__sim/requests "
      "and GET /__sim/state show what happened." +
          descriptions);
  flags.AddString("--listen", &listen, "ADDR", "host:port to listen on (port 0: any free port)");
  flags.AddInt("--orders", &orders, "N", "orders the world creates (default 1000)");
  flags.AddString("--faults", &faults_text, "SPEC",
                  "faults to inject, e.g. \"429=0.1,500=0.05,timeout=0.02,slow=0.05,dup=0.1,"
                  "malformed=0.01\" (names: 429 500 503 timeout slow dup malformed; "
                  "probabilities add up to at most 1)");
  flags.AddInt("--seed", &seed, "S", "seed of the world and of the faults (default 1)");
  flags.AddDuration("--arrival", &arrival_ms, "DURATION",
                    "orders are created evenly over this time (default 60s)");
  flags.AddDuration("--lifetime", &lifetime_ms, "DURATION",
                    "each order reaches its final status within this time (default 60s)");
  flags.AddString("--tokens", &tokens_text, "T1,T2",
                  "accepted credentials, comma-separated, in the system's form (wildberries: "
                  "tokens, default sim-token; ozon: CLIENT_ID:API_KEY, default "
                  "123456:sim-api-key; yandex-market: Api-Keys, default sim-api-key)");
  // Every simulator's own flags, each once (a flag two simulators share is
  // one flag).
  std::map<std::string, ExtraFlag> extra;
  for (const auto& t : types) {
    for (const auto& [name, help] : t.extra_options) {
      ExtraFlag& f = extra[name];
      if (f.help.empty()) f.help = help;
      f.simulators.push_back(t.name);
    }
  }
  for (auto& [name, f] : extra) {
    std::string who;
    for (const auto& s : f.simulators) who += (who.empty() ? "" : ", ") + s;
    flags.AddString("--" + name, &f.value, "VALUE", who + ": " + f.help);
  }
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  auto usage_error = [&](const std::string& message) {
    std::fprintf(stderr, "error: %s\n\n%s", message.c_str(), flags.Help().c_str());
    return 2;
  };
  if (positional.size() != 1) return usage_error("name one simulator: " + names);
  const simkit::SimulatorType* type = simkit::FindSimulatorType(types, positional[0]);
  if (type == nullptr) {
    return usage_error("unknown simulator \"" + positional[0] + "\" (" + names + ")");
  }
  if (listen.empty()) return usage_error("--listen is required");
  if (orders < 0 || orders > 10'000'000) return usage_error("--orders must be 0..10000000");
  auto faults = simkit::ParseFaultSpec(faults_text);
  if (!faults.ok()) return usage_error(faults.status().message());

  simkit::SimOptions options;
  options.orders = static_cast<int>(orders);
  options.seed = static_cast<uint64_t>(seed);
  options.faults = *faults;
  options.arrival = std::chrono::milliseconds(arrival_ms);
  options.lifetime = std::chrono::milliseconds(lifetime_ms);
  options.credentials = SplitComma(tokens_text);
  for (const auto& [name, f] : extra) {
    if (f.value.empty()) continue;
    bool known = false;
    for (const auto& s : f.simulators) known = known || s == type->name;
    if (!known) {
      std::string who;
      for (const auto& s : f.simulators) who += (who.empty() ? "" : " or ") + s;
      return usage_error(fmt::format("--{} is a {} option", name, who));
    }
    options.extra[name] = f.value;
  }

  SystemClock clock;
  auto sim = simkit::CreateSimulator(*type, options, clock);
  if (!sim.ok()) {
    if (sim.status().code() == StatusCode::kInvalidArgument) {
      return usage_error(sim.status().message());
    }
    std::fprintf(stderr, "error: %s\n", sim.status().ToString().c_str());
    return 1;
  }
  simkit::Simulator& simulator = **sim;
  // The simulator serves on its own threads; this loop only waits for the
  // signal (caught from before the "listening" line on).
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { simulator.Stop(); });
  if (Status st = simulator.Start(listen); !st.ok()) {
    std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
    return 1;
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  std::printf("%s simulator listening on http://%s:%u (faults: %s, seed %llu)\n",
              type->name.c_str(), host.c_str(), simulator.port(), options.faults.ToString().c_str(),
              static_cast<unsigned long long>(options.seed));
  std::fflush(stdout);
  io.run();
  return 0;
}

}  // namespace crmhub::cli
