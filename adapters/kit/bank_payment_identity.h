#pragma once
// One identity for a bank payment, whichever way it reached us: a
// 1CClientBankExchange file (adapters/bank_1c), a bank's statement API or its
// incoming-payment webhook (adapters/tochka). The same payment seen twice
// (overlapping statements, a re-downloaded file, a webhook then the
// statement) has the same identity; two real payments that agree on every
// part (the same payer paying the same sum twice a day under one number) are
// told apart by an occurrence counter, so both survive.
//
// Parts (contracts/banks/README.md §1 "Direction & dedup", [I]): the document
// date, its number (unique per payer only), the amount in kopecks, the payer
// (INN, else its account: anonymised or foreign payers have none) and the
// payee's account. The document kind is deliberately left out: banks show a
// payment first as a "Мемориальный ордер" and later as a "Платежное
// поручение" (Tochka's statement doc, README §2).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crmhub::adapters::kit {

struct BankPaymentFacts {
  std::string date;          // YYYY-MM-DD (the document date)
  std::string number;        // the document number, trimmed
  int64_t amount_minor = 0;  // kopecks
  std::string payer_inn;     // may be empty
  std::string payer_account;
  std::string payee_account;
};

// "2024-03-02|77|150000|7707049388|40702810000000000001".
std::string BankPaymentIdentity(const BankPaymentFacts& facts);

// Numbers the occurrences of each identity within one source document (a
// file, a statement answer), in the order they appear: 1, 2, ... The key of
// a payment is "<identity>#<occurrence>".
class OccurrenceCounter {
 public:
  int Next(const std::string& identity) { return ++seen_[identity]; }

 private:
  std::map<std::string, int> seen_;
};

// "1234.5", "1 234,56", "-10" → kopecks; nullopt for anything else (more than
// two decimals, letters, overflow). Bank formats write "руб.коп" with a point.
std::optional<int64_t> ParseRoubles(std::string_view text);

// "dd.mm.yyyy" → "yyyy-mm-dd" when it is a calendar date; nullopt otherwise.
std::optional<std::string> DottedDateToIso(std::string_view text);

}  // namespace crmhub::adapters::kit
