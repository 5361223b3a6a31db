#pragma once
// OzonSimulator: a local stand-in for the Ozon Seller API, for tests, the
// demo and benchmarks (`crmhub sim ozon`). Same paths, headers, field names
// and error shapes as ozon-seller-api.swagger.json, read from the spec and
// not from the adapter (it links simkit, never crmhub_adapter_ozon):
//
//   POST /v3/posting/fbs/list       the FBS postings by creation (since/to) and
//                                   last change (last_changed_status_date),
//                                   sorted by last change, has_next
//   POST /v2/posting/fbo/list       the FBO postings (`fbo_share`) by creation
//                                   period (<= 1 year, PERIOD_IS_TOO_LONG),
//                                   filter.status, no has_next (as the spec);
//                                   analytics/financial/legal data when asked
//   (both: limit 1..1000, offset <= 20000, MAX_OFFSET_EXCEEDED)
//   POST /v2/products/stocks        <= 100 items; per item NOT_FOUND_ERROR,
//                                   STOCK_TOO_BIG, TOO_MANY_REQUESTS (a pair's
//                                   second update within 30 s)
//   POST /v1/product/import/prices  <= 1000 items; per item TOO_MANY_REQUESTS
//                                   on a product's 11th price within an hour
//   POST /v3/product/list           the catalogue, cursor last_id
//   POST /v3/product/info/list      its cards (ozon_sim_products.cc): one kind
//                                   of identifier, at most 1000
//   POST /v3/posting/fbs/get        one FBS posting (an FBO one is not found)
//   POST /v4/posting/fbs/ship       awaiting_packaging -> awaiting_deliver, the
//                                   packages' products matching the posting's
//   POST /v2/posting/fbs/cancel     awaiting_packaging | awaiting_deliver ->
//                                   cancelled, with a seller's cancel reason
//                                   (ozon_sim_commands.cc: the status machine
//                                   and its errors)
//   POST /v2/posting/fbs/act/create, act/check-status, act/get-postings,
//                                   act/list: acts of the postings in
//                                   awaiting_deliver (ozon_sim_acts.cc)
//   POST /v1/returns/list           the returns (ozon_sim_returns.cc): one
//                                   filter of time (two or more: 400), by
//                                   visual_status_change_moment here; sorted
//                                   by id, paged by last_id, limit 1..500
//   GET  /__sim/requests, /__sim/state  (simkit::SimPipeline): postings
//                                   {posting_number, status, final_status,
//                                   scheme}, returns {id, posting_number,
//                                   status}, stocks, prices
// An item naming both offer_id and product_id is read by offer_id (spec).
//
// Errors are rpcStatus {"code", "message", "details": []} (the codes gRPC's,
// as Ozon's gateway uses; the spec does not list them): no Client-Id/Api-Key
// -> 401, wrong ones -> 403 "Invalid Api-Key, please check the key and try
// again", a bad request -> 400, above 50 requests/s per Client-Id or 80
// stocks requests a minute -> 429 "You have reached request rate limit per
// second". Faults come from the shared --faults spec (simkit).
//
// Postings: created evenly over `arrival` (simkit::CreateOrders), then
// awaiting_packaging -> awaiting_deliver -> delivering -> delivered, a step
// every 1 ms..lifetime/3 (seeded per posting); about 10% are cancelled at a
// random step instead. A status is a pure function of the clock, so the
// simulator answers consistently under any load. One delivered posting in
// five comes back (a ClientReturn) after its delivery: MovingToOzon ->
// ReturnedToOzon -> MovingToSeller -> ReceivedBySeller, a step a tenth of
// the lifetime apart (at least 1 ms). The spec lists the visual statuses
// and their meaning but documents no order between them: this walk is the
// simulator's reading of their names.
//
// Realization report (ozon_sim_reports.cc): POST /v2/finance/realization
// for a month that is over: a row per posting delivered in it and per
// return made in it; a month not over is 404 (rpcStatus code 5).
//
// Thread-safety: all methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/json_text.h"
#include "adapters/simkit/sim_pipeline.h"
#include "adapters/simkit/simulator.h"
#include "adapters/simkit/world.h"
#include "base/clock.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::ozon {

