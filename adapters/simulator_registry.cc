#include "adapters/simulator_registry.h"

#include "adapters/ozon/ozon_sim.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "adapters/yandex_market/yandex_market_sim.h"

namespace crmhub::adapters {

std::vector<simkit::SimulatorType> AllSimulatorTypes() {
  std::vector<simkit::SimulatorType> types;
  // One line per simulator:
  types.push_back(adapters::wildberries::WildberriesSimulatorType());
  types.push_back(adapters::ozon::OzonSimulatorType());
  types.push_back(adapters::yandex_market::YandexMarketSimulatorType());
  return types;
}

}  // namespace crmhub::adapters
