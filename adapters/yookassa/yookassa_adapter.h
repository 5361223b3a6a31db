#pragma once
// The YooKassa adapter: HTTP notifications in, trusted only through the API.
// docs/adapters/yookassa.md says what is verified against the contract
// (contracts/payments/README.md §1), what is answered, which keys dedup and
// where the README is silent.
//
// YooKassa signs nothing, so a notification is a hint, never a record:
//   403  the sender is not in allow_ips (YooKassa's published ranges, IPv4
//        and IPv6, by default)
//   400  the body is not {"type":"notification","event":"<object>.<status>",
//        "object":{"id":..}} with an id of letters, digits, '-' and '_'
// then a hint is queued (key hint:<object.id>:<event>, ordered by the
// payment's id) and answered 200 once durable; events of other products
// (payouts, deals, payment_method.*) are answered 200 and not queued.
//
// On a delivery worker, Resolve re-fetches the object (GET /v3/payments/{id}
// or /v3/refunds/{id}, Basic shop_id:secret_key) and queues what the API
// says, never what the notification claimed: kind payment or refund, key
// <payment|refund>:<id>:<fetched status>, payload
// {"type":"notification","event":"<object>.<fetched status>","object":<the
// fetched object>} (so config/mappings/yookassa-payments.toml maps it as a
// notification). A notification claiming more than the API holds (a
// `succeeded` the API calls `pending`, a `canceled` it calls `succeeded`) is
// not trusted: counted in crmhub_webhook_refusals_total{rule="refetch"} and
// logged, and only the fetched state is queued. An object the API does not
// know (404) is a dead letter; 5xx, timeouts and 429 retry the hint.
//
// Reconciliation (SourceCapability): every payment or refund Resolve finds
// not yet final (pending, waiting_for_capture) is remembered; every
// reconcile_every, those remembered for reconcile_after are re-read (GET,
// at most 50 a pull) and, once final, queued as Resolve would queue them
// (the same keys: a notification arriving later is a duplicate). The
// remembered set is the pull cursor, so it survives a restart. The pull
// runs every 5 s; the re-reads every reconcile_every.
//
// kit::PaymentLookup: GET /v3/payments/{id} for `crmhub reconcile --source`,
// the record Resolve would queue for it (404: not found).
//
// What a command created comes back the same way: the payment (or refund)
// YooKassa answered, with its confirmation URL, is the command's learned
// record (DeliveryOutcome::learned) of its status (payment:<id>:pending),
// which the runtime queues durably before it settles the command and the
// shipped rules map into the payment entity (extra.confirmation_url).
//
// Target: commands through POST /api/v1/commands, one request each, with
// Idempotence-Key = IdempotenceKey(the command's key), the same on every
// redelivery, and a body built only from the command's item (so a repeat
// is the same request, as YooKassa requires of a reused key):
//   create_payment {"amount":"100.00","currency":"RUB","description",
//                  "order_id" (into metadata.order_id),"return_url",
//                  "capture" (default true)} -> POST /v3/payments with a
//                  redirect confirmation
//   refund         {"payment_id","amount","currency","description"}
//                  -> POST /v3/refunds
// YooKassa's response rules (README §1): 200 done; 202 processing -> retried
// with the same key after its retry_after (ms); 500 and timeouts -> retried
// with the same key; 429 -> retried later; any other 4xx -> a dead letter
// carrying YooKassa's answer (401/403 retry: the credentials are the
// config's fault, not the command's). What YooKassa answered (the object
// and its confirmation URL) comes back as the command's learned record
// (above).
//
// Thread-safety: the config is immutable; the remembered objects
// (kit::PendingSweep) lock.
// HandleWebhook runs on I/O threads and does no I/O; Resolve, Pull and
// Deliver run on workers and block on the API.

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/payment_lookup.h"
#include "adapters/kit/payment_provider.h"
#include "adapters/kit/pending_sweep.h"
#include "adapters/yookassa/yookassa_client.h"

namespace crmhub::adapters::yookassa {

// shop_id is the account; secrets = {the secret key}.
using YooKassaConfig = kit::PaymentProviderConfig;

// YooKassa's published notification senders (README §1, the official SDK's
// list): IPv4 ranges and addresses, and the SDK's IPv6 /64s.
std::vector<std::string> PublishedSenders();

// The command's key as an Idempotence-Key: itself when it has at most 64
// characters (YooKassa's limit), else the lowercase hex SHA-256 of it (64
// characters), so that every redelivery sends the same key.
std::string IdempotenceKey(std::string_view command_key);

class YooKassaAdapter final : public kit::PaymentAdapter,
                              public TargetCapability,
                              public SourceCapability,
                              public kit::PaymentLookup {
 public:
  // Without a transport (check-config, tests of the notifications) Resolve
  // retries (transient).
  YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics);
  // The factory's: an upstream transport on the context's HTTP client.
  YooKassaAdapter(YooKassaConfig config, const AdapterContext& context);
  YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics, net::Transport transport,
                  const Clock& clock);

  std::string DescribeJson() const override;
  ResolveResult Resolve(const Hint& hint) override;

  SourceCapability* source() override { return this; }
  Result<PullResult> Pull(const std::optional<std::string>& cursor) override;
  std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(5); }

  TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 10; }
  std::vector<std::string> commands() const override { return {"create_payment", "refund"}; }

  Result<InboundEvent> LookUpPayment(const std::string& id) override;

 private:
  // The record Resolve and Pull queue for a fetched object.
  InboundEvent Record(ObjectKind kind, const std::string& id, const std::string& payment_id,
                      const nlohmann::json& fetched, std::string_view status) const;
  // Remembers (or forgets, when final) an object Resolve fetched.
  void Track(ObjectKind kind, const std::string& id, const std::string& payment_id,
             std::string_view status);

  // `clock` null: system_clock_. The public constructors delegate here with
  // a pointer: a reference to system_clock_ taken before the object exists
  // (as a delegating call's argument) is undefined behaviour.
  YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics, net::Transport transport,
                  const Clock* clock);

  const SystemClock system_clock_;  // when the context has no clock
  const Clock& clock_;
  const YooKassaClient client_;
  kit::PendingSweep sweep_;  // objects not final, by id; kind "payment" or "refund"

 private:
  Result<WebhookResult> Handle(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::yookassa
