#pragma once
// HttpRoutes: everything the daemon answers over HTTP, as one net::HttpHandler
// the runtime mounts on its net::HttpServer.
//
//   POST /hooks/{adapter_id}[/...]   webhook intake (daemon/intake.h)
//   GET  /metrics                    Prometheus text of the MetricsRegistry
//   GET  /healthz                    alive: 200 {"status":"ok"}
//   GET  /readyz                     200 when ready, 503 (e.g. draining)
//   /api/v1/...                      admin API, bearer token (daemon/admin_api.h)
//
// With a separate admin listener ([admin] listen) the public listener serves
// /hooks, /healthz and /readyz only and the admin one /api/v1, /metrics,
// /healthz and /readyz (Listener below): webhooks can face the internet while
// the admin API and the metrics stay on a private address.
//
// The route logic is plain classes (Beast's handle_request split): tests call
// Handle() directly or mount Handler() on a loopback HttpServer. The API is
// documented in docs/api.yaml.
//
// Wiring (runtime):
//   HttpRoutesDeps deps{.queue = &q, .metrics = &m, .clock = &clock,
//                       .find_adapter = ..., .adapter_statuses = ...,
//                       .readiness = ...};
//   HttpRoutesOptions opts{.queue_high_water = cfg.Get("queue").GetInt("high_water"),
//                          .admin_access = *AdminAccess::FromConfig(cfg),
//                          .idempotency_db = data_dir / "idempotency.db",
//                          .audit_db = data_dir / "audit.db"};
//   auto routes = HttpRoutes::Create(std::move(deps), std::move(opts));  // Result<>
//   server_options.body_limit_for = (*routes)->BodyLimitFunction();
//   net::HttpServer server(io, server_options, (*routes)->Handler());
//
// Thread-safety: Handle() may run on any number of I/O threads at once. The
// callbacks in HttpRoutesDeps are called from I/O threads (or from
// run_blocking's threads) and must be thread-safe.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/secret.h"
#include "base/status.h"
#include "daemon/adapter_health.h"
#include "daemon/admin_access.h"
#include "net/http_types.h"
#include "queue/queue.h"

namespace crmhub::adapters {
class Adapter;
}

