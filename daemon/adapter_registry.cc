#include "daemon/adapter_registry.h"

#include "adapters/bank_1c/bank_1c_adapter.h"
#include "adapters/cloudpayments/cloudpayments_adapter.h"
#include "adapters/mango/mango_adapter.h"
#include "adapters/onec_exchange/onec_exchange_adapter.h"
#include "adapters/onec_odata/onec_odata_adapter.h"
#include "adapters/ozon/ozon_adapter.h"
#include "adapters/robokassa/robokassa_adapter.h"
#include "adapters/tbank/tbank_adapter.h"
#include "adapters/tochka/tochka_adapter.h"
#include "adapters/webhook/webhook_adapter.h"
#include "adapters/wildberries/wildberries_adapter.h"
#include "adapters/yandex_market/yandex_market_adapter.h"
#include "adapters/yookassa/yookassa_adapter.h"
#include "adapters/zadarma/zadarma_adapter.h"

namespace crmhub::daemon {

std::vector<adapters::AdapterType> AllAdapterTypes() {
  std::vector<adapters::AdapterType> types;
  // One line per adapter type:
  types.push_back(adapters::wildberries::Type());
  types.push_back(adapters::webhook::Type());
  types.push_back(adapters::ozon::Type());
  types.push_back(adapters::yandex_market::Type());
  types.push_back(adapters::mango::Type());
  types.push_back(adapters::zadarma::Type());
  types.push_back(adapters::bank_1c::Type());
  types.push_back(adapters::tochka::Type());
  types.push_back(adapters::onec_exchange::Type());
  types.push_back(adapters::onec_odata::Type());
  types.push_back(adapters::yookassa::Type());
  types.push_back(adapters::cloudpayments::Type());
  types.push_back(adapters::tbank::Type());
  types.push_back(adapters::robokassa::Type());
  return types;
}

const adapters::AdapterType* FindAdapterType(const std::vector<adapters::AdapterType>& types,
                                             std::string_view type) {
  for (const auto& t : types) {
    if (t.schema.type == type) return &t;
  }
  return nullptr;
}

}  // namespace crmhub::daemon
