#pragma once
// The Robokassa adapter: ResultURL notifications in. docs/adapters/
// robokassa.md says what is verified against the contract
// (contracts/payments/README.md §4), what is answered, which keys dedup and
// where the README is silent.
//
// Robokassa posts an application/x-www-form-urlencoded form (UTF-8) to the
// shop's ResultURL, /hooks/<id>, once a payment succeeded. Checks, in order,
// each refusal counted and logged by the kit's RefusalLog without a secret:
//   403  the sender is not in allow_ips (Robokassa's published
//        185.59.216.65 and 185.59.217.65 by default)
//   400  the body is not a form
//   401  SignatureValue missing or not
//        hash("OutSum:InvId:Password#2[:Shp_key=value...]") with the Shp_
//        fields sorted by name, in hex (compared without regard to case, in
//        constant time); the hash is the shop's hash_algorithm
//   400  InvId is not a positive integer, OutSum missing
// then one event is queued and answered 200 with the body OK<InvId> once
// durable.
//
// Event: kind payment, key <InvId> (Robokassa notifies a paid invoice once,
// so a repeat is a duplicate), ordered by InvId, payload the form as a JSON
// object of strings (config/mappings/robokassa-payments.toml maps it: the
// status is `succeeded`, ResultURL being called only for paid invoices).
//
// Thread-safety: immutable after construction; HandleWebhook runs on I/O
// threads, concurrently, and does no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/adapter.h"
#include "adapters/kit/payment_provider.h"

namespace crmhub::adapters::robokassa {

// merchant_login is the account; secrets = {Password#1, Password#2};
// choice = hash_algorithm.
using RobokassaConfig = kit::PaymentProviderConfig;

// The shop's hash_algorithm choices; "md5" is the default (the README's
// examples).
const std::vector<std::string>& HashAlgorithms();

// The hex digest of `text` under `algorithm` (one of HashAlgorithms());
// nullopt for another name.
std::optional<std::string> RobokassaHash(std::string_view algorithm, std::string_view text);

// "OutSum:InvId:password2[:Shp_a=1:Shp_b=2]", the Shp_ pairs sorted by
// name: what ResultURL's SignatureValue signs.
std::string ResultSignatureText(std::string_view out_sum, std::string_view inv_id,
                                std::string_view password2,
                                std::vector<std::pair<std::string, std::string>> shp);

// The addresses Robokassa posts ResultURL from (README §4).
std::vector<std::string> PublishedSenders();

class RobokassaAdapter final : public kit::PaymentAdapter {
 public:
  // `metrics` may be null; it must outlive the adapter.
  RobokassaAdapter(RobokassaConfig config, MetricsRegistry* metrics);
  RobokassaAdapter(RobokassaConfig config, const AdapterContext& context)
      : RobokassaAdapter(std::move(config), context.metrics) {}

  std::string DescribeJson() const override;

 private:
  Result<WebhookResult> Handle(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::robokassa