namespace crmhub::daemon {

class IntakeHandler;
class AdminApi;
class IdempotencyStore;
class AuditJournal;

// Which routes one listener serves.
enum class Listener {
  kAll,     // everything (no separate admin listener)
  kPublic,  // /hooks, /healthz, /readyz: /api/v1 and /metrics are 404
  kAdmin,   // /api/v1, /metrics, /healthz, /readyz: /hooks is 404
};

// What the admin API shows per adapter (GET /api/v1/adapters[/{id}]). The
// runtime fills it from its pipeline state.
struct AdapterStatus {
  std::string id;
  std::string type;  // "webhook", "ozon", ...
  bool enabled = true;
  std::vector<std::string> capabilities;   // of "source", "webhook", "target"
  std::optional<SystemTime> last_success;  // last good pull/delivery/webhook
  std::optional<std::string> cursor;       // source adapters: the saved cursor
  std::optional<std::string> last_error;
  std::optional<SystemTime> last_error_at;
  std::string circuit_state;  // "closed" | "open" | "half_open"; "" if none
  // By capability ("pull", "deliver", "push"): kept across reloads.
  std::map<std::string, CapabilityStatus> capability_status;
  // Since the daemon started, from its metrics: received (events),
  // delivered / retrying / failed (delivery attempts by outcome), throttled
  // (calls to its upstreams held back or answered 429).
  std::map<std::string, int64_t> counts;
  std::string details_json = "{}";  // Adapter::DescribeJson(); must be a JSON object
};

// GET /readyz: ready = config loaded, store writable, not draining. The
// router itself also checks queue.Healthy(); the runtime reports the rest.
struct Readiness {
  bool ready = false;
  std::string reason;  // why not, e.g. "draining", "starting"
};

struct HttpRoutesDeps {
  queue::Queue* queue = nullptr;       // required
  MetricsRegistry* metrics = nullptr;  // required
  Clock* clock = nullptr;              // required
  // Where intake records each webhook adapter's push status. Null: nowhere.
  AdapterHealthBook* health = nullptr;
  // The adapter with that id (enabled ones only), or null. Used by /hooks
  // (needs webhook()) and /api/v1/commands (needs target()). Returning a
  // shared_ptr lets the runtime swap adapters on reload while a request
  // still holds the old one (an aliasing shared_ptr over a snapshot is fine).
  std::function<std::shared_ptr<adapters::Adapter>(std::string_view id)> find_adapter;
  // Every configured adapter, for the admin API. Null: an empty list.
  std::function<std::vector<AdapterStatus>()> adapter_statuses;
  // Null: ready whenever the queue is healthy.
  std::function<Readiness()> readiness;
  // Runs blocking work (SQLite reads/writes of the admin API, the
  // idempotency store's durable commit) off the I/O threads. Null: inline on
  // the calling thread (fine for tests; the runtime should pass a pool).
  std::function<void(std::function<void()>)> run_blocking;
};

struct HttpRoutesOptions {
  // [queue] high_water: intake and commands answer 503 + Retry-After while
  // queue.Depth() >= this. <= 0 disables the check.
  int64_t queue_high_water = 100'000;
  // Retry-After (seconds) on 503 answers.
  std::chrono::seconds retry_after{5};
  // [admin] token_file and [admin.tokens.<name>]: who may call /api/v1/*,
  // with which scopes. Empty: the admin API refuses every request (401), it
  // is never open.
  AdminAccess admin_access;
  // [admin] metrics_require_token: /metrics needs a token with the read scope.
  bool metrics_require_token = false;
  // [admin] max_body: largest /api/v1 request body (commands); 413 above.
  uint64_t admin_max_body = 1024 * 1024;
  // [http] max_json_depth: deeper webhook bodies and admin requests are 400.
  int max_json_depth = 64;
  // Where POST /api/v1/commands keeps Idempotency-Key records (SQLite file,
  // e.g. <data_dir>/idempotency.db). Required.
  std::filesystem::path idempotency_db;
  // How long a completed Idempotency-Key is remembered (and replayed).
  std::chrono::milliseconds idempotency_retention{std::chrono::hours(24)};
  // The admin audit journal (SQLite file, e.g. <data_dir>/audit.db).
  // Required.
  std::filesystem::path audit_db;
  // The embedded CRM store (<data_dir>/crm.db), for the payment-matching
  // review list (GET /api/v1/matching/unmatched). Empty: that route is 404.
  std::filesystem::path crm_db;
  // [admin] audit_retention: entries older than this are purged.
  std::chrono::milliseconds audit_retention{std::chrono::hours(24 * 365)};
};

class HttpRoutes {
 public:
  // Opens the idempotency store and the audit journal; fails
  // (kIoError/kInvalidArgument) if it cannot. REQUIRES: deps.queue, deps.metrics, deps.clock
  // non-null.
  static Result<std::unique_ptr<HttpRoutes>> Create(HttpRoutesDeps deps, HttpRoutesOptions options);
  ~HttpRoutes();
  HttpRoutes(const HttpRoutes&) = delete;
  HttpRoutes& operator=(const HttpRoutes&) = delete;

  // Dispatches one request; answers exactly once (maybe later, from the
  // queue's thread, once an enqueue is durable). Routes `listener` does not
  // serve are 404.
  void Handle(net::HttpRequest request, net::Responder respond, Listener listener = Listener::kAll);

  // Handle() as a net::HttpHandler. The router must outlive the server.
  net::HttpHandler Handler(Listener listener = Listener::kAll);

  // The audit journal of the admin API, for tests and tools.
  AuditJournal& audit();

  // For HttpServerOptions::body_limit_for: a webhook adapter's max_body for
  // /hooks/{id}, admin_max_body for /api/v1/*, 0 (server default) otherwise.
  uint64_t BodyLimitFor(std::string_view path) const;
  std::function<uint64_t(std::string_view)> BodyLimitFunction();
  // For HttpServerOptions::screen_headers: /api/v1/* without a valid admin
  // token is answered 401 (403 without the scope) before its body is read;
  // a route `listener` does not serve is 404 at once.
  std::function<std::optional<net::HttpResponse>(std::string_view, std::string_view,
                                                 const net::HeaderMap&, std::string_view)>
  ScreenFunction(Listener listener = Listener::kAll);

 private:
  HttpRoutes(HttpRoutesDeps deps, HttpRoutesOptions options,
             std::unique_ptr<IdempotencyStore> store, std::unique_ptr<AuditJournal> audit);
  void HandleUi(const net::HttpRequest& request, const net::Responder& respond);
  void HandleHealth(const net::HttpRequest& request, const net::Responder& respond);

  HttpRoutesDeps deps_;
  HttpRoutesOptions options_;
  std::unique_ptr<IdempotencyStore> store_;
  std::unique_ptr<AuditJournal> audit_;
  std::unique_ptr<IntakeHandler> intake_;
  std::unique_ptr<AdminApi> admin_;
};

}  // namespace crmhub::daemon
