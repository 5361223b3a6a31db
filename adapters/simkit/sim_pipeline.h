#pragma once
// SimPipeline: the request pipeline every simulator shares, so a simulator
// is only its system's routes, error shape and seeded world:
//
//   GET /__sim/requests[?since=N]  the request log (not logged, no auth)
//   GET /__sim/state               Options::state (not logged, no auth)
//   every other request, in this order:
//     log -> route lookup (404/405 in the system's error shape)
//         -> authenticate (the system's 401/403; yields the account)
//         -> the JSON body, for routes that take one (400: it never reached
//            the service, so it costs no limit)
//         -> limits (the route's groups, per account; the system's throttled
//            answer, e.g. 429 + headers, or Yandex Market's 420)
//         -> a drawn fault (429, 500, 503, timeout, slow, dup, malformed)
//         -> the route's handler -> the answer (malformed: a 200 cut short;
//            slow: held, then sent; timeout: processed, then held past any
//            client, so the client never learns that it was)
//
// Limits are net::RateLimiters (the same family adapters use), created per
// (account, group) on first use from the simulator's own reading of the
// spec. A route may weigh a request (items, not requests) and an answer may
// cost extra (Wildberries bills a 409 as 10).
//
// PipelineSimulator (below) is a Simulator served by one.
//
// Thread-safe: Handle runs on the server's I/O threads concurrently. Time
// only through the Clock, except held answers (see simkit::HeldResponses).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/simkit/fault_spec.h"
#include "adapters/simkit/request_log.h"
#include "adapters/simkit/rng.h"
#include "adapters/simkit/sim_server.h"
#include "adapters/simkit/simulator.h"
#include "base/clock.h"
#include "base/thread_annotations.h"
#include "net/http_types.h"
#include "net/rate_limiter.h"

namespace crmhub::simkit {

// What a route's handler sees.
struct SimRequest {
  const net::HttpRequest& http;
  // The values of the route's "{}" path segments, in order.
  std::vector<std::string> params;
  // The account the request authenticated as (the limit key).
  const std::string& account;
  // The parsed body of a route with json_body (an object); null otherwise.
  const nlohmann::json& body;
  // The "dup" fault was drawn: the handler repeats data already delivered
  // (what that means is the endpoint's to decide).
  bool dup = false;
};

// A limit refused a request, or the "429" fault was drawn.
struct LimitRefusal {
  std::string group;       // the limit's group; the route's first for a fault
  int64_t limit = 0;       // Limit::size (0: the route has no limit)
  Duration retry_after{};  // until the request would fit (a fault: 1 s)
  bool injected = false;   // the "429" fault, not a limit
};

class SimPipeline {
 public:
  struct Limit {
    std::string group;
    // The limit's size as the system states it (a bucket's burst, a
    // window's units): what throttled answers and headers report.
    int64_t size = 0;
    std::function<std::unique_ptr<net::RateLimiter>(const Clock&)> make;
    // Optional: units an answer costs beyond the request's weight (WB: a
    // 409 costs 9 more).
    std::function<int64_t(int status)> extra_cost;

    // A token bucket of `rate` (size: the burst).
    static Limit Bucket(std::string group, net::RateLimit rate);
    // At most `units` in any `window` (size: units).
    static Limit Window(std::string group, int64_t units, std::chrono::milliseconds window);
  };

  // How the system answers what the pipeline decides. unauthorized, error
  // and throttled are required.
  struct Dialect {
    std::string server_header;  // "ozon-sim"
    // Credentials: the values of `auth_headers` joined with ':' (Ozon's
    // Client-Id and Api-Key: "CLIENT_ID:API_KEY"; a bare token for one
    // header) are compared in constant time with each accepted credential.
    // No auth headers: no auth, every request is account "".
    std::vector<std::string> auth_headers;
    struct Credential {
      std::string secret;
      std::string account;  // the limit key of requests that present it
    };
    std::vector<Credential> accepted;
    // The system's refusal: `missing` when a header is absent, otherwise
    // the credentials are wrong (401, 403 in its shape).
    std::function<net::HttpResponse(bool missing)> unauthorized;
    // The system's error answer for a status and a message (404, 405, the
    // body check's 400, the 500/503 faults). It may word `message` its own
    // way.
    std::function<net::HttpResponse(int status, std::string_view message)> error;
    // The system's throttled answer (a refused limit and the "429" fault).
    std::function<net::HttpResponse(const LimitRefusal&)> throttled;
    // Optional: headers of a 2xx answer that passed the limits, once per
    // limit of the route ("remaining").
    std::function<void(net::HttpResponse&, const Limit&, net::RateLimiter&)> limit_headers;
  };

