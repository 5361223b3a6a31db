#include "tests/adapters/bank_1c/statement_builder.h"

#include <fmt/format.h>
#include <iconv.h>

namespace crmhub::testutil {
namespace {

std::string Roubles(int64_t kopecks) {
  return fmt::format("{}.{:02}", kopecks / 100, kopecks % 100);
}

}  // namespace

std::string BuildStatement(const std::vector<TestPayment>& payments, bool balances,
                           const std::string& created) {
  std::string out =
      "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\n"
      "Отправитель=Банк\r\nПолучатель=1С:Предприятие\r\n";
  out += "ДатаСоздания=" + created + "\r\nВремяСоздания=10:00:00\r\n";
  out += std::string("РасчСчет=") + kOwnAccount + "\r\n";
  int64_t total = 0;
  for (const TestPayment& p : payments) total += p.kopecks;
  if (balances) {
    out += std::string(
               "СекцияРасчСчет\r\nДатаНачала=01.03.2024\r\nДатаКонца=03.03.2024\r\nРасчСчет=") +
           kOwnAccount + "\r\nНачальныйОстаток=0.00\r\nВсегоПоступило=" + Roubles(total) +
           "\r\nВсегоСписано=0.00\r\nКонечныйОстаток=" + Roubles(total) + "\r\nКонецРасчСчет\r\n";
  }
  for (const TestPayment& p : payments) {
    out += "СекцияДокумент=Платежное поручение\r\nНомер=" + p.number + "\r\nДата=" + p.date +
           "\r\nСумма=" + Roubles(p.kopecks) + "\r\nПлательщикСчет=" + p.payer_account +
           "\r\nПлательщикИНН=" + p.payer_inn + "\r\nПлательщик1=ООО Покупатель\r\n" +
           "ПолучательСчет=" + kOwnAccount + "\r\nПолучательИНН=7700000001\r\n" +
           (balances ? "ДатаПоступило=" + p.date + "\r\n" : std::string()) +
           "НазначениеПлатежа=" + p.purpose + "\r\nКонецДокумента\r\n";
  }
  out += "КонецФайла\r\n";
  return out;
}

std::string ToCp1251(const std::string& utf8) {
  iconv_t cd = iconv_open("CP1251", "UTF-8");
  std::string out(utf8.size() + 16, '\0');
  char* in_ptr = const_cast<char*>(utf8.data());
  size_t in_left = utf8.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left);
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace crmhub::testutil
