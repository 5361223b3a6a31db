#pragma once
// ZadarmaSimulator: a local stand-in for Zadarma's PBX notifications
// (`crmhub sim zadarma --listen ADDR --target URL`, tests), written from
// contracts/telephony/README.md §2 (the official SDKs), never from the
// adapter (it links simkit, not crmhub_adapter_zadarma).
//
// Each call of simkit's CallWorld as Zadarma tells it, a form posted to
// --target (the PBX's "call info" URL) with the header Signature = base64 of
// the hex HMAC-SHA1 (key: the API secret) of the event's fields:
//   incoming  NOTIFY_START, NOTIFY_INTERNAL (the extension rung),
//             NOTIFY_ANSWER (answered calls), NOTIFY_END (duration,
//             disposition answered | no answer | busy | cancel, status_code,
//             is_recorded, call_id_with_rec), NOTIFY_RECORD 40 s later
//             (recorded calls: the answered ones)
//   outgoing  NOTIFY_OUT_START, NOTIFY_OUT_END (as NOTIFY_END, with
//             destination), NOTIFY_RECORD as above
// call_start is "YYYY-MM-DD hh:mm:ss" in Moscow time (the sources name no
// zone: the simulator's assumption, as the shipped rules'). Retries,
// duplicates and reordering are simkit::CallSimulator's (Zadarma documents
// no retry policy). Zadarma's URL check (GET ?zd_echo=) is not played.
//
// Credentials: SimOptions::credentials[0] as "KEY:SECRET" (default
// sim-zd-key:sim-zd-secret). It serves no API (the adapter calls none).
// Thread-safe.

#include <string>
#include <vector>

#include "adapters/simkit/call_world.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"

namespace crmhub::adapters::zadarma {

struct ZadarmaSimOptions : simkit::SimOptions {
  Status Complete() const;
};

class ZadarmaSimulator final : public simkit::CallSimulator {
 public:
  ZadarmaSimulator(ZadarmaSimOptions options, Clock& clock);
  ~ZadarmaSimulator() override;

  simkit::AdapterWiring Wiring() const override;

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  std::vector<simkit::Push> Pushes() const override;
  // pbx_call_id (the shipped rules read answered or missed from disposition).
  std::string CallId(const simkit::SimCall& call) const override;
  std::chrono::milliseconds LastWordAfterEnd() const override { return std::chrono::seconds(0); }

  const simkit::CredentialPair credentials_;  // the API key and secret
  simkit::SimPipeline pipeline_;              // last: stopped first, while the rest is alive
};

// `crmhub sim zadarma` and the registry's entry.
simkit::SimulatorType ZadarmaSimulatorType();

}  // namespace crmhub::adapters::zadarma
