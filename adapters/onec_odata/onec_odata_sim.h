#pragma once
// OnecODataSimulator: a 1C:Enterprise infobase's standard OData interface as
// contracts/onec/README.md §1 and its captured answers tell it, for `crmhub
// sim onec-odata --listen ADDR` and tests. Written from the contracts, never
// from the adapter (it links simkit, not crmhub_adapter_onec_odata).
//
//   GET   /odata/standard.odata/<Set>?$format=json[&$filter][&$orderby][&$top][&$skip]
//         → {"odata.metadata": "<base>/odata/standard.odata/$metadata#<Set>",
//            "value": [...]}
//   GET   /odata/standard.odata/<Set>(guid'<Ref_Key>')?$format=json
//         → the entity at the top level, "odata.metadata": "…#<Set>/@Element"
//   POST  /odata/standard.odata/<Set>?$format=json  → 201, the created entity
//   PATCH /odata/standard.odata/<Set>(guid'<Ref_Key>')?$format=json → 200;
//         If-Match other than the entity's DataVersion → 412
// `$filter`: OData v3 comparisons (eq ne gt ge lt le) of a field with a
// literal (guid'…', datetime'…', '…', numbers, true/false) joined by and,
// or and parentheses. Anything else in $filter is a 400, so a test sees a
// request the README does not vouch for. Every catalog and document has a
// Ref_Key and a DataVersion (base64 of 8 bytes, a new one on each write);
// register rows have neither (README §1).
//
// The world (seeded, all there at start): SimOptions::orders customer orders
// (Document_ЗаказКлиента) with lines, from orders/10+1 counterparties
// (Catalog_Контрагенты; every third a person), over 20 goods
// (Catalog_Номенклатура; the first is the captured element of the contracts),
// one price row each (InformationRegister_ЦеныНоменклатуры), stock balances
// on two warehouses (AccumulationRegister_ТоварыНаСкладах/Balance), and a
// payment (Document_ПоступлениеБезналичныхДенежныхСредств) for every other
// order. These set and field names are 1C:Управление торговлей 11's; the
// contracts name the families only (README §1).
//
// A test may have a 1C user save an entity just before the next PATCHes
// (ConcurrentEdits), to see the 412.
//
// Basic auth: SimOptions::credentials[0] as "user:password" (default
// "crmhub:sim-onec-password"); errors {"odata.error": {"code", "message":
// {"lang": "ru-RU", "value"}}} [S]. Thread-safe.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::onec_odata {

class OnecODataSimulator final : public simkit::PipelineSimulator {
 public:
  OnecODataSimulator(simkit::SimOptions options, Clock& clock);

  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return start_; }
  // Ref_Key → Статус of every customer order (the world does not move).
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int, int64_t) const override { return {}; }
  int64_t StockItemsAt(int, int64_t) const override { return 0; }
  simkit::AdapterWiring Wiring() const override;

  std::string user() const;
  std::string password() const;
  // The rows of a set now (a copy); empty for an unknown set.
  std::vector<nlohmann::json> Rows(const std::string& set) const;
  // Changes one field of an entity as a 1C user would (a new DataVersion);
  // false when there is no such entity.
  bool Touch(const std::string& set, const std::string& ref_key, const std::string& field,
             const nlohmann::json& value);
  // The next `n` PATCHes find their entity saved by a 1C user just before
  // them (a new DataVersion), so an If-Match they carry is stale.
  void ConcurrentEdits(int n);

 private:
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  net::HttpResponse Read(const std::string& segment, const net::HttpRequest& http) const;
  net::HttpResponse Write(const std::string& segment, const simkit::SimRequest& request);
  std::string NextVersion() REQUIRES(mu_);
  nlohmann::json* Find(const std::string& set, const std::string& ref_key) REQUIRES(mu_);

  const simkit::SimOptions options_;
  Clock& clock_;
  const SystemTime start_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<nlohmann::json>> sets_ GUARDED_BY(mu_);
  uint32_t versions_ GUARDED_BY(mu_) = 0;
  int created_ GUARDED_BY(mu_) = 0;
  int concurrent_edits_ GUARDED_BY(mu_) = 0;

  simkit::SimPipeline pipeline_;  // last: stopped first
};

// A $filter expression, parsed ("" matches everything). Exposed for tests.
class ODataFilter {
 public:
  static Result<ODataFilter> Parse(const std::string& text);
  bool Matches(const nlohmann::json& row) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
};

// `crmhub sim onec-odata` and the registry's entry.
simkit::SimulatorType OnecODataSimulatorType();

}  // namespace crmhub::adapters::onec_odata
