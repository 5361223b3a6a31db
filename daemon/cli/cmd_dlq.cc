// crmhub dlq: list, show, replay, drop and purge dead letters of the queue.
// Safe while the daemon runs: reads use WAL snapshots, writes wait for the
// daemon's write lock and commit durably like any other queue write.

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "daemon/cli/commands.h"
#include "daemon/cli/flags.h"
#include "daemon/cli/queue_cli.h"

namespace crmhub::cli {
namespace {

using nlohmann::json;

constexpr const char* kUsage =
    "crmhub dlq list [--lane LANE] [--limit N] [--after ID] [--json] [--data-dir DIR | --config "
    "FILE]\n"
    "       crmhub dlq show ID [--json] ...\n"
    "       crmhub dlq replay ID... | replay --all [--lane LANE] ...\n"
    "       crmhub dlq drop ID... ...\n"
    "       crmhub dlq purge --older-than 30d ...";

std::string Dump(const json& j, int indent = -1) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

json ToJson(const queue::DeadLetter& d, bool full) {
  json j = {{"id", d.id},
            {"lane", d.lane},
            {"source", d.source},
            {"idempotency_key", d.idempotency_key},
            {"ordering_key", d.ordering_key},
            {"attempts", d.attempts},
            {"reason", d.reason},
            {"created_at", FormatRfc3339(d.created_at)},
            {"failed_at", FormatRfc3339(d.failed_at)}};
  if (full) {
    json headers = json::array();
    for (const auto& [k, v] : d.headers) headers.push_back({k, v});
    json history = json::array();
    for (const auto& a : d.history) {
      history.push_back({{"at", FormatRfc3339(a.at)}, {"error", a.error}});
    }
    j["headers"] = headers;
    j["history"] = history;
    j["payload"] = d.payload;
  }
  return j;
}

bool ParseIds(const std::vector<std::string>& in, std::vector<int64_t>* out) {
  for (const std::string& s : in) {
    int64_t id = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (ec != std::errc() || end != s.data() + s.size() || id <= 0) {
      std::fprintf(stderr, "error: \"%s\" is not a dead-letter id\n", s.c_str());
      return false;
    }
    out->push_back(id);
  }
  return true;
}

std::string OneLine(std::string s, size_t max) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

int List(queue::Queue& q, const std::string& lane, int64_t limit, int64_t after, bool as_json) {
  queue::DeadLetterFilter filter;
  if (!lane.empty()) filter.lane = lane;
  filter.limit = static_cast<int>(limit);
  filter.after_id = after;
  auto list = q.ListDeadLetters(filter);
  if (!list.ok()) {
    std::fprintf(stderr, "error: %s\n", list.status().ToString().c_str());
    return 1;
  }
  if (as_json) {
    json arr = json::array();
    for (const auto& d : *list) arr.push_back(ToJson(d, false));
    std::printf("%s\n", Dump(arr).c_str());
    return 0;
  }
  // The reason is the last column and is never cut: its end is where it
  // says why (a rule's path, the upstream's answer).
  std::printf("%-10s %-24s %8s %-24s %-24s %s\n", "ID", "LANE", "ATTEMPTS", "FAILED_AT", "KEY",
              "REASON");
  for (const auto& d : *list) {
    std::printf("%-10lld %-24s %8d %-24s %-24s %s\n", static_cast<long long>(d.id), d.lane.c_str(),
                d.attempts, FormatRfc3339(d.failed_at).c_str(),
                OneLine(d.idempotency_key, 24).c_str(), OneLine(d.reason, 100000).c_str());
  }
  return 0;
}

int Show(queue::Queue& q, int64_t id, bool as_json) {
  auto d = q.GetDeadLetter(id);
  if (!d.ok()) {
    std::fprintf(stderr, "error: %s\n", d.status().message().c_str());
    return 1;
  }
  if (as_json) {
    std::printf("%s\n", Dump(ToJson(*d, true)).c_str());
    return 0;
  }
  // For people: the fields, every attempt, then the raw record as stored.
  std::printf("dead letter %lld\n", static_cast<long long>(d->id));
  std::printf("  lane:            %s\n", d->lane.c_str());
  std::printf("  source:          %s\n", d->source.c_str());
  std::printf("  idempotency key: %s\n", d->idempotency_key.c_str());
  if (!d->ordering_key.empty()) std::printf("  ordering key:    %s\n", d->ordering_key.c_str());
  std::printf("  created:         %s\n", FormatRfc3339(d->created_at).c_str());
  std::printf("  failed:          %s after %d attempts\n", FormatRfc3339(d->failed_at).c_str(),
              d->attempts);
  std::printf("  reason:          %s\n", d->reason.c_str());
  for (const auto& [k, v] : d->headers)
    std::printf("  header:          %s: %s\n", k.c_str(), v.c_str());
  std::printf("history:\n");
  for (const auto& a : d->history) {
    std::printf("  %s  %s\n", FormatRfc3339(a.at).c_str(), a.error.c_str());
  }
  std::printf("payload (%zu bytes):\n%s\n", d->payload.size(), d->payload.c_str());
  return 0;
}

}  // namespace

int DlqCommand(const Args& args) {
  QueueLocationFlags where;
  bool as_json = false, all = false;
  std::string lane;
  int64_t limit = 100, after = 0, older_than_ms = -1;
  std::vector<std::string> positional;
  FlagParser flags(kUsage,
                   "Inspect and act on dead letters: messages that failed permanently or ran out "
                   "of retries, kept with their raw payload, headers and every attempt's error. "
                   "replay puts them back on their lane under the same message id, with their "
                   "history and idempotency key, attempts reset. Safe while the daemon runs.");
  where.Register(flags);
  flags.AddBool("--json", &as_json, "list/show: print JSON");
  flags.AddString("--lane", &lane, "LANE", "list, replay --all: only this lane");
  flags.AddInt("--limit", &limit, "N", "list: at most N entries (default 100)");
  flags.AddInt("--after", &after, "ID", "list: only ids greater than ID (paging)");
  flags.AddBool("--all", &all, "replay: every dead letter (of --lane, if given)");
  flags.AddDuration("--older-than", &older_than_ms, "AGE",
                    "purge: drop dead letters that failed more than AGE ago (e.g. 30d)");
  flags.AllowPositional(&positional);
  if (int rc = ParseOrExit(flags, args); rc >= 0) return rc;
  auto usage_error = [&](const std::string& msg) {
    std::fprintf(stderr, "error: %s\n\n%s", msg.c_str(), flags.Help().c_str());
    return 2;
  };
  if (positional.empty()) return usage_error("which action? list, show, replay, drop or purge");
  const std::string action = positional[0];
  std::vector<int64_t> ids;
  if (!ParseIds({positional.begin() + 1, positional.end()}, &ids)) return 2;
  if (action == "list" && !ids.empty()) return usage_error("list takes no ids");
  if (action == "show" && ids.size() != 1) return usage_error("show takes exactly one ID");
  if (action == "replay" && all == !ids.empty()) return usage_error("replay takes IDs or --all");
  if (action == "drop" && ids.empty()) return usage_error("drop takes one or more IDs");
  if (action == "purge" && (older_than_ms < 0 || !ids.empty())) {
    return usage_error("purge takes --older-than AGE and no ids");
  }
  if (action != "list" && action != "show" && action != "replay" && action != "drop" &&
      action != "purge") {
    return usage_error("unknown action \"" + action + "\"");
  }
  if (limit <= 0 || limit > 1'000'000) return usage_error("--limit must be 1..1000000");

  SystemClock clock;
  auto opened = where.Open(clock);
  if (!opened.ok()) return ReportOpenError(opened.status());
  queue::Queue& q = **opened;

  if (action == "list") return List(q, lane, limit, after, as_json);
  if (action == "show") return Show(q, ids[0], as_json);

  // The rest changes the queue: recorded in the audit journal, and not done
  // at all when the journal cannot be opened.
  auto audit = where.OpenAudit(clock, /*create=*/true);
  if (!audit.ok()) {
    std::fprintf(stderr, "error: %s (nothing was changed)\n", audit.status().message().c_str());
    return 1;
  }
  daemon::AuditEntry entry;
  entry.actor = CliActor();
  entry.via = "cli";
  json detail = json::object();
  if (const char* sudo_user = std::getenv("SUDO_USER"); sudo_user && *sudo_user) {
    detail["sudo_user"] = sudo_user;
  }
  int rc = 0;
  if (action == "replay" && all) {
    entry.action = "replay_dead_letters";
    entry.target = lane.empty() ? "all" : "lane " + lane;
    auto n = q.ReplayAllDeadLetters(lane.empty() ? std::nullopt : std::optional(lane));
    if (!n.ok()) {
      std::fprintf(stderr, "error: %s\n", n.status().ToString().c_str());
      detail["error"] = n.status().message();
      rc = 1;
    } else {
      std::printf("replayed %lld dead letters\n", static_cast<long long>(*n));
      detail["replayed"] = *n;
    }
  } else if (action == "purge") {
    entry.action = "purge_dead_letters";
    entry.target =
        "failed before " + FormatRfc3339(clock.Now() - std::chrono::milliseconds(older_than_ms));
    auto n = q.PurgeDeadLetters(clock.Now() - std::chrono::milliseconds(older_than_ms));
    if (!n.ok()) {
      std::fprintf(stderr, "error: %s\n", n.status().ToString().c_str());
      detail["error"] = n.status().message();
      rc = 1;
    } else {
      std::printf("purged %lld dead letters\n", static_cast<long long>(*n));
      detail["purged"] = *n;
    }
  } else {
    entry.action = action == "replay" ? "replay_dead_letter" : "drop_dead_letter";
    json done = json::array();
    json failed = json::object();
    for (int64_t id : ids) {
      if (!entry.target.empty()) entry.target += ' ';
      entry.target += std::to_string(id);
      Status st = action == "replay" ? q.ReplayDeadLetter(id) : q.DropDeadLetter(id);
      if (st.ok()) {
        if (action == "replay") {
          std::printf(
              "replayed %lld: back on its lane as message %lld (same id; its history is "
              "kept)\n",
              static_cast<long long>(id), static_cast<long long>(id));
        } else {
          std::printf("dropped %lld\n", static_cast<long long>(id));
        }
        done.push_back(id);
      } else {
        std::fprintf(stderr, "error: %lld: %s\n", static_cast<long long>(id), st.message().c_str());
        failed[std::to_string(id)] = st.message();
        rc = 1;
      }
    }
    detail["done"] = std::move(done);
    if (!failed.empty()) detail["failed"] = std::move(failed);
  }
  entry.result = rc == 0 ? "ok" : "failed";
  entry.status = rc;
  entry.detail = Dump(detail);
  if (auto recorded = (*audit)->Record(std::move(entry)); !recorded.ok()) {
    // Done but not journaled: say so loudly, and fail the command.
    std::fprintf(stderr,
                 "error: the action was done but could not be recorded in the audit "
                 "journal: %s\n",
                 recorded.status().message().c_str());
    return 1;
  }
  return rc;
}

}  // namespace crmhub::cli
