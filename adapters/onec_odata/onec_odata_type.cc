// The onec-odata adapter's config keys (declared once) and factory.

#include <utility>

#include "adapters/onec_odata/onec_odata_adapter.h"
#include "base/timestamp.h"
#include "net/upstream.h"

namespace crmhub::adapters::onec_odata {
namespace {

using config::Type;

std::string DefaultSetNames() {
  std::vector<std::string> names;
  for (const EntitySetSpec& s : DefaultEntitySets()) names.push_back(s.name);
  return config::TomlStringList(names);
}

struct OnecODataKeys : config::KeySet {
  config::Key<Type::kUrl> base_url = Declare<Type::kUrl>(
      {.name = "base_url",
       .description = "The 1C infobase's web publication root (http://host/trade): requests go "
                      "to <base_url>/odata/standard.odata/<EntitySet>.",
       .required = true});
  config::Key<Type::kString> user = Declare<Type::kString>(
      {.name = "user",
       .description = "The 1C user crmhub signs in as (HTTP Basic); its rights limit what the "
                      "interface shows.",
       .required = true});
  config::Key<Type::kSecret> password_file =
      Declare<Type::kSecret>({.name = "password_file",
                              .description = "File (or systemd credential) holding the 1C "
                                             "user's password (may be empty).",
                              .required = true});
  config::Key<Type::kString> server_timezone = Declare<Type::kString>(
      {.name = "server_timezone",
       .description = "The 1C server's UTC offset (\"+03:00\", \"MSK\", \"UTC\"): 1C's dates "
                      "(Date, Period) carry no zone and are read in this one.",
       .required = true});
  config::Key<Type::kStringList> entity_sets = Declare<Type::kStringList>(
      {.name = "entity_sets",
       .default_value = DefaultSetNames(),
       .description = "What is pulled, in this order: \"name\" or \"name=EntitySet\" to name "
                      "another set of the same shape (counterparties=Catalog_Контрагенты, "
                      "products=Catalog_Номенклатура, "
                      "prices=InformationRegister_ЦеныНоменклатуры, "
                      "stock=AccumulationRegister_ТоварыНаСкладах/Balance, "
                      "orders=Document_ЗаказКлиента, "
                      "payments=Document_ПоступлениеБезналичныхДенежныхСредств)."});
  config::Key<Type::kString> external_id_attribute = Declare<Type::kString>(
      {.name = "external_id_attribute",
       .default_value = "\"Комментарий\"",
       .description = "The attribute of the orders and counterparties crmhub writes that keeps "
                      "its id (\"crmhub:<external_id>\"), looked up before each create so a "
                      "retried command never makes a second document. A string attribute of "
                      "both sets; the contracts name none, Комментарий exists in both in "
                      "standard configurations."});
  config::Key<Type::kInt> page_size =
      Declare<Type::kInt>({.name = "page_size",
                           .default_value = "500",
                           .description = "Records per request ($top).",
                           .min = 1,
                           .max = 5000});
  config::Key<Type::kDuration> poll_interval =
      Declare<Type::kDuration>({.name = "poll_interval",
                                .default_value = "\"1m\"",
                                .description = "Pause between sweeps over the entity sets."});
  config::Key<Type::kDuration> request_timeout =
      Declare<Type::kDuration>({.name = "request_timeout",
                                .default_value = "\"30s\"",
                                .description = "Whole-exchange timeout of one request."});
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const OnecODataKeys keys;
  OnecODataConfig c;
  c.id = section.id();
  c.page_size = static_cast<int>(keys.page_size.Get(section));
  c.poll_interval = keys.poll_interval.Get(section);
  c.external_id_attribute = keys.external_id_attribute.Get(section);
  if (c.external_id_attribute.empty()) {
    return keys.external_id_attribute.ErrorAt(section, "names no attribute");
  }
  Result<int> offset = ParseUtcOffset(keys.server_timezone.Get(section));
  if (!offset.ok()) return keys.server_timezone.ErrorAt(section, offset.status().message());
  c.offset_minutes = *offset;
  const std::vector<EntitySetSpec> known = DefaultEntitySets();
  for (const std::string& item : keys.entity_sets.Get(section)) {
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    const EntitySetSpec* spec = nullptr;
    for (const EntitySetSpec& s : known) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return keys.entity_sets.ErrorAt(section,
                                      "\"" + name + "\" is not one of " + DefaultSetNames());
    }
    for (const EntitySetSpec& s : c.sets) {
      if (s.name == name) return keys.entity_sets.ErrorAt(section, "\"" + name + "\" twice");
    }
    EntitySetSpec chosen = *spec;
    if (eq != std::string::npos) chosen.set = item.substr(eq + 1);
    if (chosen.set.empty()) return keys.entity_sets.ErrorAt(section, "\"" + item + "\": no set");
    c.sets.push_back(std::move(chosen));
  }
  if (c.sets.empty()) return keys.entity_sets.ErrorAt(section, "names no entity set");
  if (context.clock == nullptr) return Status::Internal("onec-odata: no clock in the context");
  OnecODataClientOptions o{.base_url = keys.base_url.Get(section),
                           .user = keys.user.Get(section),
                           .password = keys.password_file.Get(section),
                           .timeout = keys.request_timeout.Get(section)};
  auto client = std::make_unique<OnecODataClient>(
      std::move(o),
      net::MakeUpstreamTransport("onec-odata:" + c.id, context.http, *context.clock,
                                 context.metrics, {{"", {}}}),
      *context.clock);
  return std::unique_ptr<Adapter>(
      std::make_unique<OnecODataAdapter>(std::move(c), std::move(client)));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "onec-odata",
                     .description = "1C:Enterprise through its standard OData interface: "
                                    "counterparties, products, prices, stock, customer orders "
                                    "and payment documents pulled by keyset sweeps.",
                     .keys = OnecODataKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::onec_odata
