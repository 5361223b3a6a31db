// The Robokassa adapter's config keys (declared once, by the kit) and
// factory.

#include "adapters/robokassa/robokassa_adapter.h"

namespace crmhub::adapters::robokassa {

AdapterType Type() {
  return kit::PaymentProviderType<RobokassaAdapter>(
      "robokassa",
      "Robokassa: ResultURL notifications in at /hooks/<id>, verified by SignatureValue "
      "(hash of OutSum:InvId:Password#2[:Shp_...]) and the sender's address; each queued as a "
      "paid invoice and answered OK<InvId> once durable; with payment_url, create_payment "
      "commands make signed payment links, which come back into the payment entity.",
      {.system = "Robokassa",
       .account = {"merchant_login", "The shop's identifier (MerchantLogin) in Robokassa."},
       .secrets = {{"password1_file",
                    "File (or systemd credential) holding the shop's Password #1, which signs "
                    "payment links."},
                   {"password2_file",
                    "File (or systemd credential) holding the shop's Password #2, which signs "
                    "ResultURL notifications."}},
       .choice =
           kit::PaymentProviderKeys::ChoiceKey{
               .name = "hash_algorithm",
               .choices = HashAlgorithms(),
               .default_value = "md5",
               .description = "The hash the shop's technical settings choose for SignatureValue "
                              "(md5 in Robokassa's examples)."},
       .published_senders = PublishedSenders(),
       .default_max_body = "64KiB",
       .link_key = kit::PaymentProviderKeys::PlainKey{
           "payment_url",
           "The Robokassa payment page the links create_payment makes point at (with "
           "MerchantLogin, OutSum, InvId, Description and SignatureValue in the query). The "
           "contracts give no address, so there is no default: take it from the shop's "
           "Robokassa documents. Left out, the adapter takes no commands."}});
}

}  // namespace crmhub::adapters::robokassa
