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
// Reconciliation (SourceCapability, kit::PendingSweep): every payment a
// notification or an Init answer shows not final (NEW, AUTHORIZED, ...:
// anything but TbankFinalStatus) is remembered; every reconcile_every,
// those remembered for reconcile_after are re-read with GetState (at most
// 50 a pull) and, once final, queued as a notification of that status
// would be (key <PaymentId>:<Status>, payload GetState's answer, whose
// fields are the notification's: the shipped rules map it; a notification
// arriving later is a duplicate). GetState refusing the PaymentId (Success
// false) forgets it, logged; 5xx, timeouts and 429 leave the rest for the
// next sweep. The remembered set is the pull cursor, so it survives a
// restart. An AUTHORIZED handled after its CONFIRMED is remembered again
// and read once more: harmless, the re-read is a duplicate. The pull runs
// every 5 s; the re-reads every reconcile_every.
//
// kit::PaymentLookup: GetState for `crmhub reconcile --source`.
//
// Target: commands through POST /api/v1/commands, each signed with the
// Token by TbankClient:
//   create_payment {"order_id","amount" (decimal roubles: "1500.00"),
//                  "description"} -> POST Init. The new PaymentId is
//                  remembered by the sweep, and Init's answer (PaymentId,
//                  Status NEW, Amount, OrderId, PaymentURL) is the command's
//                  learned record (key <PaymentId>:Init), which the shipped rules
//                  map into the payment entity with extra.payment_url: the
//                  payment link comes back to the CRM as an update of the
//                  payment. T-Bank takes no idempotency key; the OrderId is
//                  the command's, the same on every redelivery (the README
//                  is silent on whether T-Bank refuses or repeats a second
//                  Init of one OrderId; the simulator answers the first
//                  again).
//   refund         {"payment_id" (T-Bank's PaymentId),"amount" (roubles;
//                  left out: the whole payment)} -> POST Cancel, the
//                  operation README §3 names beside Init and GetState (its
//                  parameters are not in the README: PaymentId and Amount
//                  in kopecks, as Init's and GetState's). T-Bank reports a
//                  refund as the payment's status (REFUNDED,
//                  PARTIAL_REFUNDED, REVERSED), with no refund object, so
//                  after Cancel the payment is read with GetState and that
//                  record is the command's learned one (the sweep reads it
//                  later when GetState fails). Cancel takes no idempotency key
//                  either: a redelivered refund (attempt > 1) reads the
//                  payment first; already REFUNDED or REVERSED is done, and
//                  a partial refund of a PARTIAL_REFUNDED payment is a dead
//                  letter rather than a second refund.
// A refusal (Success false) is a dead letter with T-Bank's ErrorCode; 5xx
// and timeouts retry. A command's learned records (DeliveryOutcome::learned)
// are queued by the runtime, durably, before it settles the command.
//
// Thread-safety: the config is immutable; the sweep locks.
// HandleWebhook runs on I/O threads, concurrently, and does no I/O; Deliver
// runs on workers and blocks on the API.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/kit/payment_lookup.h"
#include "adapters/kit/payment_provider.h"
#include "adapters/kit/pending_sweep.h"
#include "adapters/kit/target.h"
#include "adapters/tbank/tbank_client.h"

namespace crmhub::adapters::tbank {

// terminal_key is the account; secrets = {the terminal's password}.
using TbankConfig = kit::PaymentProviderConfig;

// T-Bank's Token (README §3, developer.tbank.ru eacq token): the root-level
// scalar members of `params` except Token (nested objects and arrays such
// as Receipt and DATA, and nulls, left out) plus {"Password": password},
// sorted by key, their values concatenated (strings as they are, numbers
// as decimal text, booleans true/false), SHA-256, lowercase hex.
std::string TbankToken(const nlohmann::json& params, std::string_view password);

// Whether a payment in T-Bank `status` has ended (CONFIRMED, REVERSED,
// REFUNDED, PARTIAL_REFUNDED, PARTIAL_REVERSED, REJECTED, CANCELED,
// DEADLINE_EXPIRED, AUTH_FAIL): the statuses config/mappings/tbank-
// payments.toml maps; any other (NEW, AUTHORIZED, an unknown one) is
// re-read by the sweep.
bool TbankFinalStatus(std::string_view status);

class TbankAdapter final : public kit::PaymentAdapter,
                           public TargetCapability,
                           public SourceCapability,
                           public kit::PaymentLookup {
 public:
  // `metrics` may be null; it must outlive the adapter. Without a transport
  // (check-config, tests of the notifications) commands retry.
  TbankAdapter(TbankConfig config, MetricsRegistry* metrics);
  // The factory's: an upstream transport on the context's HTTP client.
  TbankAdapter(TbankConfig config, const AdapterContext& context);
  TbankAdapter(TbankConfig config, MetricsRegistry* metrics, net::Transport transport,
               const Clock& clock);

  std::string DescribeJson() const override;

  TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 10; }
  std::vector<std::string> commands() const override { return {"create_payment", "refund"}; }

  SourceCapability* source() override { return this; }
  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(5); }

  Result<InboundEvent> LookUpPayment(const std::string& id) override;

 private:
  // GetState for `id`: the answer, or the API's error.
  net::ApiResult<nlohmann::json> GetState(const std::string& id) const;
  DeliveryOutcome CreatePayment(const kit::TargetCommand& c);
  DeliveryOutcome Refund(const kit::TargetCommand& c);
  // The record of what GetState says of `payment` now (a command's learned
  // record); none when it cannot be asked: the sweep remembers the payment
  // instead.
  std::vector<InboundEvent> StateOf(const std::string& payment);

  // `clock` null: system_clock_. The public constructors delegate here with
  // a pointer: a reference to system_clock_ taken before the object exists
  // (as a delegating call's argument) is undefined behaviour.
  TbankAdapter(TbankConfig config, MetricsRegistry* metrics, net::Transport transport,
               const Clock* clock);

  const SystemClock system_clock_;  // when the context has no clock
  const TbankClient client_;
  kit::PendingSweep sweep_;

 private:
  Result<WebhookResult> Handle(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::tbank
