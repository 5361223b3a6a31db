#include "adapters/simkit/payment_world.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "adapters/simkit/world.h"

namespace crmhub::simkit {

std::string SimPayment::Amount() const {
  return fmt::format("{}.{:02d}", amount_minor / 100, amount_minor % 100);
}

std::vector<SimPayment> CreatePayments(const SimOptions& options, const Clock& clock) {
  std::vector<SimPayment> out;
  CreateOrders(options, clock, [&](int i, SystemTime created, SeededRng& rng) {
    SimPayment p;
    p.index = i;
    p.order_id = fmt::format("sim-order-{}", i);
    p.amount_minor = int64_t{100} * rng.Int(10, 50000);
    p.paid = rng.Chance(0.8);
    p.two_stage = rng.Chance(0.5);
    // Within SimOptions::lifetime of its creation: held within the first
    // third, ended within the rest.
    const int64_t life = std::max<int64_t>(3, options.lifetime.count());
    p.created = std::chrono::time_point_cast<std::chrono::milliseconds>(created);
    p.authorized =
        p.two_stage ? p.created + std::chrono::milliseconds(rng.Int(1, life / 3)) : p.created;
    p.ended = p.authorized + std::chrono::milliseconds(rng.Int(1, life * 2 / 3));
    out.push_back(std::move(p));
  });
  return out;
}

PaymentSimulator::PaymentSimulator(const SimOptions& options, Clock& clock, uint64_t salt)
    : PushingSimulator(options, clock, salt), payments_(CreatePayments(options, clock)) {}

SystemTime PaymentSimulator::AllFinalAt() const {
  SystemTime last{};
  for (const SimPayment& p : payments_) last = std::max(last, p.ended);
  return last;
}

std::map<std::string, std::string> PaymentSimulator::OrderStatuses(bool final_only) const {
  std::map<std::string, std::string> out;
  const SystemTime now = clock().Now();
  for (const SimPayment& p : payments_) {
    if (!final_only && p.ended > now) continue;
    std::string status = FinalStatus(p);
    if (!status.empty()) out[PaymentId(p)] = std::move(status);
  }
  return out;
}

std::string PaymentSimulator::StateJson() const {
  return PushStateJson("payments", payments_.size());
}

}  // namespace crmhub::simkit
