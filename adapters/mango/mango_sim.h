#pragma once
// MangoSimulator: a local stand-in for Mango Office VPBX (`crmhub sim mango
// --listen ADDR --target URL`, tests), written from contracts/telephony/
// README.md §1, never from the adapter (it links simkit, not
// crmhub_adapter_mango).
//
// Notifications: each call of simkit's CallWorld as Mango tells it, posted
// to --target (the address configured in the VPBX) + the event's path, a
// form of vpbx_api_key, sign = sha256(vpbx_api_key + json + vpbx_api_salt)
// and json (§2.1.1, §2.4.3):
//   events/call       Appeared (seq 1), Connected (seq 2, answered calls
//                     only), Disconnected (last seq, with disconnect_reason)
//   events/recording  Started at the answer, Completed at the end (answered
//                     calls)
//   events/summary    one second after the end: call_direction, times,
//                     talk_time (0 unanswered), entry_result (1 talked, 0 not)
// seq and timestamp are sent as strings for even calls and numbers for odd
// ones (the documentation's examples do both). Retries, duplicates and
// reordering are simkit::CallPusher's (Mango documents no retry policy):
// the dup fault's share of notifications is sent twice, and with any fault
// set one due notification in five overtakes another.
//
// API: POST /vpbx/commands/callback (§1.4.2: 4 a second per product), a
// form signed as above, json {command_id, from{extension}, to_number}:
// {"result":1000} once per command_id (a repeat is answered the same and
// not called again), 401 {"result":3102} for a wrong key or sign.
//
// Credentials: SimOptions::credentials[0] as "KEY:SALT" (default
// sim-vpbx-key:sim-vpbx-salt). Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "adapters/simkit/call_world.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"

namespace crmhub::adapters::mango {

struct MangoSimOptions : simkit::SimOptions {
  std::string api_key() const;
  std::string api_salt() const;
  // extra "target": where the notifications go ("" : none are sent).
  std::string target() const;
  Status Complete() const;
};

class MangoSimulator final : public simkit::PipelineSimulator {
 public:
  MangoSimulator(MangoSimOptions options, Clock& clock);
  ~MangoSimulator() override;

  // Starts serving, and pushing notifications when a target is set.
  Status Start(const std::string& listen) override;
  void Stop() override;
  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return all_final_at_; }
  // entry_id -> "answered" | "missed", as the summary says.
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }
  simkit::AdapterWiring Wiring() const override;

  // Every notification delivered (answered 200) or given up.
  bool PushesDone() const;
  simkit::PushStats PushStats() const;
  // command_ids called back, once each.
  std::vector<std::string> Callbacks() const;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  simkit::SimPipeline::Options PipelineOptions();
  std::vector<simkit::Push> Pushes() const;
  net::HttpResponse Callback(const simkit::SimRequest& r);

  const MangoSimOptions options_;
  Clock& clock_;
  const std::vector<simkit::SimCall> calls_;
  SystemTime all_final_at_{};
  std::unique_ptr<simkit::CallPusher> pusher_;

  mutable std::mutex mu_;
  std::vector<std::string> callbacks_;  // GUARDED_BY(mu_)
  std::set<std::string> seen_commands_;  // GUARDED_BY(mu_)

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim mango` and the registry's entry.
simkit::SimulatorType MangoSimulatorType();

}  // namespace crmhub::adapters::mango
