#include "queue/sqlite_checkpointer.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "base/thread_name.h"

namespace crmhub::queue::internal {

Result<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& path,
                                                          const std::string& vfs,
                                                          CheckpointerOptions options) {
  auto db = Db::Open(path, /*create=*/false, vfs, /*busy_timeout_ms=*/0);
  if (!db.ok()) return db.status().WithContext("queue: checkpointer");
  // NORMAL: a checkpoint syncs the WAL before copying and the database file
  // after; never less than that.
  CRMHUB_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  CRMHUB_RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint=0"));
  if (options.trigger_frames < 1) options.trigger_frames = 1;
  if (options.cap_frames < options.trigger_frames) options.cap_frames = options.trigger_frames;
  std::unique_ptr<Checkpointer> c(new Checkpointer(std::move(db).value(), options));
  c->thread_ = std::thread([raw = c.get()] {
    SetCurrentThreadName("crmhub-qckpt");
    raw->Loop();
  });
  return c;
}

Checkpointer::Checkpointer(Db db, CheckpointerOptions options)
    : db_(std::move(db)), options_(options) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::InstallHook(sqlite3* writer) { sqlite3_wal_hook(writer, &Hook, this); }

void Checkpointer::RemoveHook(sqlite3* writer) { sqlite3_wal_hook(writer, nullptr, nullptr); }

int Checkpointer::Hook(void* self, sqlite3* db, const char* schema, int frames) {
  static_cast<Checkpointer*>(self)->OnCommit(db, schema, frames);
  return SQLITE_OK;  // a checkpoint's trouble is never the commit's
}

void Checkpointer::OnCommit(sqlite3* db, const char* schema, int frames) {
  int64_t copied = copied_.load();
  if (frames < copied) {  // the WAL restarted since the last background run
    copied_.store(0);
    copied = 0;
  }
  if (frames >= options_.cap_frames) {
    // Let the WAL restart: copy the rest here, as SQLite's own hook would.
    // A background run in progress holds the checkpoint lock (ours would
    // answer SQLITE_BUSY and the WAL would keep growing), so wait for it to
    // end and keep the next one from starting meanwhile. The wait is the
    // writer's only stall for checkpoints, once per cap_frames.
    {
      std::unique_lock lock(mu_);
      idle_cv_.wait(lock, [&] { return !running_; });
      writer_active_ = true;
    }
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
        SQLITE_OK) {
      writer_runs_.fetch_add(1);
      copied_.store(done);
    }
    {
      std::lock_guard lock(mu_);
      writer_active_ = false;
    }
    cv_.notify_one();
    return;
  }
  if (frames - copied < options_.trigger_frames) return;
  {
    std::lock_guard lock(mu_);
    if (requested_ || running_) return;
    requested_ = true;
  }
  cv_.notify_one();
}

void Checkpointer::Loop() {
  auto last_warning = std::chrono::steady_clock::time_point{};
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || (requested_ && !writer_active_); });
      if (stop_) return;
      requested_ = false;
      running_ = true;
    }
    int log = 0, done = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(db_.raw(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc == SQLITE_OK) {
      background_runs_.fetch_add(1);
      copied_.store(done);
    } else if ((rc & 0xff) != SQLITE_BUSY) {
      failures_.fetch_add(1);
      const auto now = std::chrono::steady_clock::now();
      if (now - last_warning >= std::chrono::minutes(1)) {
        last_warning = now;
        spdlog::warn(
            "queue: background checkpoint failed ({}); the WAL keeps every frame and "
            "the writer checkpoints itself at {} frames",
            SqliteStatus(db_.raw(), rc, "checkpoint").ToString(), options_.cap_frames);
      }
    }
    {
      std::lock_guard lock(mu_);
      running_ = false;
    }
    idle_cv_.notify_all();
  }
}

}  // namespace crmhub::queue::internal
