#pragma once
// The CloudPayments adapter: payment notifications in. docs/adapters/
// cloudpayments.md says what is verified against the contract
// (contracts/payments/README.md §2), what is answered, which keys dedup and
// where the README is silent.
//
// CloudPayments posts each notification type (Check, Pay, Fail, Confirm,
// Refund, Cancel, Recurrent, Receipt) to the URL configured for it in the
// cabinet: /hooks/<id> itself, or /hooks/<id>/<type> in lower case
// (/hooks/<id>/pay, ...) when the cabinet's URLs are told apart. Checks, in
// order, each refusal counted and logged by the kit's RefusalLog without a
// secret:
//   403  the sender is not in allow_ips (empty by default: the README
//        names no sender addresses, so Content-HMAC is the check)
//   401  Content-HMAC missing or not base64(HMAC-SHA256(API secret, the raw
//        body as received)), compared in constant time before parsing
//   400  the body is not a form (or JSON, for Content-Type application/json)
//        or lacks what keys it
// then the event is queued and answered {"code":0} once durable.
//
// Events (payload: the form as a JSON object of strings, or the JSON body
// as sent; config/mappings/cloudpayments-payments.toml maps it):
//   OperationType Refund  kind refund,  key refund:<TransactionId>,
//                         ordered by PaymentTransactionId
//   otherwise             kind payment, key payment:<TransactionId>:<Status>,
//                         ordered by TransactionId: Pay (Authorized) and
//                         Confirm (Completed) of one two-stage payment share
//                         the TransactionId, so the status is in the key
// Check, Recurrent and Receipt (by their path) are verified and answered
// {"code":0} with nothing queued: crmhub does not decide payments, and
// subscriptions and receipts are not payments of an order.
//
// No commands: the README documents no API operation of CloudPayments'
// (only Basic auth PublicId:API Secret for its API, and no idempotency
// header verified), so there is no create_payment or refund to call;
// refunds made in the cabinet arrive as Refund notifications.
//
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads, concurrently, and does no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/payment_provider.h"
#include "net/signature.h"

namespace crmhub::adapters::cloudpayments {

// public_id is the account; secrets = {API secret}.
using CloudPaymentsConfig = kit::PaymentProviderConfig;

// base64(HMAC-SHA256(api_secret, body)): CloudPayments' Content-HMAC.
std::string ContentHmac(std::string_view api_secret, std::string_view body);

class CloudPaymentsAdapter final : public kit::PaymentAdapter {
 public:
  // `metrics` may be null; it must outlive the adapter.
  CloudPaymentsAdapter(CloudPaymentsConfig config, MetricsRegistry* metrics);
  CloudPaymentsAdapter(CloudPaymentsConfig config, const AdapterContext& context)
      : CloudPaymentsAdapter(std::move(config), context.metrics) {}

  std::string DescribeJson() const override;
  bool ServesPath(std::string_view sub_path) const override;

 private:
  const net::SignatureScheme hmac_;

 private:
  Result<WebhookResult> Handle(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::cloudpayments
