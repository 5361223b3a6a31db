#pragma once
// What the payment simulators (YooKassa, CloudPayments, T-Bank, Robokassa)
// share: a world of payments, and the frame that pushes a provider's
// notifications of them (simkit's CallPusher: in time order, again when not
// answered as the provider requires, sometimes twice, sometimes out of
// order).
//
//   PaymentWorld  payment i of n is created at start + arrival * i / n
//                 (simkit/world.h); seeded per payment: the amount (whole
//                 roubles 10..50000), whether it is paid (80%), whether the
//                 provider holds it first (two-stage, 50%: authorized within
//                 the first third of SimOptions::lifetime), and when it ends
//                 (within the rest). What each provider sends about a
//                 payment, and how it names its final status, is the
//                 simulator's own.
//   PaymentSimulator  the frame of a payment simulator, on simkit's
//                 PushingSimulator (the server and the pusher): the world,
//                 the state, and the final statuses the CRM must end with.
//
// Thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapters/simkit/call_world.h"
#include "adapters/simkit/pushing_simulator.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"

namespace crmhub::simkit {

struct SimPayment {
  int index = 0;
  std::string order_id;  // the shop's order: "sim-order-7"
  int64_t amount_minor = 0;
  bool paid = true;
  bool two_stage = false;
  SystemTime created;
  SystemTime authorized;  // two-stage only (== created otherwise)
  SystemTime ended;       // paid, or declined/canceled
  // "1234.00": the amount as decimal text.
  std::string Amount() const;
};

// The world's payments in creation order (see the header comment).
std::vector<SimPayment> CreatePayments(const SimOptions& options, const Clock& clock);

class PaymentSimulator : public PushingSimulator {
 public:
  // {"payments": N, "pushes": {sent, delivered, retried, duplicated, reordered, abandoned}}.
  std::string StateJson() const override;
  SystemTime AllFinalAt() const override;
  // PaymentId -> FinalStatus (the canonical payment status the CRM holds
  // after the provider's shipped rules) of the payments ended by now
  // (`final_only`: all), leaving out those the provider never tells of.
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  const std::vector<SimPayment>& payments() const { return payments_; }

 protected:
  // `salt` separates this provider's draws from another's of the same seed.
  PaymentSimulator(const SimOptions& options, Clock& clock, uint64_t salt);
  virtual std::string PaymentId(const SimPayment& payment) const = 0;
  // "succeeded", "canceled", "failed"; "" when the provider never tells of
  // the payment (Robokassa's unpaid invoices).
  virtual std::string FinalStatus(const SimPayment& payment) const = 0;

 private:
  const std::vector<SimPayment> payments_;
};

}  // namespace crmhub::simkit
