#include "adapters/simulator_registry.h"

#include "adapters/cloudpayments/cloudpayments_sim.h"
#include "adapters/mango/mango_sim.h"
#include "adapters/onec_exchange/onec_exchange_sim.h"
#include "adapters/onec_odata/onec_odata_sim.h"
#include "adapters/ozon/ozon_sim.h"
#include "adapters/robokassa/robokassa_sim.h"
#include "adapters/tbank/tbank_sim.h"
#include "adapters/tochka/tochka_sim.h"
#include "adapters/wildberries/wildberries_sim.h"
#include "adapters/yandex_market/yandex_market_sim.h"
#include "adapters/yookassa/yookassa_sim.h"
#include "adapters/zadarma/zadarma_sim.h"

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
  types.push_back(adapters::onec_odata::OnecODataSimulatorType());
  types.push_back(adapters::yookassa::YooKassaSimulatorType());
  types.push_back(adapters::cloudpayments::CloudPaymentsSimulatorType());
  types.push_back(adapters::tbank::TbankSimulatorType());
  types.push_back(adapters::robokassa::RobokassaSimulatorType());
  return types;
}

}  // namespace crmhub::adapters
