#include "matching/matching_sink.h"

#include <spdlog/spdlog.h>

namespace crmhub::matching {

MatchingSink::MatchingSink(std::unique_ptr<crm::CrmSink> inner,
                           std::unique_ptr<PaymentMatcher> matcher, MetricsRegistry* metrics)
    : inner_(std::move(inner)), matcher_(std::move(matcher)) {
  if (metrics == nullptr) return;
  runs_ = &metrics->GetCounter("crmhub_matching_runs_total",
                               "Payment matching runs after a batch reached the CRM store");
  errors_ =
      &metrics->GetCounter("crmhub_matching_errors_total", "Payment matching runs that failed");
  matched_ = &metrics->GetCounter(
      "crmhub_payments_matched_total",
      "Incoming bank payments linked to a deal by payer INN and invoice number");
}

std::vector<DeliveryOutcome> MatchingSink::Apply(const std::vector<crm::SinkEvent>& events) {
  std::vector<DeliveryOutcome> out = inner_->Apply(events);
  bool payments = false;  // a bank transaction: always worth a look
  bool parties = false;   // a deal, company or contact: only if a payment waits
  for (size_t i = 0; i < events.size(); ++i) {
    if (i >= out.size() || out[i].kind != DeliveryOutcome::Kind::kOk) continue;
    for (const model::Entity& e : events[i].entities) {
      payments = payments || e.kind == model::EntityKind::kBankTransaction;
      parties = parties || e.kind == model::EntityKind::kDeal ||
                e.kind == model::EntityKind::kCompany || e.kind == model::EntityKind::kContact;
    }
  }
  if (!payments && !parties) return out;
  std::lock_guard lock(mu_);
  if (!payments && !review_waiting_) return out;
  if (runs_ != nullptr) runs_->Inc();
  constexpr int64_t kBatch = 10'000;
  while (true) {
    Result<MatchSummary> s = matcher_->MatchPending(kBatch);
    if (!s.ok()) {
      spdlog::warn("payment matching: {} (tried again with the next batch)", s.status().ToString());
      if (errors_ != nullptr) errors_->Inc();
      review_waiting_ = true;  // unknown: look again next time
      return out;
    }
    if (matched_ != nullptr && s->linked > 0) matched_->Inc(static_cast<double>(s->linked));
    if (s->checked < kBatch) break;
  }
  Result<bool> waiting = matcher_->HasUnmatched();
  review_waiting_ = !waiting.ok() || *waiting;
  return out;
}

}  // namespace crmhub::matching
