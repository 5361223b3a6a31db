#pragma once
// FailingVfs: a sqlite3 VFS shim over the default VFS that fails writes or
// syncs on demand (LevelDB's SpecialEnv / FaultInjectionTestEnv idea): the
// honest way to test what the queue does when the disk fails, also as root
// (where chmod does not stop writes).
//
// Thread-safety: the switches are atomics; register/unregister from one
// thread while no connection uses the VFS.

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace crmhub::queue::testing {

class FailingVfs {
 public:
  // Registers a VFS called `name` (not the default).
  explicit FailingVfs(std::string name);
  ~FailingVfs();
  FailingVfs(const FailingVfs&) = delete;
  FailingVfs& operator=(const FailingVfs&) = delete;

  const std::string& name() const { return name_; }
  void FailWrites(bool on) { fail_writes_.store(on); }
  void FailSyncs(bool on) { fail_syncs_.store(on); }
  // How many xWrite/xSync calls were failed so far.
  int failures() const { return failures_.load(); }
  // How many xSync calls reached the VFS (failed or not).
  int syncs() const { return syncs_.load(); }
  // How many xWrite calls reached the VFS (failed or not).
  int writes() const { return writes_.load(); }

  // While held, every xSync waits (before syncing) until released: a disk
  // whose flush takes as long as the test wants.
  void HoldSyncs();
  void ReleaseSyncs();
  // Waits until some xSync is waiting in a hold; false after `timeout`.
  bool WaitForHeldSync(std::chrono::milliseconds timeout);

  // Used by the C callbacks.
  bool ShouldFailWrite() { return Count(fail_writes_.load()); }
  void CountWrite() { writes_.fetch_add(1); }
  bool ShouldFailSync() {
    syncs_.fetch_add(1);
    WaitWhileHeld();
    return Count(fail_syncs_.load());
  }
  sqlite3_vfs* base() const { return base_; }

 private:
  bool Count(bool fail) {
    if (fail) failures_.fetch_add(1);
    return fail;
  }

  void WaitWhileHeld();

  std::string name_;
  sqlite3_vfs* base_ = nullptr;
  sqlite3_vfs vfs_{};
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<int> failures_{0};
  std::atomic<int> syncs_{0};
  std::atomic<int> writes_{0};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;   // guarded by hold_mu_
  int held_syncs_ = 0;  // guarded by hold_mu_
};

}  // namespace crmhub::queue::testing
