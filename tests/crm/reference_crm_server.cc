#include "tests/crm/reference_crm_server.h"

#include <nlohmann/json.hpp>

#include "base/secret.h"
#include "mapping/model/model.h"

namespace crmhub::crm::testing {
namespace {

// Splits the raw target's path into percent-decoded segments, so an
// external id holding an encoded '/' stays one segment.
std::vector<std::string> Segments(std::string_view target) {
  target = target.substr(0, target.find('?'));
  std::vector<std::string> out;
  while (!target.empty()) {
    if (target.front() == '/') {
      target.remove_prefix(1);
      continue;
    }
    size_t slash = target.find('/');
    out.push_back(net::PercentDecode(target.substr(0, slash)));
    target = slash == std::string_view::npos ? std::string_view() : target.substr(slash);
  }
  return out;
}

nlohmann::json EntityJson(const StoredEntity& s) {
  nlohmann::json j = model::ToJson(s.entity);
  j["id"] = s.id;
  j["created_at"] = FormatRfc3339(s.created_at);
  j["updated_at"] = FormatRfc3339(s.updated_at);
  return j;
}

}  // namespace

Result<std::unique_ptr<ReferenceCrmServer>> ReferenceCrmServer::Start(boost::asio::io_context& io,
                                                                      Clock& clock,
                                                                      ReferenceCrmOptions options) {
  SqliteStoreOptions store_options;
  store_options.path = options.db_path;
  auto store = SqliteCrmStore::Open(store_options, clock);
  if (!store.ok()) return store.status();
  std::unique_ptr<ReferenceCrmServer> self(
      new ReferenceCrmServer(clock, std::move(options), std::move(store).value()));
  ReferenceCrmServer* raw = self.get();
  self->server_ = std::make_unique<net::HttpServer>(
      io, net::HttpServerOptions{},
      [raw](net::HttpRequest request, net::Responder respond) { raw->Handle(request, respond); });
  CRMHUB_RETURN_IF_ERROR(self->server_->Listen(self->options_.listen));
  return self;
}

ReferenceCrmServer::ReferenceCrmServer(Clock& clock, ReferenceCrmOptions options,
                                       std::unique_ptr<SqliteCrmStore> store)
    : clock_(clock), options_(std::move(options)), store_(std::move(store)) {}

ReferenceCrmServer::~ReferenceCrmServer() { Stop(); }

void ReferenceCrmServer::Stop() {
  if (server_) server_->Stop();
}

std::string ReferenceCrmServer::base_url() const {
  return "http://127.0.0.1:" + std::to_string(server_->port());
}

void ReferenceCrmServer::FailNextWith503(int count, std::optional<int> retry_after_seconds) {
  retry_after_ = retry_after_seconds.value_or(-1);
  fail_503_ = count;
}

std::vector<ReferenceCrmServer::Seen> ReferenceCrmServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void ReferenceCrmServer::Handle(const net::HttpRequest& request, const net::Responder& respond) {
  net::HttpResponse response = Route(request);
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back({request.method, request.target,
                     std::string(request.headers.Get("Idempotency-Key").value_or("")),
                     std::string(request.headers.Get("Authorization").value_or("")), request.body,
                     response.status});
  }
  respond(std::move(response));
}

net::HttpResponse ReferenceCrmServer::Route(const net::HttpRequest& request) {
  const std::vector<std::string> seg = Segments(request.target);
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "health" && request.method == "GET") {
    return net::HttpResponse::Json(200, R"({"status":"ok"})");
  }
  auto auth = request.headers.Get("Authorization");
  std::string_view presented = auth.value_or("");
  constexpr std::string_view kBearer = "Bearer ";
  if (presented.substr(0, kBearer.size()) != kBearer ||
      !crmhub::ConstantTimeEquals(presented.substr(kBearer.size()), options_.token)) {
    net::HttpResponse r = net::HttpResponse::Error(401, "unauthenticated", "bad bearer token");
    r.headers.Set("WWW-Authenticate", "Bearer");
    return r;
  }
  if (seg.size() != 5 || seg[0] != "v1" || seg[1] != "entities") {
    return net::HttpResponse::Error(404, "not_found", "no such resource");
  }
  if (!model::ParseKind(seg[2])) {
    return net::HttpResponse::Error(404, "unknown_kind", "unknown entity kind " + seg[2]);
  }
  if (request.method == "PUT") return Put(request, seg);
  if (request.method == "GET") return Get(seg);
  net::HttpResponse r = net::HttpResponse::Error(405, "method_not_allowed", "PUT or GET");
  r.headers.Set("Allow", "GET, PUT");
  return r;
}

