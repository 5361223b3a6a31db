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
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads and does no I/O; Resolve runs on workers and blocks on the API.

#include <string>
#include <string_view>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/payment_provider.h"
#include "adapters/yookassa/yookassa_client.h"

namespace crmhub::adapters::yookassa {

// shop_id is the account; secrets = {the secret key}.
using YooKassaConfig = kit::PaymentProviderConfig;

// YooKassa's published notification senders (README §1, the official SDK's
// list): IPv4 ranges and addresses, and the SDK's IPv6 /64s.
std::vector<std::string> PublishedSenders();

class YooKassaAdapter final : public kit::PaymentAdapter {
 public:
  // Without a transport (check-config, tests of the notifications) Resolve
  // retries (transient).
  YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics);
  // The factory's: an upstream transport on the context's HTTP client.
  YooKassaAdapter(YooKassaConfig config, const AdapterContext& context);
  YooKassaAdapter(YooKassaConfig config, MetricsRegistry* metrics, net::Transport transport,
                  const Clock& clock);

  std::string DescribeJson() const override;
  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  ResolveResult Resolve(const Hint& hint) override;

 private:
  const SystemClock system_clock_;  // when the context has no clock
  const YooKassaClient client_;
};

AdapterType Type();

}  // namespace crmhub::adapters::yookassa
