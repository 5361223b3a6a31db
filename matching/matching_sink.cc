#include "matching/matching_sink.h"

#include <spdlog/spdlog.h>

namespace crmhub::matching {

std::vector<DeliveryOutcome> MatchingSink::Apply(const std::vector<crm::SinkEvent>& events) {
  std::vector<DeliveryOutcome> out = inner_->Apply(events);
  bool relevant = false;
  for (size_t i = 0; i < events.size() && !relevant; ++i) {
    if (i >= out.size() || out[i].kind != DeliveryOutcome::Kind::kOk) continue;
    for (const model::Entity& e : events[i].entities) {
      relevant = relevant || e.kind == model::EntityKind::kBankTransaction ||
                 e.kind == model::EntityKind::kDeal || e.kind == model::EntityKind::kCompany ||
                 e.kind == model::EntityKind::kContact;
    }
  }
  if (!relevant) return out;
  std::lock_guard lock(mu_);
  constexpr int64_t kBatch = 10'000;
  while (true) {
    Result<MatchSummary> s = matcher_->MatchPending(kBatch);
    if (!s.ok()) {
      spdlog::warn("payment matching: {} (tried again with the next batch)", s.status().ToString());
      if (metrics_ != nullptr) {
        metrics_->GetCounter("crmhub_matching_errors_total", "Payment matching runs that failed")
            .Inc();
      }
      break;
    }
    if (metrics_ != nullptr && s->linked > 0) {
      metrics_
          ->GetCounter("crmhub_payments_matched_total",
                       "Incoming bank payments linked to a deal by payer INN and invoice number")
          .Inc(static_cast<double>(s->linked));
    }
    if (s->checked < kBatch) break;
  }
  return out;
}

}  // namespace crmhub::matching
