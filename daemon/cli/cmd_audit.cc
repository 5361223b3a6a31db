// crmhub audit: print the admin audit journal (<data_dir>/audit.db): every
// mutating admin API call and `crmhub dlq replay|drop|purge`, who (the
// token's name or cli:<user>), when, and what came of it.

#include <cstdio>

#include <nlohmann/json.hpp>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/cli/queue_cli.h"

namespace crmhub::cli {
namespace {

constexpr const char* kUsage =
    "crmhub audit [--last N | --after ID [--limit N]] [--json] [--data-dir DIR | --config FILE]";

std::string OneLine(std::string s, size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

}  // namespace

int AuditCommand(const Args& args) {
  QueueLocationFlags where;
  bool as_json = false;
  int64_t last = 0, after = -1, limit = 100;
  FlagParser flags(kUsage,
                   "Print the admin audit journal: who (an admin token's name, or cli:<user>) "
                   "did what to the queue through the admin API or `crmhub dlq`, when, and the "
                   "result. Without --after, the last 50 entries. Safe while the daemon runs.");
  where.Register(flags);
  flags.AddInt("--last", &last, "N", "the last N entries (default 50)");
  flags.AddInt("--after", &after, "ID", "the entries after id ID, oldest first (paging)");
  flags.AddInt("--limit", &limit, "N", "with --after: at most N entries (default 100)");
  flags.AddBool("--json", &as_json, "print a JSON array");
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  auto usage_error = [&](const std::string& msg) {
    std::fprintf(stderr, "error: %s\n\n%s", msg.c_str(), flags.Help().c_str());
    return 2;
  };
  if (last != 0 && after >= 0) return usage_error("--last and --after exclude each other");
  if (last < 0 || last > 1'000'000) return usage_error("--last must be 1..1000000");
  if (limit <= 0 || limit > 1'000'000) return usage_error("--limit must be 1..1000000");
  daemon::AuditFilter filter;
  if (after >= 0) {
    filter.after_id = after;
    filter.limit = static_cast<int>(limit);
  } else {
    filter.newest = true;
    filter.limit = last > 0 ? static_cast<int>(last) : 50;
  }

  SystemClock clock;
  auto journal = where.OpenAudit(clock, /*create=*/false);
  if (!journal.ok()) {
    if (journal.status().code() == StatusCode::kNotFound) {
      // Nothing was ever recorded: an empty journal, not a failure.
      if (as_json)
        std::printf("[]\n");
      else
        std::fprintf(stderr, "%s\n", journal.status().message().c_str());
      return 0;
    }
    return ReportOpenError(journal.status());
  }
  auto entries = (*journal)->List(filter);
  if (!entries.ok()) {
    std::fprintf(stderr, "error: %s\n", entries.status().ToString().c_str());
    return 1;
  }
  if (as_json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& e : *entries) arr.push_back(daemon::AuditEntryToJson(e));
    std::printf("%s\n", arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("%-8s %-24s %-16s %-4s %-20s %-24s %-10s %s\n", "ID", "AT", "ACTOR", "VIA", "ACTION",
              "TARGET", "RESULT", "DETAIL");
  for (const auto& e : *entries) {
    std::printf("%-8lld %-24s %-16s %-4s %-20s %-24s %-10s %s\n", static_cast<long long>(e.id),
                FormatRfc3339(e.at).c_str(), OneLine(e.actor, 16).c_str(), e.via.c_str(),
                e.action.c_str(), OneLine(e.target, 24).c_str(), OneLine(e.result, 10).c_str(),
                OneLine(e.detail, 100).c_str());
  }
  return 0;
}

}  // namespace crmhub::cli
