#include "adapters/simulator_registry.h"

#include "adapters/mango/mango_sim.h"
#include "adapters/ozon/ozon_sim.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "adapters/zadarma/zadarma_sim.h"
#include "adapters/tochka/tochka_sim.h"
#include "adapters/onec_exchange/onec_exchange_sim.h"

namespace crmhub::adapters {

std::vector<simkit::SimulatorType> AllSimulatorTypes() {
  std::vector<simkit::SimulatorType> types;
  // One line per simulator:
  types.push_back(adapters::wildberries::WildberriesSimulatorType());
  types.push_back(adapters::ozon::OzonSimulatorType());
  types.push_back(adapters::yandex_market::YandexMarketSimulatorType());
  types.push_back(adapters::mango::MangoSimulatorType());
  types.push_back(adapters::zadarma::ZadarmaSimulatorType());
  types.push_back(adapters::tochka::TochkaSimulatorType());
  types.push_back(adapters::onec_exchange::OnecExchangeSimulatorType());
  return types;
}

}  // namespace crmhub::adapters
