#pragma once
// PaymentProviderSimulator: the frame of one payment provider's simulator
// (YooKassa, CloudPayments, T-Bank, Robokassa), on PaymentSimulator (the
// world and the pushes): the provider's credential pair from --tokens, and
// its pipeline answering in the provider's error shape, so that a
// provider's simulator says only what is its own: what it pushes, the API
// it serves, how it names its payments.
//
//   PaymentProvider           what the frame is told of the provider.
//   PaymentProviderSimulator  builds the pipeline from CommonOptions, the
//                             provider's Server header ("<system>-sim") and
//                             error answer (401 "Unauthorized", 429 "Too many
//                             requests", the rest the pipeline's), then the
//                             subclass's `configure` (routes, auth); stops
//                             the pipeline before any of it is destroyed.
//   CreatePaymentSimulator    SimulatorType::create: refuses a --tokens not
//                             in the provider's "KEY:SECRET" form.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "adapters/simkit/call_world.h"
#include "adapters/simkit/payment_world.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/status.h"
#include "net/http_types.h"

namespace crmhub::simkit {

struct PaymentProvider {
  std::string system;           // "tbank": the Server header, the --tokens error
  std::string credential_form;  // "TERMINAL_KEY:PASSWORD": what --tokens takes
  std::string default_key;      // without --tokens
  std::string default_secret;
  // Separates this provider's draws (world, faults) from another's.
  uint64_t salt = 0;
  // The provider's error answer for a status and a message.
  std::function<net::HttpResponse(int status, std::string_view message)> error;
};

class PaymentProviderSimulator : public PaymentSimulator {
 public:
  ~PaymentProviderSimulator() override;

 protected:
  // `configure` adds what the provider serves to the pipeline's options
  // (routes, auth), given the credentials. It runs inside this constructor,
  // before the subclass exists: it may capture the subclass's `this` for
  // handlers called later, but must not call the subclass's members (UBSan
  // reports such a call). The subclass must stop the simulator in its own
  // destructor if the handlers use its members.
  using ConfigureFn = std::function<void(SimPipeline::Options&, const CredentialPair&)>;
  PaymentProviderSimulator(const SimOptions& options, Clock& clock, const PaymentProvider& provider,
                           const ConfigureFn& configure = {});
  // --tokens' KEY and SECRET, or the provider's defaults.
  const CredentialPair& credentials() const { return credentials_; }

 private:
  SimPipeline& pipeline() final { return pipeline_; }
  const SimPipeline& pipeline() const final { return pipeline_; }
  SimPipeline::Options PipelineOptions(const SimOptions& options, const PaymentProvider& provider,
                                       const ConfigureFn& configure);

  const CredentialPair credentials_;
  SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// SimulatorType::create for `Sim`, constructed as Sim(const SimOptions&,
// Clock&), after checking --tokens against `provider`'s form.
template <typename Sim>
std::function<Result<std::unique_ptr<Simulator>>(const SimOptions&, Clock&)> CreatePaymentSimulator(
    const PaymentProvider& provider) {
  return [system = provider.system, form = provider.credential_form](
             const SimOptions& options, Clock& clock) -> Result<std::unique_ptr<Simulator>> {
    if (Status st = CheckCredentialPair(options, system, form); !st.ok()) return st;
    return std::unique_ptr<Simulator>(std::make_unique<Sim>(options, clock));
  };
}

}  // namespace crmhub::simkit
