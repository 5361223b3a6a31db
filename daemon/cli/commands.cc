#include "daemon/cli/commands.h"

namespace crmhub::cli {

// The explicit list of subcommands: adding one is adding a line here.
const std::vector<CommandInfo>& AllCommands() {
  static const std::vector<CommandInfo> kCommands = {
      {"run", "run the daemon in the foreground (under systemd: Type=notify)", RunCommand},
      {"check-config", "validate a config file (and its mapping rules); exit 2 on errors",
       CheckConfigCommand},
      {"version", "print the version and build details", VersionCommand},
      {"queue", "inspect the durable queue: per-lane stats", QueueCommand},
      {"dlq", "list, show, replay, drop or purge dead letters", DlqCommand},
      {"audit", "print the admin audit journal: who changed what, when, with what result",
       AuditCommand},
      {"bench", "run a built-in benchmark (bench queue, ...)", BenchCommand},
      {"map", "dry-run mapping rules on one record; print canonical entities", MapCommand},
      {"sim", "run a marketplace API simulator (wildberries, ...) for tests and demos", SimCommand},
      {"reconcile", "compare what was received with what the CRM store holds, per source and day",
       ReconcileCommand},
      {"top", "the running daemon at a glance: adapters, lanes, errors, refreshed every second",
       TopCommand},
      {"match", "incoming bank payments and the deals they pay: list unmatched, link, run",
       MatchCommand},
      {"demo", "run the end-to-end demo: simulators, daemon, webhooks, stock push, reconciliation",
       DemoCommand},
      {"kafka-dev", "run an in-process mock Kafka cluster for trying [queue] engine = \"kafka\"",
       KafkaDevCommand},
  };
  return kCommands;
}

}  // namespace crmhub::cli
