#include "daemon/http_routes.h"

#include <stdexcept>
#include <utility>

#include "daemon/admin_api.h"
#include "daemon/audit_journal.h"
#include "daemon/idempotency_store.h"
#include "daemon/intake.h"
#include "daemon/ui_assets.h"

namespace crmhub::daemon {
namespace {

constexpr std::string_view kHooksPrefix = "/hooks/";
constexpr std::string_view kApiPrefix = "/api/v1/";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The adapter id of "/hooks/{id}" or "/hooks/{id}/{sub_path}", or empty
// when the path has another shape. The adapter decides which sub-paths it
// serves (WebhookCapability::ServesPath).
std::string_view HookId(std::string_view path) {
  if (!StartsWith(path, kHooksPrefix)) return {};
  std::string_view id = path.substr(kHooksPrefix.size());
  return id.substr(0, id.find('/'));
}

// Whether `listener` serves `path` (the health checks are everywhere).
bool Serves(Listener listener, std::string_view path) {
  if (listener == Listener::kAll || path == "/healthz" || path == "/readyz") return true;
  const bool admin_route = StartsWith(path, kApiPrefix) || path == "/metrics" || path == "/ui" ||
                           StartsWith(path, "/ui/");
  return (listener == Listener::kAdmin) == admin_route;
}

net::HttpResponse NotServedHere() {
  return net::HttpResponse::Error(404, "not_found", "no such resource");
}

}  // namespace

Result<std::unique_ptr<HttpRoutes>> HttpRoutes::Create(HttpRoutesDeps deps,
                                                       HttpRoutesOptions options) {
  if (deps.queue == nullptr || deps.metrics == nullptr || deps.clock == nullptr) {
    throw std::logic_error("HttpRoutes::Create: queue, metrics and clock are required");
  }
  auto store =
      IdempotencyStore::Open(options.idempotency_db, *deps.clock, options.idempotency_retention);
  if (!store.ok()) return store.status();
  auto audit = AuditJournal::Open(options.audit_db, *deps.clock, options.audit_retention);
  if (!audit.ok()) return audit.status();
  return std::unique_ptr<HttpRoutes>(new HttpRoutes(
      std::move(deps), std::move(options), std::move(store).value(), std::move(audit).value()));
}

HttpRoutes::HttpRoutes(HttpRoutesDeps deps, HttpRoutesOptions options,
                       std::unique_ptr<IdempotencyStore> store, std::unique_ptr<AuditJournal> audit)
    : deps_(std::move(deps)),
      options_(std::move(options)),
      store_(std::move(store)),
      audit_(std::move(audit)) {
  intake_ = std::make_unique<IntakeHandler>(deps_, options_);
  admin_ = std::make_unique<AdminApi>(deps_, options_, *store_, *audit_);
}

HttpRoutes::~HttpRoutes() = default;

AuditJournal& HttpRoutes::audit() { return *audit_; }

net::HttpHandler HttpRoutes::Handler(Listener listener) {
  return [this, listener](net::HttpRequest request, net::Responder respond) {
    Handle(std::move(request), std::move(respond), listener);
  };
}

std::function<uint64_t(std::string_view)> HttpRoutes::BodyLimitFunction() {
  return [this](std::string_view path) { return BodyLimitFor(path); };
}

std::function<std::optional<net::HttpResponse>(std::string_view, std::string_view,
                                               const net::HeaderMap&, std::string_view)>
HttpRoutes::ScreenFunction(Listener listener) {
  return [this, listener](std::string_view method, std::string_view path,
                          const net::HeaderMap& headers,
                          std::string_view remote) -> std::optional<net::HttpResponse> {
    if (!Serves(listener, path)) return NotServedHere();
    if (!StartsWith(path, kApiPrefix)) return std::nullopt;
    return admin_->Screen(method, path, headers, remote);
  };
}

uint64_t HttpRoutes::BodyLimitFor(std::string_view path) const {
  if (std::string_view id = HookId(path); !id.empty()) return intake_->BodyLimit(id);
  if (StartsWith(path, kApiPrefix)) return options_.admin_max_body;
  return 0;
}

void HttpRoutes::Handle(net::HttpRequest request, net::Responder respond, Listener listener) {
  const std::string_view path = request.path;
  if (!Serves(listener, path)) {
    respond(NotServedHere());
    return;
  }
  if (StartsWith(path, kHooksPrefix)) {
    std::string_view id = HookId(path);
    if (id.empty()) {
      respond(net::HttpResponse::Error(404, "not_found", "no webhook adapter with this id"));
      return;
    }
    const std::string adapter_id(id);  // `request` moves below
    intake_->Handle(adapter_id, std::move(request), std::move(respond));
    return;
  }
  if (StartsWith(path, kApiPrefix)) {
    admin_->Handle(std::move(request), std::move(respond));
    return;
  }
  if (path == "/ui" || StartsWith(path, "/ui/")) {
    HandleUi(request, respond);
    return;
  }
  HandleHealth(request, respond);
}

// The status page's static files. They hold no data and need no token (the
// page asks for one and sends it to the API); what they show comes from
// the admin API, under its scopes.
void HttpRoutes::HandleUi(const net::HttpRequest& request, const net::Responder& respond) {
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = net::HttpResponse::Error(405, "method_not_allowed", "use GET");
    r.headers.Set("Allow", "GET, HEAD");
    respond(std::move(r));
    return;
  }
  if (request.path == "/ui") {
    auto r = net::HttpResponse::Text(301, "see /ui/\n");
    r.headers.Set("Location", "/ui/");
    respond(std::move(r));
    return;
  }
  const UiAsset* asset = FindUiAsset(std::string_view(request.path).substr(4));
  if (asset == nullptr) {
    respond(net::HttpResponse::Error(404, "not_found", "no such file of the status page"));
    return;
  }
  auto r = net::HttpResponse::Text(200, std::string(asset->body));
  r.headers.Set("Content-Type", std::string(asset->content_type));
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  respond(std::move(r));
}

