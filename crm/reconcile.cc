#include "crm/reconcile.h"

#include <fmt/format.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <utility>

#include "crm/sqlite_util.h"
#include "crm/store_schema.h"
#include "mapping/model/entity.h"
#include "queue/pending_scan.h"

namespace crmhub::crm {
namespace {

using Key = std::pair<std::string, std::string>;  // (source, day)

constexpr std::string_view kDayOf = "date({}/1000, 'unixepoch')";

// SQL for the amount of a journal row `l` of kind `c.kind`, matching the
// typed amount_minor column: integers only, else NULL.
std::string JournalAmountSql() {
  std::string sql = "CASE c.kind";
  for (const KindTable& t : AllKindTables()) {
    for (const TypedColumn& col : t.columns) {
      if (col.column != kAmountColumn) continue;
      sql += fmt::format(
          " WHEN '{0}' THEN (CASE WHEN json_type(l.after, '$.{1}') = 'integer' "
          "THEN json_extract(l.after, '$.{1}') END)",
          model::KindName(t.kind), col.field);
    }
  }
  return sql + " END";
}

// Runs `sql` (rows: source, day, count[, amount]) and hands each row to `fn`.
template <typename Fn>
Status ForEachRow(sql::Db& db, const std::string& sql, Fn fn) {
  auto st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  for (;;) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    fn(Key{st->Text(0), st->Text(1)}, *st);
  }
}

Status ReadStore(sql::Db& db, std::map<Key, ReconcileRow>& rows) {
  CRMHUB_RETURN_IF_ERROR(
      ForEachRow(db,
                 fmt::format("SELECT source, {}, COUNT(*) FROM applied_events GROUP BY 1, 2",
                             fmt::format(fmt::runtime(kDayOf), "received_at")),
                 [&](const Key& k, const sql::Stmt& st) { rows[k].events += st.Int(2); }));

  CRMHUB_RETURN_IF_ERROR(ForEachRow(
      db,
      fmt::format("SELECT c.source, {}, COUNT(*), COALESCE(SUM({}), 0) FROM journal AS c "
                  "JOIN (SELECT kind, entity_id, MAX(id) AS last_id FROM journal "
                  "      GROUP BY kind, entity_id) AS lt "
                  "  ON lt.kind = c.kind AND lt.entity_id = c.entity_id "
                  "JOIN journal AS l ON l.id = lt.last_id "
                  "WHERE c.before_version IS NULL GROUP BY 1, 2",
                  fmt::format(fmt::runtime(kDayOf), "c.at"), JournalAmountSql()),
      [&](const Key& k, const sql::Stmt& st) {
        rows[k].received += st.Int(2);
        rows[k].amount_received_minor += st.Int(3);
      }));

  std::string in_crm;
  for (const KindTable& t : AllKindTables()) {
    if (!in_crm.empty()) in_crm += " UNION ALL ";
    in_crm +=
        fmt::format("SELECT source, {} AS day, COUNT(*) AS n, {} AS amount FROM {} GROUP BY 1, 2",
                    fmt::format(fmt::runtime(kDayOf), "created_at"),
                    HasAmountColumn(t) ? "COALESCE(SUM(amount_minor), 0)" : "0", t.table);
  }
  return ForEachRow(db,
                    "SELECT source, day, SUM(n), SUM(amount) FROM (" + in_crm + ") GROUP BY 1, 2",
                    [&](const Key& k, const sql::Stmt& st) {
                      rows[k].in_crm += st.Int(2);
                      rows[k].amount_in_crm_minor += st.Int(3);
                    });
}

// A Unix-ms time's UTC day, as SQLite's date(ms/1000, 'unixepoch') spells it.
std::string UtcDay(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

// The queue's inbound view. Reads only. Pending messages come through the
// queue's own reader (queue/pending_scan.h: the storage layout is the
// queue's business); dead letters are rows of its dead_letters table (lane,
// source, created_at in Unix ms). Returns false when the file is not a
// queue's.
Result<bool> ReadQueue(sql::Db& db, const std::filesystem::path& queue_db,
                       std::map<Key, ReconcileRow>& rows) {
  auto has = db.HasTable("dead_letters");
  if (!has.ok()) return has.status();
  if (!*has) return false;
  CRMHUB_RETURN_IF_ERROR(queue::ForEachPendingMessage(queue_db, [&](const queue::PendingMessage&
                                                                        m) {
    if (!m.lane.starts_with("in.")) return;
    std::optional<int64_t>& pending = rows[{std::string(m.source), UtcDay(m.created_ms)}].pending;
    pending = pending.value_or(0) + 1;
  }));
  const std::string day = fmt::format(fmt::runtime(kDayOf), "created_at");
  CRMHUB_RETURN_IF_ERROR(ForEachRow(
      db,
      fmt::format(
          "SELECT source, {}, COUNT(*) FROM dead_letters WHERE lane LIKE 'in.%' GROUP BY 1, 2",
          day),
      [&](const Key& k, const sql::Stmt& st) { rows[k].dead = st.Int(2); }));
  return true;
}

std::string OptText(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }

}  // namespace

Status ValidateDay(const std::string& day) {
  auto bad = [&] {
    return Status::InvalidArgument("expected a date YYYY-MM-DD, got \"" + day + "\"");
  };
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (day[i] < '0' || day[i] > '9') return bad();
  }
  int month = std::atoi(day.substr(5, 2).c_str());
  int mday = std::atoi(day.substr(8, 2).c_str());
  if (month < 1 || month > 12 || mday < 1 || mday > 31) return bad();
  return Status::Ok();
}

