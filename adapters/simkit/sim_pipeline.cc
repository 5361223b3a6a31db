#include "adapters/simkit/sim_pipeline.h"

#include <cstdlib>

#include "adapters/simkit/fault_responder.h"
#include "base/json_get.h"
#include "base/secret.h"

namespace crmhub::simkit {
namespace {

// "/v2/campaigns/1/orders" -> {"v2", "campaigns", "1", "orders"}.
std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    if (path[pos] == '/') {
      ++pos;
      continue;
    }
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    out.emplace_back(path.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// The log keeps no credential: the dialect's auth headers are redacted
// besides the usual ones.
RequestLog::Options LogOptions(const SimPipeline::Dialect& dialect) {
  RequestLog::Options options;
  for (const std::string& h : dialect.auth_headers) options.redacted_headers.push_back(h);
  return options;
}

}  // namespace

SimPipeline::Limit SimPipeline::Limit::Bucket(std::string group, net::RateLimit rate) {
  return {.group = std::move(group),
          .size = static_cast<int64_t>(rate.burst),
          .make = [rate](const Clock& clock) -> std::unique_ptr<net::RateLimiter> {
            return std::make_unique<net::TokenBucket>(clock, rate);
          }};
}

SimPipeline::Limit SimPipeline::Limit::Window(std::string group, int64_t units,
                                              std::chrono::milliseconds window) {
  return {.group = std::move(group),
          .size = units,
          .make = [units, window](const Clock& clock) -> std::unique_ptr<net::RateLimiter> {
            return std::make_unique<net::SlidingWindow>(clock, units, window);
          }};
}

SimPipeline::Options PipelineSimulator::CommonOptions(const SimOptions& options,
                                                      uint64_t salt) const {
  SimPipeline::Options o;
  o.faults = options.faults;
  o.seed = options.seed ^ salt;
  o.enforce_limits = options.enforce_rate_limits;
  o.state = [this] { return StateJson(); };
  return o;
}

SimPipeline::SimPipeline(Options options, Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      started_(clock.SteadyNow()),
      log_(LogOptions(options_.dialect)),
      faults_(options_.faults),
      fault_rng_(options_.seed) {
  for (const Route& r : options_.routes) routes_.push_back({r, Segments(r.path)});
}

SimPipeline::~SimPipeline() { Stop(); }

Status SimPipeline::Start(const std::string& listen, int io_threads) {
  return server_.Start(listen, options_.dialect.server_header, io_threads,
                       [this](net::HttpRequest request, net::Responder respond) {
                         Handle(std::move(request), std::move(respond));
                       });
}

void SimPipeline::Stop() { server_.Stop(); }

void SimPipeline::SetFaults(FaultSpec faults) {
  std::lock_guard lock(mu_);
  faults_ = faults;
}

SimPipeline::MatchedRoute SimPipeline::Match(const net::HttpRequest& request) const {
  const std::vector<std::string> segments = Segments(request.path);
  MatchedRoute out;
  for (const CompiledRoute& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::string> params;
    bool match = true;
    for (size_t i = 0; i < segments.size() && match; ++i) {
      if (r.segments[i] == "{}") {
        params.push_back(segments[i]);
      } else {
        match = r.segments[i] == segments[i];
      }
    }
    if (!match) continue;
    out.path_known = true;
    if (r.route.method == request.method) {
      out.route = &r.route;
      out.params = std::move(params);
      return out;
    }
  }
  return out;
}

std::optional<std::string> SimPipeline::Authenticate(const net::HttpRequest& request,
                                                     bool* missing) const {
  const SimPipeline::Dialect& d = options_.dialect;
  *missing = false;
  if (d.auth_headers.empty()) return std::string();
  std::string presented;
  for (size_t i = 0; i < d.auth_headers.size(); ++i) {
    auto value = request.headers.Get(d.auth_headers[i]);
    if (!value) {
      *missing = true;
      return std::nullopt;
    }
    if (i > 0) presented += ':';
    presented += *value;
  }
  // Every credential is compared, so the time taken does not tell which
  // one came close.
  const std::string* account = nullptr;
  for (const auto& c : d.accepted) {
    if (ConstantTimeEquals(c.secret, presented) && account == nullptr) account = &c.account;
  }
  if (account == nullptr) return std::nullopt;
  return *account;
}

const SimPipeline::Limit* SimPipeline::FindLimit(std::string_view group) const {
  for (const Limit& l : options_.limits) {
    if (l.group == group) return &l;
  }
  return nullptr;
}

net::RateLimiter* SimPipeline::LimiterFor(const std::string& account, const Limit& limit) {
  std::lock_guard lock(mu_);
  auto& slot = limiters_[{account, limit.group}];
  if (!slot) slot = limit.make(clock_);
  return slot.get();
}

std::vector<std::pair<const SimPipeline::Limit*, net::RateLimiter*>> SimPipeline::LimitersOf(
    const Route& route, const std::string& account) {
  std::vector<std::pair<const Limit*, net::RateLimiter*>> out;
  for (const std::string& group : route.limits) {
    // A route naming an undeclared group is the simulator's mistake: that
    // group is not limited.
    if (const Limit* limit = FindLimit(group)) out.emplace_back(limit, LimiterFor(account, *limit));
  }
  return out;
}

Fault SimPipeline::DrawFault(std::chrono::milliseconds* hold) {
  std::lock_guard lock(mu_);
  if (faults_.empty()) return Fault::kNone;
  Fault fault = faults_.Pick(fault_rng_.Uniform());
  *hold = fault == Fault::kSlow ? faults_.slow_delay : faults_.timeout_hold;
  return fault;
}

void SimPipeline::Answer(uint64_t seq, net::Responder respond, net::HttpResponse response,
                         Fault fault, std::string note,
                         std::optional<std::chrono::milliseconds> hold) {
  if (!hold) {
    log_.Complete(seq, response.status, fault, std::move(note));
    respond(std::move(response));
    return;
  }
  // A timeout is logged unanswered (status 0): the client never sees one.
  log_.Complete(seq, fault == Fault::kTimeout ? 0 : response.status, fault, std::move(note));
  server_.held().AnswerLater(std::move(respond), std::move(response), *hold);
}

void SimPipeline::Handle(net::HttpRequest request, net::Responder respond) {
  const Dialect& d = options_.dialect;
  if (request.path.rfind("/__sim/", 0) == 0) {
    if (request.method == "GET" && request.path == "/__sim/requests") {
      uint64_t since = 0;
      if (auto s = request.QueryParam("since")) since = std::strtoull(s->c_str(), nullptr, 10);
      respond(net::HttpResponse::Json(200, log_.ToJson(since)));
    } else if (request.method == "GET" && request.path == "/__sim/state" && options_.state) {
      respond(net::HttpResponse::Json(200, options_.state()));
    } else {
      respond(d.error(404, "no such simulator endpoint"));
    }
    return;
  }
  const int64_t at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.SteadyNow() - started_).count();
  const uint64_t seq = log_.Record(request, at_ms);
  const MatchedRoute matched = Match(request);
  if (matched.route == nullptr) {
    if (matched.path_known) {
      return Answer(seq, std::move(respond), d.error(405, "Method Not Allowed"), Fault::kNone,
                    "method not allowed");
    }
    return Answer(seq, std::move(respond), d.error(404, "Not Found"), Fault::kNone, "unknown path");
  }
  const Route& route = *matched.route;
  bool missing = false;
  const std::optional<std::string> account = Authenticate(request, &missing);
  if (!account) {
    return Answer(seq, std::move(respond), d.unauthorized(missing), Fault::kNone,
                  missing ? "no auth" : "bad auth");
  }
  nlohmann::json body;
  if (route.json_body) {
    auto parsed = ParseJson(request.body);
    if (!parsed.ok() || !parsed->is_object()) {
      const auto& error = route.error ? route.error : d.error;
      return Answer(seq, std::move(respond), error(400, "request body is not a JSON object"),
                    Fault::kNone, "bad body");
    }
    body = std::move(*parsed);
  }
  SimRequest sim_request{request, matched.params, *account, body};
  std::vector<std::pair<const Limit*, net::RateLimiter*>> limiters;
  if (options_.enforce_limits) {
    limiters = LimitersOf(route, *account);
    const int64_t weight = route.weight ? route.weight(sim_request) : 1;
    for (const auto& [limit, limiter] : limiters) {
      // Limits already passed keep what they took: the system counted the
      // request before another limit refused it.
      if (auto wait = limiter->TryTake(weight)) {
        return Answer(seq, std::move(respond), d.throttled({limit->group, limit->size, *wait}),
                      Fault::kNone, "rate limited");
      }
    }
  }
  std::chrono::milliseconds hold{0};
  const Fault fault = DrawFault(&hold);
  switch (fault) {
    case Fault::k429: {
      LimitRefusal refusal{.retry_after = std::chrono::seconds(1), .injected = true};
      if (const Limit* first = route.limits.empty() ? nullptr : FindLimit(route.limits[0])) {
        refusal.group = first->group;
        refusal.limit = first->size;
      }
      return Answer(seq, std::move(respond), d.throttled(refusal), fault, "fault");
    }
    case Fault::k500:
      return Answer(seq, std::move(respond), d.error(500, "Internal error"), fault, "fault");
    case Fault::k503:
      return Answer(seq, std::move(respond), d.error(503, "Service unavailable"), fault, "fault");
    default:
      break;
  }
  sim_request.dup = fault == Fault::kDup;
  net::HttpResponse response = route.handler(sim_request);
  for (const auto& [limit, limiter] : limiters) {
    if (limit->extra_cost) {
      if (int64_t extra = limit->extra_cost(response.status); extra > 0) limiter->Charge(extra);
    }
    if (d.limit_headers && response.status >= 200 && response.status < 300) {
      d.limit_headers(response, *limit, *limiter);
    }
  }
  switch (fault) {
    case Fault::kMalformed:
      if (response.status == 200) response = MalformedJson(response.body);
      return Answer(seq, std::move(respond), std::move(response), fault, "fault");
    case Fault::kSlow:
      return Answer(seq, std::move(respond), std::move(response), fault, "slow", hold);
    case Fault::kTimeout:
      return Answer(seq, std::move(respond), std::move(response), fault, "held", hold);
    case Fault::kDup:
      return Answer(seq, std::move(respond), std::move(response), fault, "fault");
    default:
      return Answer(seq, std::move(respond), std::move(response), fault, "");
  }
}

}  // namespace crmhub::simkit
