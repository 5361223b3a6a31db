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
// Credentials: SimOptions::credentials[0] as "PASSWORD1:PASSWORD2" (default
// sim-password-1:sim-password-2); the merchant login is sim-shop.
// Thread-safe.

#include <string>
#include <vector>

#include "adapters/simkit/payment_world.h"
#include "adapters/simkit/sim_pipeline.h"
#include "base/clock.h"

namespace crmhub::adapters::robokassa {

struct RobokassaSimOptions : simkit::SimOptions {
  Status Complete() const;
};

class RobokassaSimulator final : public simkit::PaymentSimulator {
 public:
  RobokassaSimulator(RobokassaSimOptions options, Clock& clock);
  ~RobokassaSimulator() override;

  simkit::AdapterWiring Wiring() const override;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  std::vector<simkit::Push> Pushes() const override;
  std::string PaymentId(const simkit::SimPayment& payment) const override;
  std::string FinalStatus(const simkit::SimPayment& payment) const override;

  const simkit::CredentialPair passwords_;  // Password #1 and #2
  simkit::SimPipeline pipeline_;            // last: stopped first, while the rest is alive
};

simkit::SimulatorType RobokassaSimulatorType();

}  // namespace crmhub::adapters::robokassa