// The common options, and Ozon's own. The account: Client-Id from account
// "client_id"; credentials are "CLIENT_ID:API_KEY" (or a bare API key of
// that Client-Id).
struct OzonSimOptions : simkit::SimOptions {
  int products = 5000;        // catalogue: offer_id "SKU-000001".., product_id 100001..
  int64_t warehouse_id = 22;  // the FBS warehouse postings ship from
  double fbo_share = 0.25;    // of the postings, shipped from Ozon's warehouse (FBO)
  int64_t fbo_warehouse_id = 17717042026000;  // the spec's example
  // The documented limits, per Client-Id: "50 запросов в секунду с одного
  // Client ID", and "до 80 запросов в минуту" for /v2/products/stocks.
  int64_t requests_per_second = 50;
  int64_t stocks_per_minute = 80;
  // /v1/product/import/prices: «Цену каждого товара можно обновлять не
  // больше 10 раз в час» (per product; per-item TOO_MANY_REQUESTS here).
  int64_t price_updates_per_hour = 10;
  // FBS postings stay awaiting_packaging until the seller ships or cancels
  // them (the command tests); otherwise they walk by themselves.
  bool await_seller = false;
  // How long after /v2/posting/fbs/act/create an act's documents are
  // in_process before check-status answers ready (the spec gives no time).
  std::chrono::milliseconds act_forming{std::chrono::seconds(2)};
  // A test's knob: the first `lost_act_answers` act/create requests create
  // their act, then answer 503 as if the answer were lost on the way.
  int lost_act_answers = 0;

  // The first account's Client-Id and Api-Key (123456 / sim-api-key when
  // none is given).
  std::string client_id() const;
  std::string api_key() const;

  // For simkit::Create: InvalidArgument for an empty Client-Id.
  Status Complete() const;
};

struct SimPosting {
  std::string posting_number;
  int64_t order_id = 0;
  SystemTime created;
  // Status steps: (time, status); the first is (created, awaiting_packaging).
  std::vector<std::pair<SystemTime, std::string>> steps;
  int64_t offer_index = 0;  // product in the posting
  int quantity = 1;
  bool fbo = false;                // served by /v2/posting/fbo/list, not /v3/posting/fbs/list
  int64_t cancel_reason_id = 402;  // a cancelled posting's cancellation.cancel_reason_id
  int64_t act_id = 0;              // the act it is in (0: none)
};

// The one delivery method of the simulated FBS warehouse (every posting's
// delivery_method.id).
inline constexpr int64_t kSimDeliveryMethodId = 21321684811000;

// An act (a carriage) the seller created.
struct SimAct {
  int64_t id = 0;
  int64_t delivery_method_id = 0;
  std::string departure_date;  // as sent; empty: none sent
  SystemTime created;
  std::vector<std::string> postings;
};

struct SimReturn {
  int64_t id = 0;
  size_t posting = 0;  // index into the postings
  // (visual.change_moment, visual.status.sys_name); the first at creation.
  std::vector<std::pair<SystemTime, std::string>> steps;
};

// Ozon's FBS status machine for the seller's writes, as the spec documents
// it: the error /v4/posting/fbs/ship (`ship`) or /v2/posting/fbs/cancel
// (`cancel`) answers for a posting at `status`, or "" when the write is
// allowed. From the tag Errors' table for /v4/posting/fbs/ship
// (POSTING_ALREADY_CANCELLED, POSTING_ALREADY_SHIPPED, HAS_INCORRECT_STATUS)
// and the cancel method's «Условно-доставленные отправления отменить нельзя».
std::string_view SellerWriteRefusal(std::string_view write, std::string_view status);

class OzonSimulator final : public simkit::PipelineSimulator {
 public:
  OzonSimulator(OzonSimOptions options, Clock& clock);

  std::string StateJson() const override;
  SystemTime AllFinalAt() const override { return all_final_at_; }
  // posting_number -> status.
  std::map<std::string, std::string> OrderStatuses(bool final_only) const override;
  std::vector<nlohmann::json> StockCommandItems(int n, int64_t stock) const override;
  int64_t StockItemsAt(int n, int64_t stock) const override;
  simkit::AdapterWiring Wiring() const override;

  // posting_numbers of the FBO postings (the rest are FBS).
  std::set<std::string> FboPostings() const;
  // Return id -> its posting_number, of the returns created by now.
  std::map<int64_t, std::string> ReturnPostings() const;
  // The realization report's rows of every month over by now (a month with
  // postings delivered or returns made in it), "YYYY-MM:<rowNumber>".
  std::set<std::string> RealizationRowIds() const;
  // "<product_id>:<warehouse_id>" -> stock last accepted.
  std::map<std::string, int64_t> Stocks() const;
  // The acts created, oldest first.
  std::vector<SimAct> Acts() const;

