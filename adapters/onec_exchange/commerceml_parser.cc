#include "adapters/onec_exchange/commerceml_parser.h"

#include <libxml/xmlreader.h>

#include <fstream>
#include <initializer_list>
#include <limits>
#include <memory>

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

// libxml2's messages for one reader: the first fatal one (what stopped it)
// or else the first error, with its line.
struct ReaderErrors {
  std::string message;
  int line = 0;
  bool fatal = false;
};

void OnReaderError(void* context, xmlErrorPtr error) {
  auto* errors = static_cast<ReaderErrors*>(context);
  if (error == nullptr || error->level < XML_ERR_ERROR) return;
  const bool fatal = error->level == XML_ERR_FATAL;
  if (!errors->message.empty() && (errors->fatal || !fatal)) return;
  std::string message = error->message != nullptr ? error->message : "XML error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  errors->message = std::move(message);
  errors->line = error->line;
  errors->fatal = fatal;
}

struct ReaderDeleter {
  void operator()(xmlTextReader* r) const { xmlFreeTextReader(r); }
};
using Reader = std::unique_ptr<xmlTextReader, ReaderDeleter>;

std::string_view ConstText(const xmlChar* s) {
  return s == nullptr ? std::string_view() : std::string_view(reinterpret_cast<const char*>(s));
}

// An xmlChar* libxml2 hands over, as a string (freed).
std::string Owned(xmlChar* s) {
  std::string out(ConstText(s));
  if (s != nullptr) xmlFree(s);
  return out;
}

// Walks a document with one reader, cutting out each record element as a
// small pugixml tree (local names, attributes without namespace
// declarations, text) of at most kMaxCommerceMlElementBytes.
class CatalogStream {
 public:
  CatalogStream(xmlTextReader* reader, const RecordSink& sink) : r_(reader), sink_(sink) {
    xmlTextReaderSetStructuredErrorHandler(r_, &OnReaderError, &errors_);
  }

  Result<CatalogSummary> Run() {
    CatalogSummary out;
    out.kind = "other";
    bool seen_root = false, catalog = false, package = false;
    bool package_only_changes = false;
    std::string catalog_id, package_id;
    std::vector<std::string> path;  // local names from the root down to the current element
    int ret = 0;
    while ((ret = xmlTextReaderRead(r_)) == 1) {
      if (xmlTextReaderNodeType(r_) != XML_READER_TYPE_ELEMENT) continue;
      const int depth = xmlTextReaderDepth(r_);
      const std::string name(ConstText(xmlTextReaderConstLocalName(r_)));
      if (depth < 0) continue;
      path.resize(static_cast<size_t>(depth));
      path.push_back(name);
      if (depth == 0) {
        if (seen_root || name != "КоммерческаяИнформация") {
          return Status::InvalidArgument("CommerceML: the root is not КоммерческаяИнформация");
        }
        seen_root = true;
        continue;
      }
      if (depth == 1 && name == "Каталог") {
        catalog = true;
        out.only_changes = AttrTrue("СодержитТолькоИзменения");
        continue;
      }
      if (depth == 1 && name == "ПакетПредложений") {
        package = true;
        package_only_changes = AttrTrue("СодержитТолькоИзменения");
        continue;
      }
      if (depth == 2 && name == "Ид" && (path[1] == "Каталог" || path[1] == "ПакетПредложений")) {
        std::string id = Trimmed(Owned(xmlTextReaderReadString(r_)));
        (path[1] == "Каталог" ? catalog_id : package_id) = std::move(id);
        continue;
      }
      const bool product =
          depth == 3 && name == "Товар" && path[1] == "Каталог" && path[2] == "Товары";
      const bool offer = depth == 3 && name == "Предложение" && path[1] == "ПакетПредложений" &&
                         path[2] == "Предложения";
      const bool order = depth == 1 && name == "Документ";
      if (!product && !offer && !order) continue;
      Result<pugi::xml_node> element = CutOut();
      if (!element.ok()) return element.status();
      Status handed;
      if (product) {
        ++out.products;
        handed = sink_(RecordKind::kProduct, Product(*element, catalog_id, out.only_changes));
      } else if (offer) {
        ++out.offers;
        handed = sink_(RecordKind::kOffer, Offer(*element, package_id, package_only_changes));
      } else {
        ++out.orders;
        handed = sink_(RecordKind::kOrder, Order(*element));
      }
      if (!handed.ok()) return handed;
    }
    if (ret != 0 || errors_.fatal) return ParseError();
    if (!seen_root) return Status::InvalidArgument("CommerceML: no root element");
    if (catalog) out.kind = "import";
    if (out.orders > 0 && out.kind == "other") out.kind = "orders";
    if (package && out.kind != "import") {
      out.kind = "offers";
      out.only_changes = package_only_changes;
    }
    return out;
  }

 private:
  bool AttrTrue(const char* name) {
    const std::string v = Owned(xmlTextReaderGetAttribute(r_, BAD_CAST name));
    return v == "true" || v == "1";
  }

  Status ParseError() const {
    if (errors_.message.empty())
      return Status::InvalidArgument("CommerceML: the XML does not parse");
    return Status::InvalidArgument("CommerceML: " + errors_.message + " at line " +
                                   std::to_string(errors_.line));
  }

