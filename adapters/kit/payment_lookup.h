#pragma once
// PaymentLookup: a payment provider's adapter that can ask its provider
// what it holds of one payment now (YooKassa GET /v3/payments/{id}, T-Bank
// GetState). `crmhub reconcile --source` (daemon/cli/source_count.h) asks
// it for each payment of that adapter in crm.db and sets what the provider
// says beside what the CRM holds.
//
// The answer is the record the adapter's sweep would queue for the payment
// in that state, so that the adapter's own mapping rules turn it into the
// payment entity compared with the stored one: no second reading of the
// provider's statuses. Read-only: nothing is queued, nothing remembered.
//
// Implemented beside kit::PaymentAdapter by a provider adapter that calls
// its API; found with dynamic_cast on the built adapter.

#include <string>

#include "adapters/adapter.h"
#include "base/status.h"

namespace crmhub::adapters::kit {

class PaymentLookup {
 public:
  virtual ~PaymentLookup() = default;

  // The record for payment `id` as the provider holds it now. kNotFound
  // when the provider does not know it (or refuses to name it); other
  // errors when it could not be asked (down, throttled, credentials).
  // Blocks on the provider's API; any thread.
  virtual Result<InboundEvent> LookUpPayment(const std::string& id) = 0;
};

}  // namespace crmhub::adapters::kit
