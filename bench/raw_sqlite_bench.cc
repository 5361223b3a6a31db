// raw_sqlite_bench: the physical limit the queue is measured against
// (bench/compare.sh, docs/performance.md): the fastest durable
// insert-then-delete a plain SQLite program does on this disk, with none of
// the queue's work (no dedup, no lanes, no leases, no threads).
//
//   raw_sqlite_bench [--messages N] [--rows-per-commit K] [--payload-bytes B]
//                    [--dir DIR] [--json]
//
// One connection, journal_mode=WAL, synchronous=FULL (COMMIT fsyncs the
// WAL): each transaction inserts K new rows (B-byte payloads) and deletes
// the K rows the previous transaction inserted, so every message is written
// once and deleted once, K per fsync'd commit (default 100). Prints messages
// per second (inserted and deleted, first commit to last). The database goes
// to a fresh directory under /var/tmp (a real disk), removed afterwards.
//
// --schema queue: the same loop on the SQLite queue's own tables (schema 4,
// queue/sqlite_schema.h) with the writer's own statements and encoding
// (queue/segment.h): each transaction's K messages are one segments row and
// their dedup keys one segment_keys row, and the previous transaction's
// segment is deleted whole (all of it delivered). Still one thread, no
// leases, no in-memory index: the ceiling of the queue's row design on this
// disk, to set beside the plain table's (docs/performance.md).

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/scratch_dir.h"
#include "queue/segment.h"
#include "queue/sqlite_schema.h"

namespace {

bool Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "raw_sqlite_bench: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return false;
  }
  return true;
}

