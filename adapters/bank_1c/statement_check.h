#pragma once
// The checks a 1CClientBankExchange file passes before anything of it is
// imported (adapters/bank_1c/bank_1c_adapter.h): a file that fails one is
// refused whole, with every problem found and its line.
//
//   * the header names ВерсияФормата, Кодировка and ДатаСоздания (a date:
//     it orders two exports of one document);
//   * each СекцияРасчСчет has РасчСчет, НачальныйОстаток, ВсегоПоступило,
//     ВсегоСписано and КонечныйОстаток as "руб.коп" amounts, and
//     НачальныйОстаток + ВсегоПоступило − ВсегоСписано = КонечныйОстаток;
//   * each СекцияДокумент has Номер, Дата (дд.мм.гггг), Сумма (an amount),
//     a payer account (ПлательщикСчет or ПлательщикРасчСчет) and a payee
//     account (ПолучательСчет or ПолучательРасчСчет); ДатаСписано,
//     ДатаПоступило and КвитанцияДата, when set, are dates;
//   * with `accounts` given, every account the file is about (header
//     РасчСчет, СекцияРасчСчет РасчСчет) is one of them: a statement of
//     someone else's account is refused rather than booked.
//
// Not checked, and why: the sum of a statement's documents against
// ВсегоПоступило / ВсегоСписано (a bank may filter the documents it exports
// by the header's `Документ` kinds, so the sums need not agree); required
// fields beyond those above (the format's own table of required fields was
// not readable, contracts/banks/README.md §1).

#include <string>
#include <vector>

#include "adapters/bank_1c/statement_parser.h"

namespace crmhub::adapters::bank_1c {

// Every problem as "line N: what" in file order; empty when the file passes.
std::vector<std::string> CheckStatement(const Statement& statement,
                                        const std::vector<std::string>& accounts = {});

// ParseStatement, then CheckStatement: InvalidArgument listing the problems
// ("1CClientBankExchange line 12: ...; line 40: ...") when either fails.
Result<Statement> ReadStatement(std::string_view bytes,
                                const std::vector<std::string>& accounts = {});

}  // namespace crmhub::adapters::bank_1c
