#pragma once
// CloudPaymentsSimulator: a local stand-in for CloudPayments' notifications
// (`crmhub sim cloudpayments --listen ADDR --target URL`, tests), written
// from contracts/payments/README.md §2, never from the adapter (it links
// simkit, not crmhub_adapter_cloudpayments).
//
// Each payment of simkit's PaymentWorld as CloudPayments tells it, a form
// (application/x-www-form-urlencoded, UTF-8) with Content-HMAC = base64(
// HMAC-SHA256(API secret, the body)), posted to --target + the type's path
// (the cabinet has a URL per type):
//   /pay      Status Authorized when a two-stage payment is held; Status
//             Completed when a one-stage payment is paid
//   /confirm  Status Completed when a held payment is captured
//   /cancel   Status Cancelled when a held payment is voided
//   /fail     Status Declined when a one-stage payment is declined
// Answered other than 200 {"code":0}: sent again (the README names no retry
// policy; the pusher's backoff stands in for it).
//
// Credentials: SimOptions::credentials[0] as "PUBLIC_ID:API_SECRET"
// (default pk_sim:sim-api-secret). Thread-safe.

#include <string>
#include <vector>

#include "adapters/simkit/payment_provider_sim.h"
#include "base/clock.h"

namespace crmhub::adapters::cloudpayments {

using CloudPaymentsSimOptions = simkit::SimOptions;

// credentials(): the public id and the API secret.
class CloudPaymentsSimulator final : public simkit::PaymentProviderSimulator {
 public:
  CloudPaymentsSimulator(const CloudPaymentsSimOptions& options, Clock& clock);

  simkit::AdapterWiring Wiring() const override;

 private:
  std::vector<simkit::Push> Pushes() const override;
  std::string PaymentId(const simkit::SimPayment& payment) const override;
  std::string FinalStatus(const simkit::SimPayment& payment) const override;
};

simkit::SimulatorType CloudPaymentsSimulatorType();

}  // namespace crmhub::adapters::cloudpayments
