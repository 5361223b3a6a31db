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
// Streamed: libxml2's xmlTextReader walks the document (docs/decisions.md,
// "CommerceML read as a stream"); each Товар, Предложение and Документ is
// cut out whole (at most kMaxCommerceMlElementBytes) and read with pugixml,
// then dropped, so memory is bounded by the largest element, not by the
// file. Каталог/Ид and ПакетПредложений/Ид are to come before the goods and
// offers (as 1C writes them); one that comes after is not seen by the
// records before it.

#include <cstddef>
#include <filesystem>
#include <functional>
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
// One Товар, Предложение or Документ: larger is refused (1C's largest real
// elements are a few kilobytes; a megabyte of description is already odd).
inline constexpr size_t kMaxCommerceMlElementBytes = 4 * 1024 * 1024;

enum class RecordKind { kProduct, kOffer, kOrder };

// What a streamed document was, known at its end: `kind` and `only_changes`
// as in CatalogFile; the records counted by kind.
struct CatalogSummary {
  std::string kind;
  bool only_changes = false;
  size_t products = 0;
  size_t offers = 0;
  size_t orders = 0;
};

// Called once per record, in document order; a non-OK status stops the
// reading and is returned as it is.
using RecordSink = std::function<Status(RecordKind, nlohmann::json)>;

// Streams the CommerceML document at `path` (UTF-8 or windows-1251 by its
// declaration; another charset refused by name) into `sink`. InvalidArgument
// with libxml2's message and line for XML that does not parse, a root that
// is not КоммерческаяИнформация, or an element above the bound; records
// handed to `sink` before the error stay handed (a caller stages them and
// throws the staging away on error).
Result<CatalogSummary> StreamCatalogFile(const std::filesystem::path& path, const RecordSink& sink);
// The same over a document in memory (what the fuzz target and the tests read).
Result<CatalogSummary> StreamCatalogBytes(std::string_view xml, const RecordSink& sink);

// The whole document collected in memory (StreamCatalogBytes into a
// CatalogFile): for small documents, tests and the fuzz target. A document
// above `max_bytes` is refused before reading.
Result<CatalogFile> ParseCatalogFile(std::string_view xml, size_t max_bytes = kMaxCommerceMlBytes);

}  // namespace crmhub::adapters::onec_exchange
