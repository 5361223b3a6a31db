// The onec-exchange adapter's config keys (declared once) and factory.

#include <utility>

#include "adapters/onec_exchange/onec_exchange_adapter.h"

namespace crmhub::adapters::onec_exchange {
namespace {

using config::Type;

struct OnecExchangeKeys : config::KeySet {
  config::Key<Type::kString> user = Declare<Type::kString>(
      {.name = "user",
       .description = "The user name 1C's exchange settings send (HTTP Basic, mode=checkauth).",
       .required = true});
  config::Key<Type::kSecret> password_file = Declare<Type::kSecret>(
      {.name = "password_file",
       .description = "File (or systemd credential) holding that user's password.",
       .required = true});
  config::Key<Type::kSize> file_limit = Declare<Type::kSize>(
      {.name = "file_limit",
       .default_value = "\"8MiB\"",
       .description = "The largest chunk 1C is told to send (mode=init file_limit); bigger files "
                      "come in several mode=file requests."});
  config::Key<Type::kInt> max_deactivate_percent = Declare<Type::kInt>(
      {.name = "max_deactivate_percent",
       .default_value = "20",
       .description = "A full catalogue upload deactivates the goods of the last one it does not "
                      "mention; above this share of them it is refused into the dead-letter "
                      "queue instead (a partial upload must not empty the catalogue).",
       .min = 0,
       .max = 100});
  config::Key<Type::kBool> zip = Declare<Type::kBool>(
      {.name = "zip",
       .default_value = "false",
       .description = "Offer 1C zip archives (mode=init answers zip=yes): it then sends its "
                      "files packed, unpacked here within bounds (entries, size, ratio)."});
  config::Key<Type::kDuration> staging_retention = Declare<Type::kDuration>(
      {.name = "staging_retention",
       .default_value = "\"72h\"",
       .description = "A session's staging folder (chunks, unpacked files, import states) is "
                      "removed once nothing in it has changed for this long; swept at each "
                      "checkauth."});
  config::Key<Type::kDuration> fingerprint_retention = Declare<Type::kDuration>(
      {.name = "fingerprint_retention",
       .default_value = "\"2160h\"",
       .description = "How long the fingerprint of an order 1C sent is kept to recognise the "
                      "CRM's copy of it coming back (an echo); a forgotten one lets one echo "
                      "through."});
  config::Key<Type::kInt> max_fingerprints = Declare<Type::kInt>(
      {.name = "max_fingerprints",
       .default_value = "200000",
       .description = "At most this many order fingerprints are kept (the oldest go first).",
       .min = 1});
  config::Key<Type::kPath> staging_dir = Declare<Type::kPath>(
      {.name = "staging_dir",
       .description = "Where uploaded chunks are kept until their import (one folder per "
                      "exchange session).",
       .required = true});
};

Result<std::unique_ptr<Adapter>> Build(const config::Section& section,
                                       const AdapterContext& context) {
  const OnecExchangeKeys keys;
  OnecExchangeConfig c;
  c.id = section.id();
  c.user = keys.user.Get(section);
  c.password = keys.password_file.Get(section);
  if (c.password.empty()) return keys.password_file.ErrorAt(section, "the secret file is empty");
  c.file_limit = keys.file_limit.Get(section);
  if (c.file_limit < 1024) return keys.file_limit.ErrorAt(section, "must be at least 1KiB");
  c.staging_dir = keys.staging_dir.Get(section);
  c.zip = keys.zip.Get(section);
  c.max_deactivate_percent = static_cast<int>(keys.max_deactivate_percent.Get(section));
  c.staging_retention = keys.staging_retention.Get(section);
  c.fingerprint_retention = keys.fingerprint_retention.Get(section);
  c.max_fingerprints = static_cast<size_t>(keys.max_fingerprints.Get(section));
  c.order_status_stale = context.order_status_stale;
  c.metrics = context.metrics;
  if (context.clock == nullptr) return Status::Internal("onec-exchange: no clock in the context");
  return std::unique_ptr<Adapter>(
      std::make_unique<OnecExchangeAdapter>(std::move(c), *context.clock));
}

}  // namespace

AdapterType Type() {
  return {.schema = {.type = "onec-exchange",
                     .description =
                         "1C's CommerceML 2 exchange with a site, served at "
                         "/hooks/<id>?type=catalog|sale&mode=...: goods, prices and "
                         "stock from import*.xml and offers*.xml; orders both ways (type=sale), "
                         "export_order commands out.",
                     .keys = OnecExchangeKeys().specs()},
          .factory = Build};
}

}  // namespace crmhub::adapters::onec_exchange
