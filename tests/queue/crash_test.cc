// Crash safety with real processes: a child enqueues and acks under load and
// is SIGKILLed at random moments; after every kill the database must hold
// every message it reported Accepted and not acked, none it reported acked,
// no acked message may be leased again, and integrity_check must be ok.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "queue/paths.h"
#include "queue/segment.h"
#include "tests/queue/test_util.h"

namespace crmhub::queue {
namespace {

struct Facts {
  std::unordered_set<std::string> accepted, submitted, acked;
  int leased_after_ack = 0;
  std::string first_violation;
};

// Applies the lines of one child's output.
void Absorb(const std::string& text, Facts& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // cannot happen: lines are written whole
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.size() < 3) continue;
    const std::string key = line.substr(2);
    switch (line[0]) {
      case 'A':
        f.accepted.insert(key);
        break;
      case 'S':
        f.submitted.insert(key);
        break;
      case 'K':
        f.acked.insert(key);
        break;
      case 'L':
        if (f.acked.count(key) != 0) {
          ++f.leased_after_ack;
          if (f.first_violation.empty()) f.first_violation = "leased after ack: " + key;
        }
        break;
      default:
        break;
    }
  }
}

// Runs the child until it has printed `kill_after` lines, SIGKILLs it and
// returns everything it wrote.
std::string RunAndKill(const std::string& dir, int run, int kill_after) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    const std::string run_s = std::to_string(run);
    execl(QUEUE_CRASH_CHILD, QUEUE_CRASH_CHILD, dir.c_str(), run_s.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[8192];
  int lines = 0;
  bool killed = false;
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    for (ssize_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    if (!killed && lines >= kill_after) {
      kill(pid, SIGKILL);
      killed = true;  // keep reading: what it wrote before dying counts
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(killed) << "child exited early, status " << status << " (run " << run << ")";
  return out;
}

struct DbState {
  std::string integrity;
  std::set<std::string> keys;
};

DbState Inspect(const std::filesystem::path& db_path) {
  DbState s;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    s.integrity = "cannot open";
    sqlite3_close(db);
    return s;
  }
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    s.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  // The messages still queued: the entries of every segment not marked in
  // its settled bitmap (queue/segment.h).
  sqlite3_prepare_v2(db,
                     "SELECT s.body, t.settled FROM segments AS s "
                     "LEFT JOIN segment_settled AS t ON t.id = s.id",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const std::string_view body(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                                static_cast<size_t>(sqlite3_column_bytes(st, 0)));
    const void* bits = sqlite3_column_blob(st, 1);
    const std::string settled = bits == nullptr
                                    ? std::string()
                                    : std::string(static_cast<const char*>(bits),
                                                  static_cast<size_t>(sqlite3_column_bytes(st, 1)));
    std::vector<internal::SegmentEntry> entries;
    if (!internal::DecodeSegment(body, &entries)) s.integrity += " (a segment is truncated)";
    for (uint32_t i = 0; i < entries.size(); ++i) {
      if (entries[i].source == "crash" && !internal::BitIsSet(settled, i)) {
        s.keys.insert(entries[i].idempotency_key);
      }
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return s;
}

TEST(QueueCrashTest, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  testing::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::mt19937 rng(20261124);
  std::uniform_int_distribution<int> when(5, 400);
  Facts facts;
  constexpr int kRuns = 24;
  for (int run = 0; run < kRuns; ++run) {
    Absorb(RunAndKill(dir.path().string(), run, when(rng)), facts);
    const DbState db = Inspect(QueueDbPath(dir.path()));
    ASSERT_EQ(db.integrity, "ok") << "after run " << run;
    int lost = 0, resurrected = 0;
    std::string example;
    for (const auto& key : facts.accepted) {
      // Present, or its ack was at least submitted (and then committed).
      if (db.keys.count(key) == 0 && facts.submitted.count(key) == 0) {
        ++lost;
        example = key;
      }
    }
    for (const auto& key : facts.acked) {
      if (db.keys.count(key) != 0) {
        ++resurrected;
        example = key;
      }
    }
    ASSERT_EQ(lost, 0) << "accepted but gone without an ack, e.g. " << example << " (run " << run
                       << ")";
    ASSERT_EQ(resurrected, 0) << "acked but still queued, e.g. " << example;
    ASSERT_EQ(facts.leased_after_ack, 0) << facts.first_violation;
  }
  // The test did exercise what it claims.
  EXPECT_GT(facts.accepted.size(), 100u);
  EXPECT_GT(facts.acked.size(), 10u);
}

}  // namespace
}  // namespace crmhub::queue
