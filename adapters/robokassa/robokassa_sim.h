#pragma once
// RobokassaSimulator: a local stand-in for Robokassa's ResultURL (`crmhub
// sim robokassa --listen ADDR --target URL`, tests), written from
// contracts/payments/README.md §4, never from the adapter (it links simkit,
// not crmhub_adapter_robokassa).
//
// Each paid invoice of simkit's PaymentWorld (Robokassa calls ResultURL for
// paid invoices only), a form posted to --target: OutSum, InvId (the
// payment's index + 1), Fee, EMail, PaymentMethod, Shp_order (the shop's
// order), SignatureValue = md5("OutSum:InvId:Password#2:Shp_order=..."),
// upper-case hex as the documentation's examples show. Answered other than
// 200 OK<InvId>: sent again (the README names no retry policy; the
// pusher's backoff stands in for it).
//
// The payment page: GET /pay?MerchantLogin&OutSum&InvId[&Description]
// &SignatureValue checks a payment link's SignatureValue = md5(
// "MerchantLogin:OutSum:InvId:Password#1") (README §4, any case) and
// answers 200 naming the invoice, or 400 with the reason. The README gives
// no payment page address: /pay is the simulator's own, wired to the
// adapter's payment_url.
//
// Credentials: SimOptions::credentials[0] as "PASSWORD1:PASSWORD2" (default
// sim-password-1:sim-password-2); the merchant login is sim-shop.
// Thread-safe.

#include <atomic>
#include <string>
#include <vector>

#include "adapters/simkit/payment_provider_sim.h"
#include "base/clock.h"

namespace crmhub::adapters::robokassa {

using RobokassaSimOptions = simkit::SimOptions;

// credentials(): Password #1 and Password #2.
class RobokassaSimulator final : public simkit::PaymentProviderSimulator {
 public:
  RobokassaSimulator(const RobokassaSimOptions& options, Clock& clock);
  ~RobokassaSimulator() override;

  simkit::AdapterWiring Wiring() const override;
  // Payment links the page accepted.
  size_t LinksOpened() const;

 private:
  std::vector<simkit::Push> Pushes() const override;
  std::string PaymentId(const simkit::SimPayment& payment) const override;
  std::string FinalStatus(const simkit::SimPayment& payment) const override;
  net::HttpResponse Page(const simkit::SimRequest& r);

  std::atomic<size_t> links_opened_{0};
};

simkit::SimulatorType RobokassaSimulatorType();

}  // namespace crmhub::adapters::robokassa