  struct Route {
    std::string method;  // "GET", "POST", ...
    // Exact, or with "{}" standing for one path segment:
    // "/v2/campaigns/{}/offers/stocks".
    std::string path;
    std::vector<std::string> limits;  // group names, checked in order
    // The body must be a JSON object (depth-capped): SimRequest::body.
    bool json_body = false;
    // Optional: this route's error shape for the body check, where its API
    // answers in another shape than the dialect's.
    std::function<net::HttpResponse(int status, std::string_view message)> error;
    // Optional: units the request spends of each of its limits (default 1).
    std::function<int64_t(const SimRequest&)> weight;
    std::function<net::HttpResponse(const SimRequest&)> handler;
  };

  struct Options {
    Dialect dialect;
    std::vector<Limit> limits;
    std::vector<Route> routes;
    FaultSpec faults;
    uint64_t seed = 1;  // of the fault draws
    bool enforce_limits = true;
    // GET /__sim/state.
    std::function<std::string()> state;
  };

  SimPipeline(Options options, Clock& clock);
  ~SimPipeline();
  SimPipeline(const SimPipeline&) = delete;
  SimPipeline& operator=(const SimPipeline&) = delete;

  // Serves on `listen` with `io_threads` threads (see SimServer).
  Status Start(const std::string& listen, int io_threads);
  // Answers what is still held with 503 and stops; idempotent.
  void Stop();
  uint16_t port() const { return server_.port(); }

  // The handler (also usable without a socket, from a test: held answers
  // then wait for Stop).
  void Handle(net::HttpRequest request, net::Responder respond);

  RequestLog& log() { return log_; }
  // Changes the faults drawn from now on.
  void SetFaults(FaultSpec faults);

 private:
  struct CompiledRoute {
    Route route;
    std::vector<std::string> segments;  // of route.path
  };
  struct MatchedRoute {
    const Route* route = nullptr;
    std::vector<std::string> params;
    bool path_known = false;  // some route has this path (for 405 vs 404)
  };
  MatchedRoute Match(const net::HttpRequest& request) const;
  std::optional<std::string> Authenticate(const net::HttpRequest& request, bool* missing) const;
  net::RateLimiter* LimiterFor(const std::string& account, const Limit& limit);
  const Limit* FindLimit(std::string_view group) const;
  // The route's limits in order, each with the account's limiter.
  std::vector<std::pair<const Limit*, net::RateLimiter*>> LimitersOf(const Route& route,
                                                                     const std::string& account);
  Fault DrawFault(std::chrono::milliseconds* hold);
  void Answer(uint64_t seq, net::Responder respond, net::HttpResponse response, Fault fault,
              std::string note, std::optional<std::chrono::milliseconds> hold = std::nullopt);

  const Options options_;
  Clock& clock_;
  const std::chrono::steady_clock::time_point started_;
  std::vector<CompiledRoute> routes_;
  RequestLog log_;
  std::mutex mu_;
  FaultSpec faults_ GUARDED_BY(mu_);
  SeededRng fault_rng_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::unique_ptr<net::RateLimiter>> limiters_
      GUARDED_BY(mu_);  // (account, group)
  SimServer server_;    // last: stopped first, while the rest is alive
};

// A Simulator served by a SimPipeline: starting, stopping, the port, the
// log and the handler are the pipeline's. The derived class owns the
// pipeline as its last member, so that the pipeline (and its I/O threads)
// stops before the world its routes read is destroyed.
class PipelineSimulator : public Simulator {
 public:
  Status Start(const std::string& listen) override { return pipeline().Start(listen, io_threads_); }
  void Stop() override { pipeline().Stop(); }
  uint16_t port() const override { return pipeline().port(); }
  RequestLog& log() override { return pipeline().log(); }
  // The request handler (also usable without a socket, from a test).
  void Handle(net::HttpRequest request, net::Responder respond) {
    pipeline().Handle(std::move(request), std::move(respond));
  }
  // Changes the faults drawn from now on.
  void SetFaults(FaultSpec faults) { pipeline().SetFaults(std::move(faults)); }

 protected:
  explicit PipelineSimulator(int io_threads) : io_threads_(io_threads) {}
  // What every simulator's pipeline takes from SimOptions: the faults, drawn
  // from seed ^ `salt` (a salt per system, so that two simulators of one
  // seed do not fail in step), the limits switch, and StateJson as
  // GET /__sim/state.
  SimPipeline::Options CommonOptions(const SimOptions& options, uint64_t salt) const;
  virtual SimPipeline& pipeline() = 0;
  virtual const SimPipeline& pipeline() const = 0;

 private:
  const int io_threads_;
};

}  // namespace crmhub::simkit
