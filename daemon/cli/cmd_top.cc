// crmhub top: the running daemon at a glance, refreshed every second from
// its admin API (GET /api/v1/adapters, /api/v1/queue), like `vector top`.
// On a terminal the screen is redrawn; otherwise (a pipe, a log) one line
// per refresh. Read-only: a token with the read scope is enough.
//
// Exit codes: 0 after --count refreshes (or Ctrl-C); 1 when the daemon
// cannot be reached at the first refresh; 2 usage or config error.

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/json_get.h"
#include "config/config.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/config_schema.h"
#include "net/http_client.h"

namespace crmhub::cli {
namespace {

using nlohmann::json;

std::atomic<bool> g_stop{false};
extern "C" void OnTopSignal(int) { g_stop = true; }

// The admin API's answer is outside data to this process: read through the
// checked getters (base/json_get.h), never nlohmann's throwing accessors.
std::string Text(const json& j, const char* key) {
  return std::string(JsonString(j, key).value_or(""));
}

int64_t Int(const json& j, const char* key) { return JsonInt(j, key).value_or(0); }

// "2026-12-06T09:51:02.123Z" -> "09:51:02"; absent or not a string -> "-".
std::string Clock(const json& j, const char* key) {
  const std::string s = Text(j, key);
  if (s.empty()) return "-";
  return s.size() >= 19 ? s.substr(11, 8) : s;
}

// One capability: "ok 09:51:02" or "ERR 09:51:10 <error>" (the newer wins).
// `s` is null when the adapter has no such capability.
std::string CapabilityCell(const json* s, bool with_error, size_t width) {
  if (s == nullptr) return "";
  const std::string success = Text(*s, "last_success");
  const std::string error_at = Text(*s, "last_error_at");
  const bool failing = !error_at.empty() && (success.empty() || error_at > success);
  std::string cell = failing           ? "ERR " + Clock(*s, "last_error_at")
                     : success.empty() ? std::string("-")
                                       : "ok " + Clock(*s, "last_success");
  if (failing && with_error) {
    cell += " " + Text(*s, "last_error");
    if (cell.size() > width) cell = cell.substr(0, width - 3) + "...";
  }
  return cell;
}

// The adapter's status object for capability `cap`, or null.
const json* Capability(const json& adapter, const char* cap) {
  const json* status = JsonObject(adapter, "status");
  return status == nullptr ? nullptr : JsonObject(*status, cap);
}

struct Snapshot {
  json adapters = json::array();
  json lanes = json::array();
  bool healthy = true;
  int64_t depth = 0;
};

std::string RenderScreen(const Snapshot& s, const std::string& url) {
  std::string out = fmt::format("crmhub top — {} — {}   queue {} (depth {}){}\n\n", url,
                                FormatRfc3339(std::chrono::time_point_cast<SystemTime::duration>(
                                    std::chrono::system_clock::now())),
                                s.healthy ? "healthy" : "REFUSING WRITES", s.depth, "");
  out += fmt::format("{:<18} {:<15} {:<7} {:<14} {:<14} {:<14} {:<8} {}\n", "ADAPTER", "TYPE",
                     "STATE", "PULL", "DELIVER", "PUSH", "CIRCUIT", "LAST ERROR");
  for (const json& a : s.adapters) {
    const std::string state = JsonBool(a, "enabled").value_or(false) ? "on" : "off";
    std::string circuit = Text(a, "circuit_state");
    out += fmt::format("{:<18} {:<15} {:<7} {:<14} {:<14} {:<14} {:<8} {}\n", Text(a, "id"),
                       Text(a, "type"), state, CapabilityCell(Capability(a, "pull"), false, 14),
                       CapabilityCell(Capability(a, "deliver"), false, 14),
                       CapabilityCell(Capability(a, "push"), false, 14),
                       circuit.empty() ? "-" : circuit, Text(a, "last_error").substr(0, 60));
  }
  out += fmt::format("\n{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n", "LANE", "READY", "DELAYED",
                     "LEASED", "DEAD", "DEPTH", "OLDEST");
  for (const json& l : s.lanes) {
    const int64_t depth = Int(l, "ready") + Int(l, "delayed") + Int(l, "leased");
    out += fmt::format("{:<28} {:>8} {:>8} {:>8} {:>8} {:>8}  {}\n", Text(l, "lane"),
                       Int(l, "ready"), Int(l, "delayed"), Int(l, "leased"), Int(l, "dead"), depth,
                       Clock(l, "oldest_created_at"));
  }
  out += "\nCtrl-C to quit. Dead letters: crmhub dlq list; details: GET /api/v1/adapters\n";
  return out;
}

std::string RenderLine(const Snapshot& s) {
  int64_t dead = 0;
  for (const json& l : s.lanes) dead += Int(l, "dead");
  std::string line = fmt::format("{} queue={} depth={} dead={}",
                                 FormatRfc3339(std::chrono::time_point_cast<SystemTime::duration>(
                                     std::chrono::system_clock::now())),
                                 s.healthy ? "healthy" : "refusing", s.depth, dead);
  for (const json& a : s.adapters) {
    line += " | " + Text(a, "id") + "(" + Text(a, "type") + ")";
    for (const char* cap : {"pull", "deliver", "push"}) {
      if (const json* c = Capability(a, cap)) {
        line += fmt::format(" {}={}", cap, CapabilityCell(c, false, 40));
      }
    }
    const std::string circuit = Text(a, "circuit_state");
    if (!circuit.empty()) line += " circuit=" + circuit;
  }
  return line;
}

}  // namespace

int TopCommand(const Args& args) {
  std::string url, token_file, config_file;
  int64_t interval_ms = 1000, count = 0;
  FlagParser flags(
      "crmhub top [--config FILE | --url URL [--token-file FILE]] [--interval 1s] [--count N]",
      "The running daemon at a glance: per adapter its pull, delivery and push status and "
      "breaker, per lane ready/delayed/leased/dead messages and the oldest one, refreshed every "
      "second from the admin API (a token with the read scope). On a terminal the screen is "
      "redrawn; otherwise one line per refresh.");
  flags.AddString("--config", &config_file, "FILE",
                  "the daemon's config: the admin listener (else [http] listen) and [admin] "
                  "token_file");
  flags.AddString("--url", &url, "URL", "the admin API's base URL, e.g. http://127.0.0.1:8080");
  flags.AddString("--token-file", &token_file, "FILE", "--url: a file holding the bearer token");
  flags.AddDuration("--interval", &interval_ms, "DURATION", "time between refreshes (default 1s)");
  flags.AddInt("--count", &count, "N", "stop after N refreshes (default: until Ctrl-C)");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (config_file.empty() == url.empty()) {
    std::fprintf(stderr, "error: give exactly one of --config FILE or --url URL\n\n%s",
                 flags.Help().c_str());
    return 2;
  }
  if (interval_ms < 100 || count < 0) {
    std::fprintf(stderr, "error: --interval must be at least 100ms and --count not negative\n");
    return 2;
  }
  std::string token;
  if (!config_file.empty()) {
    auto loaded = config::LoadConfig(config_file, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 2;
    }
    const config::Section& admin = loaded->Get("admin");
    const config::Section& where = admin.Has("listen") ? admin : loaded->Get("http");
    const std::vector<std::string> listens = where.GetStringList("listen");
    if (listens.empty()) {
      std::fprintf(stderr, "top: %s names no listen address\n", config_file.c_str());
      return 2;
    }
    std::string listen = listens.front();
    if (listen.rfind("0.0.0.0:", 0) == 0) listen = "127.0.0.1" + listen.substr(7);
    url = "http://" + listen;
    if (admin.Has("token_file")) token = admin.GetSecret("token_file").Reveal();
  } else if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) {
      std::fprintf(stderr, "error: cannot read %s\n", token_file.c_str());
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  while (!url.empty() && url.back() == '/') url.pop_back();

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  int rc = 0;
  {
    net::HttpClient http(io, net::HttpClientOptions{});
    auto get = [&](const std::string& path) -> Result<json> {
      net::OutboundRequest req;
      req.url = url + path;
      req.timeout = std::chrono::seconds(5);
      if (!token.empty()) req.headers.Set("Authorization", "Bearer " + token);
      auto r = http.SendBlocking(std::move(req));
      if (!r.ok()) return r.status();
      if (r->status != 200) {
        return Status::Unavailable(
            fmt::format("GET {} answered {}: {}", path, r->status, r->body.substr(0, 200)));
      }
      auto j = ParseJson(r->body);  // depth-capped, never throws
      if (!j.ok() || !j->is_object()) {
        return Status::Internal("GET " + path + ": not a JSON object");
      }
      return std::move(j).value();
    };
    struct sigaction sa {};
    sa.sa_handler = OnTopSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    const bool tty = isatty(STDOUT_FILENO) == 1;
    for (int64_t n = 0; !g_stop && (count == 0 || n < count); ++n) {
      if (n > 0) {
        const auto until =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(interval_ms);
        while (!g_stop && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (g_stop) break;
      }
      Snapshot s;
      auto adapters = get("/api/v1/adapters");
      auto queue = adapters.ok() ? get("/api/v1/queue") : Result<json>(adapters.status());
      if (!queue.ok()) {
        std::fprintf(stderr, "%s: %s\n", url.c_str(), queue.status().message().c_str());
        if (n == 0) {
          rc = 1;
          break;
        }
        continue;
      }
      if (const json* list = JsonArray(*adapters, "adapters")) s.adapters = *list;
      if (const json* list = JsonArray(*queue, "lanes")) s.lanes = *list;
      s.healthy = JsonBool(*queue, "healthy").value_or(true);
      s.depth = Int(*queue, "depth");
      if (tty) {
        std::printf("\033[H\033[2J%s", RenderScreen(s, url).c_str());
      } else {
        std::printf("%s\n", RenderLine(s).c_str());
      }
      std::fflush(stdout);
    }
  }
  work.reset();
  io.stop();
  io_thread.join();
  return rc;
}

}  // namespace crmhub::cli
