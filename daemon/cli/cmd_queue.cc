// crmhub queue stats: per-lane depth of the durable queue, safe while the
// daemon runs (reads a WAL snapshot).

#include <fmt/format.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/cli/queue_cli.h"

namespace crmhub::cli {
namespace {

int StatsCommand(const Args& args) {
  QueueLocationFlags where;
  bool json = false;
  FlagParser flags("crmhub queue stats [--json] [--data-dir DIR | --config FILE]",
                   "Print each lane's ready, delayed, leased and dead-letter counts and its "
                   "oldest undelivered message. Safe while the daemon runs.");
  where.Register(flags);
  flags.AddBool("--json", &json, "print one JSON object instead of a table");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  // On Kafka a process sees only the records it fetched itself: a count of
  // its own would mislead. The cluster's consumer lag per lane is the
  // figure, and it is not built yet.
  if (auto engine = where.Engine(); engine.ok() && *engine == "kafka") {
    std::fprintf(stderr,
                 "error: queue stats is not built yet for [queue] engine = \"kafka\" (use the "
                 "cluster's consumer-group lag; docs/queue.md)\n");
    return 1;
  }
  SystemClock clock;
  auto q = where.Open(clock);
  if (!q.ok()) return ReportOpenError(q.status());
  auto stats = (*q)->Stats();
  if (!stats.ok()) {
    std::fprintf(stderr, "error: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  int64_t depth = 0;
  for (const auto& s : *stats) depth += s.ready + s.delayed + s.leased;
  if (json) {
    nlohmann::json lanes = nlohmann::json::array();
    for (const auto& s : *stats) {
      lanes.push_back(
          {{"lane", s.lane},
           {"ready", s.ready},
           {"delayed", s.delayed},
           {"leased", s.leased},
           {"dead", s.dead},
           {"oldest_created_at", s.oldest_created_at && (s.ready + s.delayed + s.leased)
                                     ? nlohmann::json(FormatRfc3339(*s.oldest_created_at))
                                     : nlohmann::json(nullptr)}});
    }
    nlohmann::json out = {{"depth", depth}, {"lanes", lanes}, {"healthy", (*q)->Healthy()}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-28s %10s %10s %10s %10s  %s\n", "LANE", "READY", "DELAYED", "LEASED", "DEAD",
              "OLDEST");
  for (const auto& s : *stats) {
    const bool any = s.ready + s.delayed + s.leased > 0;
    std::printf("%-28s %10lld %10lld %10lld %10lld  %s\n", s.lane.c_str(),
                static_cast<long long>(s.ready), static_cast<long long>(s.delayed),
                static_cast<long long>(s.leased), static_cast<long long>(s.dead),
                any && s.oldest_created_at ? FormatRfc3339(*s.oldest_created_at).c_str() : "-");
  }
  std::printf("total undelivered: %lld\n", static_cast<long long>(depth));
  return 0;
}

}  // namespace

int QueueCommand(const Args& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::printf(
        "usage: crmhub queue stats [--json] [--data-dir DIR | --config FILE]\n\n"
        "Inspect the durable queue (crmhub dlq handles its dead letters).\n\n"
        "subcommands:\n  stats    per-lane counts\n");
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "stats") return StatsCommand(Args(args.begin() + 1, args.end()));
  std::fprintf(stderr, "error: unknown queue subcommand \"%s\" (see crmhub queue --help)\n",
               args[0].c_str());
  return 2;
}

}  // namespace crmhub::cli
