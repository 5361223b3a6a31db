#pragma once
// The `onec-exchange` adapter: crmhub as the site 1C exchanges with over
// CommerceML 2's HTTP protocol (contracts/onec/README.md §2;
// docs/adapters/onec-exchange.md), at /hooks/<id>?type=catalog|sale&mode=...
//
//   checkauth  Basic auth (user, password_file; compared in constant time)
//              → "success\ncrmhub_1c\n<session>"; later calls send the cookie
//   init       → "zip=yes|no\nfile_limit=<file_limit>" (zip = true in the
//              config offers zip archives; 1C sends plain XML otherwise),
//              chunks of at most file_limit
//   file       each chunk (POST body, ?filename=) queued durably as a hint
//              before "success" is answered; a worker writes it to
//              staging_dir/<session>/<filename>.partNNNNNN (one file per
//              chunk: a redelivered hint rewrites its own part, never
//              appends twice)
//   import     the first call queues an onec_import hint after the chunks
//              (one ordering key: every hint of the exchange is resolved in
//              order) and answers "progress"; 1C repeats the call, and hears
//              "progress" until every record is queued, then "success" (or
//              "failure\n<reason>" when the import was refused). Stage,
//              then apply: the worker joins the parts into
//              staging_dir/<session>/<filename> (a zip archive is unpacked
//              there, bounded: zip_archive.h; import of the archive's name
//              imports its XML entries, import of an entry's name that
//              entry), streams them (commerceml_parser.h; UTF-8 or
//              windows-1251) into <filename>.records, one line per Товар,
//              Предложение and Документ; then onec_import_batch hints queue
//              kImportBatch events each (keyed by Ид and a hash of the
//              record, so the same exchange run again changes nothing),
//              each hint queuing the next, and onec_import_done marks the
//              import done (<filename>.import.json). Memory is bounded by a
//              batch and one XML element, whatever the file's size. A full
//              import*.xml (СодержитТолькоИзменения false) deactivates what
//              the last full one had and it lacks (the last record, deleted
//              = true; never removed; catalogue_state.h); more than
//              max_deactivate_percent of the catalogue is refused into the
//              dead-letter queue instead (a partial upload must not empty a
//              shop)
//   sale       query → the outbox's pending orders (the CRM's new and
//              changed orders, export_order commands) as a CommerceML
//              document (commerceml_writer.h), at most kMaxQueryOrders;
//              success → those orders confirmed, removed from the outbox at
//              the version answered (not confirmed: answered again at the
//              next query); file + import of order documents (changed in
//              1C): as the catalogue's, one event per Документ (kind
//              onec_order), and each one's fingerprint remembered, so the
//              CRM's copy of that change is not sent back
// A request without a valid session cookie is 401; an unknown mode 400.
//
// Threading: HandleWebhook runs on an I/O thread and only checks and keys
// (sessions and chunk counters under a mutex); Resolve runs on a delivery
// worker and does the disk work.

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/onec_exchange/catalogue_state.h"
#include "adapters/onec_exchange/order_outbox.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "base/thread_annotations.h"

namespace crmhub::adapters::onec_exchange {

struct OnecExchangeConfig {
  std::string id;
  std::string user;
  Secret password;
  uint64_t file_limit = 8 * 1024 * 1024;
  std::filesystem::path staging_dir;
  int max_deactivate_percent = 20;
  bool zip = false;  // init answers zip=yes: 1C may then send zip archives
  // A session's staging folder (chunks, unpacked files, import states) is
  // removed once untouched this long; swept when a new session logs in.
  std::chrono::milliseconds staging_retention{std::chrono::hours(72)};
  // An order's fingerprint of what 1C last sent (echo detection) is
  // forgotten once untouched this long, and the oldest beyond
  // max_fingerprints; a forgotten one only lets one echo through.
  std::chrono::milliseconds fingerprint_retention{std::chrono::hours(24 * 90)};
  size_t max_fingerprints = 200000;
  // The declared order status precedence (AdapterContext): an order whose
  // status ranks below what 1C last sent of it is not sent back. Null: none.
  StatusStale order_status_stale;
  // Where the counts of export_order items not sent go
  // (crmhub_onec_orders_not_sent_total); null: not counted.
  MetricsRegistry* metrics = nullptr;
};

class OnecExchangeAdapter final : public Adapter,
                                  public WebhookCapability,
                                  public TargetCapability {
 public:
  OnecExchangeAdapter(OnecExchangeConfig config, Clock& clock);

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "onec-exchange"; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }

