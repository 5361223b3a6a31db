#pragma once
// THE list of simulators crmhub knows: `crmhub sim <name>`, `crmhub demo`
// (one per configured adapter of a simulated type) and `crmhub bench
// orders` find them here. Apart from the list of adapter types
// (daemon/adapter_registry.h), so that linking the simulators never means
// linking the adapters, and outside daemon/, so that the runtime library
// never links a simulator (tests/layering). No static-init registration, no
// singletons: adding a simulator is adding one line to AllSimulatorTypes()
// in adapters/simulator_registry.cc (and its library to crmhub_simulators,
// adapters/CMakeLists.txt).

#include <vector>

#include "adapters/simkit/simulator.h"

namespace crmhub::adapters {

// Every simulator, in the order `crmhub sim --help` lists them.
std::vector<simkit::SimulatorType> AllSimulatorTypes();

}  // namespace crmhub::adapters
