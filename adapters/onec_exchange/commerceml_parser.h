#pragma once
// A reader for CommerceML 2 catalogue files as 1C sends them to a site
// (contracts/onec/README.md §2): import*.xml (Каталог/Товары/Товар) and
// offers*.xml (ПакетПредложений/Предложения/Предложение), versions
// 2.03-2.10, namespace urn:1C.ru:commerceml_2 or none, UTF-8 with or
// without a BOM (what 1C writes) or windows-1251 by the XML declaration
// (what 1C-Bitrix writes; xml_charset.h); another charset is refused by
// name, not misread.
//
// Each Товар becomes one JSON record {"Ид", "Артикул", "Наименование",
// "БазоваяЕдиница", "Штрихкод", "Описание", "Группы": [Ид...],
// "ЗначенияРеквизитов": {name: value}, "ЗначенияСвойств": {Ид: value},
// "_catalog": Каталог/Ид, "_only_changes": СодержитТолькоИзменения,
// "_deleted": Статус (attribute or element) "Удален", or ПометкаУдаления
// "true"}; each
// Предложение {"Ид", "Наименование", "Количество", "Цены": [{"ИдТипаЦены",
// "ЦенаЗаЕдиницу", "Валюта", "Представление", "_offer": the offer's Ид}], "Склады":
// [{"ИдСклада", "КоличествоНаСкладе"}], "_package", "_only_changes"}.
// Values are the elements' text, trimmed. The mapping rules are
// config/mappings/onec-commerceml.toml.
//
// Bounded: a document above `max_bytes` is refused before parsing (the
// exchange's file_limit keeps uploads in chunks; a catalogue larger than the
// bound is to be split by 1C into several import*.xml, which it does with
// "goods/" packages).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace crmhub::adapters::onec_exchange {

struct CatalogFile {
  std::string kind;  // "import" (goods), "offers" (prices and stock), "orders", or "other"
  bool only_changes = false;
  std::vector<nlohmann::json> products;
  std::vector<nlohmann::json> offers;
  // Документ elements (orders, type=sale): {"Ид", "Номер", "Дата", "Время",
  // "ХозОперация", "Роль", "Валюта", "Курс", "Сумма", "Комментарий",
  // "Контрагенты": [{"Ид", "Наименование", ..., "ИНН", "КПП", "Роль"}],
  // "Товары": [{"Ид", "Наименование", "ЦенаЗаЕдиницу", "Количество",
  // "Сумма", "_quantity": a whole "1.00" as "1", ...}], "ЗначенияРеквизитов",
  // "_status": "Статус заказа", "Отменен" when cancelled, else "new",
  // "_document": true}.
  std::vector<nlohmann::json> orders;
};

inline constexpr size_t kMaxCommerceMlBytes = 256 * 1024 * 1024;

// InvalidArgument with pugixml's description and byte offset for XML that
// does not parse, or a root that is not КоммерческаяИнформация.
Result<CatalogFile> ParseCatalogFile(std::string_view xml, size_t max_bytes = kMaxCommerceMlBytes);

}  // namespace crmhub::adapters::onec_exchange