  // export_order: each item one CRM order (canonical model) for 1C, kept in
  // the outbox (order_outbox.h) until 1C confirms it; an echo of what 1C
  // itself sent, or a status older than the one 1C last sent, is Ok and
  // dropped, and counted:
  //   crmhub_onec_orders_not_sent_total{adapter,reason="echo"|"stale"}
  // ("stale" also counts a waiting order dropped at 1C's next query because
  // 1C reported a later status meanwhile).
  std::vector<DeliveryOutcome> Deliver(std::span<const Command> batch) override;
  int max_batch() const override { return 100; }
  std::vector<std::string> commands() const override { return {"export_order"}; }

  Result<WebhookResult> HandleWebhook(const net::HttpRequest& request) override;
  ResolveResult Resolve(const Hint& hint) override;
  bool ServesMethod(std::string_view method) const override {
    return method == "GET" || method == "POST";
  }
  // A chunk is at most file_limit, plus room for the request's framing.
  uint64_t max_body_bytes() const override { return config_.file_limit + 64 * 1024; }

 private:
  ResolveResult WriteChunk(const Hint& hint);
  // onec_cleanup (queued at checkauth): old sessions' staging folders and
  // old fingerprints removed.
  ResolveResult Cleanup(const Hint& hint);
  // onec_import: joins (and unzips) the upload and stages its records
  // (Stage), then hands over to the first onec_import_batch hint.
  ResolveResult Import(const Hint& hint);
  // The records of the import's XML documents, streamed into
  // `records_path` ("<kind>\t<file>\t<JSON>" lines); their count.
  // InvalidArgument / FailedPrecondition: refused (dead letter, "failure"
  // to 1C); Unavailable: retried.
  Result<int64_t> Stage(const Hint& hint, const std::filesystem::path& dir,
                        const std::filesystem::path& records_path);
  Status StageXml(const Hint& hint, const std::string& filename, const std::filesystem::path& path,
                  std::ofstream& records, int64_t& count);
  ResolveResult ApplyBatch(const Hint& hint);
  ResolveResult FinishImport(const Hint& hint);
  // The hint of the import's next step (`kind`) at byte `offset` of its
  // staged records.
  InboundEvent ImportHint(const Hint& hint, std::string_view kind, int64_t offset) const;

  const OnecExchangeConfig config_;
  Clock& clock_;
  Counter* echoes_not_sent_ = nullptr;  // null without a registry
  Counter* stale_not_sent_ = nullptr;
  OrderOutbox outbox_;
  std::mutex catalogue_mu_;
  CatalogueState catalogue_ GUARDED_BY(catalogue_mu_);
  std::mutex mu_;
  // "<session>" → the orders its last mode=query answered, confirmed by its
  // mode=success.
  std::map<std::string, std::vector<PendingOrder>> queried_ GUARDED_BY(mu_);
  std::set<std::string> sessions_ GUARDED_BY(mu_);
  std::map<std::string, int> chunks_ GUARDED_BY(mu_);  // "<session>/<filename>" → chunks so far
  std::set<std::string> staging_ GUARDED_BY(mu_);      // "<session>/<filename>" being staged
};

// The `onec-exchange` type: config keys and factory (onec_exchange_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::onec_exchange
