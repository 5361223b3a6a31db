// The YooKassa adapter's config keys (declared once, by the kit) and
// factory.

#include "adapters/yookassa/yookassa_adapter.h"

namespace crmhub::adapters::yookassa {

AdapterType Type() {
  return kit::PaymentProviderType<YooKassaAdapter>(
      "yookassa",
      "YooKassa (API v3): HTTP notifications in at /hooks/<id>, checked against YooKassa's sender "
      "ranges, answered 200 once durable, then re-fetched from the API on a worker "
      "(GET /v3/payments/{id}, /v3/refunds/{id}); only the fetched status is queued; payments "
      "pending longer than reconcile_after re-read; "
      "create_payment and refund commands out.",
      {.system = "YooKassa",
       .account = {"shop_id",
                   "The shop's shopId (the cabinet's integration settings): the user "
                   "of HTTP Basic authentication."},
       .secrets = {{"secret_key_file",
                    "File (or systemd credential) holding the shop's secret key: the password "
                    "of HTTP Basic authentication."}},
       .published_senders = PublishedSenders(),
       .default_max_body = "256KiB",
       .default_base_url = "https://api.yookassa.ru/v3",
       .reconcile = true});
}

}  // namespace crmhub::adapters::yookassa
