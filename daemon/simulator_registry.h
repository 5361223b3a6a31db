#pragma once
// THE list of simulators crmhub knows, beside the list of adapter types
// (daemon/adapter_registry.h): `crmhub sim <name>`, `crmhub demo` (one per
// configured adapter of a simulated type) and `crmhub bench orders` find
// them here. No static-init registration, no singletons: adding a
// simulator is adding one line to AllSimulatorTypes() in
// daemon/simulator_registry.cc (and its library to crmhub_simulators).

#include <vector>

#include "adapters/simkit/simulator.h"

namespace crmhub::daemon {

// Every simulator, in the order `crmhub sim --help` lists them.
std::vector<simkit::SimulatorType> AllSimulatorTypes();

}  // namespace crmhub::daemon
