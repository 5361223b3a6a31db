// The CommerceML 2 catalogue reader (adapters/onec_exchange/
// commerceml_parser.h): any bytes as an import*.xml or offers*.xml, with
// the invariants the exchange relies on: every record is an object, every
// price knows its offer.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/onec_exchange/commerceml_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace onec = crmhub::adapters::onec_exchange;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto file = onec::ParseCatalogFile(bytes);
  if (!file.ok()) return 0;
  for (const auto& p : file->products) {
    if (!p.is_object()) std::abort();
  }
  for (const auto& o : file->offers) {
    if (!o.is_object()) std::abort();
    auto prices = o.find("Цены");
    if (prices == o.end() || !prices->is_array()) std::abort();
    for (const auto& price : *prices) {
      if (!price.contains("_offer")) std::abort();
    }
  }
  return 0;
}
