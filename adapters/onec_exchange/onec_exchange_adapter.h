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
//   import     queued as a hint after the chunks (one ordering key: every
//              hint of the exchange is resolved in order), answered
//              "success" at once; the worker joins the parts into
//              staging_dir/<session>/<filename> (a zip archive is unpacked
//              there, bounded: zip_archive.h; import of the archive's name
//              imports its XML entries, import of an entry's name that
//              entry), parses them (commerceml_parser.h; UTF-8 or
//              windows-1251) and queues one event per Товар and per
//              Предложение, keyed by Ид and a hash of the record, so the same
//              exchange run again changes nothing. A full import*.xml
//              (СодержитТолькоИзменения false) deactivates what the last
//              full one had and it lacks (the last record, deleted = true;
//              never removed); more than max_deactivate_percent of the
//              catalogue is refused into the dead-letter queue instead (a
//              partial upload must not empty a shop)
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

#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "adapters/onec_exchange/order_outbox.h"
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
};

class OnecExchangeAdapter final : public Adapter,
                                  public WebhookCapability,
                                  public TargetCapability {
 public:
  OnecExchangeAdapter(OnecExchangeConfig config, Clock& clock)
      : config_(std::move(config)), clock_(clock), outbox_(config_.staging_dir / "orders") {}

  const std::string& id() const override { return config_.id; }
  std::string_view type() const override { return "onec-exchange"; }
  WebhookCapability* webhook() override { return this; }
  TargetCapability* target() override { return this; }

  // export_order: each item one CRM order (canonical model) for 1C, kept in
  // the outbox (order_outbox.h) until 1C confirms it; an echo of what 1C
  // itself sent is Ok and dropped.
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
  ResolveResult Import(const Hint& hint);
  // Parses one staged XML document and adds its events to `events`; the
  // outcome is Ok or the failure to report.
  DeliveryOutcome ImportXml(const Hint& hint, const std::string& filename, std::string_view xml,
                            std::vector<InboundEvent>& events);
  // The products of the last full catalogue absent from this one, to be
  // deactivated; FailedPrecondition when they are too many.
  Result<std::vector<nlohmann::json>> Deactivations(const Hint& hint,
                                                    const std::vector<nlohmann::json>& products);

  const OnecExchangeConfig config_;
  Clock& clock_;
  OrderOutbox outbox_;
  std::mutex mu_;
  // "<session>" → the orders its last mode=query answered, confirmed by its
  // mode=success.
  std::map<std::string, std::vector<PendingOrder>> queried_ GUARDED_BY(mu_);
  std::set<std::string> sessions_ GUARDED_BY(mu_);
  std::map<std::string, int> chunks_ GUARDED_BY(mu_);  // "<session>/<filename>" → chunks so far
};

// The `onec-exchange` type: config keys and factory (onec_exchange_type.cc).
AdapterType Type();

}  // namespace crmhub::adapters::onec_exchange
