// Every field of a 1CClientBankExchange document survives the shipped rules
// (config/mappings/bank-1c-statement.toml): for each sample in
// contracts/banks/1c_client_bank_exchange/, each key of each document with a
// value is found, with that value, where docs/adapters/bank-1c.md says it
// goes. The table below is that page's table, written again here so that a
// rule dropping or moving a field fails.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "adapters/bank_1c/statement_parser.h"
#include "mapping/model/model.h"
#include "mapping/rules/rule_set.h"

namespace crmhub::mapping {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Format key → JSON pointer into the entity (model::ToJson) holding its
// trimmed text.
const std::map<std::string, std::string>& Places() {
  static const std::map<std::string, std::string> kPlaces = {
      {"СекцияДокумент", "/fields/document_kind"},
      {"Номер", "/fields/document_number"},
      {"Дата", "/fields/extra/payment/date"},
      {"Сумма", "/fields/extra/payment/amount"},
      {"КвитанцияДата", "/fields/extra/receipt/date"},
      {"КвитанцияВремя", "/fields/extra/receipt/time"},
      {"КвитанцияСодержание", "/fields/extra/receipt/content"},
      {"ПлательщикСчет", "/fields/extra/payer/account"},
      {"ДатаСписано", "/fields/extra/payer/debited_date"},
      {"Плательщик", "/fields/extra/payer/name"},
      {"ПлательщикИНН", "/fields/payer_inn"},
      {"Плательщик1", "/fields/extra/payer/name1"},
      {"Плательщик2", "/fields/extra/payer/name2"},
      {"Плательщик3", "/fields/extra/payer/name3"},
      {"Плательщик4", "/fields/extra/payer/name4"},
      {"ПлательщикРасчСчет", "/fields/extra/payer/settlement_account"},
      {"ПлательщикБанк1", "/fields/payer_bank"},
      {"ПлательщикБанк2", "/fields/extra/payer/bank2"},
      {"ПлательщикБИК", "/fields/payer_bic"},
      {"ПлательщикКорсчет", "/fields/extra/payer/correspondent_account"},
      {"ПлательщикКПП", "/fields/extra/payer/kpp"},
      {"ПолучательСчет", "/fields/extra/payee/account"},
      {"ДатаПоступило", "/fields/extra/payee/credited_date"},
      {"Получатель", "/fields/extra/payee/name"},
      {"ПолучательИНН", "/fields/payee_inn"},
      {"Получатель1", "/fields/extra/payee/name1"},
      {"Получатель2", "/fields/extra/payee/name2"},
      {"Получатель3", "/fields/extra/payee/name3"},
      {"Получатель4", "/fields/extra/payee/name4"},
      {"ПолучательРасчСчет", "/fields/extra/payee/settlement_account"},
      {"ПолучательБанк1", "/fields/payee_bank"},
      {"ПолучательБанк2", "/fields/extra/payee/bank2"},
      {"ПолучательБИК", "/fields/payee_bic"},
      {"ПолучательКорсчет", "/fields/extra/payee/correspondent_account"},
      {"ПолучательКПП", "/fields/extra/payee/kpp"},
      {"ВидПлатежа", "/fields/extra/payment/kind"},
      {"КодНазПлатежа", "/fields/extra/payment/purpose_code"},
      {"ВидОплаты", "/fields/extra/payment/operation_type"},
      {"Код", "/fields/extra/payment/code"},
      {"Очередность", "/fields/extra/payment/priority"},
      {"НазначениеПлатежа", "/fields/purpose"},
      {"НазначениеПлатежа1", "/fields/extra/purpose_lines/line1"},
      {"НазначениеПлатежа2", "/fields/extra/purpose_lines/line2"},
      {"НазначениеПлатежа3", "/fields/extra/purpose_lines/line3"},
      {"НазначениеПлатежа4", "/fields/extra/purpose_lines/line4"},
      {"НазначениеПлатежа5", "/fields/extra/purpose_lines/line5"},
      {"НазначениеПлатежа6", "/fields/extra/purpose_lines/line6"},
      {"СтатусСоставителя", "/fields/extra/tax/originator_status"},
      {"ПоказательКБК", "/fields/extra/tax/kbk"},
      {"ОКАТО", "/fields/extra/tax/oktmo"},
      {"ПоказательОснования", "/fields/extra/tax/basis"},
      {"ПоказательПериода", "/fields/extra/tax/period"},
      {"ПоказательНомера", "/fields/extra/tax/number"},
      {"ПоказательДаты", "/fields/extra/tax/date"},
      {"ПоказательТипа", "/fields/extra/tax/type"},
      {"СрокАкцепта", "/fields/extra/terms/acceptance_term"},
      {"ВидАккредитива", "/fields/extra/terms/letter_of_credit_kind"},
      {"СрокПлатежа", "/fields/extra/terms/payment_term"},
      {"УсловиеОплаты1", "/fields/extra/terms/condition1"},
      {"УсловиеОплаты2", "/fields/extra/terms/condition2"},
      {"УсловиеОплаты3", "/fields/extra/terms/condition3"},
      {"ПлатежПоПредст", "/fields/extra/terms/payment_on_presentation"},
      {"ДополнУсловия", "/fields/extra/terms/additional_conditions"},
      {"НомерСчетаПоставщика", "/fields/extra/terms/supplier_account_number"},
      {"ДатаОтсылкиДок", "/fields/extra/terms/documents_sent_date"},
  };
  return kPlaces;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Maps every document of `bytes`; returns how many keys with a value it checked.
int CheckEveryFieldKept(const std::string& name, const std::string& bytes) {
  auto rules =
      LoadRules(std::string(CRMHUB_SOURCE_DIR) + "/config/mappings/bank-1c-statement.toml");
  EXPECT_TRUE(rules.ok()) << rules.status().ToString();
  if (!rules.ok()) return 0;
  auto st = adapters::bank_1c::ParseStatement(bytes);
  EXPECT_TRUE(st.ok()) << name << ": " << st.status().ToString();
  if (!st.ok()) return 0;
  int checked = 0;
  for (const json& doc : st->documents) {
    auto mapped = rules->Apply(doc, {"bank", nullptr, 0});
    EXPECT_TRUE(mapped.ok()) << name << ": " << mapped.status().ToString();
    if (!mapped.ok() || mapped->size() != 1) {
      ADD_FAILURE() << name << ": expected one entity";
      continue;
    }
    json entity = model::ToJson((*mapped)[0]);
    for (const auto& [key, value] : doc.items()) {
      if (key.starts_with("_") || !value.is_string() || Trim(value.get<std::string>()).empty()) {
        continue;
      }
      auto place = Places().find(key);
      // A key that is not the format's own stays as it came under extra.other.
      std::string pointer = place != Places().end() ? place->second : "/fields/extra/other/" + key;
      std::string expected =
          place != Places().end() ? Trim(value.get<std::string>()) : value.get<std::string>();
      json::json_pointer ptr(pointer);
      EXPECT_TRUE(entity.contains(ptr))
          << name << ": " << key << " is dropped (looked at " << pointer << ")";
      if (entity.contains(ptr)) {
        EXPECT_EQ(entity[ptr], expected) << name << ": " << key;
      }
      ++checked;
    }
  }
  return checked;
}

TEST(BankFieldsTest, EverySampleKeepsEveryField) {
  const std::string dir = std::string(CRMHUB_CONTRACTS_DIR) + "/banks/1c_client_bank_exchange/";
  EXPECT_GT(
      CheckEveryFieldKept("kilylabs cp1251", ReadFile(dir + "kilylabs_one_day_cp1251_crlf.txt")),
      300);
  EXPECT_GT(CheckEveryFieldKept("kilylabs utf8", ReadFile(dir + "kilylabs_one_day_utf8_crlf.txt")),
            300);
  // Every key of the format, once each, in two documents.
  EXPECT_EQ(CheckEveryFieldKept("xini1 all fields",
                                ReadFile(dir + "xini1_sample1_all_fields_v103_utf8.txt")),
            2 * static_cast<int>(Places().size()));
  EXPECT_GT(
      CheckEveryFieldKept("xini1 payment orders", ReadFile(dir + "xini1_sample2_v101_utf8.txt")),
      20);
}

TEST(BankFieldsTest, TaxPaymentKeepsItsBudgetFieldsAndABanksOwnKeys) {
  const std::string file =
      "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nДатаСоздания=25.04."
      "2024\r\n"
      "РасчСчет=40702810000000000001\r\n"
      "СекцияДокумент=Платежное поручение\r\nНомер=12\r\nДата=25.04.2024\r\nСумма=56000.00\r\n"
      "ПлательщикСчет=40702810000000000001\r\nПлательщикИНН=7707083893\r\n"
      "ПолучательСчет=03100643000000018500\r\nПолучательИНН=7727406020\r\n"
      "ПолучательКорсчет=40102810445370000059\r\nСтатусСоставителя=01\r\n"
      "ПоказательКБК=18201061201010000510\r\nОКАТО=45383000\r\nПоказательОснования=0\r\n"
      "ПоказательПериода=0\r\nПоказательНомера=0\r\nПоказательДаты=0\r\nПоказательТипа=\r\n"
      "Очередность=5\r\nКод=0\r\nВидОплаты=01\r\nНазначениеПлатежа=Единый налоговый платеж\r\n"
      "КодДебитора=X1\r\nКонецДокумента\r\nКонецФайла\r\n";
  EXPECT_EQ(CheckEveryFieldKept("tax", file), 21);  // ПоказательТипа is empty
}

}  // namespace
}  // namespace crmhub::mapping
