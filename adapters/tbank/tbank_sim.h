#pragma once
// TbankSimulator: a local stand-in for T-Bank internet acquiring (`crmhub
// sim tbank --listen ADDR --target URL`, tests), written from contracts/
// payments/README.md §3, never from the adapter (it links simkit, not
// crmhub_adapter_tbank).
//
// Notifications: each payment of simkit's PaymentWorld as T-Bank tells it,
// JSON posted to --target (the NotificationURL) with TerminalKey, OrderId,
// Success, Status, PaymentId, ErrorCode, Amount (kopecks) and the Token: a
// one-stage payment's AUTHORIZED and CONFIRMED at once (README: "sent
// simultaneously"), a two-stage one's AUTHORIZED when held and CONFIRMED
// (or REVERSED) at its end, a declined one's REJECTED. Answered other than
// 200 with the body OK: sent again (README: hourly, then daily; the
// pusher's backoff stands in for it).
//
// API: POST /v2/GetState {TerminalKey, PaymentId, Token} -> the payment's
// Status now; POST /v2/Init {TerminalKey, Amount, OrderId, ..., Token} ->
// a NEW payment with a PaymentURL, once per OrderId (a repeat answers the
// first); POST /v2/Cancel {TerminalKey, PaymentId, Amount (kopecks; left
// out: all that is left), Token} -> refunds a CONFIRMED payment, whose
// Status becomes PARTIAL_REFUNDED or REFUNDED (the README names Cancel and
// nothing of its fields: these are the acquiring API's, the answer's
// OriginalAmount and NewAmount too). A wrong TerminalKey or Token: 200
// {"Success":false,
// "ErrorCode":"204"} (the README names no code; T-Bank answers errors in
// the body).
//
// Credentials: SimOptions::credentials[0] as "TERMINAL_KEY:PASSWORD"
// (default SimTerminal:sim-password). Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/simkit/payment_provider_sim.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::tbank {

using TbankSimOptions = simkit::SimOptions;

// credentials(): the terminal key and password.
class TbankSimulator final : public simkit::PaymentProviderSimulator {
 public:
  TbankSimulator(const TbankSimOptions& options, Clock& clock);
  ~TbankSimulator() override;

  simkit::AdapterWiring Wiring() const override;
  // Payments created through Init, once per OrderId.
  size_t Inits() const;
  // Refunds Cancel made.
  size_t Cancels() const;

 private:
  std::vector<simkit::Push> Pushes() const override;
  std::string PaymentId(const simkit::SimPayment& payment) const override;
  std::string FinalStatus(const simkit::SimPayment& payment) const override;
  // The request signed by the terminal's password?
  bool Signed(const nlohmann::json& body) const;
  net::HttpResponse GetState(const simkit::SimRequest& r) const;
  net::HttpResponse Init(const simkit::SimRequest& r);
  net::HttpResponse Cancel(const simkit::SimRequest& r);
  // The payment's Status at the clock's now, its refunds included.
  std::string StatusNow(const simkit::SimPayment& p) const;

  std::map<std::string, const simkit::SimPayment*> by_id_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> inits_ GUARDED_BY(mu_);  // OrderId -> answer
  std::map<std::string, int64_t> refunded_ GUARDED_BY(mu_);   // PaymentId -> kopecks
  size_t cancels_ GUARDED_BY(mu_) = 0;
};

simkit::SimulatorType TbankSimulatorType();

}  // namespace crmhub::adapters::tbank
