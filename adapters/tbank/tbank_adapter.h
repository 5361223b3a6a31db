#pragma once
// The T-Bank (Tinkoff) internet acquiring adapter: payment notifications
// (NotificationPayment) in. docs/adapters/tbank.md says what is verified
// against the contract (contracts/payments/README.md §3), what is answered,
// which keys dedup and where the README is silent.
//
// T-Bank posts a JSON object to the NotificationURL, /hooks/<id>. Checks,
// in order, each refusal counted and logged by the kit's RefusalLog without
// a secret:
//   403  the sender is not in allow_ips (empty by default: the README names
//        no sender addresses, so the Token is the check)
//   400  the body is not a JSON object (depth-capped)
//   401  TerminalKey is not ours
//   401  Token missing or not TbankToken(the body's root-level values, the
//        terminal's password), compared in constant time
//   400  PaymentId (a string or an integer) or Status (a string) missing
// then one event is queued and answered 200 with the body OK once durable.
//
// Event: kind payment, key <PaymentId>:<Status> (AUTHORIZED and CONFIRMED
// of one payment arrive together and are both kept), ordered by PaymentId,
// payload the body as sent (config/mappings/tbank-payments.toml maps it).
//
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads, concurrently, and does no I/O.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "adapters/adapter.h"
#include "adapters/kit/payment_provider.h"

namespace crmhub::adapters::tbank {

// terminal_key is the account; secrets = {the terminal's password}.
using TbankConfig = kit::PaymentProviderConfig;

// T-Bank's Token (README §3, developer.tbank.ru eacq token): the root-level
// scalar members of `params` except Token (nested objects and arrays such
// as Receipt and DATA, and nulls, left out) plus {"Password": password},
// sorted by key, their values concatenated (strings as they are, numbers
// as decimal text, booleans true/false), SHA-256, lowercase hex.
std::string TbankToken(const nlohmann::json& params, std::string_view password);

class TbankAdapter final : public kit::PaymentAdapter {
 public:
  // `metrics` may be null; it must outlive the adapter.
  TbankAdapter(TbankConfig config, MetricsRegistry* metrics);
  TbankAdapter(TbankConfig config, const AdapterContext& context)
      : TbankAdapter(std::move(config), context.metrics) {}

  std::string DescribeJson() const override;
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::tbank