net::HttpResponse ReferenceCrmServer::Put(const net::HttpRequest& request,
                                          const std::vector<std::string>& seg) {
  if (fail_503_.load() > 0 && fail_503_.fetch_sub(1) > 0) {
    net::HttpResponse r =
        net::HttpResponse::Error(503, "unavailable", "reference server: injected 503");
    if (retry_after_ >= 0) r.headers.Set("Retry-After", std::to_string(retry_after_.load()));
    return r;
  }
  auto key = request.headers.Get("Idempotency-Key");
  if (!key || key->empty()) {
    return net::HttpResponse::Error(400, "missing_idempotency_key",
                                    "the Idempotency-Key header is required");
  }
  nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return net::HttpResponse::Error(400, "bad_json", "body is not JSON");
  nlohmann::json meta;
  if (body.is_object() && body.contains("meta")) {
    meta = body["meta"];
    body.erase("meta");
  }
  auto entity = model::EntityFromJson(body);
  if (!entity.ok()) {
    return net::HttpResponse::Error(422, "invalid_entity", entity.status().message());
  }
  if (model::KindName(entity->kind) != seg[2] || entity->source != seg[3] ||
      entity->external_id != seg[4]) {
    return net::HttpResponse::Error(422, "path_mismatch",
                                    "kind, source and external_id must match the path");
  }
  if (Status v = model::ValidateEntity(*entity); !v.ok()) {
    return net::HttpResponse::Error(422, "invalid_entity", v.message());
  }
  if (reject_all_) {
    return net::HttpResponse::Error(422, "rejected", "reference server: rejecting every entity");
  }

  SinkEvent event;
  event.source = entity->source;
  event.idempotency_key = std::string(*key);
  event.message_id = meta.is_object() ? meta.value("message_id", int64_t{0}) : 0;
  event.received_at = clock_.Now();
  event.entities.push_back(*entity);
  EventApplyResult r = store_->ApplyDetailed({event}).at(0);
  if (r.outcome.kind == DeliveryOutcome::Kind::kRetry) {
    return net::HttpResponse::Error(503, "unavailable", "store busy, retry");
  }
  if (!r.outcome.ok()) return net::HttpResponse::Error(422, "invalid_entity", r.outcome.error);

  std::string result =
      r.duplicate ? "duplicate" : std::string(UpsertResultName(r.entities[0].result));
  auto stored = store_->Find(entity->kind, entity->source, entity->external_id);
  if (!stored.ok() || !stored->has_value()) {
    return net::HttpResponse::Error(500, "internal", "stored entity not found");
  }
  nlohmann::json out = {{"result", result}, {"entity", EntityJson(**stored)}};
  return net::HttpResponse::Json(result == "created" ? 201 : 200, out.dump());
}

net::HttpResponse ReferenceCrmServer::Get(const std::vector<std::string>& seg) {
  auto stored = store_->Find(*model::ParseKind(seg[2]), seg[3], seg[4]);
  if (!stored.ok()) return net::HttpResponse::Error(503, "unavailable", "store error");
  if (!stored->has_value()) return net::HttpResponse::Error(404, "not_found", "no such entity");
  return net::HttpResponse::Json(200, EntityJson(**stored).dump());
}

}  // namespace crmhub::crm::testing
