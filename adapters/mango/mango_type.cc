// The Mango Office adapter's config keys (declared once) and factory.

#include <utility>

#include "adapters/mango/mango_adapter.h"

namespace crmhub::adapters::mango {
namespace {

using config::Type;

struct MangoKeys : config::KeySet {
  config::Key<Type::kSecret> api_key_file = Declare<Type::kSecret>(
      {.name = "api_key_file",
       .description = "File (or systemd credential) holding the VPBX's unique code "
                      "(vpbx_api_key, in the cabinet's API connection settings): a notification "
                      "carrying another is refused. Never logged.",
       .required = true});
  config::Key<Type::kSecret> api_salt_file = Declare<Type::kSecret>(
      {.name = "api_salt_file",
       .description = "File (or systemd credential) holding the VPBX's signing key "
                      "(vpbx_api_salt): sign = sha256(vpbx_api_key + json + vpbx_api_salt). "
                      "Never logged.",
       .required = true});
  kit::SenderKeys senders{*this, "Mango Office", PublishedSenders()};
  config::Key<Type::kSize> max_body = Declare<Type::kSize>(
      {.name = "max_body",
       .default_value = "\"256KiB\"",
       .description = "Largest notification accepted; larger requests get 413."});
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const MangoKeys keys;
  MangoConfig c;
  c.id = section.id();
  c.api_key = keys.api_key_file.Get(section);
  if (c.api_key.empty()) return keys.api_key_file.ErrorAt(section, "the secret file is empty");
  c.api_salt = keys.api_salt_file.Get(section);
  if (c.api_salt.empty()) return keys.api_salt_file.ErrorAt(section, "the secret file is empty");
  Result<net::CidrList> senders = kit::ReadSenders(section, keys.senders);
  if (!senders.ok()) return senders.status();
  c.allow_ips = std::move(senders).value();
  c.max_body = keys.max_body.Get(section);
  if (c.max_body == 0) return keys.max_body.ErrorAt(section, "must be more than 0");
  return std::unique_ptr<Adapter>(std::make_unique<MangoAdapter>(std::move(c), context.metrics));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "mango",
                     .description = "Mango Office VPBX: call notifications in (events/call, "
                                    "events/summary, events/recording under /hooks/<id>/), "
                                    "verified by vpbx_api_key, the sha256 sign and the sender's "
                                    "address; each queued as the json Mango sent.",
                     .keys = MangoKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::mango
