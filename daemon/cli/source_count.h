#pragma once
// `crmhub reconcile --source`: asks each source adapter what it lists now
// and checks each listed record against the CRM store, so that records the
// hub never pulled (invisible to the store-side reconcile) show up.
//
// How a source is asked: through the adapter itself, built from the config
// as the daemon builds it, paging Pull() from a fresh start (no cursor: the
// window the adapter pulls when it starts new, e.g. its lookback) until the
// source says there is no more or `max_pages` pages were read. Nothing is
// queued and no cursor is saved: it only reads. Each listed record goes
// through the adapter's mapping rules; each entity they make is looked up
// in crm.db by (kind, source, external id). Adapters without a source
// capability (webhook-only, targets) cannot be asked and are listed so.
//
// A payment provider's adapter that can look a payment up (kit::
// PaymentLookup: YooKassa, T-Bank) is also asked, per payment of it in
// crm.db (at most `max_lookups`), what the provider holds now: the answer
// goes through the adapter's rules and its status is set beside the stored
// one (the `provider` part of the row). A payment the provider holds at
// another status, or does not know, is a difference.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "config/config.h"
#include "crm/sqlite_store.h"

namespace crmhub::cli {

struct SourceCount {
  std::string adapter;
  std::string type;
  bool asked = false;  // false: cannot list (no source capability), or disabled
  std::string note;    // why not asked, or why partial
  int64_t pages = 0;
  int64_t records = 0;               // records the source listed (pulled events)
  int64_t entities = 0;              // distinct entities their mapping made
  int64_t in_crm = 0;                // of those, found in crm.db
  int64_t unmapped = 0;              // records the rules refused (dead letters to be)
  std::vector<std::string> missing;  // kind/external_id not in crm.db (first 10)
  int64_t missing_count = 0;
  bool partial = false;  // stopped at max_pages, a pause or an error
  // Per entity kind ("order", "deal", "return", ...): (entities, in crm.db),
  // so that each kind a source lists is counted on both sides.
  std::map<std::string, std::pair<int64_t, int64_t>> kinds;

  // What the payment provider says beside what crm.db holds (kit::
  // PaymentLookup adapters only; `provider_asked` false otherwise).
  bool provider_asked = false;
  int64_t provider_payments = 0;  // payments of this adapter in crm.db looked up
  int64_t provider_agree = 0;     // the provider's status (through the rules) = crm.db's
  int64_t provider_unknown = 0;   // the provider does not know them
  int64_t provider_failed = 0;    // could not be asked (API down, unmappable answer)
  // "payment/<id>: provider succeeded, crm pending" (first 10), and how many.
  std::vector<std::string> provider_differ;
  int64_t provider_differ_count = 0;
  bool provider_partial = false;  // more payments in crm.db than max_lookups
};

struct SourceCountOptions {
  int max_pages = 200;
  int max_lookups = 1000;  // payments looked up per payment provider
};

// One row per configured adapter, in config order. An error building the
// adapters (config) is returned; a failing source is a partial row.
Result<std::vector<SourceCount>> CountSources(const config::Config& config,
                                              crm::SqliteCrmStore& store, Clock& clock,
                                              const SourceCountOptions& options);

nlohmann::json SourceCountJson(const std::vector<SourceCount>& rows);
std::string SourceCountTable(const std::vector<SourceCount>& rows);

}  // namespace crmhub::cli
