#pragma once
// AcmeSimulator: the Acme Shop API (acme_client.h) as its spec would be
// read by someone who has not seen the adapter: orders that walk new ->
// paid -> shipped (or cancelled), the three routes, Bearer auth, the 10
// requests a second limit, Acme's error shape. Everything else (the log,
// faults, held answers, /__sim/*) is simkit's.
//
// Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/world.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::acme {

class AcmeSimulator final : public simkit::PipelineSimulator {
 public:
  AcmeSimulator(simkit::SimOptions options, Clock& clock);

  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return all_final_at_; }
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int n, int64_t stock) const override;
  int64_t StockItemsAt(int n, int64_t stock) const override;
  simkit::AdapterWiring Wiring() const override;

  std::string token() const;

 private:
  struct Order {
    std::string id;
    std::vector<simkit::WalkStep> steps;
  };
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  nlohmann::json OrderJson(const Order& order, size_t step) const;
  net::HttpResponse ListOrders(const simkit::SimRequest& request) const;
  net::HttpResponse GetOrder(const simkit::SimRequest& request) const;
  net::HttpResponse PutStock(const simkit::SimRequest& request);

  const simkit::SimOptions options_;
  Clock& clock_;
  std::vector<Order> orders_;  // immutable after construction
  SystemTime all_final_at_{};
  mutable std::mutex mu_;
  std::map<std::string, int64_t> stock_ GUARDED_BY(mu_);
  simkit::SimPipeline pipeline_;  // last: stopped first
};

simkit::SimulatorType AcmeSimulatorType();

}  // namespace crmhub::adapters::acme
