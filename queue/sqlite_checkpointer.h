#pragma once
// Checkpointer: copies the queue's WAL back into the database file on a
// thread and connection of its own, so that the writer thread (the queue's
// one serial resource) neither copies pages nor waits for the database
// file's fsync (docs/performance.md, "checkpoints off the writer").
//
// How it works with SQLite's WAL:
// - The writer connection runs with wal_autocheckpoint off and Checkpointer's
//   hook installed (InstallHook). After each commit the hook tells the
//   checkpointer how long the WAL is; once `trigger_frames` frames wait to be
//   copied, the checkpointer runs a PASSIVE checkpoint, which never blocks
//   the writer (it copies what was committed when it started).
// - A WAL only restarts from its beginning when a writer starts a
//   transaction with every frame copied. Under a steady stream of commits the
//   background copy is always a little behind, so the WAL would grow without
//   bound; once it reaches `cap_frames`, the hook makes the writer run one
//   PASSIVE checkpoint itself, right after its commit, as SQLite's default
//   hook would (after waiting for a background run in progress, which holds
//   the checkpoint lock). It copies only the frames the background
//   checkpoint had not reached, and the next transaction restarts the WAL.
// Durability is unchanged: a checkpoint syncs the WAL before it writes the
// database file and syncs the database file after (synchronous=NORMAL does
// both), and the queue's flusher still syncs every commit before answering.
//
// Thread-safety: OnCommit runs on the writer thread (inside its commit);
// counters may be read from any thread.

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "queue/sqlite_util.h"

namespace crmhub::queue::internal {

struct CheckpointerOptions {
  int trigger_frames = 4096;  // frames waiting to be copied before a background run
  int cap_frames = 16384;     // WAL length at which the writer checkpoints itself
};

class Checkpointer {
 public:
  // Opens its own connection to `path` (through `vfs`, "" = default) and
  // starts its thread.
  static Result<std::unique_ptr<Checkpointer>> Start(const std::string& path,
                                                     const std::string& vfs,
                                                     CheckpointerOptions options);
  // Stops the thread (a run in progress finishes first) and closes the
  // connection.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Replaces `writer`'s auto-checkpoint with this checkpointer's hook.
  // REQUIRES: `writer` is the queue's writer connection, used by one thread;
  // this object outlives the hook (RemoveHook before destroying it).
  void InstallHook(sqlite3* writer);
  static void RemoveHook(sqlite3* writer);

  // Background runs that copied frames, and the writer's own (at the cap).
  int64_t background_runs() const { return background_runs_.load(); }
  int64_t writer_runs() const { return writer_runs_.load(); }
  // Background runs that failed (each is logged, rate-limited). The WAL
  // still holds every frame; the writer's run at the cap tries again.
  int64_t failures() const { return failures_.load(); }

 private:
  Checkpointer(Db db, CheckpointerOptions options);
  static int Hook(void* self, sqlite3* db, const char* schema, int frames);
  // On the writer thread, after a commit left `frames` frames in the WAL.
  void OnCommit(sqlite3* db, const char* schema, int frames);
  void Loop();

  Db db_;  // the checkpointer thread's own connection
  const CheckpointerOptions options_;
  // Frames of the current WAL already copied by the background thread (its
  // last run's figure; 0 after a restart made it stale).
  std::atomic<int64_t> copied_{0};
  std::atomic<int64_t> background_runs_{0}, writer_runs_{0}, failures_{0};

  std::mutex mu_;
  std::condition_variable cv_;       // the background thread waits for a request
  std::condition_variable idle_cv_;  // the writer waits for a background run to end
  bool requested_ = false;           // guarded by mu_
  bool running_ = false;             // a background run is in progress; guarded by mu_
  bool writer_active_ = false;       // the writer is checkpointing itself; guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::thread thread_;
};

}  // namespace crmhub::queue::internal