void HttpRoutes::HandleHealth(const net::HttpRequest& request, const net::Responder& respond) {
  const std::string_view path = request.path;
  const bool known = path == "/metrics" || path == "/healthz" || path == "/readyz";
  if (!known) {
    respond(net::HttpResponse::Error(404, "not_found", "no such resource"));
    return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto r = net::HttpResponse::Error(405, "method_not_allowed", "use GET");
    r.headers.Set("Allow", "GET, HEAD");
    respond(std::move(r));
    return;
  }
  if (path == "/metrics") {
    if (options_.metrics_require_token) {
      // Prometheus sends it with `authorization: {credentials_file: ...}`.
      if (auto refusal =
              admin_->Screen(request.method, path, request.headers, request.remote_address)) {
        return respond(std::move(*refusal));
      }
    }
    auto r = net::HttpResponse::Text(200, deps_.metrics->RenderPrometheus());
    r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    respond(std::move(r));
    return;
  }
  if (path == "/healthz") {
    respond(net::HttpResponse::Json(200, R"({"status":"ok"})"));
    return;
  }
  // /readyz: the store must take writes, and the runtime must say ready.
  Readiness readiness{true, {}};
  if (!deps_.queue->Healthy()) {
    readiness = {false, "store unavailable"};
  } else if (deps_.readiness) {
    readiness = deps_.readiness();
  }
  if (readiness.ready) {
    respond(net::HttpResponse::Json(200, R"({"status":"ready"})"));
    return;
  }
  auto r = net::HttpResponse::Error(503, "not_ready", readiness.reason);
  r.headers.Set("Retry-After", std::to_string(options_.retry_after.count()));
  respond(std::move(r));
}

}  // namespace crmhub::daemon
