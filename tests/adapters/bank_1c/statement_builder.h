#pragma once
// Builds 1CClientBankExchange statements for tests: one account, incoming
// payments with balances that add up, UTF-8 or CP1251, CRLF.

#include <cstdint>
#include <string>
#include <vector>

namespace crmhub::testutil {

struct TestPayment {
  std::string number;
  std::string date = "02.03.2024";
  int64_t kopecks = 100000;
  std::string payer_inn = "7707049388";
  std::string payer_account = "40702810999999999999";
  std::string purpose = "Оплата по счету";
};

inline constexpr const char* kOwnAccount = "40702810000000000001";

// A statement of kOwnAccount crediting each payment (opening balance 0).
// `balances = false`: the same documents as payment orders (no СекцияРасчСчет).
std::string BuildStatement(const std::vector<TestPayment>& payments, bool balances = true,
                           const std::string& created = "03.03.2024");

// `utf8` re-encoded (iconv).
std::string ToCp1251(const std::string& utf8);

}  // namespace crmhub::testutil
