// The CloudPayments adapter's config keys (declared once, by the kit) and
// factory.

#include "adapters/cloudpayments/cloudpayments_adapter.h"

namespace crmhub::adapters::cloudpayments {

AdapterType Type() {
  return kit::PaymentProviderType<CloudPaymentsAdapter>(
      "cloudpayments",
      "CloudPayments: payment notifications in (Pay, Fail, Confirm, Refund, Cancel at /hooks/<id> "
      "or /hooks/<id>/<type>), verified by Content-HMAC over the raw body; each queued as a "
      "payment or refund and answered {\"code\":0} once durable.",
      {.system = "CloudPayments",
       .account = {"public_id",
                   "The site's Public ID (the cabinet's site settings): names the account in "
                   "descriptions and API calls."},
       .secrets = {{"api_secret_file",
                    "File (or systemd credential) holding the site's API secret: Content-HMAC = "
                    "base64(HMAC-SHA256(API secret, raw body))."}},
       // The README names no sender addresses: Content-HMAC is the check.
       .published_senders = {},
       .default_max_body = "64KiB"});
}

}  // namespace crmhub::adapters::cloudpayments
