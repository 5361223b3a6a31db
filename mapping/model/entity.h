#pragma once
// The canonical CRM model: what every system's records become.
//
// An Entity is a kind, an identity in its source system, a version, and
// fields whose names and types per kind are fixed by docs/model.md and
// checked by ValidateEntity (mapping/model/model.h). Fields are JSON so the
// store, the REST sink and the mapping engine share one representation.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace crmhub::model {

enum class EntityKind {
  kContact,
  kCompany,
  kLead,
  kDeal,
  kOrder,
  kProduct,
  kStockLevel,
  kPrice,
  kPayment,
  kRefund,
  kCall,
  kTask,
  kBankTransaction,
  kReturn,
  kReport,
};

// "contact", "company", "lead", "deal", "order", "product", "stock_level",
// "price", "payment", "refund", "call", "task", "bank_transaction", "return",
// "report".
std::string_view KindName(EntityKind kind);
std::optional<EntityKind> ParseKind(std::string_view name);
const std::vector<EntityKind>& AllKinds();

struct Entity {
  EntityKind kind = EntityKind::kContact;
  std::string source;       // the adapter instance id ("ozon-main")
  std::string external_id;  // the id in that system (posting_number, ...)
  // Source version: larger is newer (e.g. the record's update time in Unix
  // milliseconds, or a sequence). An older version never overwrites a newer.
  int64_t version = 0;
  nlohmann::json fields = nlohmann::json::object();
  // A change to an entity the CRM may hold, never a new one: when the store
  // holds (source, external_id) these fields are merged over the stored ones
  // (JSON merge patch; the version and status rules decide as for a whole
  // record), and when it holds nothing the entity is ignored. For follow-ups
  // such as closing a missed-call task from a later call, which must not
  // create a task when there was none to close.
  bool update_only = false;
};

}  // namespace crmhub::model
