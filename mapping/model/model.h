#pragma once
// The canonical model's schema: which fields each kind has, their types, which
// are required; validation and JSON (de)serialisation of Entity.
// docs/model.md is the human description of the same table (model.cc).

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "mapping/model/entity.h"

namespace crmhub::model {

enum class FieldType {
  kString,
  kInt,  // int64
  kBool,
  kMoney,       // int64 minor units; the entity must carry a `currency` too
  kCurrency,    // ISO 4217 alpha code, 3 upper-case letters
  kPhone,       // E.164: '+' then 8..15 digits
  kEmail,       // lower-case local@domain
  kTimestamp,   // int64 Unix milliseconds
  kStringList,  // array of strings
  kObject,      // any JSON object (extra, offer_ids)
  kLines,       // array of objects described by a nested schema (order lines)
};

std::string_view FieldTypeName(FieldType type);

struct FieldDef {
  std::string_view name;
  FieldType type;
  bool required = false;
  // For kString: when non-empty, the allowed values.
  std::span<const std::string_view> allowed = {};
  // For kLines: the schema of one line.
  std::span<const FieldDef> line_fields = {};
};

// The fields of a kind (stable order, as documented in docs/model.md).
std::span<const FieldDef> FieldsOf(EntityKind kind);
// nullptr when the kind has no such field.
const FieldDef* FindField(EntityKind kind, std::string_view name);
const FieldDef* FindField(std::span<const FieldDef> fields, std::string_view name);

// Checks identity (non-empty source and external_id, version >= 0), required
// fields, types, allowed values, that money comes with a currency, and rejects
// unknown fields. The message names the field: `field "total": expected
// integer minor units, got "12.5"`.
Status ValidateEntity(const Entity& entity);

// {"kind":..,"source":..,"external_id":..,"version":..,"fields":{..}}
nlohmann::json ToJson(const Entity& entity);
// The inverse; checks the envelope's shape (not the fields: call
// ValidateEntity for that).
Result<Entity> EntityFromJson(const nlohmann::json& json);

}  // namespace crmhub::model
