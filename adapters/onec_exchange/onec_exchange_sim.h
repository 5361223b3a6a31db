#pragma once
// OnecExchangeSimulator: 1C:Enterprise as the client of the CommerceML 2
// site exchange (contracts/onec/README.md §2), for `crmhub sim onec --target
// URL --files DIR` and tests. Written from the protocol's description, never
// from the adapter (it links simkit, not crmhub_adapter_onec_exchange).
//
// Started, it runs one exchange against --target (the site's exchange URL,
// <crmhub>/hooks/<id>) on a thread of its own, as 1C does:
//   catalog: checkauth (Basic, credentials[0] "USER:PASSWORD", default
//   "exchange:exchange"), init (reads zip= and file_limit=), then the
//   import*.xml and offers*.xml of --files (sorted) in POSTs of at most
//   file_limit bytes (mode=file): each file under its own name, or, when
//   the site answered zip=yes, all of them packed into one "catalog.zip"
//   (libzip, deflated); then mode=import for each file by its own name,
//   repeated while the site answers "progress"; sale: the same for
//   orders*.xml with type=sale ("sale.zip"); with --query yes, then
//   mode=query (the site's orders: their Ид kept, OrdersReceived()) and,
//   unless --fail_before_success yes (1C failing before it confirms),
//   mode=success.
// Every answer must start with "success" (or be the init's); the first
// other answer ends the exchange as failed. GET /__sim/state tells the
// steps and the outcome ("running", "done", "failed: <why>"); Done() waits
// for the end.
//
// Thread-safe.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/simkit/notifier.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::onec_exchange {

class OnecExchangeSimulator final : public simkit::PipelineSimulator {
 public:
  OnecExchangeSimulator(simkit::SimOptions options, Clock& clock);
  ~OnecExchangeSimulator() override;

  Status Start(const std::string& listen) override;
  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return SystemTime{}; }
  std::map<std::string, std::string> OrderStatuses(bool) const override { return {}; }
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }
  simkit::AdapterWiring Wiring() const override;

  // Waits until the exchange ended; its outcome ("done" or "failed: ...").
  std::string Done(std::chrono::milliseconds timeout);
  // The Ид of the orders the last mode=query answered.
  std::vector<std::string> OrdersReceived() const;
  // Requests sent so far (method, query).
  std::vector<std::string> Steps() const;

  // What the files of --files hold, as 1C knows its own data: distinct goods
  // (Каталог/Товары/Товар, import*.xml), offers (Предложение, offers*.xml),
  // prices (an offer's Цена per ИдТипаЦены) and order documents (Документ,
  // orders*.xml), by Ид. For a caller that reconciles what the site took
  // (the demo); read from the files at each call.
  struct Contents {
    int64_t goods = 0;
    int64_t offers = 0;
    int64_t prices = 0;
    int64_t documents = 0;
  };
  Contents FilesContents() const;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  std::string Run();
  void Step(std::string text);

  const simkit::SimOptions options_;
  simkit::Notifier client_;
  std::thread runner_;

  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::vector<std::string> steps_ GUARDED_BY(mu_);
  std::string outcome_ GUARDED_BY(mu_) = "not started";
  std::vector<std::string> received_ GUARDED_BY(mu_);

  simkit::SimPipeline pipeline_;  // last: stopped first
};

simkit::SimulatorType OnecExchangeSimulatorType();

}  // namespace crmhub::adapters::onec_exchange
