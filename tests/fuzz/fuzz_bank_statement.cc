// The 1CClientBankExchange reader: any bytes, any charset label, through the
// parser and the checks the bank-1c adapter runs before importing a file
// (adapters/bank_1c/statement_check.h), with the invariants the adapter
// relies on: every document has its line table, a dedup identity and an
// occurrence, and a statement's status is booked, a payment-order file's
// prepared.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/bank_1c/statement_check.h"
#include "adapters/bank_1c/statement_parser.h"

namespace {

void Require(bool holds) {
  if (!holds) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bank = crmhub::adapters::bank_1c;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto st = bank::ParseStatement(bytes);
  if (!st.ok()) return 0;
  Require(st->documents.size() == st->document_lines.size());
  Require(st->balances.size() == st->balance_lines.size());
  for (const auto& doc : st->documents) {
    auto id = doc.find("_id");
    auto status = doc.find("_status");
    Require(id != doc.end() && id->is_string() && !id->get_ref<const std::string&>().empty());
    Require(status != doc.end() && *status == (st->is_statement() ? "booked" : "prepared"));
  }
  (void)bank::CheckStatement(*st, {"40702810000000000001"});
  (void)bank::ReadStatement(bytes);
  return 0;
}