bool ReconcileReport::has_differences() const {
  for (const ReconcileRow& r : rows) {
    if (r.differs()) return true;
  }
  return false;
}

Result<ReconcileReport> Reconcile(const ReconcileOptions& options) {
  if (options.since) CRMHUB_RETURN_IF_ERROR(ValidateDay(*options.since).WithContext("--since"));
  if (!std::filesystem::exists(options.crm_db)) {
    return Status::NotFound("no CRM store at " + options.crm_db.string() +
                            " (is [crm] sink = \"http\"? reconcile needs the embedded store)");
  }
  std::map<Key, ReconcileRow> rows;
  {
    auto db = sql::Db::Open(options.crm_db.string(), /*read_only=*/true);
    if (!db.ok()) return db.status().WithContext("crm.db");
    CRMHUB_RETURN_IF_ERROR(ReadStore(**db, rows).WithContext("crm.db"));
  }
  ReconcileReport report;
  if (options.queue_db && std::filesystem::exists(*options.queue_db)) {
    auto db = sql::Db::Open(options.queue_db->string(), /*read_only=*/true);
    if (!db.ok()) return db.status().WithContext("queue.db");
    auto read = ReadQueue(**db, *options.queue_db, rows);
    if (!read.ok()) return read.status().WithContext("queue.db");
    report.queue_checked = *read;
  }
  for (auto& [key, row] : rows) {
    if (options.since && key.second < *options.since) continue;
    row.source = key.first;
    row.day = key.second;
    if (report.queue_checked) {
      row.pending = row.pending.value_or(0);
      row.dead = row.dead.value_or(0);
    }
    row.difference =
        std::llabs(row.received - row.in_crm) + row.pending.value_or(0) + row.dead.value_or(0);
    report.rows.push_back(std::move(row));
  }
  return report;
}

nlohmann::json ReconcileJson(const ReconcileReport& report) {
  nlohmann::json out = nlohmann::json::array();
  auto opt = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  for (const ReconcileRow& r : report.rows) {
    out.push_back({{"source", r.source},
                   {"day", r.day},
                   {"events", r.events},
                   {"received", r.received},
                   {"in_crm", r.in_crm},
                   {"amount_received_minor", r.amount_received_minor},
                   {"amount_in_crm_minor", r.amount_in_crm_minor},
                   {"pending", opt(r.pending)},
                   {"dead", opt(r.dead)},
                   {"difference", r.difference}});
  }
  return out;
}

std::string ReconcileTable(const ReconcileReport& report) {
  std::string out =
      fmt::format("  {:<20} {:<10} {:>8} {:>9} {:>9} {:>16} {:>16} {:>8} {:>6} {:>10}\n", "SOURCE",
                  "DAY", "EVENTS", "RECEIVED", "IN_CRM", "AMOUNT_RECEIVED", "AMOUNT_IN_CRM",
                  "PENDING", "DEAD", "DIFFERENCE");
  int differing = 0;
  for (const ReconcileRow& r : report.rows) {
    differing += r.differs();
    out += fmt::format("{} {:<20} {:<10} {:>8} {:>9} {:>9} {:>16} {:>16} {:>8} {:>6} {:>10}\n",
                       r.differs() ? '*' : ' ', r.source, r.day, r.events, r.received, r.in_crm,
                       r.amount_received_minor, r.amount_in_crm_minor, OptText(r.pending),
                       OptText(r.dead), r.difference);
  }
  out += fmt::format("{} rows, {} with differences (marked *){}\n", report.rows.size(), differing,
                     report.queue_checked ? "" : "; queue.db not read: pending/dead unknown");
  return out;
}

}  // namespace crmhub::crm