int Usage() {
  std::fprintf(stderr,
               "usage: raw_sqlite_bench [--messages N] [--rows-per-commit K] "
               "[--payload-bytes B] [--schema plain|queue] [--dir DIR] [--json]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  long long messages = 200000;
  long long rows_per_commit = 100;
  long long payload_bytes = 512;
  std::string dir_arg;
  std::string schema = "plain";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](long long* out) {
      if (i + 1 >= argc) return false;
      char* end = nullptr;
      *out = std::strtoll(argv[++i], &end, 10);
      return end != nullptr && *end == '\0' && *out > 0;
    };
    if (a == "--messages") {
      if (!value(&messages)) return Usage();
    } else if (a == "--rows-per-commit") {
      if (!value(&rows_per_commit)) return Usage();
    } else if (a == "--payload-bytes") {
      if (!value(&payload_bytes)) return Usage();
    } else if (a == "--schema" && i + 1 < argc) {
      schema = argv[++i];
      if (schema != "plain" && schema != "queue") return Usage();
    } else if (a == "--dir" && i + 1 < argc) {
      dir_arg = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else {
      return Usage();
    }
  }
  auto scratch = crmhub::bench::ScratchDir::Make(dir_arg);
  if (!scratch.ok()) {
    std::fprintf(stderr, "raw_sqlite_bench: %s\n", scratch.status().ToString().c_str());
    return 1;
  }
  const std::string path = (scratch->path() / "raw.db").string();
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "raw_sqlite_bench: cannot open %s\n", path.c_str());
    return 1;
  }
  const bool queue_schema = schema == "queue";
  if (!Exec(db, "PRAGMA journal_mode=WAL") || !Exec(db, "PRAGMA synchronous=FULL")) return 1;
  if (!Exec(db, queue_schema ? crmhub::queue::internal::kSchemaSql
                             : "CREATE TABLE m (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")) {
    return 1;
  }
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* erase = nullptr;
  sqlite3_stmt* dedup = nullptr;
  if (queue_schema) {
    // The writer's statements (queue/sqlite_writer.cc), minus the lease.
    sqlite3_prepare_v2(db, "INSERT INTO segment_keys(id, accepted_at, keys) VALUES(?1, ?2, ?3)", -1,
                       &dedup, nullptr);
    sqlite3_prepare_v2(db,
                       "INSERT INTO segments(id, lane, created_at, count, body) "
                       "VALUES(?1, ?2, ?3, ?4, ?5)",
                       -1, &insert, nullptr);
    sqlite3_prepare_v2(db, "DELETE FROM segments WHERE id = ?1", -1, &erase, nullptr);
  } else {
    sqlite3_prepare_v2(db, "INSERT INTO m(id, payload) VALUES(?1, ?2)", -1, &insert, nullptr);
    sqlite3_prepare_v2(db, "DELETE FROM m WHERE id >= ?1 AND id < ?2", -1, &erase, nullptr);
  }
  const std::string payload(static_cast<size_t>(payload_bytes), 'x');
  auto step = [&](sqlite3_stmt* stmt, const char* what) {
    const int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
      std::fprintf(stderr, "raw_sqlite_bench: %s: %s\n", what, sqlite3_errmsg(db));
      return false;
    }
    return true;
  };

  const auto start = std::chrono::steady_clock::now();
  long long next = 0;
  long long commits = 0;
  std::string body, keys;  // queue schema: this transaction's segment
  while (next < messages) {
    if (!Exec(db, "BEGIN")) return 1;
    const long long first = next;
    body.clear();
    keys.clear();
    long long count = 0;
    for (long long k = 0; k < rows_per_commit && next < messages; ++k, ++next) {
      if (queue_schema) {
        const std::string key = "m-" + std::to_string(next);
        crmhub::queue::internal::EntryRef e;
        e.id = next + 1;
        e.created_ms = next;
        e.due_ms = next;
        e.source = "bench";
        e.idempotency_key = key;
        e.payload = payload;
        crmhub::queue::internal::AppendEntry(&body, e);
        crmhub::queue::internal::AppendDedupKey(&keys, next, "bench", key);
        ++count;
      } else {
        sqlite3_bind_int64(insert, 1, next);
        sqlite3_bind_blob(insert, 2, payload.data(), static_cast<int>(payload.size()),
                          SQLITE_STATIC);
        if (!step(insert, "insert")) return 1;
      }
    }
    // The previous transaction's rows: delivered, so deleted.
    if (queue_schema) {
      sqlite3_bind_int64(insert, 1, commits + 1);
      sqlite3_bind_text(insert, 2, "in.bench", -1, SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, first);
      sqlite3_bind_int64(insert, 4, count);
      sqlite3_bind_blob(insert, 5, body.data(), static_cast<int>(body.size()), SQLITE_STATIC);
      if (!step(insert, "insert")) return 1;
      sqlite3_bind_int64(dedup, 1, commits + 1);
      sqlite3_bind_int64(dedup, 2, first);
      sqlite3_bind_blob(dedup, 3, keys.data(), static_cast<int>(keys.size()), SQLITE_STATIC);
      if (!step(dedup, "keys")) return 1;
      sqlite3_bind_int64(erase, 1, commits);
      if (!step(erase, "delete")) return 1;
    } else {
      sqlite3_bind_int64(erase, 1, first - rows_per_commit);
      sqlite3_bind_int64(erase, 2, first);
      if (!step(erase, "delete")) return 1;
    }
    if (!Exec(db, "COMMIT")) return 1;
    ++commits;
  }
  // The last rows' delete, in a commit of its own.
  if (!Exec(db, queue_schema ? "DELETE FROM segments" : "DELETE FROM m")) return 1;
  ++commits;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(insert);
  sqlite3_finalize(dedup);
  sqlite3_finalize(erase);
  sqlite3_close(db);
  const double per_s = seconds > 0 ? static_cast<double>(messages) / seconds : 0;
  if (json) {
    std::printf(
        "{\"bench\":\"raw_sqlite\",\"schema\":\"%s\",\"messages\":%lld,"
        "\"rows_per_commit\":%lld,\"payload_bytes\":%lld,\"commits\":%lld,\"seconds\":%.3f,"
        "\"messages_per_s\":%.0f}\n",
        schema.c_str(), messages, rows_per_commit, payload_bytes, commits, seconds, per_s);
  } else {
    std::printf(
        "raw SQLite (WAL, synchronous=FULL, %s schema): %lld messages inserted then deleted, "
        "%lld per commit, %lld-byte payloads\n  %.0f msg/s (%.2f s, %lld fsync'd commits)\n",
        schema.c_str(), messages, rows_per_commit, payload_bytes, per_s, seconds, commits);
  }
  return 0;
}
