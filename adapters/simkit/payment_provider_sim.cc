#include "adapters/simkit/payment_provider_sim.h"

namespace crmhub::simkit {

PaymentProviderSimulator::PaymentProviderSimulator(const SimOptions& options, Clock& clock,
                                                   const PaymentProvider& provider,
                                                   const ConfigureFn& configure)
    : PaymentSimulator(options, clock, provider.salt),
      credentials_(ReadCredentialPair(options, provider.default_key, provider.default_secret)),
      pipeline_(PipelineOptions(options, provider, configure), clock) {}

PaymentProviderSimulator::~PaymentProviderSimulator() { Stop(); }

SimPipeline::Options PaymentProviderSimulator::PipelineOptions(const SimOptions& options,
                                                               const PaymentProvider& provider,
                                                               const ConfigureFn& configure) {
  SimPipeline::Options o = CommonOptions(options, provider.salt);
  o.dialect.server_header = provider.system + "-sim";
  o.dialect.unauthorized = [error = provider.error](bool) { return error(401, "Unauthorized"); };
  o.dialect.error = provider.error;
  o.dialect.throttled = [error = provider.error](const LimitRefusal&) {
    return error(429, "Too many requests");
  };
  if (configure) configure(o, credentials_);
  return o;
}

}  // namespace crmhub::simkit