 private:
  // rpcStatus {"code", "message", "details"}; the codes are gRPC's, as
  // Ozon's gateway answers them.
  static net::HttpResponse RpcError(int http, int code, std::string_view message);
  static size_t StepOf(const SimPosting& p, SystemTime now) {  // the step `p` is at `now`
    return simkit::StepAt(p.steps, now, [](const auto& step) { return step.first; });
  }
  static std::string OfferId(int64_t index);  // "SKU-000001" for 0
  simkit::SimPipeline& pipeline() override { return pipeline_; }
  const simkit::SimPipeline& pipeline() const override { return pipeline_; }
  simkit::SimPipeline::Options PipelineOptions();
  void BuildWorld();
  // The checks both list methods share; fills `query` or returns the error.
  struct ListQuery;
  std::optional<net::HttpResponse> ParseListQuery(const nlohmann::json& body,
                                                  const char* period_error, ListQuery& query) const;
  net::HttpResponse FbsList(const nlohmann::json& body, bool dup);
  net::HttpResponse FboList(const nlohmann::json& body, bool dup);
  // Records an update of `key` if fewer than `limit` fell in the last
  // `window`; false: refused. REQUIRES: mu_ held.
  bool AdmitLocked(const std::string& key, int64_t limit, std::chrono::seconds window);
  net::HttpResponse UpdateStocks(const nlohmann::json& body, bool dup);
  net::HttpResponse Prices(const nlohmann::json& body, bool dup);
  net::HttpResponse ProductList(const nlohmann::json& body, bool dup);
  // ozon_sim_products.cc: the cards of the catalogue.
  net::HttpResponse ProductInfoList(const nlohmann::json& body, bool dup);
  // ozon_sim_returns.cc: the returns of the delivered postings (at
  // construction; REQUIRES postings_mu_ held), and /v1/returns/list.
  void CreateReturnsLocked() REQUIRES(postings_mu_);
  net::HttpResponse ReturnsList(const nlohmann::json& body, bool dup);
  // ozon_sim_reports.cc: the realization report's rows of a month
  // ("YYYY-MM", Moscow), by time; and /v2/finance/realization.
  struct RealizationRow {
    SystemTime at;
    size_t posting = 0;     // index into the postings
    bool returned = false;  // a return's row (return_commission)
  };
  std::vector<RealizationRow> RealizationRowsLocked(const std::string& month) const
      REQUIRES(postings_mu_);
  net::HttpResponse Realization(const nlohmann::json& body, bool dup);
  // ozon_sim_commands.cc
  net::HttpResponse GetPosting(const nlohmann::json& body, bool dup);
  net::HttpResponse Ship(const nlohmann::json& body, bool dup);
  net::HttpResponse Cancel(const nlohmann::json& body, bool dup);
  // ozon_sim_acts.cc
  net::HttpResponse CreateAct(const nlohmann::json& body, bool dup);
  net::HttpResponse CheckAct(const nlohmann::json& body, bool dup);
  net::HttpResponse ActPostings(const nlohmann::json& body, bool dup);
  net::HttpResponse ActList(const nlohmann::json& body, bool dup);
  // check-status (postings false) or get-postings (true) of the act `id`.
  net::HttpResponse ActById(const nlohmann::json& body, bool postings);
  // The postings an act of the method would take now: FBS, in
  // awaiting_deliver, in no act. REQUIRES: postings_mu_ held.
  std::vector<SimPosting*> ActCandidatesLocked(SystemTime now) REQUIRES(postings_mu_);
  // The act `id`, or null. REQUIRES: postings_mu_ held.
  const SimAct* FindActLocked(int64_t id) const REQUIRES(postings_mu_);
  void AppendAct(simkit::JsonText& out, const SimAct& act, SystemTime now) const;
  // The FBS posting numbered `number`, or null. REQUIRES: postings_mu_ held.
  SimPosting* FindFbsLocked(std::string_view number) REQUIRES(postings_mu_);
  // Ends `p`'s walk at `now` in `status`. REQUIRES: postings_mu_ held.
  void MoveLocked(SimPosting& p, SystemTime now, std::string status) REQUIRES(postings_mu_);
  void AppendPosting(simkit::JsonText& out, const SimPosting& p, size_t step) const;
  void AppendFboPosting(simkit::JsonText& out, const SimPosting& p, size_t step,
                        const nlohmann::json& with) const;

  const OzonSimOptions options_;
  Clock& clock_;
  // Built at construction; afterwards only the seller's writes change a
  // posting's steps.
  mutable std::mutex postings_mu_;
  std::vector<SimPosting> postings_ GUARDED_BY(postings_mu_);
  std::vector<SimReturn> returns_ GUARDED_BY(postings_mu_);  // by id
  std::vector<SimAct> acts_ GUARDED_BY(postings_mu_);        // by id
  int lost_act_answers_ GUARDED_BY(postings_mu_) = 0;
  SystemTime all_final_at_{};  // the last posting's final step

  mutable std::mutex mu_;
  std::map<std::pair<int64_t, int64_t>, int64_t> stocks_ GUARDED_BY(mu_);
  std::map<std::string, std::string> prices_ GUARDED_BY(mu_);
  // "stock:<product>:<warehouse>", "price:<product>" -> its recent updates.
  std::map<std::string, std::deque<std::chrono::steady_clock::time_point>> updates_ GUARDED_BY(mu_);

  simkit::SimPipeline pipeline_;  // last: stopped first, while the rest is alive
};

// `crmhub sim ozon` and the registry's entry (adapters/simulator_registry.cc).
simkit::SimulatorType OzonSimulatorType();

}  // namespace crmhub::adapters::ozon
