// The 1CClientBankExchange parser: any bytes, any charset label.

#include <cstdint>
#include <string_view>

#include "adapters/bank_1c/statement_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)crmhub::adapters::bank_1c::ParseStatement(bytes);
  return 0;
}
