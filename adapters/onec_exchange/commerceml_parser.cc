#include "adapters/onec_exchange/commerceml_parser.h"

#include <initializer_list>

#include <pugixml.hpp>

#include "adapters/onec_exchange/xml_charset.h"

namespace crmhub::adapters::onec_exchange {
namespace {

using nlohmann::json;

// The local name of an element ("Товар" for "cml:Товар").
std::string_view Local(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view name) {
  for (pugi::xml_node c = n.first_child(); c; c = c.next_sibling()) {
    if (c.type() == pugi::node_element && Local(c) == name) return c;
  }
  return {};
}

std::string Trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Text(const pugi::xml_node& n, std::string_view name) {
  pugi::xml_node c = Child(n, name);
  return c ? Trimmed(c.child_value()) : std::string();
}

// The non-empty text of each of `keys`' child elements, into `out`.
void CopyTexts(const pugi::xml_node& n, std::initializer_list<const char*> keys, json& out) {
  for (const char* key : keys) {
    std::string v = Text(n, key);
    if (!v.empty()) out[key] = v;
  }
}

bool Attr(const pugi::xml_node& n, const char* name) {
  std::string_view v = n.attribute(name).value();
  return v == "true" || v == "1";
}

// {<key>: Значение} over the elements of `list` (ЗначенияРеквизитов by
// Наименование, ЗначенияСвойств by Ид); elements without the key are left out.
json ValuesBy(const pugi::xml_node& item, std::string_view list, std::string_view key) {
  json out = json::object();
  if (pugi::xml_node l = Child(item, list)) {
    for (pugi::xml_node v = l.first_child(); v; v = v.next_sibling()) {
      if (v.type() != pugi::node_element) continue;
      std::string k = Text(v, key);
      if (!k.empty()) out[k] = Text(v, "Значение");
    }
  }
  return out;
}

json Product(const pugi::xml_node& item, const std::string& catalog, bool only_changes) {
  json p = json::object();
  CopyTexts(item,
            {"Ид", "Артикул", "Наименование", "БазоваяЕдиница", "Штрихкод", "Описание", "Статус",
             "ПометкаУдаления"},
            p);
  json groups = json::array();
  if (pugi::xml_node g = Child(item, "Группы")) {
    for (pugi::xml_node id = g.first_child(); id; id = id.next_sibling()) {
      if (id.type() == pugi::node_element && Local(id) == "Ид")
        groups.push_back(Trimmed(id.child_value()));
    }
  }
  p["Группы"] = std::move(groups);
  p["ЗначенияРеквизитов"] = ValuesBy(item, "ЗначенияРеквизитов", "Наименование");
  p["ЗначенияСвойств"] = ValuesBy(item, "ЗначенияСвойств", "Ид");
  p["_catalog"] = catalog;
  p["_only_changes"] = only_changes;
  // Deleted in 1C: Статус="Удален" as an attribute (real 2.07 files) or an
  // element, or ПометкаУдаления.
  const std::string_view status_attr = item.attribute("Статус").value();
  p["_deleted"] = status_attr == "Удален" || Text(item, "Статус") == "Удален" ||
                  Text(item, "ПометкаУдаления") == "true";
  return p;
}

json Offer(const pugi::xml_node& offer, const std::string& package, bool only_changes) {
  json o = json::object();
  CopyTexts(offer, {"Ид", "Артикул", "Наименование", "Количество"}, o);
  json prices = json::array();
  if (pugi::xml_node list = Child(offer, "Цены")) {
    for (pugi::xml_node p = list.first_child(); p; p = p.next_sibling()) {
      if (p.type() != pugi::node_element || Local(p) != "Цена") continue;
      json price = json::object();
      price["_offer"] = Text(offer, "Ид");
      CopyTexts(
          p, {"ИдТипаЦены", "ЦенаЗаЕдиницу", "Валюта", "Представление", "Единица", "Коэффициент"},
          price);
      prices.push_back(std::move(price));
    }
  }
  o["Цены"] = std::move(prices);
  json stores = json::array();
  for (pugi::xml_node s = offer.first_child(); s; s = s.next_sibling()) {
    if (s.type() == pugi::node_element && Local(s) == "Склад") {
      stores.push_back(
          {{"ИдСклада", Trimmed(s.attribute("ИдСклада").value())},
           {"КоличествоНаСкладе", Trimmed(s.attribute("КоличествоНаСкладе").value())}});
    }
  }
  o["Склады"] = std::move(stores);
  o["_package"] = package;
  o["_only_changes"] = only_changes;
  return o;
}

// "1.00" → "1", "2" → "2"; a fractional quantity stays as it is (the model's
// order lines count whole units: the mapping then refuses it visibly).
std::string WholeQuantity(const std::string& q) {
  size_t dot = q.find_first_of(".,");
  if (dot == std::string::npos) return q;
  if (q.find_first_not_of('0', dot + 1) != std::string::npos) return q;
  return q.substr(0, dot);
}

json Order(const pugi::xml_node& doc) {
  json o = json::object();
  CopyTexts(doc,
            {"Ид", "Номер", "Дата", "Время", "ХозОперация", "Роль", "Валюта", "Курс", "Сумма",
             "Комментарий"},
            o);
  json parties = json::array();
  if (pugi::xml_node list = Child(doc, "Контрагенты")) {
    for (pugi::xml_node c = list.first_child(); c; c = c.next_sibling()) {
      if (c.type() != pugi::node_element || Local(c) != "Контрагент") continue;
      json party = json::object();
      CopyTexts(c,
                {"Ид", "Наименование", "ПолноеНаименование", "Фамилия", "Имя", "Отчество", "ИНН",
                 "КПП", "Роль"},
                party);
      parties.push_back(std::move(party));
    }
  }
  o["Контрагенты"] = std::move(parties);
  json lines = json::array();
  if (pugi::xml_node list = Child(doc, "Товары")) {
    for (pugi::xml_node t = list.first_child(); t; t = t.next_sibling()) {
      if (t.type() != pugi::node_element || Local(t) != "Товар") continue;
      json line = json::object();
      CopyTexts(t,
                {"Ид", "Артикул", "Наименование", "БазоваяЕдиница", "ИдКаталога", "ЦенаЗаЕдиницу",
                 "Количество", "Сумма"},
                line);
      line["_quantity"] = WholeQuantity(Text(t, "Количество"));
      line["ЗначенияРеквизитов"] = ValuesBy(t, "ЗначенияРеквизитов", "Наименование");
      lines.push_back(std::move(line));
    }
  }
  o["Товары"] = std::move(lines);
  json requisites = ValuesBy(doc, "ЗначенияРеквизитов", "Наименование");
  std::string status =
      requisites.contains("Статус заказа") && requisites["Статус заказа"].is_string()
          ? requisites["Статус заказа"].get_ref<const std::string&>()
          : std::string();
  if (requisites.contains("Отменен") && requisites["Отменен"] == "true") status = "Отменен";
  o["_status"] = status.empty() ? "new" : status;
  o["ЗначенияРеквизитов"] = std::move(requisites);
  o["_document"] = true;
  return o;
}

}  // namespace

Result<CatalogFile> ParseCatalogFile(std::string_view xml, size_t max_bytes) {
  if (xml.size() > max_bytes) {
    return Status::InvalidArgument("CommerceML: " + std::to_string(xml.size()) +
                                   " bytes, more than the bound of " + std::to_string(max_bytes));
  }
  // pugixml decodes UTF-8/16/32 and Latin-1 only: a windows-1251 document
  // (by its declaration) is decoded to UTF-8 first; another charset is
  // refused by name, never misread.
  Result<std::string> utf8 = XmlToUtf8(xml);
  if (!utf8.ok()) return Status::InvalidArgument("CommerceML: " + utf8.status().message());
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(utf8->data(), utf8->size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return Status::InvalidArgument(std::string("CommerceML: ") + parsed.description() +
                                   " at byte " + std::to_string(parsed.offset));
  }
  pugi::xml_node root = doc.document_element();
  if (!root || Local(root) != "КоммерческаяИнформация") {
    return Status::InvalidArgument("CommerceML: the root is not КоммерческаяИнформация");
  }
  CatalogFile out;
  out.kind = "other";
  if (pugi::xml_node catalog = Child(root, "Каталог")) {
    out.kind = "import";
    out.only_changes = Attr(catalog, "СодержитТолькоИзменения");
    const std::string id = Text(catalog, "Ид");
    if (pugi::xml_node goods = Child(catalog, "Товары")) {
      for (pugi::xml_node item = goods.first_child(); item; item = item.next_sibling()) {
        if (item.type() == pugi::node_element && Local(item) == "Товар") {
          out.products.push_back(Product(item, id, out.only_changes));
        }
      }
    }
  }
  for (pugi::xml_node d = root.first_child(); d; d = d.next_sibling()) {
    if (d.type() == pugi::node_element && Local(d) == "Документ") out.orders.push_back(Order(d));
  }
  if (!out.orders.empty() && out.kind == "other") out.kind = "orders";
  if (pugi::xml_node package = Child(root, "ПакетПредложений")) {
    out.kind = out.kind == "import" ? "import" : "offers";
    const bool only_changes = Attr(package, "СодержитТолькоИзменения");
    if (out.kind == "offers") out.only_changes = only_changes;
    const std::string id = Text(package, "Ид");
    if (pugi::xml_node offers = Child(package, "Предложения")) {
      for (pugi::xml_node o = offers.first_child(); o; o = o.next_sibling()) {
        if (o.type() == pugi::node_element && Local(o) == "Предложение") {
          out.offers.push_back(Offer(o, id, only_changes));
        }
      }
    }
  }
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
