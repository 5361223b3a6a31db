#pragma once
// AdminApi: /api/v1/* (docs/api.yaml), for operators and the CRM core.
//
// Every request needs "Authorization: Bearer <token>" matching [admin]
// token_file (constant-time); none or a wrong one is 401.
//
//   GET    /api/v1/adapters                 adapters' status (runtime callback)
//   GET    /api/v1/adapters/{id}
//   GET    /api/v1/queue                    queue.Stats(), Depth(), Healthy()
//   GET    /api/v1/dead-letters             ?lane=&after_id=&limit=
//   GET    /api/v1/dead-letters/{id}
//   POST   /api/v1/dead-letters/{id}/replay
//   POST   /api/v1/dead-letters/replay      ?lane= (all of a lane, or all)
//   DELETE /api/v1/dead-letters/{id}        (also POST .../{id}/drop)
//   POST   /api/v1/commands                 Idempotency-Key required
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

#include "daemon/http_routes.h"
#include "daemon/idempotency_store.h"

namespace crmhub::daemon {

class AdminApi {
 public:
  // Everything must outlive the AdminApi (and its pending enqueues).
  AdminApi(const HttpRoutesDeps& deps, const HttpRoutesOptions& options,
           IdempotencyStore& store);

  // REQUIRES: request.path starts with "/api/v1/".
  void Handle(net::HttpRequest request, net::Responder respond);

  // The 401 answer for headers without a valid admin token, or nullopt.
  // Also called by the HTTP server once the headers are in, before any body
  // byte is read (HttpRoutes::ScreenFunction): a stranger's request is
  // refused without holding its body in memory. Thread-safe.
  std::optional<net::HttpResponse> Authorize(const net::HeaderMap& headers) const;

  // The ordering key of one command item: the command plus the item's
  // identity fields that are present (offer_id, sku, product_id, nm_id,
  // barcode, chrt_id, id, then warehouse_id), e.g. "set_stock:A-1:123";
  // empty when the item has none. Exposed for tests.
  static std::string OrderingKeyFor(std::string_view command, std::string_view item_json);

 private:
  void Route(const net::HttpRequest& request, const net::Responder& respond);
  void Commands(const net::HttpRequest& request, const net::Responder& respond);
  void RunBlocking(std::function<void()> work) const;

  const HttpRoutesDeps& deps_;
  const HttpRoutesOptions& options_;
  IdempotencyStore& store_;
};

}  // namespace crmhub::daemon
