#pragma once
// CommandOutbox: what a payment adapter's commands learned that the CRM
// must hear (YooKassa's confirmation URL, T-Bank's PaymentURL and a
// refund's new status, Robokassa's signed payment URL), held until the
// adapter's next pull queues it as an inbound record, so that it reaches
// the payment entity through the provider's shipped mapping rules like any
// notification: the command's answer has no other way back to the CRM.
//
// In memory only: a crash between the command and the next pull loses the
// record (the URL), never the payment, whose notifications still come; the
// adapter's docs say so. Thread-safe: Push runs on delivery workers, Take
// on the pull.

#include <mutex>
#include <vector>

#include "adapters/adapter.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::kit {

class CommandOutbox {
 public:
  void Push(InboundEvent record);
  // Everything pushed since the last Take, in push order; empties the box.
  std::vector<InboundEvent> Take();

 private:
  mutable std::mutex mu_;
  std::vector<InboundEvent> records_ GUARDED_BY(mu_);
};

}  // namespace crmhub::adapters::kit
