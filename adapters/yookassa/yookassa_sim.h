#pragma once
// YooKassaSimulator: a local stand-in for YooKassa API v3 (`crmhub sim
// yookassa --listen ADDR --target URL`, tests), written from contracts/
// payments/README.md §1, never from the adapter (it links simkit, not
// crmhub_adapter_yookassa).
//
// Notifications: each payment of simkit's PaymentWorld as YooKassa tells it,
// posted as JSON to --target: {"type":"notification","event":..,"object":
// <the payment at that moment>}: payment.waiting_for_capture when a
// two-stage payment is held, then payment.succeeded (paid) or
// payment.canceled. Not answered 200: sent again (README: redelivered for
// 24 h; the pusher's backoff stands in for it).
//
// API (HTTP Basic shop_id:secret_key; 401 {"type":"error","code":
// "invalid_credentials"} otherwise):
//   GET  /v3/payments/{id}   the payment as it is now: pending, then
//                            waiting_for_capture (two-stage), then its end
//   GET  /v3/refunds/{id}    404 (the world refunds nothing)
//   POST /v3/payments        Idempotence-Key required (at most 64
//                            characters, else 400 invalid_request); a new
//                            key creates a pending payment with a
//                            confirmation_url, a repeated key with the same
//                            body answers the first answer again, with
//                            another body 400
//
// Credentials: SimOptions::credentials[0] as "SHOP_ID:SECRET_KEY" (default
// sim-shop:sim-secret-key). Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/simkit/payment_provider_sim.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::yookassa {

using YooKassaSimOptions = simkit::SimOptions;

// credentials(): the shop id and the secret key.
class YooKassaSimulator final : public simkit::PaymentProviderSimulator {
 public:
  YooKassaSimulator(const YooKassaSimOptions& options, Clock& clock);
  ~YooKassaSimulator() override;

  simkit::AdapterWiring Wiring() const override;
  // Payments created through POST /v3/payments, once per Idempotence-Key.
  size_t CreatedPayments() const;

 private:
  // Basic auth and the routes; runs inside the base's constructor, before
  // `self` is constructed (its handlers use it later).
  static void Configure(YooKassaSimulator* self, simkit::SimPipeline::Options& o,
                        const simkit::CredentialPair& credentials);
  std::vector<simkit::Push> Pushes() const override;
  std::string PaymentId(const simkit::SimPayment& payment) const override;
  std::string FinalStatus(const simkit::SimPayment& payment) const override;
  // The payment as YooKassa shows it at `at`.
  nlohmann::json Object(const simkit::SimPayment& payment, SystemTime at) const;
  net::HttpResponse GetPayment(const simkit::SimRequest& r) const;
  net::HttpResponse CreatePayment(const simkit::SimRequest& r);

  std::map<std::string, const simkit::SimPayment*> by_id_;
  mutable std::mutex mu_;
  // Idempotence-Key -> (request body, answer).
  std::map<std::string, std::pair<std::string, std::string>> created_ GUARDED_BY(mu_);
};

// `crmhub sim yookassa` and the registry's entry.
simkit::SimulatorType YooKassaSimulatorType();

}  // namespace crmhub::adapters::yookassa
