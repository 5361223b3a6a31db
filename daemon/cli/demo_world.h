#pragma once
// The demo's outside world: the marketplace simulators the demo config
// points at, the payment providers' and PBXs' simulators pushing to their
// adapters' hooks, a website posting signed forms, and the CRM core pushing
// a stock update through the admin API; 1C running its CommerceML exchange
// against the onec-exchange adapter's hook (`crmhub sim onec`), Tochka's
// statement API (`crmhub sim tochka`), a 1CClientBankExchange statement
// dropped into the bank-1c adapter's inbox, and the CRM's billing posting
// the invoices those payments pay (a second webhook adapter), so that
// matching links them. Used only by `crmhub demo`.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"

namespace crmhub::demo {

struct WorldOptions {
  int orders = 300;    // per marketplace simulator
  int webhooks = 200;  // distinct website forms
  std::chrono::milliseconds duration{60'000};
  std::string faults;  // simkit fault spec for every simulator
  // The vendors' documents and samples (the repository's contracts/): the
  // 1C exchange simulator uploads the CommerceML samples found there.
  std::filesystem::path contracts_dir;
};

// One row of the reconciliation table.
struct AdapterRow {
  std::string adapter;
  std::string type;
  int64_t source_count = 0;  // what the outside system has (orders, forms, payments, calls)
  int64_t crm_count = 0;     // what crm.db holds from that source
  // Orders, payments or calls whose CRM status (a call's result) equals the
  // source's; -1: n/a.
  int64_t status_match = -1;
  int64_t duplicates = 0;                 // repeats absorbed by idempotency
  int64_t retries = 0;                    // delivery attempts that will be retried
  int64_t dead = 0;                       // dead letters of the adapter's lanes
  int64_t stock_pushed = -1;              // stock items the simulator holds from our push; -1: n/a
  std::vector<std::string> dead_reasons;  // "N × reason"
  std::string note;                       // e.g. how a simulated exchange ended
  bool match() const {
    return source_count == crm_count && (status_match < 0 || status_match == source_count);
  }
};

struct Report {
  std::vector<AdapterRow> rows;
  bool all_match = false;
  // The run stopped early (Ctrl-C, the daemon exited): the figures are what
  // had arrived by then, and a difference says nothing about the hub.
  bool partial = false;
  std::string stopped_because;  // when partial
};

class World {
 public:
  static Result<std::unique_ptr<World>> Create(const config::Config& config, WorldOptions options,
                                               Clock& clock);
  virtual ~World() = default;

  // Lines describing what was started, for the user.
  virtual std::vector<std::string> Describe() const = 0;
  // Drives the demo until the simulators' stories end and the CRM store has
  // caught up (or a grace period passes), printing progress. Returns early
  // (kCancelled-like Unavailable) when `interrupted` turns true or the daemon
  // dies.
  virtual Status Run(const std::atomic<bool>& interrupted, pid_t daemon_pid,
                     const std::filesystem::path& data_dir) = 0;
  // Compares the simulators' final state with crm.db and the queue.
  virtual Report Reconcile(const std::filesystem::path& data_dir) = 0;
};

std::string RenderReport(const Report& report, const std::filesystem::path& data_dir,
                         int daemon_exit);

}  // namespace crmhub::demo
