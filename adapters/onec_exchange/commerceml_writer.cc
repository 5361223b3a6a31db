#include "adapters/onec_exchange/commerceml_writer.h"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "base/json_get.h"

namespace crmhub::adapters::onec_exchange {
namespace {

using nlohmann::json;

std::string Escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // Control characters are not allowed in XML 1.0: left out.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\n' || c == '\t') out += c;
    }
  }
  return out;
}

std::string Amount(int64_t minor) {
  const int64_t a = minor < 0 ? -minor : minor;
  return fmt::format("{}{}.{:02}", minor < 0 ? "-" : "", a / 100, a % 100);
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return "";
}

std::optional<int64_t> Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

void Element(std::string& out, const char* indent, const char* name, std::string_view value) {
  if (value.empty()) return;
  out += fmt::format("{}<{}>{}</{}>\n", indent, name, Escape(value), name);
}

// "yyyy-MM-dd" and "HH:mm:ss" of `ms` since the epoch in Moscow time (UTC+3,
// no daylight saving since 2014).
std::pair<std::string, std::string> MoscowDateTime(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000 + 3 * 3600);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return {fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
          fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)};
}

void Document(std::string& out, const json& o) {
  out += "  <Документ>\n";
  const std::string id = Str(o, "order_id");
  Element(out, "    ", "Ид", id);
  const std::string number = Str(o, "number");
  Element(out, "    ", "Номер", number.empty() ? id : number);
  if (std::optional<int64_t> created = Int(o, "created_ms")) {
    const auto [date, time] = MoscowDateTime(*created);
    Element(out, "    ", "Дата", date);
    Element(out, "    ", "Время", time);
  }
  Element(out, "    ", "ХозОперация", "Заказ товара");
  Element(out, "    ", "Роль", "Продавец");
  const std::string currency = Str(o, "currency");
  Element(out, "    ", "Валюта", currency == "RUB" || currency.empty() ? "руб" : currency);
  Element(out, "    ", "Курс", "1");
  if (std::optional<int64_t> total = Int(o, "total")) Element(out, "    ", "Сумма", Amount(*total));
  const std::string customer = Str(o, "customer_name");
  if (!customer.empty()) {
    out += "    <Контрагенты>\n      <Контрагент>\n";
    Element(out, "        ", "Наименование", customer);
    Element(out, "        ", "Роль", "Покупатель");
    out += "      </Контрагент>\n    </Контрагенты>\n";
  }
  if (const json* lines = JsonArray(o, "lines"); lines != nullptr && !lines->empty()) {
    out += "    <Товары>\n";
    for (const json& l : *lines) {
      if (!l.is_object()) continue;
      out += "      <Товар>\n";
      Element(out, "        ", "Ид", Str(l, "sku"));
      Element(out, "        ", "Наименование", Str(l, "name"));
      if (std::optional<int64_t> price = Int(l, "price")) {
        Element(out, "        ", "ЦенаЗаЕдиницу", Amount(*price));
      }
      Element(out, "        ", "Количество", Str(l, "quantity"));
      if (std::optional<int64_t> sum = Int(l, "total")) {
        Element(out, "        ", "Сумма", Amount(*sum));
      }
      out += "      </Товар>\n";
    }
    out += "    </Товары>\n";
  }
  const std::string status = Str(o, "status");
  if (!status.empty()) {
    out += "    <ЗначенияРеквизитов>\n      <ЗначениеРеквизита>\n";
    Element(out, "        ", "Наименование", "Статус заказа");
    Element(out, "        ", "Значение", status);
    out += "      </ЗначениеРеквизита>\n    </ЗначенияРеквизитов>\n";
  }
  out += "  </Документ>\n";
}

}  // namespace

std::string OrdersDocument(const std::vector<json>& orders, SystemTime now) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const auto [date, time] = MoscowDateTime(now_ms);
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<КоммерческаяИнформация ВерсияСхемы=\"2.05\" ДатаФормирования=\"{}T{}\" "
      "ФорматДаты=\"ДФ=yyyy-MM-dd; ДЛФ=DT\" ФорматВремени=\"ДФ=ЧЧ:мм:сс; ДЛФ=T\" "
      "РазделительДатаВремя=\"T\" ФорматСуммы=\"ЧЦ=18; ЧДЦ=2; ЧРД=.\" "
      "ФорматКоличества=\"ЧЦ=18; ЧДЦ=2; ЧРД=.\">\n",
      date, time);
  for (const json& o : orders) Document(out, o);
  out += "</КоммерческаяИнформация>\n";
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
