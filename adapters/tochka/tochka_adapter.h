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
// customerCode is refused (401/403) and nothing is stored.
//
// Statements (with accounts and a token configured): a pull serves one
// account at a time, round robin. It asks Tochka for a statement from the
// account's watermark day to today (POST), then fetches it (GET) until it
// is Ready, pausing a second between looks; a Ready statement's
// transactions become events and the watermark moves to its last day (read
// again next time: today is not over; the repeats are duplicates). The
// cursor holds each account's watermark and the statement in flight, so a
// restart goes on with the same statement. Each transaction is keyed by
// Tochka's paymentId (else transactionId) and its status, never its type
// (a payment shown first as a Мемориальный ордер and then as a Платежное
// поручение is one: README §2), and carries the shared dedup identity with
// an occurrence counter within the statement.
//
// Thread-safety: immutable after construction.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/tochka/tochka_client.h"
#include "net/jwt_rs256.h"

namespace crmhub::adapters::tochka {

struct TochkaConfig {
  std::string id;
  std::string customer_code;
  std::vector<std::string> accounts;  // "<20 digits>/<BIC>" or 20 digits; empty: any
  uint64_t max_body = 64 * 1024;
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};
  int lookback_days = 3;  // where an account's first statement starts
};

class TochkaAdapter final : public Adapter, public WebhookCapability, public SourceCapability {
 public:
  // `verifier` null: no webhooks (no key configured). `client` null or no
  // accounts: no statements.
  TochkaAdapter(TochkaConfig config, std::optional<net::Rs256Verifier> verifier, const Clock& clock,
                std::unique_ptr<TochkaClient> client = nullptr)
      : config_(std::move(config)),
        verifier_(std::move(verifier)),
        clock_(clock),
        client_(std::move(client)) {}

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "tochka"; }
  WebhookCapability* webhook() override { return verifier_ ? this : nullptr; }
  SourceCapability* source() override {
    return client_ != nullptr && !config_.accounts.empty() ? this : nullptr;
  }

  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  uint64_t max_body_bytes() const override { return config_.max_body; }

  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return config_.poll_interval; }

 private:
  const TochkaConfig config_;
  const std::optional<net::Rs256Verifier> verifier_;
  const Clock& clock_;
  const std::unique_ptr<TochkaClient> client_;
};

// The `tochka` type: config keys and factory (tochka_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::tochka
