#pragma once
// The `tochka` adapter: Tochka Bank's open API (contracts/banks/README.md
// §2; docs/adapters/tochka.md). What is here: the webhooks, each a JWT
// (RS256) signed with Tochka's private key and posted to /hooks/<id> as
// text/plain, verified with the bank's public key (webhook_public_key_file)
// before anything is read from it:
//   incomingPayment, outgoingPayment   → a bank payment (bank_transaction),
//       keyed by Tochka's paymentId and carrying the dedup identity the
//       bank-1c adapter gives the same payment in a 1CClientBankExchange
//       file (adapters/kit/bank_payment_identity.h), so the CRM store holds
//       it once whichever way it came;
//   incomingSbpPayment, incomingSbpB2BPayment → an incoming SBP payment
//       (bank_transaction), keyed by operationId (B2B: the payload's hash);
//   acquiringInternetPayment           → an acquiring payment (payment),
//       keyed by operationId and status.
// A token that does not verify, has expired, is not RS256 or names another
// customerCode is refused (401/403) and nothing is stored. Statements (init,
// poll, incremental pull per account) are not implemented yet.
//
// Thread-safety: immutable after construction.

#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "net/jwt_rs256.h"

namespace crmhub::adapters::tochka {

struct TochkaConfig {
  std::string id;
  std::string customer_code;
  std::vector<std::string> accounts;  // "<20 digits>/<BIC>" or 20 digits; empty: any
  uint64_t max_body = 64 * 1024;
};

class TochkaAdapter final : public Adapter, public WebhookCapability {
 public:
  TochkaAdapter(TochkaConfig config, net::Rs256Verifier verifier, const Clock& clock)
      : config_(std::move(config)), verifier_(std::move(verifier)), clock_(clock) {}

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "tochka"; }
  WebhookCapability* webhook() override { return this; }

  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  uint64_t max_body_bytes() const override { return config_.max_body; }

 private:
  const TochkaConfig config_;
  const net::Rs256Verifier verifier_;
  const Clock& clock_;
};

// The `tochka` type: config keys and factory (tochka_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::tochka
