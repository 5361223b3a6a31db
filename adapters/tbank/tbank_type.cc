// The T-Bank adapter's config keys (declared once, by the kit) and factory.

#include "adapters/tbank/tbank_adapter.h"

namespace crmhub::adapters::tbank {

AdapterType Type() {
  return kit::PaymentProviderType<TbankAdapter>(
      "tbank",
      "T-Bank (Tinkoff) internet acquiring: payment notifications in at /hooks/<id>, verified by "
      "TerminalKey and the Token (sha256 over the sorted root-level values + password); each "
      "queued as a payment and answered OK once durable; payments not final for reconcile_after "
      "re-read with GetState; create_payment (Init) and refund (Cancel) commands out.",
      {.system = "T-Bank",
       .account = {"terminal_key",
                   "The terminal's TerminalKey (the cabinet's terminal settings): a notification "
                   "naming another terminal is refused."},
       .secrets = {{"password_file",
                    "File (or systemd credential) holding the terminal's password, which the "
                    "Token is computed with."}},
       // The README names no sender addresses: the Token is the check.
       .published_senders = {},
       .default_max_body = "64KiB",
       .default_base_url = "https://securepay.tinkoff.ru/v2",
       .reconcile = true});
}

}  // namespace crmhub::adapters::tbank
