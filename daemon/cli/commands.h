#pragma once
// The `crmhub` subcommands. Each lives in its own daemon/cli/cmd_<name>.cc and
// takes the arguments after its name; the table is daemon/commands.cc.
// Exit codes: 0 ok, 2 usage or config error, 1 runtime failure.

#include <string>
#include <vector>

namespace crmhub::cli {

using Args = std::vector<std::string>;

int RunCommand(const Args& args);          // crmhub run --config FILE
int CheckConfigCommand(const Args& args);  // crmhub check-config --config FILE
int VersionCommand(const Args& args);      // crmhub version
int QueueCommand(const Args& args);        // crmhub queue stats [--json] --data-dir DIR
int DlqCommand(const Args& args);          // crmhub dlq list|show|replay|drop|purge
int AuditCommand(const Args& args);        // crmhub audit [--last N] [--json] --data-dir DIR
int BenchCommand(const Args& args);        // crmhub bench <kind> ...
int MapCommand(const Args& args);          // crmhub map --rules FILE --input RECORD.json
int MapBenchCommand(const Args& args);     // crmhub bench mapping (in cmd_map.cc)
int SimCommand(const Args& args);          // crmhub sim wildberries|... --listen ADDR
int ReconcileCommand(const Args& args);  // crmhub reconcile [--since DATE] [--json] --data-dir DIR
int TopCommand(const Args& args);        // crmhub top [--config FILE | --url URL]
int MatchCommand(const Args& args);      // crmhub match list|link ID DEAL|run --data-dir DIR
int DemoCommand(const Args& args);       // crmhub demo [--duration 60s] [--data-dir DIR]
int KafkaDevCommand(const Args& args);   // crmhub kafka-dev [--brokers N] [--bootstrap-file PATH]

struct CommandInfo {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

// Every subcommand, in the order `crmhub --help` lists them.
const std::vector<CommandInfo>& AllCommands();

}  // namespace crmhub::cli
