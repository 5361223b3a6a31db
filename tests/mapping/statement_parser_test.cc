// The 1CClientBankExchange reader: encodings, sections, direction, errors.

#include "adapters/bank_1c/statement_parser.h"

#include <gtest/gtest.h>
#include <iconv.h>

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

// UTF-8 → `charset`, for building test files in legacy encodings.
std::string FromUtf8(const std::string& utf8, const char* charset) {
  iconv_t cd = iconv_open(charset, "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2 + 8, '\0');
  char* in_ptr = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  EXPECT_NE(iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left), static_cast<size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

constexpr const char* kSmall =
    "1CClientBankExchange\r\n"
    "ВерсияФормата=1.03\r\n"
    "Кодировка=DOS\r\n"
    "ДатаСоздания=02.03.2024\r\n"
    "ВремяСоздания=09:15:00\r\n"
    "РасчСчет=40702810000000000001\r\n"
    "\r\n"
    "СекцияДокумент=Мемориальный ордер\r\n"
    "Номер=77\r\n"
    "Сумма=1500.00\r\n"
    "ПлательщикСчет=40702810000000000001\r\n"
    "ПолучательСчет=40702810999999999999\r\n"
    "КодДебитора=X1\r\n"
    "НазначениеПлатежа=Оплата по счёту №5; НДС=250.00\r\n"
    "КонецДокумента\r\n"
    "КонецФайла\r\n";

TEST(StatementParserTest, Cp1251FileWithBalancesAndDocuments) {
  auto st = ParseStatement(ReadContract("kilylabs_one_day_cp1251_crlf.txt"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->encoding, "CP1251");
  EXPECT_EQ(st->header["ВерсияФормата"], "1.02");
  EXPECT_EQ(st->header["РасчСчет"], nlohmann::json::array({"40702810200000000001"}));
  ASSERT_EQ(st->balances.size(), 1u);
  EXPECT_EQ(st->balances[0]["КонечныйОстаток"], "44145.91");
  ASSERT_EQ(st->documents.size(), 13u);
  const auto& first = st->documents[0];
  EXPECT_EQ(first["СекцияДокумент"], "Банковский ордер");
  EXPECT_EQ(first["Номер"], "697162");
  EXPECT_EQ(first["Плательщик1"], "Some random payer");
  EXPECT_EQ(first["ПлательщикБанк2"], "г. МОСКВА");
  EXPECT_EQ(first["КвитанцияСодержание"], "статус документа: Внешний ");  // value kept as is
  EXPECT_EQ(first["_direction"], "out");  // only ДатаСписано set (accounts are anonymised)
  EXPECT_EQ(first["_statement"]["ДатаСоздания"], "12.01.2016");
  EXPECT_EQ(st->documents[12]["_direction"], "in");
  EXPECT_EQ(st->documents[12]["_account"], "40702810200000000001");

  auto utf = ParseStatement(ReadContract("kilylabs_one_day_utf8_crlf.txt"));
  ASSERT_TRUE(utf.ok());
  EXPECT_EQ(utf->encoding, "UTF-8");
  EXPECT_EQ(utf->documents, st->documents);
}

TEST(StatementParserTest, MislabeledUtf8FileIsReadAsUtf8) {
  // Says Кодировка=Windows but is UTF-8 (contracts README note).
  auto st = ParseStatement(ReadContract("xini1_sample1_all_fields_v103_utf8.txt"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->encoding, "UTF-8");
  EXPECT_EQ(st->header["Документ"],
            nlohmann::json::array({"Платежное поручение", "Платежное требование"}));
  EXPECT_EQ(st->balances.size(), 2u);
  ASSERT_EQ(st->documents.size(), 2u);
  EXPECT_EQ(st->documents[1]["СекцияДокумент"], "Платежное требование");
  EXPECT_EQ(st->documents[0]["_direction"], "unknown");  // own account on both sides, both dates
  auto v101 = ParseStatement(ReadContract("xini1_sample2_v101_utf8.txt"));
  ASSERT_TRUE(v101.ok()) << v101.status().ToString();
  EXPECT_TRUE(v101->balances.empty());
  EXPECT_FALSE(v101->documents.empty());
}

TEST(StatementParserTest, DosEncodingUnknownKeysAndAccountDirection) {
  auto st = ParseStatement(FromUtf8(kSmall, "CP866"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->encoding, "CP866");
  ASSERT_EQ(st->documents.size(), 1u);
  const auto& d = st->documents[0];
  EXPECT_EQ(d["СекцияДокумент"], "Мемориальный ордер");
  EXPECT_EQ(d["КодДебитора"], "X1");  // bank-specific keys are kept
  EXPECT_EQ(d["НазначениеПлатежа"], "Оплата по счёту №5; НДС=250.00");  // '=' in the value
  EXPECT_EQ(d["_direction"], "out");
  EXPECT_EQ(d["_account"], "40702810000000000001");
  // The same text in CP1251 saying Кодировка=Windows decodes to the same record.
  std::string windows = kSmall;
  windows.replace(windows.find("DOS"), 3, "Windows");
  auto win = ParseStatement(FromUtf8(windows, "CP1251"));
  ASSERT_TRUE(win.ok()) << win.status().ToString();
  EXPECT_EQ(win->encoding, "CP1251");
  EXPECT_EQ(win->documents, st->documents);
}

std::string ParseError(const std::string& text) {
  auto st = ParseStatement(text);
  return st.ok() ? "parsed" : st.status().message();
}

TEST(StatementParserTest, BrokenFilesAreRejectedWithTheLine) {
  std::string good = kSmall;
  EXPECT_EQ(ParseError(good), "parsed");
  EXPECT_EQ(ParseError(""), "1CClientBankExchange: empty file");
  EXPECT_EQ(ParseError("Hello\r\n"),
            "1CClientBankExchange line 1: the file must start with 1CClientBankExchange");
  std::string truncated = good.substr(0, good.find("КонецДокумента"));
  EXPECT_EQ(ParseError(truncated),
            "1CClientBankExchange line 14: the file ends inside the section opened on line 8 "
            "(truncated?)");
  std::string no_end = good.substr(0, good.find("КонецФайла"));
  EXPECT_EQ(ParseError(no_end),
            "1CClientBankExchange line 15: no КонецФайла: the file is truncated");
  std::string nested = good;
  nested.insert(nested.find("КонецДокумента"), "СекцияДокумент=Платежное поручение\r\n");
  EXPECT_EQ(ParseError(nested),
            "1CClientBankExchange line 15: a new document inside the section opened on line 8");
  std::string junk = good;
  junk.insert(junk.find("КонецФайла"), "Мусор\r\n");
  EXPECT_EQ(ParseError(junk), "1CClientBankExchange line 16: unexpected line \"Мусор\"");
}

TEST(StatementParserTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("Кодировка"));
  EXPECT_FALSE(IsValidUtf8("\xCA\xEE\xE4"));  // "Код" in CP1251
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));      // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xD0"));          // truncated sequence
}

}  // namespace
}  // namespace crmhub::adapters::bank_1c
