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
// Target (only with payment_url set; without it the adapter supports no
// command and POST /api/v1/commands answers 422): create_payment
// {"order_id" (the shop's InvId: a positive integer),"amount" (decimal
// roubles: "100.00", as OutSum),"description"} -> a payment link, made here
// without calling Robokassa: <payment_url>?MerchantLogin=..&OutSum=..
// &InvId=..[&Description=..]&SignatureValue=hash("MerchantLogin:OutSum:
// InvId:Password#1") under hash_algorithm (README §4, the payment link
// formula; no Shp_ parameters are added). The README gives no payment page
// address, so payment_url has no default: the shop's Robokassa documents
// name it. A redelivered command makes the same link.
//
// The link comes back to the CRM as an update of the payment entity: the
// command's learned record {"event":"payment_link","InvId","OutSum","PaymentURL"}
// (key link:<InvId>, ordered by InvId), which the shipped rules map into
// the payment at status pending with extra.payment_url; the ResultURL of
// the paid invoice then moves it to succeeded (a link arriving after that
// is stale under the store's status precedence). The runtime queues it
// durably before it settles the command (DeliveryOutcome::learned).
//
// Thread-safety: the config is immutable; HandleWebhook
// runs on I/O threads, concurrently, and does no I/O.

#include <chrono>
#include <optional>
#include <span>
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

// "MerchantLogin:OutSum:InvId:password1": what a payment link's
// SignatureValue signs (README §4; no Shp_ parameters).
std::string LinkSignatureText(std::string_view merchant_login, std::string_view out_sum,
                              std::string_view inv_id, std::string_view password1);

// The addresses Robokassa posts ResultURL from (README §4).
std::vector<std::string> PublishedSenders();

class RobokassaAdapter final : public kit::PaymentAdapter, public TargetCapability {
 public:
  // `metrics` may be null; it must outlive the adapter.
  RobokassaAdapter(RobokassaConfig config, MetricsRegistry* metrics);
  RobokassaAdapter(RobokassaConfig config, const AdapterContext& context)
      : RobokassaAdapter(std::move(config), context.metrics) {}

  std::string DescribeJson() const override;

  TargetCapability* target() override { return this; }
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 10; }
  std::vector<std::string> commands() const override;

 private:
  Result<WebhookResult> Handle(const net::HttpRequest& request) override;
};

AdapterType Type();

}  // namespace crmhub::adapters::robokassa
