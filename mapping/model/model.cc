#include "mapping/model/model.h"

#include <array>
#include <string>

namespace crmhub::model {
namespace {

using T = FieldType;

constexpr std::string_view kCallDirections[] = {"in", "out", "internal"};
constexpr std::string_view kBankDirections[] = {"in", "out", "unknown"};
// booked: money that moved (a bank statement); pending: announced by the bank
// but not final; prepared: a payment order prepared for the bank, not money.
constexpr std::string_view kBankStatuses[] = {"booked", "pending", "prepared"};
constexpr std::string_view kPaymentStatuses[] = {"pending",  "authorized", "succeeded",
                                                 "canceled", "failed",     "refunded"};
constexpr std::string_view kRefundStatuses[] = {"pending", "succeeded", "canceled", "failed"};
// A buyer giving goods back after delivery, or not taking them (a
// marketplace's "unredeemed": refused at the pickup point, never collected).
constexpr std::string_view kReturnTypes[] = {"return", "unredeemed"};
// A report row's direction: goods sold, or given back (the money goes back).
constexpr std::string_view kReportRowTypes[] = {"sale", "return"};

constexpr FieldDef kExtra{"extra", T::kObject};

constexpr FieldDef kContact[] = {
    {"name", T::kString},          {"first_name", T::kString},
    {"last_name", T::kString},     {"phone", T::kPhone},
    {"email", T::kEmail},          {"company_external_id", T::kString},
    {"inn", T::kString},           {"comment", T::kString},
    {"created_ms", T::kTimestamp}, kExtra,
};
constexpr FieldDef kCompany[] = {
    {"name", T::kString, true}, {"inn", T::kString},  {"kpp", T::kString},     {"ogrn", T::kString},
    {"phone", T::kPhone},       {"email", T::kEmail}, {"address", T::kString}, kExtra,
};
constexpr FieldDef kLead[] = {
    {"status", T::kString, true},  {"title", T::kString},
    {"message", T::kString},       {"contact_external_id", T::kString},
    {"channel", T::kString},       {"utm_source", T::kString},
    {"utm_medium", T::kString},    {"utm_campaign", T::kString},
    {"utm_content", T::kString},   {"utm_term", T::kString},
    {"amount", T::kMoney},         {"currency", T::kCurrency},
    {"created_ms", T::kTimestamp}, kExtra,
};
constexpr FieldDef kDeal[] = {
    {"stage", T::kString, true},
    {"pipeline", T::kString},
    {"title", T::kString},
    {"amount", T::kMoney},
    {"currency", T::kCurrency},
    {"contact_external_id", T::kString},
    {"company_external_id", T::kString},
    {"order_external_id", T::kString},
    {"created_ms", T::kTimestamp},
    {"closed_ms", T::kTimestamp},
    {"invoice_number", T::kString},
    kExtra,
};
constexpr FieldDef kOrderLine[] = {
    {"sku", T::kString, true},
    {"quantity", T::kInt, true},
    {"name", T::kString},
    {"price", T::kMoney},
    {"total", T::kMoney},
    {"offer_id", T::kString},
    {"barcode", T::kString},
    {"product_external_id", T::kString},
    kExtra,
};
constexpr FieldDef kOrder[] = {
    {"status", T::kString, true},
    {"number", T::kString},
    {"created_ms", T::kTimestamp},
    {"updated_ms", T::kTimestamp},
    {"total", T::kMoney},
    {"currency", T::kCurrency},
    {"customer_name", T::kString},
    {"customer_phone", T::kPhone},
    {"customer_email", T::kEmail},
    {"contact_external_id", T::kString},
    {"warehouse", T::kString},
    {"delivery_address", T::kString},
    {"channel", T::kString},
    {"lines", T::kLines, false, {}, kOrderLine},
    kExtra,
};
constexpr FieldDef kProduct[] = {
    {"sku", T::kString, true}, {"name", T::kString},
    {"code", T::kString},      {"barcodes", T::kStringList},
    {"offer_ids", T::kObject}, {"unit", T::kString},
    {"deleted", T::kBool},     kExtra,
};
constexpr FieldDef kStockLevel[] = {
    {"sku", T::kString, true}, {"warehouse", T::kString, true}, {"quantity", T::kInt, true},
    {"reserved", T::kInt},     {"updated_ms", T::kTimestamp},   kExtra,
};
constexpr FieldDef kPrice[] = {
    {"sku", T::kString, true},
    {"amount", T::kMoney, true},
    {"currency", T::kCurrency, true},
    {"old_amount", T::kMoney},
    {"price_type", T::kString},
    {"updated_ms", T::kTimestamp},
    kExtra,
};
constexpr FieldDef kPayment[] = {
    {"provider", T::kString, true},
    {"amount", T::kMoney, true},
    {"currency", T::kCurrency, true},
    {"status", T::kString, true, kPaymentStatuses},
    {"order_external_id", T::kString},
    {"description", T::kString},
    {"method", T::kString},
    {"created_ms", T::kTimestamp},
    {"paid_ms", T::kTimestamp},
    {"test", T::kBool},
    kExtra,
};
constexpr FieldDef kRefund[] = {
    {"provider", T::kString, true},
    {"payment_external_id", T::kString, true},
    {"amount", T::kMoney, true},
    {"currency", T::kCurrency, true},
    {"status", T::kString, true, kRefundStatuses},
    {"reason", T::kString},
    {"created_ms", T::kTimestamp},
    kExtra,
};
constexpr FieldDef kCall[] = {
    {"direction", T::kString, true, kCallDirections},
    {"start_ms", T::kTimestamp, true},
    {"from", T::kPhone},
    {"to", T::kPhone},
    {"from_raw", T::kString},
    {"to_raw", T::kString},
    {"line", T::kString},
    {"answer_ms", T::kTimestamp},
    {"end_ms", T::kTimestamp},
    {"duration_s", T::kInt},
    {"recording_url", T::kString},
    {"operator", T::kString},
    {"result", T::kString},
    {"contact_external_id", T::kString},
    kExtra,
};
constexpr FieldDef kTask[] = {
    {"title", T::kString, true},
    {"description", T::kString},
    {"status", T::kString},
    {"due_ms", T::kTimestamp},
    {"assignee", T::kString},
    {"related_kind", T::kString},
    {"related_external_id", T::kString},
    {"contact_external_id", T::kString},
    {"lead_external_id", T::kString},
    {"deal_external_id", T::kString},
    kExtra,
};
constexpr FieldDef kBankTransaction[] = {
    {"direction", T::kString, true, kBankDirections},
    {"amount", T::kMoney, true},
    {"currency", T::kCurrency, true},
    {"date_ms", T::kTimestamp, true},
    {"document_number", T::kString, true},
    {"document_date_ms", T::kTimestamp},
    {"document_kind", T::kString},
    {"purpose", T::kString},
    {"uin", T::kString},
    {"account", T::kString},
    {"status", T::kString, false, kBankStatuses},
    {"payer_name", T::kString},
    {"payer_inn", T::kString},
    {"payer_kpp", T::kString},
    {"payer_account", T::kString},
    {"payer_bic", T::kString},
    {"payer_bank", T::kString},
    {"payee_name", T::kString},
    {"payee_inn", T::kString},
    {"payee_kpp", T::kString},
    {"payee_account", T::kString},
    {"payee_bic", T::kString},
    {"payee_bank", T::kString},
    kExtra,
};

constexpr FieldDef kReturnLine[] = {
    {"sku", T::kString, true},
    {"quantity", T::kInt, true},
    {"name", T::kString},
    {"offer_id", T::kString},
    {"reason", T::kString},
    {"total", T::kMoney},
    {"product_external_id", T::kString},
    kExtra,
};
constexpr FieldDef kReturn[] = {
    {"order_external_id", T::kString, true},
    {"status", T::kString, true},
    {"type", T::kString, false, kReturnTypes},
    {"refund_status", T::kString},
    {"amount", T::kMoney},
    {"currency", T::kCurrency},
    {"reason", T::kString},
    {"created_ms", T::kTimestamp},
    {"updated_ms", T::kTimestamp},
    {"lines", T::kLines, false, {}, kReturnLine},
    kExtra,
};

// One row of a marketplace's sales or finance report (docs/model.md).
constexpr FieldDef kReport[] = {
    {"report", T::kString, true},
    {"period", T::kString, true},
    {"type", T::kString, false, kReportRowTypes},
    {"order_external_id", T::kString},
    {"sku", T::kString},
    {"product_external_id", T::kString},
    {"name", T::kString},
    {"quantity", T::kInt},
    {"amount", T::kMoney},
    {"payout", T::kMoney},
    {"commission", T::kMoney},
    {"currency", T::kCurrency},
    {"date_ms", T::kTimestamp},
    kExtra,
};

struct KindRow {
  EntityKind kind;
  std::string_view name;
  std::span<const FieldDef> fields;
};
constexpr KindRow kKinds[] = {
    {EntityKind::kContact, "contact", kContact},
    {EntityKind::kCompany, "company", kCompany},
    {EntityKind::kLead, "lead", kLead},
    {EntityKind::kDeal, "deal", kDeal},
    {EntityKind::kOrder, "order", kOrder},
    {EntityKind::kProduct, "product", kProduct},
    {EntityKind::kStockLevel, "stock_level", kStockLevel},
    {EntityKind::kPrice, "price", kPrice},
    {EntityKind::kPayment, "payment", kPayment},
    {EntityKind::kRefund, "refund", kRefund},
    {EntityKind::kCall, "call", kCall},
    {EntityKind::kTask, "task", kTask},
    {EntityKind::kBankTransaction, "bank_transaction", kBankTransaction},
    {EntityKind::kReturn, "return", kReturn},
    {EntityKind::kReport, "report", kReport},
};

const KindRow& RowOf(EntityKind kind) { return kKinds[static_cast<size_t>(kind)]; }

bool IsUpperAlpha3(const std::string& s) {
  if (s.size() != 3) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

bool IsE164(const std::string& s) {
  if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] == '0') return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool IsEmail(const std::string& s) {
  size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  size_t dot = s.rfind('.');
  if (dot == std::string::npos || dot < at + 2 || dot + 1 >= s.size()) return false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || (c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

std::string Shown(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

Status CheckFields(std::span<const FieldDef> defs, const nlohmann::json& fields,
                   const std::string& where);

Status CheckValue(const FieldDef& def, const nlohmann::json& v, const std::string& name) {
  auto bad = [&](std::string_view expected) {
    return Status::InvalidArgument("field \"" + name + "\": expected " + std::string(expected) +
                                   ", got " + Shown(v));
  };
  switch (def.type) {
    case T::kString:
      if (!v.is_string()) return bad("a string");
      if (!def.allowed.empty()) {
        const auto& s = v.get_ref<const std::string&>();
        bool found = false;
        std::string list;
        for (auto a : def.allowed) {
          found = found || a == s;
          if (!list.empty()) list += '|';
          list += a;
        }
        if (!found) return bad("one of " + list);
      }
      return Status::Ok();
    case T::kInt:
    case T::kTimestamp:
      if (!v.is_number_integer()) return bad("an integer");
      return Status::Ok();
    case T::kMoney:
      if (!v.is_number_integer()) return bad("integer minor units");
      return Status::Ok();
    case T::kBool:
      return v.is_boolean() ? Status::Ok() : bad("true or false");
    case T::kCurrency:
      if (!v.is_string() || !IsUpperAlpha3(v.get_ref<const std::string&>())) {
        return bad("an ISO 4217 alpha code");
      }
      return Status::Ok();
    case T::kPhone:
      if (!v.is_string() || !IsE164(v.get_ref<const std::string&>())) return bad("an E.164 phone");
      return Status::Ok();
    case T::kEmail:
      if (!v.is_string() || !IsEmail(v.get_ref<const std::string&>())) {
        return bad("a normalised e-mail address");
      }
      return Status::Ok();
    case T::kStringList:
      if (!v.is_array()) return bad("an array of strings");
      for (const auto& e : v) {
        if (!e.is_string()) return bad("an array of strings");
      }
      return Status::Ok();
    case T::kObject:
      return v.is_object() ? Status::Ok() : bad("an object");
    case T::kLines:
      if (!v.is_array()) return bad("an array of objects");
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_object()) return bad("an array of objects");
        CRMHUB_RETURN_IF_ERROR(
            CheckFields(def.line_fields, v[i], name + "/" + std::to_string(i) + "/"));
      }
      return Status::Ok();
  }
  return Status::Internal("unknown field type");
}

Status CheckFields(std::span<const FieldDef> defs, const nlohmann::json& fields,
                   const std::string& where) {
  for (const auto& [key, value] : fields.items()) {
    const FieldDef* def = FindField(defs, key);
    if (def == nullptr)
      return Status::InvalidArgument("field \"" + where + key + "\": unknown field");
    if (value.is_null()) continue;  // same as absent
    CRMHUB_RETURN_IF_ERROR(CheckValue(*def, value, where + key));
  }
  bool has_money = false;
  for (const auto& def : defs) {
    auto it = fields.find(def.name);
    bool present = it != fields.end() && !it->is_null();
    if (def.required && !present) {
      return Status::InvalidArgument("field \"" + where + std::string(def.name) +
                                     "\": required field is missing");
    }
    has_money = has_money || (present && def.type == T::kMoney);
  }
  // Money needs a currency at the entity level (lines use the entity's).
  if (has_money && where.empty() && FindField(defs, "currency") != nullptr) {
    auto it = fields.find("currency");
    if (it == fields.end() || it->is_null()) {
      return Status::InvalidArgument(
          "field \"currency\": required when an amount is present (money is minor units + "
          "currency)");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case T::kString:
      return "string";
    case T::kInt:
      return "int";
    case T::kBool:
      return "bool";
    case T::kMoney:
      return "money";
    case T::kCurrency:
      return "currency";
    case T::kPhone:
      return "phone";
    case T::kEmail:
      return "email";
    case T::kTimestamp:
      return "timestamp_ms";
    case T::kStringList:
      return "string[]";
    case T::kObject:
      return "object";
    case T::kLines:
      return "lines";
  }
  return "?";
}

std::string_view KindName(EntityKind kind) { return RowOf(kind).name; }

std::optional<EntityKind> ParseKind(std::string_view name) {
  for (const auto& row : kKinds) {
    if (row.name == name) return row.kind;
  }
  return std::nullopt;
}

const std::vector<EntityKind>& AllKinds() {
  static const std::vector<EntityKind> kAll = [] {
    std::vector<EntityKind> v;
    for (const auto& row : kKinds) v.push_back(row.kind);
    return v;
  }();
  return kAll;
}

std::span<const FieldDef> FieldsOf(EntityKind kind) { return RowOf(kind).fields; }

const FieldDef* FindField(std::span<const FieldDef> fields, std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FieldDef* FindField(EntityKind kind, std::string_view name) {
  return FindField(FieldsOf(kind), name);
}

Status ValidateEntity(const Entity& entity) {
  if (entity.source.empty()) return Status::InvalidArgument("source is empty");
  if (entity.external_id.empty()) return Status::InvalidArgument("external_id is empty");
  if (entity.version < 0) return Status::InvalidArgument("version is negative");
  if (!entity.fields.is_object()) return Status::InvalidArgument("fields is not an object");
  return CheckFields(FieldsOf(entity.kind), entity.fields, "");
}

nlohmann::json ToJson(const Entity& entity) {
  nlohmann::json j = nlohmann::json::object();
  j["kind"] = KindName(entity.kind);
  j["source"] = entity.source;
  j["external_id"] = entity.external_id;
  j["version"] = entity.version;
  j["fields"] = entity.fields;
  return j;
}

Result<Entity> EntityFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Status::InvalidArgument("entity: not a JSON object");
  for (const auto& [key, value] : json.items()) {
    (void)value;
    if (key != "kind" && key != "source" && key != "external_id" && key != "version" &&
        key != "fields") {
      return Status::InvalidArgument("entity: unknown key \"" + key + "\"");
    }
  }
  Entity e;
  auto kind = json.find("kind");
  if (kind == json.end() || !kind->is_string())
    return Status::InvalidArgument("entity: \"kind\" must be a string");
  auto parsed = ParseKind(kind->get_ref<const std::string&>());
  if (!parsed) return Status::InvalidArgument("entity: unknown kind " + kind->dump());
  e.kind = *parsed;
  auto source = json.find("source");
  if (source == json.end() || !source->is_string())
    return Status::InvalidArgument("entity: \"source\" must be a string");
  e.source = source->get<std::string>();
  auto id = json.find("external_id");
  if (id == json.end() || !id->is_string())
    return Status::InvalidArgument("entity: \"external_id\" must be a string");
  e.external_id = id->get<std::string>();
  auto version = json.find("version");
  if (version == json.end() || !version->is_number_integer())
    return Status::InvalidArgument("entity: \"version\" must be an integer");
  e.version = version->get<int64_t>();
  auto fields = json.find("fields");
  if (fields != json.end()) {
    if (!fields->is_object())
      return Status::InvalidArgument("entity: \"fields\" must be an object");
    e.fields = *fields;
  }
  return e;
}

}  // namespace crmhub::model