  // The element the reader is on, whole, into doc_ (replacing the last);
  // the reader ends on its end tag (or on it, when it is empty).
  Result<pugi::xml_node> CutOut() {
    doc_.reset();
    size_t bytes = 0;
    const int top = xmlTextReaderDepth(r_);
    pugi::xml_node element = Append(doc_, bytes);
    if (xmlTextReaderIsEmptyElement(r_) == 1) return element;
    pugi::xml_node current = element;
    int ret = 0;
    while ((ret = xmlTextReaderRead(r_)) == 1) {
      switch (xmlTextReaderNodeType(r_)) {
        case XML_READER_TYPE_ELEMENT: {
          pugi::xml_node child = Append(current, bytes);
          if (xmlTextReaderIsEmptyElement(r_) != 1) current = child;
          break;
        }
        case XML_READER_TYPE_END_ELEMENT:
          if (xmlTextReaderDepth(r_) <= top) return element;
          current = current.parent();
          break;
        case XML_READER_TYPE_TEXT:
        case XML_READER_TYPE_CDATA: {
          const std::string_view text = ConstText(xmlTextReaderConstValue(r_));
          bytes += text.size();
          current.append_child(pugi::node_pcdata).set_value(std::string(text).c_str());
          break;
        }
        default:
          break;
      }
      if (bytes > kMaxCommerceMlElementBytes) {
        return Status::InvalidArgument(
            "CommerceML: an element above " + std::to_string(kMaxCommerceMlElementBytes) +
            " bytes at line " + std::to_string(xmlTextReaderGetParserLineNumber(r_)));
      }
    }
    return ParseError();
  }

  // The reader's current element as a child of `parent`, with its
  // attributes (namespace declarations left out).
  pugi::xml_node Append(pugi::xml_node parent, size_t& bytes) {
    const std::string name(ConstText(xmlTextReaderConstLocalName(r_)));
    bytes += name.size() + 2;
    pugi::xml_node node = parent.append_child(name.c_str());
    if (xmlTextReaderHasAttributes(r_) == 1) {
      while (xmlTextReaderMoveToNextAttribute(r_) == 1) {
        if (xmlTextReaderIsNamespaceDecl(r_) == 1) continue;
        const std::string_view attr = ConstText(xmlTextReaderConstLocalName(r_));
        const std::string_view value = ConstText(xmlTextReaderConstValue(r_));
        bytes += attr.size() + value.size() + 4;
        node.append_attribute(std::string(attr).c_str()).set_value(std::string(value).c_str());
      }
      xmlTextReaderMoveToElement(r_);
    }
    return node;
  }

  xmlTextReader* r_;
  const RecordSink& sink_;
  ReaderErrors errors_;
  pugi::xml_document doc_;
};

// No network, no DTD loading, no entity substitution (XXE), libxml2's
// default size limits kept (XML_PARSE_HUGE off: no text node above 10 MB).
constexpr int kReaderOptions = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;

Status CheckCharset(std::string_view head) {
  Result<XmlCharset> charset = DeclaredCharset(head);
  if (!charset.ok()) return Status::InvalidArgument("CommerceML: " + charset.status().message());
  return Status::Ok();
}

}  // namespace

Result<CatalogSummary> StreamCatalogFile(const std::filesystem::path& path,
                                         const RecordSink& sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("CommerceML: cannot open " + path.string());
  char head[512];
  in.read(head, sizeof head);
  if (Status s = CheckCharset(std::string_view(head, static_cast<size_t>(in.gcount()))); !s.ok()) {
    return s;
  }
  Reader reader(xmlReaderForFile(path.c_str(), nullptr, kReaderOptions));
  if (!reader) return Status::InvalidArgument("CommerceML: cannot read " + path.string());
  return CatalogStream(reader.get(), sink).Run();
}

Result<CatalogSummary> StreamCatalogBytes(std::string_view xml, const RecordSink& sink) {
  if (Status s = CheckCharset(xml.substr(0, 512)); !s.ok()) return s;
  if (xml.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status::InvalidArgument("CommerceML: a document above 2 GB in memory");
  }
  Reader reader(xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()), "commerceml.xml",
                                   nullptr, kReaderOptions));
  if (!reader) return Status::InvalidArgument("CommerceML: cannot read the document");
  return CatalogStream(reader.get(), sink).Run();
}

Result<CatalogFile> ParseCatalogFile(std::string_view xml, size_t max_bytes) {
  if (xml.size() > max_bytes) {
    return Status::InvalidArgument("CommerceML: " + std::to_string(xml.size()) +
                                   " bytes, more than the bound of " + std::to_string(max_bytes));
  }
  CatalogFile out;
  Result<CatalogSummary> summary = StreamCatalogBytes(xml, [&](RecordKind kind, json record) {
    (kind == RecordKind::kProduct ? out.products
     : kind == RecordKind::kOffer ? out.offers
                                  : out.orders)
        .push_back(std::move(record));
    return Status::Ok();
  });
  if (!summary.ok()) return summary.status();
  out.kind = summary->kind;
  out.only_changes = summary->only_changes;
  return out;
}

}  // namespace crmhub::adapters::onec_exchange
