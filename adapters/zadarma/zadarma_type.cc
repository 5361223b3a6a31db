// The Zadarma adapter's config keys (declared once, by the kit) and factory.

#include "adapters/zadarma/zadarma_adapter.h"

namespace crmhub::adapters::zadarma {

AdapterType Type() {
  return kit::SignedNotificationType<ZadarmaAdapter>(
      "zadarma",
      "Zadarma PBX: call notifications in (NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_ANSWER, "
      "NOTIFY_END, NOTIFY_OUT_START, NOTIFY_OUT_END, NOTIFY_RECORD posted to /hooks/<id>, the "
      "GET ?zd_echo= URL check answered), verified by the Signature header and the sender's "
      "address; each queued as its form fields.",
      {.system = "Zadarma",
       .account_key = {"api_key_file",
                       "File (or systemd credential) holding the API key (cabinet: Settings, "
                       "API); kept for REST calls, notifications do not carry it."},
       .signing_key = {"api_secret_file",
                       "File (or systemd credential) holding the API secret, which signs the "
                       "notifications (Signature header)."},
       .published_senders = PublishedSenders(),
       .default_max_body = "64KiB",
       .calls = true});
}

}  // namespace crmhub::adapters::zadarma
