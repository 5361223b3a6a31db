// The checks a 1CClientBankExchange file passes before it is imported
// (adapters/bank_1c/statement_check.h), the statement / payment-order split
// and the per-document dedup identity with its occurrence counter.

#include "adapters/bank_1c/statement_check.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace crmhub::adapters::bank_1c {
namespace {

std::string ReadContract(const std::string& rel) {
  std::ifstream in(std::string(CRMHUB_CONTRACTS_DIR) + "/banks/1c_client_bank_exchange/" + rel,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << rel;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// A statement of one account with two documents, LF line ends. Line numbers
// in the expectations below count from the marker (line 1).
constexpr const char* kStatement =
    "1CClientBankExchange\n"                 // 1
    "ВерсияФормата=1.03\n"                   // 2
    "Кодировка=Windows\n"                    // 3
    "ДатаСоздания=02.03.2024\n"              // 4
    "ВремяСоздания=09:15:00\n"               // 5
    "РасчСчет=40702810000000000001\n"        // 6
    "СекцияРасчСчет\n"                       // 7
    "РасчСчет=40702810000000000001\n"        // 8
    "НачальныйОстаток=1000.00\n"             // 9
    "ВсегоПоступило=300.50\n"                // 10
    "ВсегоСписано=100.00\n"                  // 11
    "КонечныйОстаток=1200.50\n"              // 12
    "КонецРасчСчет\n"                        // 13
    "СекцияДокумент=Платежное поручение\n"   // 14
    "Номер=5\n"                              // 15
    "Дата=01.03.2024\n"                      // 16
    "Сумма=150.25\n"                         // 17
    "ПлательщикСчет=40702810999999999999\n"  // 18
    "ПлательщикИНН=7707049388\n"             // 19
    "ПолучательСчет=40702810000000000001\n"  // 20
    "ДатаПоступило=02.03.2024\n"             // 21
    "КонецДокумента\n"                       // 22
    "СекцияДокумент=Платежное поручение\n"   // 23
    "Номер=5\n"                              // 24
    "Дата=01.03.2024\n"                      // 25
    "Сумма=150.25\n"                         // 26
    "ПлательщикСчет=40702810999999999999\n"  // 27
    "ПлательщикИНН=7707049388\n"             // 28
    "ПолучательСчет=40702810000000000001\n"  // 29
    "ДатаПоступило=02.03.2024\n"             // 30
    "КонецДокумента\n"                       // 31
    "КонецФайла\n";                          // 32

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string ReadError(const std::string& text, const std::vector<std::string>& accounts = {}) {
  auto st = ReadStatement(text, accounts);
  return st.ok() ? "ok" : st.status().message();
}

TEST(StatementCheckTest, EverySamplePasses) {
  for (const char* name :
       {"kilylabs_one_day_cp1251_crlf.txt", "kilylabs_one_day_utf8_crlf.txt",
        "xini1_sample1_all_fields_v103_utf8.txt", "xini1_sample2_v101_utf8.txt"}) {
    EXPECT_EQ(ReadError(ReadContract(name)), "ok") << name;
  }
  EXPECT_EQ(ReadError(kStatement), "ok");
}

TEST(StatementCheckTest, BalancesMustAddUp) {
  EXPECT_EQ(ReadError(Replace(kStatement, "КонечныйОстаток=1200.50", "КонечныйОстаток=1200.00")),
            "1CClientBankExchange line 12: the balances do not add up: НачальныйОстаток 1000.00 + "
            "ВсегоПоступило 300.50 - ВсегоСписано 100.00 = 1200.50, but КонечныйОстаток is "
            "1200.00");
  EXPECT_EQ(ReadError(Replace(kStatement, "ВсегоСписано=100.00", "ВсегоСписано=сто")),
            "1CClientBankExchange line 11: ВсегоСписано=\"сто\" is not an amount (руб.коп)");
}

TEST(StatementCheckTest, MissingRequiredFieldsAreNamedWithTheirLines) {
  std::string text = Replace(kStatement, "Сумма=150.25\nПлательщикСчет", "ПлательщикСчет");
  text = Replace(text, "Дата=01.03.2024\nСумма=150.25", "Дата=31.02.2024\nСумма=150.25");
  text = Replace(text, "ВерсияФормата=1.03\n", "");
  EXPECT_EQ(ReadError(text),
            "1CClientBankExchange line 1: the header has no ВерсияФормата; line 13: the "
            "СекцияДокумент on line 13 has no Сумма; line 23: Дата=\"31.02.2024\" is not a date "
            "(дд.мм.гггг)");
  EXPECT_EQ(ReadError(Replace(kStatement,
                              "ПолучательСчет=40702810000000000001\nДатаПоступило=02.03."
                              "2024\nКонецДокумента\nКонецФайла",
                              "ДатаПоступило=02.03.2024\nКонецДокумента\nКонецФайла")),
            "1CClientBankExchange line 23: the СекцияДокумент on line 23 has no payee account "
            "(ПолучательСчет)");
}

TEST(StatementCheckTest, DamagedFilesAreRefusedWithTheLine) {
  std::string text = kStatement;
  // Truncated.
  EXPECT_EQ(ReadError(text.substr(0, text.find("КонецДокумента"))),
            "1CClientBankExchange line 21: the file ends inside the section opened on line 14 "
            "(truncated?)");
  // Garbage lines.
  EXPECT_EQ(ReadError(Replace(text, "Номер=5\n", "Номер=5\n\x01\x02garbage\n")),
            "1CClientBankExchange line 16: unexpected \"\x01\x02garbage\" inside the section "
            "opened on line 14");
  EXPECT_EQ(ReadError(text + "more text\n"),
            "1CClientBankExchange line 32: text after КонецФайла (two files glued together, or "
            "garbage)");
  // Wrong encoding: a UTF-16 file, a CP866 body read as CP1251 (its Cyrillic
  // keys become other letters: no section word is recognised).
  EXPECT_EQ(ReadError(std::string("\xFF\xFE"
                                  "1\0C\0",
                                  6)),
            "1CClientBankExchange line 1: the file must start with 1CClientBankExchange");
  // A UTF-8 file with a CP1251 line in it ("Оплата" in CP1251 on line 16).
  EXPECT_EQ(ReadError(Replace(text, "Дата=01.03.2024\n",
                              "Дата=01.03.2024\nНазначениеПлатежа=\xCE\xEF\xEB\xE0\xF2\xE0\n")),
            "1CClientBankExchange line 17: a byte that is not UTF-8 in a UTF-8 file (damaged, or "
            "two encodings mixed)");
  // Cut inside a two-byte character.
  const std::string cut = text.substr(0, text.find("КонецФайла") + 1);
  EXPECT_EQ(ReadError(cut),
            "1CClientBankExchange line 32: the file ends inside a UTF-8 character (truncated?)");
}

TEST(StatementCheckTest, AccountsOfSomeoneElseAreRefused) {
  EXPECT_EQ(ReadError(kStatement, {"40702810000000000001"}), "ok");
  EXPECT_EQ(ReadError(kStatement, {"40702810000000000002"}),
            "1CClientBankExchange line 6: РасчСчет=40702810000000000001 is not one of this "
            "adapter's accounts; line 8: РасчСчет=40702810000000000001 is not one of this "
            "adapter's accounts");
}

TEST(StatementCheckTest, TwoIdenticalPaymentsAreTwoDocumentsOfOneIdentity) {
  auto st = ReadStatement(kStatement);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->documents.size(), 2u);
  EXPECT_EQ(st->documents[0]["_identity"], "2024-03-01|5|15025|7707049388|40702810000000000001");
  EXPECT_EQ(st->documents[0]["_id"], "2024-03-01|5|15025|7707049388|40702810000000000001#1");
  EXPECT_EQ(st->documents[1]["_id"], "2024-03-01|5|15025|7707049388|40702810000000000001#2");
  EXPECT_EQ(st->documents[0]["_status"], "booked");
  EXPECT_EQ(st->documents[0]["_direction"], "in");
}

TEST(StatementCheckTest, DocumentsWithoutBalancesArePaymentOrders) {
  std::string text = kStatement;
  text.erase(text.find("СекцияРасчСчет"),
             text.find("СекцияДокумент") - text.find("СекцияРасчСчет"));
  auto st = ReadStatement(text);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_FALSE(st->is_statement());
  EXPECT_EQ(st->documents[0]["_status"], "prepared");
  auto orders = ReadStatement(ReadContract("xini1_sample2_v101_utf8.txt"));
  ASSERT_TRUE(orders.ok());
  EXPECT_EQ(orders->documents[0]["_status"], "prepared");
  auto statement = ReadStatement(ReadContract("kilylabs_one_day_cp1251_crlf.txt"));
  ASSERT_TRUE(statement.ok());
  EXPECT_EQ(statement->documents[0]["_status"], "booked");
}

TEST(StatementCheckTest, CrlfAndLfReadTheSame) {
  std::string crlf;
  for (char c : std::string(kStatement)) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  auto a = ReadStatement(kStatement);
  auto b = ReadStatement(crlf);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->documents, b->documents);
}

}  // namespace
}  // namespace crmhub::adapters::bank_1c
