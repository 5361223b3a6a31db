// The Mango Office adapter's config keys (declared once, by the kit) and
// factory.

#include "adapters/mango/mango_adapter.h"

namespace crmhub::adapters::mango {

AdapterType Type() {
  return kit::SignedNotificationType<MangoAdapter>(
      "mango",
      "Mango Office VPBX: call notifications in (events/call, events/summary, events/recording "
      "under /hooks/<id>/), verified by vpbx_api_key, the sha256 sign and the sender's address; "
      "each queued as the json Mango sent; click_to_call commands out (commands/callback).",
      {.system = "Mango Office",
       .account_key = {"api_key_file",
                       "File (or systemd credential) holding the VPBX's unique code "
                       "(vpbx_api_key, in the cabinet's API connection settings): a "
                       "notification carrying another is refused."},
       .signing_key = {"api_salt_file",
                       "File (or systemd credential) holding the VPBX's signing key "
                       "(vpbx_api_salt): sign = sha256(vpbx_api_key + json + vpbx_api_salt)."},
       .published_senders = PublishedSenders(),
       .default_max_body = "256KiB",
       .calls = true,
       .default_base_url = "https://app.mango-office.ru/vpbx"});
}

}  // namespace crmhub::adapters::mango
