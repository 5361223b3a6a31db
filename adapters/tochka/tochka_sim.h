#pragma once
// TochkaSimulator: Tochka Bank's statement API as its OpenAPI file and doc
// pages tell it (contracts/banks/tochka/, README §2), for `crmhub sim
// tochka --listen ADDR` and tests. Written from the spec, never from the
// adapter (it links simkit, not crmhub_adapter_tochka).
//
//   POST /uapi/open-banking/v1.0/statements
//        {"Data":{"Statement":{"accountId","startDateTime","endDateTime"}}}
//        → 200 {"Data":{"Statement":{accountId, statementId, status:"Created",
//          startDateTime, endDateTime, creationDateTime}},"Links","Meta"}
//   GET  /uapi/open-banking/v1.0/accounts/{accountId}/statements/{statementId}
//        → Processing for the first second after the init ("Init Statement
//          is asynchronous"), then Ready with startDateBalance,
//          endDateBalance and Transaction[]: every transaction of the
//          account whose documentProcessDate (Moscow) is within the dates
//          and which has happened by now; 404 for an unknown statement.
// The world: `orders` incoming payments (Credit, Booked) spread over
// `arrival` on the first account of --account accounts (default
// 40702810000000000001/044525104), Платежное поручение, from payers with an
// INN; every tenth repeats the one before it in every part but its ids
// (two real payments of one day, of one sum, from one payer, under one
// number). Bearer auth: SimOptions::credentials[0] (default
// "sim-tochka-token"); errors in the spec's shape {code, id, message,
// Errors[{errorCode, message, url}]}. Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::tochka {

class TochkaSimulator final : public simkit::PipelineSimulator {
 public:
  TochkaSimulator(simkit::SimOptions options, Clock& clock);

  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return all_final_at_; }
  // transactionId → "Booked", for the transactions that happened by now
  // (every one with final_only).
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }
  simkit::AdapterWiring Wiring() const override;

  std::string token() const;
  const std::string& account() const { return account_; }
  // The transactions the world holds (all of them), as the API shows them.
  const std::vector<nlohmann::json>& transactions() const { return transactions_; }

 private:
  struct Statement {
    std::string account;
    std::string from;
    std::string to;
    SystemTime asked_at;
  };
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  net::HttpResponse Init(const simkit::SimRequest& request);
  net::HttpResponse Get(const std::string& account, const std::string& id) const;

  const simkit::SimOptions options_;
  Clock& clock_;
  std::string account_;
  std::vector<nlohmann::json> transactions_;  // immutable after construction
  std::vector<SystemTime> happened_at_;       // parallel to transactions_
  std::vector<std::string> days_;             // their documentProcessDate
  std::vector<int64_t> kopecks_;              // their amounts
  SystemTime all_final_at_{};

  mutable std::mutex mu_;
  std::map<std::string, Statement> statements_ GUARDED_BY(mu_);
  int next_statement_ GUARDED_BY(mu_) = 1;

  simkit::SimPipeline pipeline_;  // last: stopped first
};

// `crmhub sim tochka` and the registry's entry.
simkit::SimulatorType TochkaSimulatorType();

}  // namespace crmhub::adapters::tochka
