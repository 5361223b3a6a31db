// crmhub queue stats: per-lane depth of the durable queue, safe while the
// daemon runs (SQLite: reads a WAL snapshot; Kafka: reads the cluster's
// committed offsets and watermarks without joining a consumer group).

#include <fmt/format.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/cli/queue_cli.h"
#include "queue/kafka/kafka_queue.h"

namespace crmhub::cli {
namespace {

int KafkaStats(const QueueLocationFlags& where, bool json) {
  SystemClock clock;
  auto q = where.Open(clock);
  if (!q.ok()) return ReportOpenError(q.status());
  auto* kafka = dynamic_cast<queue::kafka::KafkaQueue*>(q->get());
  if (kafka == nullptr) {
    std::fprintf(stderr, "error: [queue] engine = \"kafka\" did not open the Kafka engine\n");
    return 1;
  }
  auto lanes = kafka->Backlog();
  if (!lanes.ok()) {
    std::fprintf(stderr, "error: %s\n", lanes.status().ToString().c_str());
    return 1;
  }
  int64_t backlog = 0;
  for (const auto& l : *lanes) backlog += l.backlog + l.retrying;
  if (json) {
    nlohmann::json out_lanes = nlohmann::json::array();
    for (const auto& l : *lanes) {
      out_lanes.push_back({{"lane", l.lane},
                           {"backlog", l.backlog},
                           {"retrying", l.retrying},
                           {"dead", l.dead},
                           {"partitions", l.partitions}});
    }
    nlohmann::json out = {{"engine", "kafka"}, {"backlog", backlog}, {"lanes", out_lanes}};
    std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-28s %10s %10s %10s %10s\n", "LANE", "BACKLOG", "RETRYING", "DEAD", "PARTITIONS");
  for (const auto& l : *lanes) {
    std::printf("%-28s %10lld %10lld %10lld %10d\n", l.lane.c_str(),
                static_cast<long long>(l.backlog), static_cast<long long>(l.retrying),
                static_cast<long long>(l.dead), static_cast<int>(l.partitions));
  }
  std::printf("total backlog: %lld (records past each lane group's committed offset)\n",
              static_cast<long long>(backlog));
  return 0;
}

int StatsCommand(const Args& args) {
  QueueLocationFlags where;
  bool json = false;
  FlagParser flags("crmhub queue stats [--json] [--data-dir DIR | --config FILE]",
                   "Print each lane's ready, delayed, leased and dead-letter counts and its "
                   "oldest undelivered message; on Kafka, each lane's backlog past its "
                   "group's committed offset, its retries in delay-tier topics and its dead "
                   "letters. Safe while the daemon runs.");
  where.Register(flags);
  flags.AddBool("--json", &json, "print one JSON object instead of a table");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  // On Kafka a process sees only the records it fetched itself: a count of
  // its own would mislead. What the cluster holds is the figure: each lane
  // topic past its group's committed offset (KafkaQueue::Backlog).
  if (auto engine = where.Engine(); engine.ok() && *engine == "kafka") {
    return KafkaStats(where, json);
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
