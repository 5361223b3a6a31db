#include "daemon/admin_api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/adapter.h"
#include "base/json_get.h"
#include "matching/payment_matcher.h"

namespace crmhub::daemon {
namespace {

using nlohmann::json;

constexpr std::string_view kPrefix = "/api/v1/";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

net::HttpResponse JsonOk(int status, const json& j) {
  return net::HttpResponse::Json(status, Dump(j));
}

json TimeOrNull(const std::optional<SystemTime>& t) {
  return t ? json(FormatRfc3339(*t)) : json(nullptr);
}

std::optional<int64_t> ParseId(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

// Splits "a/b/c" into its segments.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

json HeadersJson(const queue::Headers& headers) {
  json h = json::object();
  for (const auto& [k, v] : headers) h[k] = v;
  return h;
}

json AdapterJson(const AdapterStatus& a) {
  json details = json::parse(a.details_json, nullptr, /*allow_exceptions=*/false);
  if (details.is_discarded()) details = json::object();
  json status = json::object();
  for (const auto& [capability, s] : a.capability_status) {
    status[capability] = {{"last_success", TimeOrNull(s.last_success)},
                          {"last_error", s.last_error ? json(*s.last_error) : json(nullptr)},
                          {"last_error_at", TimeOrNull(s.last_error_at)},
                          {"errors", s.errors}};
  }
  return {{"id", a.id},
          {"type", a.type},
          {"enabled", a.enabled},
          {"capabilities", a.capabilities},
          {"last_success", TimeOrNull(a.last_success)},
          {"cursor", a.cursor ? json(*a.cursor) : json(nullptr)},
          {"last_error", a.last_error ? json(*a.last_error) : json(nullptr)},
          {"last_error_at", TimeOrNull(a.last_error_at)},
          {"circuit_state", a.circuit_state.empty() ? json(nullptr) : json(a.circuit_state)},
          {"status", std::move(status)},
          {"counts", a.counts},
          {"details", std::move(details)}};
}

json DeadLetterSummary(const queue::DeadLetter& d) {
  return {{"id", d.id},
          {"lane", d.lane},
          {"source", d.source},
          {"idempotency_key", d.idempotency_key},
          {"attempts", d.attempts},
          {"reason", d.reason},
          {"created_at", FormatRfc3339(d.created_at)},
          {"failed_at", FormatRfc3339(d.failed_at)}};
}

json DeadLetterFull(const queue::DeadLetter& d) {
  json j = DeadLetterSummary(d);
  j["ordering_key"] = d.ordering_key;
  j["headers"] = HeadersJson(d.headers);
  j["payload"] = d.payload;  // raw record; invalid UTF-8 is replaced on output
  json history = json::array();
  for (const auto& h : d.history) {
    history.push_back({{"at", FormatRfc3339(h.at)}, {"error", h.error}});
  }
  j["history"] = std::move(history);
  return j;
}

// The client sees the kind of failure, never the engine's message (paths,
// SQL). The full status goes to the log.
net::HttpResponse StoreError(const Status& s, std::string_view what) {
  if (s.code() == StatusCode::kNotFound) {
    return net::HttpResponse::Error(404, "not_found", "no such dead letter");
  }
  spdlog::error("admin api: {}: {}", what, s.ToString());
  return net::HttpResponse::Error(503, "unavailable", "the queue could not answer");
}

// The audit action and target of a request that changes something, or
// nullopt for one that only reads (or names no mutating route: 404/405).
std::optional<std::pair<std::string, std::string>> MutationOf(
    std::string_view method, std::string_view path, const std::optional<std::string>& lane) {
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const std::vector<std::string_view> seg = Segments(path.substr(kPrefix.size()));
  if (seg.size() == 1 && seg[0] == "commands" && method == "POST") {
    return std::pair{std::string("submit_command"), std::string()};
  }
  if (seg.size() == 3 && seg[0] == "adapters" && seg[2] == "files" && method == "POST") {
    return std::pair{std::string("upload_file"), std::string(seg[1])};
  }
  if (seg.empty() || seg[0] != "dead-letters" || seg.size() < 2 || seg.size() > 3) {
    return std::nullopt;
  }
  if (seg.size() == 2 && seg[1] == "replay") {
    if (method != "POST") return std::nullopt;
    return std::pair{std::string("replay_dead_letters"),
                     lane && !lane->empty() ? "lane " + *lane : std::string("all")};
  }
  const std::string id(seg[1]);
  if (seg.size() == 2 && method == "DELETE") return std::pair{std::string("drop_dead_letter"), id};
  if (seg.size() == 3 && method == "POST") {
    if (seg[2] == "replay") return std::pair{std::string("replay_dead_letter"), id};
    if (seg[2] == "drop") return std::pair{std::string("drop_dead_letter"), id};
  }
  return std::nullopt;
}

}  // namespace

AdminApi::AdminApi(const HttpRoutesDeps& deps, const HttpRoutesOptions& options,
                   IdempotencyStore& store, AuditJournal& audit)
    : deps_(deps), options_(options), store_(store), audit_(audit) {}

void AdminApi::RunBlocking(std::function<void()> work) const {
  if (deps_.run_blocking) {
    deps_.run_blocking(std::move(work));
  } else {
    work();
  }
}

std::optional<net::HttpResponse> AdminApi::Screen(std::string_view method, std::string_view path,
                                                  const net::HeaderMap& headers,
                                                  std::string_view remote_address) const {
  std::optional<AdminCaller> caller = options_.admin_access.Identify(headers);
  if (!caller) {
    deps_.metrics
        ->GetCounter("crmhub_admin_refused_total",
                     "Admin API requests refused, by reason (unauthorized: no known token; "
                     "forbidden: a token without the scope)",
                     {{"reason", "unauthorized"}})
        .Inc();
    return Unauthorized();
  }
  const Scope needed = ScopeNeeded(method, path);
  if (caller->Grants(needed)) return std::nullopt;
  deps_.metrics
      ->GetCounter("crmhub_admin_refused_total",
                   "Admin API requests refused, by reason (unauthorized: no known token; "
                   "forbidden: a token without the scope)",
                   {{"reason", "forbidden"}})
      .Inc();
  net::HttpResponse refusal = Forbidden(*caller, needed);
  if (auto mutation = MutationOf(method, path, std::nullopt)) {
    AuditEntry e;
    e.actor = caller->name;
    e.via = "api";
    e.remote = std::string(remote_address);
    e.action = mutation->first;
    e.target = mutation->second;
    e.result = "denied";
    e.status = refusal.status;
    e.detail = json{{"missing_scope", ScopeName(needed)}}.dump();
    // Off the I/O thread: the journal's commit waits for the disk.
    RunBlocking([this, e = std::move(e)]() mutable { RecordAudit(std::move(e)); });
  }
  return refusal;
}

void AdminApi::RecordAudit(AuditEntry entry) const {
  spdlog::info("audit: {} {} {} {}: {} ({})", entry.via, entry.actor, entry.action, entry.target,
               entry.result, entry.status);
  Result<int64_t> id = audit_.Record(std::move(entry));
  if (!id.ok()) {
    deps_.metrics
        ->GetCounter("crmhub_audit_write_errors_total",
                     "Audit journal entries that could not be written (the call was logged)")
        .Inc();
    spdlog::error("audit journal: {}", id.status().ToString());
  }
}

net::Responder AdminApi::Audited(const AdminCaller& caller, const net::HttpRequest& request,
                                 std::shared_ptr<AuditNote> note, net::Responder respond) const {
  AuditEntry base;
  base.actor = caller.name;
  base.via = "api";
  base.remote = request.remote_address;
  return [this, base = std::move(base), note = std::move(note),
          respond = std::move(respond)](net::HttpResponse answer) {
    // The entry is committed before the answer goes out, off whatever
    // thread answered (an I/O thread, the queue's).
    RunBlocking([this, base, note, respond, answer = std::move(answer)]() mutable {
      AuditEntry e = base;
      e.action = note->action;
      e.target = note->target;
      e.status = answer.status;
      Result<json> parsed = ParseJson(answer.body);
      json body = parsed.ok() && parsed->is_object() ? std::move(parsed).value() : json::object();
      if (answer.status >= 200 && answer.status < 300) {
        e.result = "ok";
      } else if (answer.status == 403) {
        e.result = "denied";
      } else {
        std::optional<std::string_view> error = JsonString(body, "error");
        e.result = error ? std::string(*error) : "status " + std::to_string(answer.status);
      }
      json detail = {{"answer", std::move(body)}};
      if (!note->idempotency_key.empty()) detail["idempotency_key"] = note->idempotency_key;
      e.detail = Dump(detail);
      RecordAudit(std::move(e));
      respond(std::move(answer));
    });
  };
}

void AdminApi::Handle(net::HttpRequest request, net::Responder respond) {
  // Authentication first, for every path (also unknown ones): nothing about
  // the API is revealed without the token.
  std::optional<AdminCaller> caller = options_.admin_access.Identify(request.headers);
  if (!caller) {
    respond(*Screen(request.method, request.path, request.headers, request.remote_address));
    return;
  }
  std::shared_ptr<AuditNote> note;
  if (auto mutation = MutationOf(request.method, request.path, request.QueryParam("lane"))) {
    note = std::make_shared<AuditNote>(AuditNote{mutation->first, mutation->second, {}});
    if (auto key = request.headers.Get("Idempotency-Key"))
      note->idempotency_key = std::string(*key);
    respond = Audited(*caller, request, note, std::move(respond));
  }
  if (const Scope needed = ScopeNeeded(request.method, request.path); !caller->Grants(needed)) {
    respond(Forbidden(*caller, needed));  // recorded by the Audited responder
    return;
  }
  if (request.body.size() > options_.admin_max_body) {
    respond(net::HttpResponse::Error(413, "payload_too_large", "request body is too large"));
    return;
  }
  if (request.method == "POST" && request.path == "/api/v1/commands") {
    Commands(request, respond, note);
    return;
  }
  // The rest reads or changes the queue's SQLite: off the I/O thread.
  auto shared = std::make_shared<net::HttpRequest>(std::move(request));
  RunBlocking([this, shared, respond = std::move(respond)] {
    if (shared->path == "/api/v1/audit") return Audit(*shared, respond);
    Route(*shared, respond);
  });
}

void AdminApi::Audit(const net::HttpRequest& request, const net::Responder& respond) {
  if (request.method != "GET") {
    auto r = net::HttpResponse::Error(405, "method_not_allowed", "method not allowed here");
    r.headers.Set("Allow", "GET");
    return respond(std::move(r));
  }
  AuditFilter filter;
  if (auto last = request.QueryParam("last")) {
    auto v = ParseId(*last);
    if (!v || *v > 1000)
      return respond(net::HttpResponse::Error(400, "bad_request", "last: expected 1..1000"));
    filter.newest = true;
    filter.limit = static_cast<int>(*v);
  }
  if (auto after = request.QueryParam("after_id")) {
    auto v = ParseId(*after);
    if (!v && *after != "0") {
      return respond(net::HttpResponse::Error(400, "bad_request", "after_id: expected an id"));
    }
    filter.after_id = v.value_or(0);
  }
  if (auto limit = request.QueryParam("limit")) {
    auto v = ParseId(*limit);
    if (!v || *v > 1000)
      return respond(net::HttpResponse::Error(400, "bad_request", "limit: expected 1..1000"));
    if (!filter.newest) filter.limit = static_cast<int>(*v);
  }
  auto list = audit_.List(filter);
  if (!list.ok()) {
    spdlog::error("admin api: audit journal: {}", list.status().ToString());
    return respond(
        net::HttpResponse::Error(503, "unavailable", "the audit journal could not answer"));
  }
  json items = json::array();
  for (const AuditEntry& e : *list) items.push_back(AuditEntryToJson(e));
  json next = !filter.newest && list->size() == static_cast<size_t>(filter.limit) && !list->empty()
                  ? json(list->back().id)
                  : json(nullptr);
  respond(JsonOk(200, {{"entries", std::move(items)}, {"next_after_id", std::move(next)}}));
}

void AdminApi::Route(const net::HttpRequest& request, const net::Responder& respond) {
  const std::vector<std::string_view> seg =
      Segments(std::string_view(request.path).substr(kPrefix.size()));
  const std::string& method = request.method;
  queue::Queue& q = *deps_.queue;
  auto method_not_allowed = [&](std::string_view allow) {
    auto r = net::HttpResponse::Error(405, "method_not_allowed", "method not allowed here");
    r.headers.Set("Allow", std::string(allow));
    respond(std::move(r));
  };

  // POST /api/v1/adapters/{id}/files: a file for an adapter that takes files
  // (bank-1c), stored by the adapter for its next pull (adapters/adapter.h
  // FileCapability). Runs here, on the blocking pool: the adapter writes and
  // fsyncs.
  if (seg.size() == 3 && seg[0] == "adapters" && seg[2] == "files") {
    if (method != "POST") return method_not_allowed("POST");
    std::shared_ptr<adapters::Adapter> adapter =
        deps_.find_adapter ? deps_.find_adapter(seg[1]) : nullptr;
    if (adapter == nullptr) {
      return respond(net::HttpResponse::Error(404, "not_found", "no enabled adapter with this id"));
    }
    if (adapter->files() == nullptr) {
      return respond(net::HttpResponse::Error(404, "not_found", "this adapter takes no files"));
    }
    return respond(
        adapter->files()->AcceptFile(request.body, request.QueryParam("name").value_or("")));
  }

  if (!seg.empty() && seg[0] == "adapters" && seg.size() <= 2) {
    if (method != "GET") return method_not_allowed("GET");
    std::vector<AdapterStatus> all;
    if (deps_.adapter_statuses) all = deps_.adapter_statuses();
    if (seg.size() == 1) {
      json list = json::array();
      for (const auto& a : all) list.push_back(AdapterJson(a));
      return respond(JsonOk(200, {{"adapters", std::move(list)}}));
    }
    for (const auto& a : all) {
      if (a.id == seg[1]) return respond(JsonOk(200, AdapterJson(a)));
    }
    return respond(net::HttpResponse::Error(404, "not_found", "no adapter with this id"));
  }

  // GET /api/v1/matching/unmatched: incoming payments not linked to a deal,
  // with why (docs/matching.md). Opens crm.db for the call: a read the
  // daemon's own matcher does not wait on (SQLite WAL).
  if (seg.size() == 2 && seg[0] == "matching" && seg[1] == "unmatched") {
    if (method != "GET") return method_not_allowed("GET");
    if (options_.crm_db.empty() || !std::filesystem::exists(options_.crm_db)) {
      return respond(net::HttpResponse::Error(404, "not_found", "no embedded CRM store"));
    }
    int64_t after = 0;
    int limit = 100;
    if (auto a = request.QueryParam("after_id"); a && *a != "0") {
      auto v = ParseId(*a);
      if (!v)
        return respond(net::HttpResponse::Error(400, "bad_request", "after_id: expected an id"));
      after = *v;
    }
    if (auto l = request.QueryParam("limit")) {
      auto v = ParseId(*l);
      if (!v || *v > 1000) {
        return respond(net::HttpResponse::Error(400, "bad_request", "limit: expected 1..1000"));
      }
      limit = static_cast<int>(*v);
    }
    auto matcher = matching::PaymentMatcher::Open(options_.crm_db, {}, *deps_.clock);
    Result<std::vector<matching::UnmatchedPayment>> list =
        matcher.ok() ? (*matcher)->ListUnmatched(after, limit)
                     : Result<std::vector<matching::UnmatchedPayment>>(matcher.status());
    if (!list.ok()) {
      spdlog::error("admin api: matching: {}", list.status().ToString());
      return respond(
          net::HttpResponse::Error(503, "unavailable", "the CRM store could not answer"));
    }
    json items = json::array();
    for (const auto& p : *list) {
      items.push_back(matching::UnmatchedPaymentJson(p));
    }
    json next = list->size() == static_cast<size_t>(limit) && !list->empty() ? json(list->back().id)
                                                                             : json(nullptr);
    return respond(JsonOk(200, {{"unmatched", std::move(items)}, {"next_after_id", next}}));
  }

  if (seg.size() == 1 && seg[0] == "queue") {
    if (method != "GET") return method_not_allowed("GET");
    auto stats = q.Stats();
    if (!stats.ok()) return respond(StoreError(stats.status(), "queue stats"));
    json lanes = json::array();
    for (const auto& l : *stats) {
      lanes.push_back({{"lane", l.lane},
                       {"ready", l.ready},
                       {"delayed", l.delayed},
                       {"leased", l.leased},
                       {"dead", l.dead},
                       {"oldest_created_at", TimeOrNull(l.oldest_created_at)}});
    }
    return respond(
        JsonOk(200, {{"healthy", q.Healthy()}, {"depth", q.Depth()}, {"lanes", std::move(lanes)}}));
  }

  if (!seg.empty() && seg[0] == "dead-letters") {
    if (seg.size() == 1) {
      if (method != "GET") return method_not_allowed("GET");
      queue::DeadLetterFilter filter;
      if (auto lane = request.QueryParam("lane"); lane && !lane->empty()) filter.lane = *lane;
      if (auto after = request.QueryParam("after_id")) {
        auto v = ParseId(*after);
        if (!v && *after != "0") {
          return respond(net::HttpResponse::Error(400, "bad_request", "after_id: expected an id"));
        }
        filter.after_id = v.value_or(0);
      }
      if (auto limit = request.QueryParam("limit")) {
        auto v = ParseId(*limit);
        if (!v || *v > 1000) {
          return respond(net::HttpResponse::Error(400, "bad_request", "limit: expected 1..1000"));
        }
        filter.limit = static_cast<int>(*v);
      }
      auto list = q.ListDeadLetters(filter);
      if (!list.ok()) return respond(StoreError(list.status(), "list dead letters"));
      json items = json::array();
      for (const auto& d : *list) items.push_back(DeadLetterSummary(d));
      json next = list->size() == static_cast<size_t>(filter.limit) && !list->empty()
                      ? json(list->back().id)
                      : json(nullptr);
      return respond(JsonOk(200, {{"dead_letters", std::move(items)}, {"next_after_id", next}}));
    }
    if (seg.size() == 2 && seg[1] == "replay") {
      if (method != "POST") return method_not_allowed("POST");
      std::optional<std::string> lane = request.QueryParam("lane");
      if (lane && lane->empty()) lane.reset();
      auto n = q.ReplayAllDeadLetters(lane);
      if (!n.ok()) return respond(StoreError(n.status(), "replay all dead letters"));
      return respond(JsonOk(200, {{"replayed", *n}}));
    }
    std::optional<int64_t> id = ParseId(seg[1]);
    if (!id || seg.size() > 3) {
      return respond(net::HttpResponse::Error(404, "not_found", "no such resource"));
    }
    if (seg.size() == 2) {
      if (method == "GET") {
        auto d = q.GetDeadLetter(*id);
        if (!d.ok()) return respond(StoreError(d.status(), "get dead letter"));
        return respond(JsonOk(200, DeadLetterFull(*d)));
      }
      if (method == "DELETE") {
        Status s = q.DropDeadLetter(*id);
        if (!s.ok()) return respond(StoreError(s, "drop dead letter"));
        return respond(JsonOk(200, {{"dropped", 1}}));
      }
      return method_not_allowed("GET, DELETE");
    }
    if (method != "POST") return method_not_allowed("POST");
    if (seg[2] == "replay") {
      Status s = q.ReplayDeadLetter(*id);
      if (!s.ok()) return respond(StoreError(s, "replay dead letter"));
      // The message keeps its id and history (Queue::ReplayDeadLetter).
      return respond(JsonOk(200, {{"replayed", 1}, {"message_id", *id}}));
    }
    if (seg[2] == "drop") {
      Status s = q.DropDeadLetter(*id);
      if (!s.ok()) return respond(StoreError(s, "drop dead letter"));
      return respond(JsonOk(200, {{"dropped", 1}}));
    }
  }
  if (seg.size() == 1 && seg[0] == "commands") return method_not_allowed("POST");
  respond(net::HttpResponse::Error(404, "not_found", "no such resource"));
}

}  // namespace crmhub::daemon
