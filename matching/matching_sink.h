#pragma once
// MatchingSink: the CRM sink with payment matching after it. Every Apply is
// forwarded to the store; when the batch brought a bank transaction, a deal,
// a company or a contact, the matcher then looks at the payments still
// unmatched (payment_matcher.h), so a payment is linked as soon as both it
// and its deal are in the store, whichever came first. A matching error is
// logged and counted, never fails the apply: the entities are stored, and
// the next batch (or `crmhub match run`) tries again.
//
// Thread-safety: Apply may run on several delivery workers; the matcher is
// used under a mutex.

#include <memory>
#include <mutex>

#include "base/metrics.h"
#include "base/thread_annotations.h"
#include "crm/sink.h"
#include "matching/payment_matcher.h"

namespace crmhub::matching {

class MatchingSink final : public crm::CrmSink {
 public:
  // `metrics` may be null.
  MatchingSink(std::unique_ptr<crm::CrmSink> inner, std::unique_ptr<PaymentMatcher> matcher,
               MetricsRegistry* metrics)
      : inner_(std::move(inner)), matcher_(std::move(matcher)), metrics_(metrics) {}

  std::vector<DeliveryOutcome> Apply(const std::vector<crm::SinkEvent>& events) override;
  std::string_view name() const override { return inner_->name(); }
  Status Maintain() override { return inner_->Maintain(); }

 private:
  std::unique_ptr<crm::CrmSink> inner_;
  std::mutex mu_;
  std::unique_ptr<PaymentMatcher> matcher_ GUARDED_BY(mu_);
  MetricsRegistry* metrics_;
};

}  // namespace crmhub::matching
