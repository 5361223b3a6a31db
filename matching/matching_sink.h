#pragma once
// MatchingSink: the CRM sink with payment matching after it. Every Apply is
// forwarded to the store; when the batch brought a bank transaction, or a
// deal, a company or a contact while a payment waits for review, the
// matcher then looks at the payments still unmatched (payment_matcher.h),
// so a payment is linked as soon as both it and its deal are in the store,
// whichever came first. A deployment whose payments are all linked (or
// that has none) runs no matching for its leads and contacts: each run is a
// write transaction on crm.db beside the store's own. A matching error is
// logged and counted, never fails the apply: the entities are stored, and
// the next batch (or `crmhub match run`) tries again.
//
// Metrics (present at zero from the start): crmhub_matching_runs_total,
// crmhub_matching_errors_total, crmhub_payments_matched_total.
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
               MetricsRegistry* metrics);

  std::vector<DeliveryOutcome> Apply(const std::vector<crm::SinkEvent>& events) override;
  std::string_view name() const override { return inner_->name(); }
  Status Maintain() override { return inner_->Maintain(); }

 private:
  std::unique_ptr<crm::CrmSink> inner_;
  std::mutex mu_;
  std::unique_ptr<PaymentMatcher> matcher_ GUARDED_BY(mu_);
  // A payment may wait for a deal (unknown until the first run).
  bool review_waiting_ GUARDED_BY(mu_) = true;
  Counter* runs_ = nullptr;  // null without a registry
  Counter* errors_ = nullptr;
  Counter* matched_ = nullptr;
};

}  // namespace crmhub::matching
