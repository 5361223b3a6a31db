// crmhub reconcile: per source and day, what the hub received against what
// the embedded CRM store holds (crm/reconcile.h), plus the queue's pending
// and dead inbound messages. Read-only; safe while the daemon runs.
// With --source it asks the sources themselves (daemon/cli/source_count.h):
// what each lists now against what crm.db holds.
//
// Exit codes: 0 no differences; 1 differences found (or a runtime error,
// printed as "error: ..."); 2 usage or config error, or no crm.db in the
// data directory.

#include <algorithm>
#include <cstdio>

#include "config/config.h"
#include "crm/reconcile.h"
#include "crm/sqlite_store.h"
#include "crm/store_schema.h"
#include "daemon/adapter_registry.h"
#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/cli/source_count.h"
#include "daemon/config_schema.h"
#include "queue/paths.h"

namespace crmhub::cli {

int ReconcileCommand(const Args& args) {
  std::string since, data_dir, config_file;
  bool json = false, ask_sources = false;
  int64_t source_pages = 200;
  FlagParser flags(
      "crmhub reconcile [--since DATE] [--json] [--data-dir DIR | --config FILE]\n"
      "       crmhub reconcile --source [--source-pages N] [--json] --config FILE",
      "Compare, per adapter (source) and UTC day, what was received (entities, sums of money, "
      "queue.db's pending and dead inbound messages) with what the CRM store (crm.db) holds, and "
      "list the differences. Exit 0: no differences; 1: differences (or an error); 2: usage.");
  flags.AddString("--since", &since, "DATE", "only days on or after DATE (YYYY-MM-DD, UTC)");
  flags.AddBool("--json", &json, "print a JSON array of rows instead of a table");
  flags.AddString("--data-dir", &data_dir, "DIR", "the daemon's data directory (crm.db, queue.db)");
  flags.AddString("--config", &config_file, "FILE", "take [daemon] data_dir from this config");
  flags.AddBool("--source", &ask_sources,
                "ask each source adapter of --config what it lists now (its pull from a fresh "
                "start, read-only) and show, per adapter, the records listed and how many of "
                "them are in crm.db; a payment provider that can look payments up (yookassa, "
                "tbank) is asked for each of its payments in crm.db, its status set beside the "
                "stored one; exit 1 when some are missing or differ");
  flags.AddInt("--source-pages", &source_pages, "N",
               "--source: at most N pages per source (default 200)");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  if (ask_sources) {
    if (config_file.empty() || !data_dir.empty()) {
      std::fprintf(stderr, "error: --source takes --config FILE (the adapters are there)\n%s",
                   flags.Help().c_str());
      return 2;
    }
    if (source_pages <= 0) {
      std::fprintf(stderr, "error: --source-pages must be at least 1\n");
      return 2;
    }
    auto loaded = config::LoadConfig(config_file, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 2;
    }
    const daemon::DataDirChoice where = daemon::ExplainDataDir(*loaded, config_file);
    const std::filesystem::path crm_db = where.path / std::string(crm::kCrmDbFileName);
    if (!std::filesystem::exists(crm_db)) {
      std::fprintf(stderr, "error: no CRM store at %s; data_dir %s is %s\n", crm_db.c_str(),
                   where.path.c_str(), where.how.c_str());
      return 2;
    }
    SystemClock clock;
    crm::SqliteStoreOptions store_options;
    store_options.path = crm_db;
    auto store = crm::SqliteCrmStore::Open(store_options, clock);
    if (!store.ok()) {
      std::fprintf(stderr, "error: %s\n", store.status().ToString().c_str());
      return 1;
    }
    auto rows =
        CountSources(*loaded, **store, clock,
                     {.max_pages = static_cast<int>(std::min<int64_t>(source_pages, 1 << 20))});
    if (!rows.ok()) {
      std::fprintf(stderr, "%s\n", rows.status().message().c_str());
      return 2;
    }
    if (json) {
      std::printf("%s\n", SourceCountJson(*rows)
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
    } else {
      std::fputs(SourceCountTable(*rows).c_str(), stdout);
    }
    for (const SourceCount& r : *rows) {
      if (r.missing_count > 0 || r.provider_differ_count > 0) return 1;
    }
    return 0;
  }

  if (data_dir.empty() == config_file.empty()) {
    std::fprintf(stderr, "error: give exactly one of --data-dir DIR or --config FILE\n%s",
                 flags.Help().c_str());
    return 2;
  }
  std::filesystem::path dir = data_dir;
  if (!config_file.empty()) {
    auto loaded = config::LoadConfig(config_file, daemon::BuildSchema(daemon::AllAdapterTypes()));
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 2;
    }
    dir = daemon::ResolveDataDir(*loaded);
  }
  crm::ReconcileOptions options;
  options.crm_db = dir / std::string(crm::kCrmDbFileName);
  options.queue_db = queue::QueueDbPath(dir);
  if (!since.empty()) options.since = since;

  auto report = crm::Reconcile(options);
  if (!report.ok()) {
    std::fprintf(stderr, "error: %s\n", report.status().message().c_str());
    const StatusCode code = report.status().code();
    return code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound ? 2 : 1;
  }
  if (json) {
    std::printf("%s\n", crm::ReconcileJson(*report)
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::fputs(crm::ReconcileTable(*report).c_str(), stdout);
  }
  return report->has_differences() ? 1 : 0;
}

}  // namespace crmhub::cli
