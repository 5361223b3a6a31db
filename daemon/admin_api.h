#pragma once
// AdminApi: /api/v1/* (docs/api.yaml), for operators and the CRM core.
//
// Every request needs "Authorization: Bearer <token>" naming one of the
// configured tokens (daemon/admin_access.h; compared in constant time):
// none or an unknown one is 401, a token without the route's scope 403.
// Every mutating call (commands, replaying or dropping dead letters), done,
// failed or refused for its scope, is recorded once in the audit journal
// (daemon/audit_journal.h) before it is answered.
//
//   GET    /api/v1/adapters                 adapters' status (runtime callback)
//   GET    /api/v1/adapters/{id}
//   POST   /api/v1/adapters/{id}/files      a file for an adapter that takes files (bank-1c)
//   GET    /api/v1/queue                    queue.Stats(), Depth(), Healthy()
//   GET    /api/v1/dead-letters             ?lane=&after_id=&limit=
//   GET    /api/v1/dead-letters/{id}
//   POST   /api/v1/dead-letters/{id}/replay
//   POST   /api/v1/dead-letters/replay      ?lane= (all of a lane, or all)
//   DELETE /api/v1/dead-letters/{id}        (also POST .../{id}/drop)
//   POST   /api/v1/commands                 Idempotency-Key required
//   GET    /api/v1/audit                    ?after_id=&limit= | ?last=N
//
// POST /api/v1/commands follows draft-ietf-httpapi-idempotency-key-header:
// no key 400; same key + other body 422; same key while the first request
// is being accepted 409; a repeat after the answer gets that answer again.
// A command {"target","command","items":[...]} becomes one queue message per
// item on lane out.<target> (source "commands", key "<Idempotency-Key>:<i>",
// ordering key from the item's identity, header "command"), enqueued as one
// batch; the answer is 202 {"accepted": N, "duplicates": M}.
//
// Blocking work (SQLite) runs through deps.run_blocking.
// Thread-safety: Handle() may run concurrently on several threads.

#include <string>
#include <string_view>

#include "daemon/admin_access.h"
#include "daemon/audit_journal.h"
#include "daemon/http_routes.h"
#include "daemon/idempotency_store.h"

namespace crmhub::daemon {

class AdminApi {
 public:
  // Everything must outlive the AdminApi (and its pending enqueues).
  AdminApi(const HttpRoutesDeps& deps, const HttpRoutesOptions& options, IdempotencyStore& store,
           AuditJournal& audit);

  // REQUIRES: request.path starts with "/api/v1/".
  void Handle(net::HttpRequest request, net::Responder respond);

  // The 401 answer for headers without a known token, the 403 answer for a
  // token without the scope `method` on `path` needs (recorded in the audit
  // journal when the call would have changed something), or nullopt. Also
  // called by the HTTP server once the headers are in, before any body byte
  // is read (HttpRoutes::ScreenFunction): a stranger's request is refused
  // without holding its body in memory. Thread-safe.
  std::optional<net::HttpResponse> Screen(std::string_view method, std::string_view path,
                                          const net::HeaderMap& headers,
                                          std::string_view remote_address = {}) const;

  // The ordering key of one command item: the command plus the item's
  // identity fields that are present (offer_id, sku, product_id, nm_id,
  // barcode, chrt_id, id, then warehouse_id), e.g. "set_stock:A-1:123";
  // empty when the item has none. Exposed for tests.
  static std::string OrderingKeyFor(std::string_view command, std::string_view item_json);

 private:
  // What a mutating call's audit entry says beyond the answer; Commands()
  // adds the target it read from the body.
  struct AuditNote {
    std::string action;
    std::string target;
    std::string idempotency_key;
  };

  void Route(const net::HttpRequest& request, const net::Responder& respond);
  void Audit(const net::HttpRequest& request, const net::Responder& respond);
  void Commands(const net::HttpRequest& request, const net::Responder& respond,
                const std::shared_ptr<AuditNote>& note);
  void RunBlocking(std::function<void()> work) const;
  // A responder that records `note` with the answer in the audit journal,
  // then answers.
  net::Responder Audited(const AdminCaller& caller, const net::HttpRequest& request,
                         std::shared_ptr<AuditNote> note, net::Responder respond) const;
  void RecordAudit(AuditEntry entry) const;

  const HttpRoutesDeps& deps_;
  const HttpRoutesOptions& options_;
  IdempotencyStore& store_;
  AuditJournal& audit_;
};

}  // namespace crmhub::daemon
