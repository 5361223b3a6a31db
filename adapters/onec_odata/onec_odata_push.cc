// The onec-odata adapter's target: orders and contacts created in the CRM
// written to 1C (onec_odata_adapter.h, "Push").

#include <cstdio>

#include "adapters/kit/target.h"
#include "adapters/onec_odata/onec_odata_adapter.h"
#include "base/json_get.h"
#include "base/timestamp.h"

namespace crmhub::adapters::onec_odata {
namespace {

using nlohmann::json;

constexpr std::string_view kMarkerPrefix = "crmhub:";

std::string Str(const json& obj, std::string_view key) {
  return std::string(JsonString(obj, key).value_or(""));
}

// Minor units → 1C's decimal number (kopecks 12345 → 123.45), exact.
std::optional<json> Roubles(const json& obj, std::string_view key) {
  std::optional<int64_t> minor = JsonInt(obj, key);
  if (!minor) return std::nullopt;
  const int64_t a = *minor < 0 ? -*minor : *minor;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s%lld.%02lld", *minor < 0 ? "-" : "",
                static_cast<long long>(a / 100), static_cast<long long>(a % 100));
  Result<json> parsed = ParseJson(buf);
  if (!parsed.ok()) return std::nullopt;
  return std::move(parsed).value();
}

const EntitySetSpec* SetNamed(const std::vector<EntitySetSpec>& sets, std::string_view name) {
  for (const EntitySetSpec& s : sets) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

}  // namespace

std::string OnecODataAdapter::SetFor(std::string_view name) const {
  if (const EntitySetSpec* s = SetNamed(config_.sets, name)) return s->set;
  return SetNamed(DefaultEntitySets(), name)->set;
}

Result<json> OnecODataAdapter::Body(const kit::TargetCommand& c) const {
  const std::string id = Str(c.item, "external_id");
  if (id.empty()) return Status::InvalidArgument("onec-odata: " + c.name + " needs an external_id");
  json body = {{config_.external_id_attribute, std::string(kMarkerPrefix) + id}};
  if (c.name == kUpsertContact) {
    const std::string name = Str(c.item, "name");
    if (name.empty()) return Status::InvalidArgument("onec-odata: upsert_contact needs a name");
    body["Description"] = name;
    body["НаименованиеПолное"] = name;
    body["ЮрФизЛицо"] = Str(c.item, "inn").size() == 10 ? "ЮрЛицо" : "ФизЛицо";
    if (!Str(c.item, "inn").empty()) body["ИНН"] = Str(c.item, "inn");
    json rows = json::array();
    for (auto [key, type] :
         {std::pair{"phone", "Телефон"}, std::pair{"email", "АдресЭлектроннойПочты"}}) {
      if (Str(c.item, key).empty()) continue;
      rows.push_back({{"LineNumber", std::to_string(rows.size() + 1)},
                      {"Тип", type},
                      {"Представление", Str(c.item, key)}});
    }
    if (!rows.empty()) body["КонтактнаяИнформация"] = std::move(rows);
    return body;
  }
  // upsert_order: a customer order with its goods.
  const json* lines = JsonArray(c.item, "lines");
  if (lines == nullptr || lines->empty()) {
    return Status::InvalidArgument("onec-odata: upsert_order needs lines");
  }
  json goods = json::array();
  for (const json& line : *lines) {
    const std::string product = Str(line, "product_key");
    std::optional<int64_t> quantity = JsonInt(line, "quantity");
    if (product.empty() || !quantity || *quantity <= 0) {
      return Status::InvalidArgument(
          "onec-odata: upsert_order: each line needs a product_key (a Номенклатура Ref_Key) and "
          "a quantity > 0");
    }
    json row = {{"LineNumber", std::to_string(goods.size() + 1)},
                {"Номенклатура_Key", product},
                {"Количество", *quantity}};
    if (auto price = Roubles(line, "price")) row["Цена"] = *price;
    if (auto total = Roubles(line, "total")) row["Сумма"] = *total;
    goods.push_back(std::move(row));
  }
  body["Товары"] = std::move(goods);
  if (!Str(c.item, "counterparty_key").empty()) {
    body["Контрагент_Key"] = Str(c.item, "counterparty_key");
  }
  if (auto total = Roubles(c.item, "total")) body["СуммаДокумента"] = *total;
  if (std::optional<int64_t> created = JsonInt(c.item, "created_ms")) {
    // 1C's dates carry no zone: the server's local time (server_timezone).
    body["Date"] = FormatTimestamp(FromUnixMillis(*created), TimestampStyle::kRfc3339Seconds,
                                   config_.offset_minutes)
                       .substr(0, 19);
  }
  return body;
}

DeliveryOutcome OnecODataAdapter::Upsert(const kit::TargetCommand& c) const {
  const std::string set = SetFor(c.name == kUpsertContact ? "counterparties" : "orders");
  Result<json> body = Body(c);
  if (!body.ok()) return DeliveryOutcome::Fail(body.status().message());
  const std::string marker = std::string(kMarkerPrefix) + Str(c.item, "external_id");
  // Lookup before create, by our id in the 1C attribute: a redelivery after
  // a create whose answer was lost finds the document instead of making a
  // second one.
  auto found = client_->List({.set = set,
                              .filter = config_.external_id_attribute + " eq " +
                                        ODataLiteral(config_.external_id_attribute, marker),
                              .top = 2});
  if (!found.ok()) return found.error().ToOutcome();
  if (found->size() > 1) {
    return DeliveryOutcome::Fail("onec-odata: " + set + ": more than one entity has " +
                                 config_.external_id_attribute + " = " + marker +
                                 " (resolve in 1C)");
  }
  if (found->empty()) {
    auto created = client_->Create(set, *body);
    return created.ok() ? DeliveryOutcome::Ok() : created.error().ToOutcome();
  }
  const json& current = found->front();
  const std::string ref = Str(current, "Ref_Key");
  const std::string first_version = Str(current, "DataVersion");
  if (ref.empty()) return DeliveryOutcome::Fail("onec-odata: " + set + ": a match without Ref_Key");
  auto patched = client_->Patch(set, ref, first_version, *body);
  if (patched.ok()) return DeliveryOutcome::Ok();
  if (patched.error().http_status != 412) return patched.error().ToOutcome();
  // Changed in 1C meanwhile: re-read, re-map, one more try against the
  // fresh DataVersion; a second 412 is a dead letter naming both versions.
  auto fresh = client_->Get(set, ref);
  if (!fresh.ok()) return fresh.error().ToOutcome();
  const std::string fresh_version = Str(*fresh, "DataVersion");
  Result<json> again = Body(c);
  if (!again.ok()) return DeliveryOutcome::Fail(again.status().message());
  auto retried = client_->Patch(set, ref, fresh_version, *again);
  if (retried.ok()) return DeliveryOutcome::Ok();
  if (retried.error().http_status == 412) {
    return DeliveryOutcome::Fail("onec-odata: " + set + "(guid'" + ref +
                                 "') changed in 1C twice while written: DataVersion " +
                                 first_version + ", then " + fresh_version +
                                 ", then changed again (412); not overwritten");
  }
  return retried.error().ToOutcome();
}

std::vector<DeliveryOutcome> OnecODataAdapter::Deliver(std::span<const Command> batch) {
  std::vector<DeliveryOutcome> out(batch.size());
  for (const kit::TargetCommand& c :
       kit::ReadCommands(batch, {kUpsertOrder, kUpsertContact}, "onec-odata", out)) {
    out[c.index] = Upsert(c);
  }
  return out;
}

}  // namespace crmhub::adapters::onec_odata
