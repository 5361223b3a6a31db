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
// reordering are simkit::CallSimulator's (Mango documents no retry policy).
//
// API: POST /vpbx/commands/callback (§1.4.2: 4 a second per product), a
// form signed as above, json {command_id, from{extension}, to_number}:
// {"result":1000} once per command_id (a repeat is answered the same and
// not called again), 401 {"result":3102} for a wrong key or sign.
//
// Credentials: SimOptions::credentials[0] as "KEY:SALT" (default
// sim-vpbx-key:sim-vpbx-salt). Thread-safe.

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "adapters/simkit/call_world.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::mango {

struct MangoSimOptions : simkit::SimOptions {
  Status Complete() const;
};

class MangoSimulator final : public simkit::CallSimulator {
 public:
  MangoSimulator(MangoSimOptions options, Clock& clock);
  ~MangoSimulator() override;

  simkit::AdapterWiring Wiring() const override;
  // command_ids called back, once each.
  std::vector<std::string> Callbacks() const;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  simkit::SimPipeline::Options PipelineOptions(const MangoSimOptions& options);
  std::vector<simkit::Push> Pushes() const override;
  // entry_id (the summary's entry_result says answered or missed).
  std::string CallId(const simkit::SimCall& call) const override;
  std::chrono::milliseconds LastWordAfterEnd() const override { return std::chrono::seconds(1); }
  net::HttpResponse Callback(const simkit::SimRequest& r);

  const simkit::CredentialPair credentials_;  // the key and the salt

  mutable std::mutex mu_;
  std::vector<std::string> callbacks_ GUARDED_BY(mu_);
  std::set<std::string> seen_commands_ GUARDED_BY(mu_);

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim mango` and the registry's entry.
simkit::SimulatorType MangoSimulatorType();

}  // namespace crmhub::adapters::mango
